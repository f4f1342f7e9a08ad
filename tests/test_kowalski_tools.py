"""get-quad-ids and get-features against the Kowalski emulator, writing SCoPe's layout."""

from __future__ import annotations

import json

import h5py
import numpy as np
from conftest_emulator import fixture_id

from scope_assets.cli.kowalski_tools import get_features_main, get_quad_ids_main
from scope_assets.features import field_steps
from scope_assets.io import DataLayout, read_parquet
from scope_assets.lightcurves.id_files import read_ids_h5


def finds(emulator) -> int:
    return sum('"find"' in r.body.decode() for r in emulator.kowalski.requests())


def quad_ids(tmp_path, *extra: str) -> int:
    flags = ["--field", "296", "--ccd-range", "1", "2", "--quad-range", "1", "3", "--limit", "3"]
    return get_quad_ids_main([*flags, "--output-dir", str(tmp_path), *extra])


def test_get_quad_ids_writes_every_page_per_quad(kowalski_env, tmp_path):
    assert (
        quad_ids(tmp_path, "--multi-quads", "--minobs", "0", "--catalog", "ZTF_sources_20240515")
        == 0
    )
    out = tmp_path / "ids" / "field_296"
    with h5py.File(out / "data_ccd_01_quad_1.h5") as handle:
        ids = handle["dataset_ccd_1_quad_1_field_296"][()]
    assert ids.tolist() == sorted(
        fixture_id(0, f, k) for f in (1, 2) for k in range(4)
    )  # 8 ids, pages of 3
    csv = np.loadtxt(out / "data_ccd_1_quad_1_field_296.csv", dtype=np.int64)
    assert csv.tolist() == ids.tolist()
    meta = json.loads((out / "meta.json").read_text())
    assert meta["ccd"] == {
        "1": {"quad": {"1": 8, "2": 8, "3": 0}},
        "2": {"quad": {"1": 0, "2": 0, "3": 8}},
    }
    assert (meta["total"], meta["catalog"], meta["ccd_range"], meta["quad_range"]) == (
        24,
        "ZTF_sources_20240515",
        [1, 2],
        [1, 3],
    )


def test_get_quad_ids_resumes_and_whole_field(kowalski_env, tmp_path):
    assert quad_ids(tmp_path, "--multi-quads", "--minobs", "20") == 0  # features catalogue: n >= 20
    first = finds(kowalski_env)
    assert first > 0
    assert quad_ids(tmp_path, "--whole-field", "--minobs", "20") == 0
    assert finds(kowalski_env) == first  # nothing fetched again
    whole = read_ids_h5(tmp_path / "ids" / "field_296" / "field_296.h5")
    assert (
        len(whole)
        == json.loads((tmp_path / "ids" / "field_296" / "meta.json").read_text())["total"]
    )
    assert whole.tolist() == sorted(whole.tolist()) and len(whole) < 24


def test_whole_field_ids_are_what_the_field_pipeline_reads(kowalski_env, tmp_path):
    """get-quad-ids and the quad_ids asset share one path and format: the pipeline reads either."""
    assert quad_ids(tmp_path, "--whole-field", "--minobs", "0") == 0
    layout = DataLayout(tmp_path)
    with h5py.File(layout.ids_file(296)) as handle:
        assert list(handle) == ["dataset_field_296"]
    ids = field_steps.read_quad_ids(296, layout)
    assert ids.tolist() == read_ids_h5(tmp_path / "ids" / "field_296" / "field_296.h5").tolist()
    assert len(ids) == 24
    assert field_steps.read_field_quads(296, layout) == [(c, q) for c in (1, 2) for q in (1, 2, 3)]


def test_get_quad_ids_single_quad_with_skip(kowalski_env, tmp_path):
    args = ["--field", "296", "--ccd", "2", "--quad", "3", "--minobs", "0", "--skip", "5"]
    assert get_quad_ids_main([*args, "--output-dir", str(tmp_path)]) == 0
    assert len(read_ids_h5(tmp_path / "ids" / "field_296" / "data_ccd_02_quad_3.h5")) == 3


def test_get_features_per_quad_and_resume(kowalski_env, tmp_path):
    assert quad_ids(tmp_path, "--multi-quads", "--minobs", "0") == 0
    flags = [
        "--field",
        "296",
        "--ccd-range",
        "1",
        "1",
        "--quad-range",
        "1",
        "2",
        "--output-dir",
        str(tmp_path),
    ]
    assert (
        get_features_main([*flags, "--limit-per-query", "3", "--max-sources", "5", "--write-csv"])
        == 0
    )
    out = tmp_path / "features" / "field_296"
    names = sorted(p.name for p in out.glob("*.parquet"))
    assert names == [
        "ccd_01_quad_1_iter_0.parquet",
        "ccd_01_quad_1_iter_1.parquet",
        "ccd_01_quad_2_iter_0.parquet",
        "ccd_01_quad_2_iter_1.parquet",
    ]
    first = read_parquet(out / "ccd_01_quad_1_iter_0.parquet")
    assert len(first) == 5 and first.attrs["features_ztf_dataRelease"] == "DR16"
    assert first.attrs["features_imputed"] is False
    assert np.asarray(first["dmdt"].iloc[0].tolist()).shape == (26, 26)
    assert (out / "ccd_01_quad_1_iter_0.csv").is_file()
    assert json.loads((out / "meta.json").read_text())["total"] == 16
    before = finds(kowalski_env)
    assert get_features_main([*flags, "--limit-per-query", "3", "--max-sources", "5"]) == 0
    assert finds(kowalski_env) == before  # same ids: nothing fetched again
    # other --max-sources: other chunks, fetched again; iteration files it no longer makes go
    assert get_features_main(flags) == 0
    assert finds(kowalski_env) > before
    assert sorted(p.name for p in out.glob("*_iter_*")) == [
        "ccd_01_quad_1_iter_0.parquet",
        "ccd_01_quad_2_iter_0.parquet",
    ]
    assert len(read_parquet(out / "ccd_01_quad_1_iter_0.parquet")) == 8
    assert json.loads((out / "meta.json").read_text())["total"] == 16


def test_ids_rerun_with_other_options_is_a_fresh_download(kowalski_env, tmp_path):
    ids_dir = tmp_path / "ids" / "field_296"
    assert quad_ids(tmp_path, "--whole-field", "--minobs", "0") == 0
    assert len(read_ids_h5(ids_dir / "field_296.h5")) == 24
    totals = []
    for extra in (["--minobs", "20"], ["--minobs", "20", "--skip", "2"]):
        assert quad_ids(tmp_path, "--multi-quads", *extra) == 0
        meta = json.loads((ids_dir / "meta.json").read_text())
        assert not (ids_dir / "field_296.h5").exists()  # the old whole-field ids are gone
        quads = [(c, q) for c in (1, 2) for q in (1, 2, 3)]
        counts = [len(read_ids_h5(ids_dir / f"data_ccd_{c:02d}_quad_{q}.h5")) for c, q in quads]
        assert sum(counts) == meta["total"]
        totals.append(meta["total"])
    assert 24 > totals[0] > totals[1] and meta["skip"] == 2


def test_features_follow_the_current_ids(kowalski_env, tmp_path):
    """get-quad-ids rerun with another --minobs, then get-features: only current ids."""
    args = ["--field", "296", "--whole-field", "--output-dir", str(tmp_path)]
    assert quad_ids(tmp_path, "--whole-field", "--minobs", "0") == 0
    assert get_features_main(args) == 0
    assert quad_ids(tmp_path, "--whole-field", "--minobs", "20") == 0
    assert get_features_main(args) == 0
    ids = read_ids_h5(tmp_path / "ids" / "field_296" / "field_296.h5")
    table = read_parquet(tmp_path / "features" / "field_296" / "field_296_iter_0.parquet")
    assert sorted(table["_id"]) == sorted(ids.tolist()) and len(ids) < 24
    meta = json.loads((tmp_path / "features" / "field_296" / "meta.json").read_text())
    assert meta["total"] == len(ids)


def test_get_features_whole_field(kowalski_env, tmp_path):
    assert quad_ids(tmp_path, "--whole-field", "--minobs", "0") == 0
    args = ["--field", "296", "--whole-field", "--output-dir", str(tmp_path)]
    assert get_features_main(args) == 0
    table = read_parquet(tmp_path / "features" / "field_296" / "field_296_iter_0.parquet")
    assert sorted(table["_id"]) == table["_id"].tolist() and len(table) == 24


def test_missing_ids_and_imputation_errors_are_clear(kowalski_env, tmp_path, capsys):
    args = ["--field", "296", "--whole-field", "--output-dir", str(tmp_path)]
    assert get_features_main(args) == 2
    assert "run get-quad-ids first" in capsys.readouterr().err
    assert quad_ids(tmp_path, "--whole-field", "--minobs", "0") == 0
    assert get_features_main([*args, "--impute-missing-features"]) == 2
    assert "downloaded features" in capsys.readouterr().err


def test_bad_credentials_fail_with_the_service_name(kowalski_env, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("KOWALSKI_PASSWORD", "wrong-password-77")
    assert quad_ids(tmp_path, "--multi-quads") == 2
    err = capsys.readouterr().err
    assert "Kowalski" in err and "Unauthorized" in err and "wrong-password-77" not in err
