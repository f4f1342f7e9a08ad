"""The field pipeline materialized in-process with Dagster on a small simulated field."""

import json
import shutil
from pathlib import Path

import dagster as dg
import h5py
import numpy as np
import pandas as pd
import pytest

from resources.execution import ExecutionResource
from resources.sky import SkySourceResource
from resources.storage import StorageResource
from scope_assets.defs.definitions import build_definitions
from scope_assets.defs.field_assets import FIELD_ASSETS, FIELD_CHECKS
from scope_assets.io import DataLayout, read_parquet, write_parquet
from scope_assets.sim import simulate_field
from scope_assets.testing.fast_config import FAST_CONFIG

FIELD = 296


@pytest.fixture(scope="module")
def small_field(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    simulate_field(root / "archive", field=FIELD, n_sources=120, seed=7)
    config = root / "scope.yaml"
    config.write_text(FAST_CONFIG)
    resources = {
        "storage": StorageResource(data_dir=str(root), config_path=str(config)),
        "sky": SkySourceResource(archive_dir=str(root / "archive")),
        "execution": ExecutionResource(),
    }
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [*FIELD_ASSETS, *FIELD_CHECKS],
            partition_key=str(FIELD),
            resources=resources,
            instance=instance,
        )
    return root, result


def test_chain_succeeds_and_reports_metadata(small_field):
    root, result = small_field
    assert result.success
    layout = DataLayout(root)
    for name in ["quad_ids", "light_curves", "features", "imputed_features"]:
        metadata = result.asset_materializations_for_node(name)[0].metadata
        assert metadata["dagster/row_count"].value > 0, name
    ids_meta = result.asset_materializations_for_node("quad_ids")[0].metadata
    assert root / ids_meta["path"].value == layout.ids_file(FIELD)
    checks = result.get_asset_check_evaluations()
    assert {c.check_name for c in checks} == {
        "features_have_expected_columns",
        "features_unimputable_missing_is_rare",
        "features_row_count_matches_light_curves",
    }
    blocking = [c for c in checks if c.check_name != "features_unimputable_missing_is_rare"]
    assert all(c.passed for c in blocking)


def test_quad_ids_are_written_as_get_quad_ids_writes_them(small_field):
    root, _ = small_field
    layout = DataLayout(root)
    with h5py.File(layout.ids_file(FIELD)) as handle:
        assert list(handle) == [f"dataset_field_{FIELD}"]
        ids = handle[f"dataset_field_{FIELD}"][()]
    assert ids.dtype == np.int64 and len(ids) == 120
    meta = json.loads((layout.ids_dir(FIELD) / "meta.json").read_text())
    assert list(meta) == ["catalog", "minobs", "field", "ccd_range", "quad_range", "ccd", "total"]
    assert (meta["field"], meta["ccd_range"], meta["quad_range"]) == (FIELD, [1, 16], [1, 4])
    per_quad = [n for per_ccd in meta["ccd"].values() for n in per_ccd["quad"].values()]
    assert sum(per_quad) == meta["total"] == len(ids)


def test_features_files_have_scope_columns_and_metadata(small_field):
    root, _ = small_field
    layout = DataLayout(root)
    files = sorted(layout.features_dir(FIELD).glob("gen_features_field_296_ccd_*_quad_*.parquet"))
    assert files
    df = pd.concat([read_parquet(f) for f in files], ignore_index=True)
    attrs = read_parquet(files[0]).attrs
    assert attrs["scope_code_version"]
    assert attrs["feature_generation"]["max_freq"] == 12.0
    for column in [
        "_id",
        "ra",
        "dec",
        "field",
        "ccd",
        "quad",
        "filter",
        "n",
        "median",
        "stetson_j",
        "period_ELS_ECE_EAOV",
        "significance_ELS_ECE_EAOV",
        "pdot_ELS_ECE_EAOV",
        "period_ELS",
        "period_ECE",
        "period_EAOV",
        "f1_power_ELS_ECE_EAOV",
        "dmdt",
        "n_ztf_alerts",
        "mean_ztf_alert_braai",
        "Gaia_EDR3__parallax",
        "Gaia_EDR3___id",
        "AllWISE___id",
        "PS1_DR1___id",
    ]:
        assert column in df.columns, column
    assert str(df["_id"].dtype) == "Int64" and str(df["Gaia_EDR3___id"].dtype) == "Int64"
    assert (df["n"] >= 50).all()
    dmdt = np.asarray([np.asarray(row, dtype=float) for row in df["dmdt"].iloc[0]])
    assert dmdt.shape == (26, 26)
    assert np.linalg.norm(dmdt) == pytest.approx(1.0, abs=1e-5)
    lc = read_parquet(layout.light_curves_file(FIELD))
    assert len(lc) == len(df)


def test_imputed_features_complete_and_reference_stored(small_field):
    root, _ = small_field
    layout = DataLayout(root)
    imputed = read_parquet(layout.imputed_features_file(FIELD))
    from scope_assets.config import load_config

    columns = load_config(environ={}).feature_columns("ontological")
    assert not imputed[columns].isna().any().any()
    assert imputed.attrs["features_imputed"] is True
    assert layout.imputation_reference_file(FIELD).exists()


def damage_features(root: Path) -> None:
    """Every feature file loses ``dmdt`` and ``wstd`` becomes +inf; one row is duplicated."""
    files = sorted(DataLayout(root).features_dir(FIELD).glob("*.parquet"))
    for i, path in enumerate(files):
        good = read_parquet(path)
        bad = good.drop(columns=["dmdt"]).assign(wstd=np.inf)
        if i == 0:
            bad = pd.concat([bad, bad.iloc[:1]], ignore_index=True)
        bad.attrs = good.attrs
        write_parquet(bad, path)


def test_feature_checks_fail_on_bad_feature_files(small_field, tmp_path):
    root = Path(shutil.copytree(small_field[0], tmp_path / "data"))
    damage_features(root)
    storage = StorageResource(data_dir=str(root), config_path=str(root / "scope.yaml"))
    context = dg.build_op_context(partition_key=str(FIELD))
    results = {check.check_key.name: check(context, storage=storage) for check in FIELD_CHECKS}
    assert not any(result.passed for result in results.values())
    assert results["features_have_expected_columns"].description == "missing columns: dmdt"
    assert "1 duplicated _id" in results["features_row_count_matches_light_curves"].description
    rare = results["features_unimputable_missing_is_rare"]
    assert rare.severity == dg.AssetCheckSeverity.WARN
    assert rare.metadata["per_column"].data["wstd"] == rare.metadata["rows_to_drop"].value


def test_definitions_load():
    defs = build_definitions()
    dg.Definitions.validate_loadable(defs)
    assert defs.resolve_job_def("field_pipeline").name == "field_pipeline"
