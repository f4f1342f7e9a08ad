"""generate-features on local tables, and the field pipeline's handling of bad input."""

import os

import numpy as np
import pandas as pd
import pytest

from scope_assets.cli.features import main as generate_features
from scope_assets.config import load_config
from scope_assets.features import field_steps as field_pipeline
from scope_assets.io import DataLayout, read_parquet
from scope_assets.lightcurves.archive import LocalArchive
from scope_assets.lightcurves.sky_source import ArchiveSkySource
from scope_assets.sim import simulate_field

FAST = ["--max-freq", "10", "--samples-per-peak", "3", "--top-n-periods", "5"]


def sinusoid_table(n_curves: int, n_points: int = 120, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for k in range(n_curves):
        t = 2458200.0 + np.sort(rng.uniform(0, 400, n_points))
        period = 0.27 + 0.13 * k  # clear of the terrestrial windows (e.g. 2 c/d)
        mag = 15 + 0.3 * np.sin(2 * np.pi * t / period) + rng.normal(0, 0.01, n_points)
        rows.append(
            pd.DataFrame(
                {
                    "_id": 10296000000000 + k,
                    "hjd": t,
                    "mag": mag,
                    "magerr": 0.01,
                    "catflags": 0,
                    "filter": "zr",
                    "ra": 100.0 + k,
                    "dec": 5.0,
                }
            )
        )
    return pd.concat(rows, ignore_index=True).sample(frac=1.0, random_state=1)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_long_table_features_stream_in_batches(tmp_path, suffix):
    table = sinusoid_table(5)
    table.loc[table.index[:3], "mag"] = [np.nan, np.inf, -np.inf]  # dropped, counted
    short = pd.DataFrame(
        {
            "_id": 10296000000099,
            "hjd": 2458200.0 + np.arange(10.0),
            "mag": 15.0,
            "magerr": 0.01,
            "catflags": 0,
            "filter": "zr",
            "ra": 1.0,
            "dec": 1.0,
        }
    )
    table = pd.concat([table, short], ignore_index=True)
    path = tmp_path / f"lcs{suffix}"
    table.to_csv(path, index=False) if suffix == ".csv" else table.to_parquet(path)
    out = tmp_path / "features.parquet"
    code = generate_features(
        ["--lightcurves", str(path), "--output", str(out), "--batch-size", "2", *FAST]
    )
    assert code == 0
    df = read_parquet(out)
    assert sorted(df["_id"].tolist()) == [10296000000000 + k for k in range(5)]  # short one skipped
    assert df.attrs["feature_generation"]["max_freq"] == 10.0
    for k in range(5):
        found = df.loc[df["_id"] == 10296000000000 + k, "period_ELS"].iloc[0]
        assert found == pytest.approx(0.27 + 0.13 * k, rel=0.01)
    assert df["Gaia_EDR3__parallax"].isna().all()  # no catalogue given


def test_bad_tables_give_clear_errors_and_no_output(tmp_path, capsys):
    missing = tmp_path / "missing_mag.csv"
    pd.DataFrame({"_id": [1], "hjd": [2458200.0], "magerr": [0.1]}).to_csv(missing, index=False)
    out = tmp_path / "out.parquet"
    assert generate_features(["--lightcurves", str(missing), "--output", str(out), *FAST]) == 2
    err = capsys.readouterr().err
    assert "missing_mag.csv" in err and "mag" in err
    assert not out.exists()
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert generate_features(["--lightcurves", str(empty), "--output", str(out)]) == 2
    assert "empty.csv" in capsys.readouterr().err
    assert generate_features(["--lightcurves", str(tmp_path / "nope.csv")]) == 2
    assert "nope.csv" in capsys.readouterr().err
    assert not out.exists()


def test_config_typo_in_flags_is_reported(tmp_path, capsys):
    config = tmp_path / "scope.yaml"
    config.write_text("feature_generation:\n  min_n_lc_pints: 10\n")
    assert generate_features(["--lightcurves", "x.csv", "--config", str(config)]) == 2
    assert "min_n_lc_pints" in capsys.readouterr().err


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    root = tmp_path_factory.mktemp("sky")
    simulate_field(root / "archive", field=296, n_sources=40, seed=11)
    return root


def test_unknown_field_names_the_field_and_archive(archive):
    sky = ArchiveSkySource(LocalArchive(archive / "archive"))
    with pytest.raises(ValueError, match=r"field 999 not in archive .*available: \[296\]"):
        field_pipeline.fetch_quad_ids(sky, 999, DataLayout(archive))


def test_corrupt_archive_file_fails_clearly_without_partial_output(archive, tmp_path):
    import shutil

    broken = tmp_path / "archive"
    shutil.copytree(archive / "archive", broken)
    victim = sorted((broken / "lightcurves" / "field_296").glob("rc_*.parquet"))[0]
    victim.write_bytes(b"PAR1 garbage")
    layout = DataLayout(tmp_path / "data")
    sky = ArchiveSkySource(LocalArchive(broken))
    with pytest.raises((ValueError, OSError), match=victim.name):
        field_pipeline.fetch_quad_ids(sky, 296, layout)
    assert not layout.ids_file(296).exists()
    # ids from the intact archive, then cleaning meets the corrupt file
    field_pipeline.fetch_quad_ids(ArchiveSkySource(LocalArchive(archive / "archive")), 296, layout)
    with pytest.raises((ValueError, OSError), match=victim.name):
        field_pipeline.clean_field_light_curves(sky, 296, layout, load_config(environ={}))
    assert not layout.light_curves_file(296).exists()
    assert not [p for p in (tmp_path / "data").rglob("*") if ".tmp" in p.name]


def test_flagged_and_short_curves_are_counted(archive, tmp_path):
    config = load_config(environ={"SCOPE__FEATURE_GENERATION__MIN_N_LC_POINTS": "400"})
    layout = DataLayout(tmp_path)
    sky = ArchiveSkySource(LocalArchive(archive / "archive"))
    field_pipeline.fetch_quad_ids(sky, 296, layout)
    summary = field_pipeline.clean_field_light_curves(sky, 296, layout, config).as_dict()
    assert summary["curves_in"] == 40
    assert summary["points_flagged"] > 0
    assert summary["curves_kept"] + summary["curves_too_few_points"] + summary["curves_empty"] == 40
    assert summary["curves_too_few_points"] > 0


def test_nonphysical_points_are_dropped_and_reported_per_reason(tmp_path, capsys):
    table = sinusoid_table(3, seed=4).sort_values(["_id", "hjd"], ignore_index=True)
    first, second = 10296000000000, 10296000000001
    rows_first = table.index[table["_id"] == first]
    table.loc[rows_first[:2], "mag"] = 1e30
    table.loc[rows_first[2:5], "magerr"] = 1e-30
    table.loc[table.index[table["_id"] == second][:4], "magerr"] = [0.0, -0.01, 0.0, -1.0]
    path = tmp_path / "lcs.parquet"
    table.to_parquet(path)
    out = tmp_path / "features.parquet"
    assert generate_features(["--lightcurves", str(path), "--output", str(out), *FAST]) == 0
    printed = capsys.readouterr().out
    assert "cleaning kept 3 of 3 light curves" in printed
    assert "dropped 2 points (mag_nonphysical) from 1 light curves" in printed
    assert "dropped 3 points (magerr_nonphysical) from 1 light curves" in printed
    assert "dropped 4 points (error_not_positive) from 1 light curves" in printed
    df = read_parquet(out)
    assert df.set_index("_id").loc[first, "n"] <= 120 - 5
    assert df["median"].between(14, 16).all()


def test_csv_copy_lives_under_the_data_root_and_leftovers_are_removed(tmp_path, monkeypatch):
    import tempfile
    import uuid

    system_tmp = tmp_path / "system_tmp"
    system_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(system_tmp))
    data = tmp_path / "data"
    stale = data / ".scratch" / f"{2**22 + 12345}-{uuid.uuid4().hex}"  # a killed run's copy
    stale.mkdir(parents=True)
    (stale / "table.parquet").write_bytes(b"copy of the input")
    path = tmp_path / "lcs.csv"
    sinusoid_table(2).to_csv(path, index=False)
    seen = []
    original = pd.DataFrame.to_numpy

    def spy(self, *args, **kwargs):  # record the scratch directory while the run is going
        seen.extend(p.name for p in (data / ".scratch").iterdir())
        return original(self, *args, **kwargs)

    monkeypatch.setattr(pd.DataFrame, "to_numpy", spy)
    out = tmp_path / "features.parquet"
    argv = ["--lightcurves", str(path), "--output", str(out), "--data-dir", str(data), *FAST]
    assert generate_features(argv) == 0
    assert any(name.startswith(f"{os.getpid()}-") for name in seen)
    assert list((data / ".scratch").iterdir()) == []
    assert list(system_tmp.iterdir()) == []


def test_tables_keep_points_after_the_dr16_limit_unless_told(tmp_path, capsys):
    """SCoPe's HJD limit (2459951.5, the end of DR16) is for fields; a user's table keeps its
    2023-2024 points unless --max-timestamp-hjd is given."""
    table = sinusoid_table(1, n_points=120)
    table["hjd"] = np.linspace(2459500.0, 2460300.0, len(table))  # 2021-10 to 2023-12
    late = int((table["hjd"] > 2459951.5).sum())
    path = tmp_path / "lcs.csv"
    table.to_csv(path, index=False)
    counts = {}
    for extra in ([], ["--max-timestamp-hjd", "2459951.5"]):
        out = tmp_path / f"features{len(extra)}.parquet"
        assert (
            generate_features(["--lightcurves", str(path), "--output", str(out), *FAST, *extra])
            == 0
        )
        df = read_parquet(out)
        counts[len(extra)] = int(df["n"].iloc[0])
        assert df.attrs["feature_generation"]["max_timestamp_hjd"] == (2459951.5 if extra else None)
    printed = capsys.readouterr().out
    assert counts[0] == 120 and counts[2] == 120 - late > 0
    assert f"dropped {late} points (after_max_hjd) from 1 light curves" in printed
