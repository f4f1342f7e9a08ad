"""Feature files take their schema from the declared feature table, never from the first batch.

A quadrant whose first light curves lack a survey match (all-missing AllWISE ``ph_qual`` became
Arrow ``null``) or have every match (PS1 ``qualityFlag`` became int64) crashed the writer when a
later batch differed. Both code paths are tried: the field pipeline the assets call, and
``generate-features --lightcurves``.
"""

import shutil

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from scope_assets.cli.features import main as generate_features
from scope_assets.config import load_config
from scope_assets.features import field_steps
from scope_assets.features.pipeline import declared_feature_schema
from scope_assets.features.xmatch import XMATCH_COLUMNS
from scope_assets.io import DataLayout, read_parquet
from scope_assets.lightcurves.archive import LocalArchive
from scope_assets.lightcurves.sky_source import ArchiveSkySource
from scope_assets.sim import simulate_field

FAST_ENV = {
    "SCOPE__FEATURE_GENERATION__MAX_FREQ": "5",
    "SCOPE__FEATURE_GENERATION__SAMPLES_PER_PEAK": "2",
    "SCOPE__FEATURE_GENERATION__TOP_N_PERIODS": "3",
    "SCOPE__FEATURE_GENERATION__PERIOD_ALGORITHMS": "[ELS]",
    "SCOPE__FEATURE_GENERATION__BATCH_SIZE": "1",
}
CASES = [
    ("AllWISE", "first_unmatched"),
    ("Gaia_EDR3", "first_unmatched"),
    ("PS1_DR1", "first_unmatched"),
    ("AllWISE", "first_matched"),
    ("PS1_DR1", "first_matched"),
]


@pytest.fixture(scope="module")
def sky(tmp_path_factory):
    root = tmp_path_factory.mktemp("schema_sky")
    simulate_field(root / "archive", field=296, n_sources=12, seed=5)
    return root / "archive"


def catalog_at(positions: pd.DataFrame, template: pd.DataFrame) -> pd.DataFrame:
    """A catalogue with one row exactly at each position (values copied from ``template``)."""
    rows = template.iloc[np.arange(len(positions)) % len(template)].reset_index(drop=True)
    rows["_id"] = np.arange(1, len(positions) + 1, dtype=np.int64) + 10**12
    rows["ra"] = positions["ra"].to_numpy()
    rows["dec"] = positions["dec"].to_numpy()
    return rows


def chosen_sources(sources: pd.DataFrame, case: str) -> pd.DataFrame:
    """The sources a catalogue should match: all but the first star, or only the first star."""
    first = (sources["ra"] == sources["ra"].iloc[0]) & (sources["dec"] == sources["dec"].iloc[0])
    return sources[~first] if case == "first_unmatched" else sources[first]


def one_quadrant(path) -> None:
    """Put every cleaned light curve in ccd 1, quad 1, so that one writer sees every batch."""
    table = pq.read_table(path)
    for column in ("ccd", "quad"):
        index = table.schema.get_field_index(column)
        ones = pa.array(np.ones(table.num_rows, dtype=np.int32))
        table = table.set_column(index, table.schema.field(index), ones)
    pq.write_table(table, path)


def rewrite_catalog(archive, name: str, positions: pd.DataFrame) -> None:
    path = archive / "xmatch" / f"{name}.parquet"
    catalog_at(positions, pd.read_parquet(path)).to_parquet(path)


def assert_declared_schema(path, config) -> None:
    declared = declared_feature_schema(config)
    found = pq.read_schema(path)
    assert [(f.name, f.type) for f in found] == [(f.name, f.type) for f in declared], path


@pytest.mark.parametrize("name,case", CASES, ids=[f"{n}-{c}" for n, c in CASES])
def test_field_features_when_first_sources_lack_a_match(sky, tmp_path, name, case):
    archive = tmp_path / "archive"
    shutil.copytree(sky, archive)
    config = load_config(environ=FAST_ENV)
    layout = DataLayout(tmp_path)
    source = ArchiveSkySource(LocalArchive(archive))
    field_steps.fetch_quad_ids(source, 296, layout)
    field_steps.clean_field_light_curves(source, 296, layout, config)
    one_quadrant(layout.light_curves_file(296))
    cleaned = pd.read_parquet(layout.light_curves_file(296), columns=["ra", "dec"])
    rewrite_catalog(archive, name, chosen_sources(cleaned, case))
    source = ArchiveSkySource(LocalArchive(archive))
    written = field_steps.compute_field_features(source, 296, layout, config)
    assert sum(written.values()) == len(cleaned)
    features = []
    for path in sorted(layout.features_dir(296).glob("*.parquet")):
        assert_declared_schema(path, config)
        features.append(read_parquet(path))
    matched = pd.concat(features)[f"{name}___id"].notna()
    assert 0 < matched.sum() < len(cleaned)


def long_table(sources: pd.DataFrame, n_points: int = 80) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    rows = []
    for k, src in enumerate(sources.itertuples()):
        t = 2458200.0 + np.sort(rng.uniform(0, 300, n_points))
        mag = 15 + 0.2 * np.sin(2 * np.pi * t / (0.3 + 0.1 * k)) + rng.normal(0, 0.01, n_points)
        rows.append(
            pd.DataFrame(
                {"_id": 10296000000000 + k, "hjd": t, "mag": mag, "magerr": 0.01, "catflags": 0}
                | {"filter": "zr", "ra": src.ra, "dec": src.dec}
            )
        )
    return pd.concat(rows, ignore_index=True)


@pytest.mark.parametrize("name,case", CASES, ids=[f"{n}-{c}" for n, c in CASES])
def test_generate_features_cli_when_first_sources_lack_a_match(sky, tmp_path, name, case):
    archive = tmp_path / "archive"
    shutil.copytree(sky, archive)
    sources = pd.DataFrame({"ra": [100.0, 100.0, 100.01, 100.02], "dec": 5.0})
    rewrite_catalog(archive, name, chosen_sources(sources, case))
    lcs = tmp_path / "lcs.parquet"
    long_table(sources).to_parquet(lcs)
    out = tmp_path / "features.parquet"
    flags = ["--max-freq", "5", "--samples-per-peak", "2", "--top-n-periods", "3"]
    args = ["--lightcurves", str(lcs), "--output", str(out), "--archive", str(archive)]
    assert (
        generate_features([*args, "--batch-size", "2", "--period-algorithms", "ELS", *flags]) == 0
    )
    config = load_config(environ=FAST_ENV)
    assert_declared_schema(out, config)
    df = read_parquet(out)
    assert df[f"{name}___id"].notna().sum() == 2
    if name == "AllWISE":
        assert df["AllWISE__ph_qual"].notna().sum() == 2


def test_declared_schema_covers_every_crossmatch_column():
    schema = declared_feature_schema(load_config(environ={}))
    for name, columns in XMATCH_COLUMNS.items():
        for column in [*columns, "_id"]:
            assert f"{name}__{column}" in schema.names
    assert str(schema.field("AllWISE__ph_qual").type) == "string"
    assert str(schema.field("PS1_DR1__qualityFlag").type) == "double"
