"""run-scope-local: a table of ZTF ids or positions (SCoPe's column aliases) → timestamped
features and predictions; the shipped example inputs are the demo sky's."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from gcn_support import _gcn_sky  # noqa: F401 - fixture

from scope_assets.cli.demo import DEMO_SKY
from scope_assets.cli.gcn_tools import run_scope_local_main
from scope_assets.gcn.dataset_sources import read_dataset_sources
from scope_assets.gcn.specific_ids import SpecificIdsError
from scope_assets.io import read_parquet, write_table
from scope_assets.sim import simulate_field
from scope_assets.testing.gcn_sky import local_scope_examples

TOOLS = Path(__file__).resolve().parents[1] / "tools"


def test_shipped_examples_are_built_from_the_demo_sky(tmp_path):
    archive = simulate_field(tmp_path / "archive", field=296, n_sources=DEMO_SKY[296])
    by_id, by_position = local_scope_examples(archive)
    pd.testing.assert_frame_equal(pd.read_csv(TOOLS / "local_scope_ztfid.csv"), by_id)
    pd.testing.assert_frame_equal(pd.read_csv(TOOLS / "local_scope_radec.csv"), by_position)


def test_column_aliases_and_default_names(tmp_path):
    positions = tmp_path / "positions.csv"
    pd.DataFrame({"RA": [10.5], "Dec": [-20.25]}).to_csv(positions, index=False)
    assert list(read_dataset_sources(positions)["obj_id"]) == ["ZTFJ004200.00-201500.0"]
    ids = tmp_path / "ids.h5"
    write_table(pd.DataFrame({"ZTFID": [10296001000001], "Name": ["star"]}), ids)
    table = read_dataset_sources(ids)
    assert list(table["obj_id"]) == ["star"] and list(table["ztf_id"]) == [10296001000001]
    write_table(pd.DataFrame({"ztf_id": [10296001000002]}), tmp_path / "bare.parquet")
    assert list(read_dataset_sources(tmp_path / "bare.parquet")["obj_id"]) == ["ZTF_10296001000002"]
    pd.DataFrame({"mag": [1.0]}).to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(SpecificIdsError, match="no ZTF id column"):
        read_dataset_sources(tmp_path / "bad.csv")


def _run(gcn_sky, data: Path, dataset: Path, *flags: str, capsys) -> tuple[str, str]:
    argv = ["--path-dataset", str(dataset), "--data-dir", str(data)]
    argv += ["--archive-dir", str(gcn_sky.archive), "--config", str(gcn_sky.config), *flags]
    assert run_scope_local_main(argv) == 0
    out = capsys.readouterr().out
    stamp = re.search(r"timestamp (\S+)", out).group(1)
    return stamp, out


@pytest.mark.parametrize("kind", ["ztfid", "radec"])
def test_run_scope_local_scores_the_table(gcn_sky, tmp_path, capsys, kind):
    by_id, by_position = local_scope_examples(gcn_sky.archive, n_stars=4)
    dataset = tmp_path / f"local_scope_{kind}.csv"
    (by_id if kind == "ztfid" else by_position).to_csv(dataset, index=False)
    data = tmp_path / "data"
    flags = ["--algorithms", "xgb"] if kind == "ztfid" else []
    stamp, out = _run(gcn_sky, data, dataset, *flags, capsys=capsys)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d", stamp)
    sources = read_parquet(data / "sources.parquet")
    assert set(sources["ztf_id"]) == set(by_id["ztf_id"])
    assert set(sources["fritz_name"]) == set(by_id["obj_id"])
    features = (
        data
        / f"generated_features_{stamp}"
        / "specific_ids"
        / f"gen_features_{stamp}_specific_ids.parquet"
    )
    assert set(read_parquet(features)["fritz_name"]) == set(by_id["obj_id"])
    for algorithm in ["xgb"] if kind == "ztfid" else ["dnn", "xgb"]:
        field = f"field_{stamp}_specific_ids"
        preds = read_parquet(data / f"preds_{algorithm}" / field / f"{field}.parquet")
        assert set(preds["obj_id"]) == set(by_id["obj_id"])
        assert f"{algorithm} (demo)" in out
