"""LocalArchive: simulated archives and IRSA directories."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from scope_assets.lightcurves.archive import LocalArchive
from scope_assets.lightcurves.irsa import (
    find_irsa_files,
    read_irsa,
)
from scope_assets.lightcurves.raw import LIGHTCURVE_SCHEMA, META_COLUMNS, RawLightCurves
from scope_assets.sim import simulate_field
from scope_assets.testing import SHARED_ENV, shared_path

IRSA_DIR = shared_path("data", "real", "lcurvemaker_ztf")
LIST_COLUMNS = {f.name for f in LIGHTCURVE_SCHEMA if pa.types.is_list(f.type)}


@pytest.fixture(scope="module")
def sim_root(tmp_path_factory) -> Path:
    return simulate_field(tmp_path_factory.mktemp("archive") / "archive", n_sources=200, seed=5)


@pytest.fixture(scope="module")
def archive(sim_root) -> LocalArchive:
    return LocalArchive(sim_root)


@pytest.fixture
def copy_root(sim_root, tmp_path) -> Path:
    """A private copy of the simulated archive that a test may damage."""
    return Path(shutil.copytree(sim_root, tmp_path / "archive"))


def _first_rc_file(root: Path) -> Path:
    return sorted((root / "lightcurves" / "field_296").glob("rc_*.parquet"))[0]


# --------------------------------------------------------------------------- simulated archive


def test_fields_and_source_ids(archive):
    assert archive.fields() == [296]
    ids = archive.source_ids(296)
    assert list(ids.columns) == META_COLUMNS
    assert len(ids) == 200 and ids["_id"].is_unique
    assert (ids["field"] == 296).all()
    assert ids["ccd"].between(1, 16).all() and ids["quad"].between(1, 4).all()
    assert set(ids["filter"]) <= {1, 2, 3}
    assert all(ids[c].dtype == np.int64 for c in ["_id", "field", "ccd", "quad", "filter", "nobs"])


def test_source_ids_filters(archive):
    ids = archive.source_ids(296)
    ccd, quad = ids.loc[0, ["ccd", "quad"]]
    one_quad = archive.source_ids(296, ccd=ccd, quad=quad)
    assert len(one_quad) == ((ids["ccd"] == ccd) & (ids["quad"] == quad)).sum()
    assert len(archive.source_ids(296, ccd=ccd)) == (ids["ccd"] == ccd).sum()
    assert len(archive.source_ids(296, quad=quad)) == (ids["quad"] == quad).sum()
    threshold = int(ids["nobs"].median())
    assert len(archive.source_ids(296, min_nobs=threshold)) == (ids["nobs"] >= threshold).sum()


def test_source_ids_does_not_read_point_lists(archive, monkeypatch):
    requested: list[list[str]] = []
    original = pq.ParquetFile.read

    def spy(self, columns=None, **kwargs):
        requested.append(list(columns) if columns is not None else ["<all>"])
        return original(self, columns=columns, **kwargs)

    monkeypatch.setattr(pq.ParquetFile, "read", spy)
    archive.source_ids(296)
    assert requested
    assert not any(set(cols) & (LIST_COLUMNS | {"<all>"}) for cols in requested)


def test_iter_light_curves_batches_are_bounded(archive, monkeypatch):
    expected_ids = sorted(archive.source_ids(296)["_id"])
    monkeypatch.setattr(
        pq.ParquetFile, "read", lambda *a, **k: pytest.fail("whole-file read while streaming")
    )
    batches = list(archive.iter_light_curves(296, batch_size=4))
    assert max(len(b) for b in batches) <= 4
    raw = RawLightCurves.concat(batches)
    assert sorted(raw.batch.ids) == expected_ids
    assert len(raw.catflags) == len(raw.programid) == raw.batch.offsets[-1]
    assert np.array_equal(raw.meta["nobs"].to_numpy(), raw.batch.n_points)


def test_iter_light_curves_values_match_the_files(archive, sim_root):
    path = _first_rc_file(sim_root)
    stored = pq.read_table(path).to_pandas()
    rcid = int(stored["rcid"].iloc[0])
    (raw,) = archive.iter_light_curves(296, ccd=rcid // 4 + 1, quad=rcid % 4 + 1, batch_size=10_000)
    assert list(raw.batch.ids) == list(stored["objectid"])
    t, mag, magerr = raw.batch.curve(0)
    assert t.dtype == np.float64
    assert np.array_equal(t, stored["hmjd"].iloc[0] + 2400000.5)
    assert np.array_equal(mag, stored["mag"].iloc[0].astype(np.float64))
    assert np.array_equal(magerr, stored["magerr"].iloc[0].astype(np.float64))
    n = len(t)
    assert np.array_equal(raw.catflags[:n], stored["catflags"].iloc[0])
    assert np.array_equal(raw.programid[:n], stored["programid"].iloc[0])


def test_iter_light_curves_by_ids_and_read_light_curves(archive):
    all_ids = archive.source_ids(296)["_id"].to_numpy()
    wanted = all_ids[[5, 0, 77, 150]]
    chunks = list(archive.iter_light_curves(296, ids=wanted))
    assert sorted(np.concatenate([c.batch.ids for c in chunks])) == sorted(wanted)
    raw = archive.read_light_curves(wanted)
    assert list(raw.batch.ids) == list(wanted)
    assert list(raw.meta["_id"]) == list(wanted)
    whole = RawLightCurves.concat(chunks)
    k = int(np.flatnonzero(whole.batch.ids == wanted[2])[0])
    assert np.array_equal(raw.batch.curve(2)[0], whole.batch.curve(k)[0])
    with pytest.raises(KeyError, match="not in archive"):
        archive.read_light_curves([wanted[0], 12345])


def test_catalogues_alerts_truth(archive):
    gaia = archive.xmatch_catalog("Gaia_EDR3")
    assert {"_id", "ra", "dec", "parallax"} <= set(gaia.columns)
    assert archive.alerts()["candid"].dtype == np.int64
    assert len(archive.truth()) == 200
    with pytest.raises(
        FileNotFoundError, match="available: \\['AllWISE', 'Gaia_EDR3', 'PS1_DR1'\\]"
    ):
        archive.xmatch_catalog("SDSS")


# --------------------------------------------------------------------------- bad inputs


def test_missing_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        LocalArchive(tmp_path / "nowhere")


def test_directory_without_manifest_or_irsa_files(tmp_path):
    (tmp_path / "readme.csv").write_text("a,b\n1,2\n")
    with pytest.raises(FileNotFoundError, match="no manifest.json"):
        LocalArchive(tmp_path)


def test_unknown_field(archive):
    expected = f"field 999 not in archive {archive.root} (available: [296])"
    with pytest.raises(ValueError) as error:
        archive.source_ids(999)
    assert str(error.value) == expected
    with pytest.raises(ValueError, match="field 999"):
        next(archive.iter_light_curves(999))


@pytest.mark.parametrize(
    ("content", "message"),
    [("{not json", "cannot read archive manifest"), ('{"format": "other/2"}', "expected format")],
)
def test_bad_manifest(copy_root, content, message):
    (copy_root / "manifest.json").write_text(content)
    with pytest.raises(ValueError, match=message):
        LocalArchive(copy_root)


@pytest.mark.parametrize("content", [b"", b"this is not parquet at all"])
def test_corrupt_or_empty_parquet_names_the_file(copy_root, content):
    path = _first_rc_file(copy_root)
    path.write_bytes(content)
    archive = LocalArchive(copy_root)
    with pytest.raises(ValueError, match=str(path)):
        archive.source_ids(296)
    with pytest.raises(ValueError, match=str(path)):
        list(archive.iter_light_curves(296))


def test_missing_columns_name_the_file_and_columns(copy_root):
    path = _first_rc_file(copy_root)
    pq.write_table(pq.read_table(path).drop(["mag"]), path)
    with pytest.raises(ValueError, match=rf"{path}: missing columns \['mag'\]"):
        LocalArchive(copy_root).source_ids(296)


def test_optional_columns_default(copy_root):
    path = _first_rc_file(copy_root)
    pq.write_table(pq.read_table(path).drop(["programid", "nepochs", "clrcoeff"]), path)
    archive = LocalArchive(copy_root)
    rcid = int(path.stem[3:])
    ids = archive.source_ids(296, ccd=rcid // 4 + 1, quad=rcid % 4 + 1)
    (raw,) = archive.iter_light_curves(296, ccd=rcid // 4 + 1, quad=rcid % 4 + 1)
    assert np.all(raw.programid == 1)
    assert np.array_equal(ids["nobs"].to_numpy(), raw.batch.n_points)


def test_list_lengths_must_agree(copy_root):
    path = _first_rc_file(copy_root)
    table = pq.read_table(path)
    mag = table.column("mag").to_pylist()
    mag[0] = mag[0][:-1]
    table = table.set_column(
        table.schema.get_field_index("mag"), "mag", pa.array(mag, table.schema.field("mag").type)
    )
    pq.write_table(table, path)
    with pytest.raises(ValueError, match="different length"):
        list(LocalArchive(copy_root).iter_light_curves(296))


def test_missing_field_directory(copy_root):
    shutil.rmtree(copy_root / "lightcurves" / "field_296")
    with pytest.raises(FileNotFoundError, match="field_296"):
        LocalArchive(copy_root).source_ids(296)


def test_missing_truth_is_none(copy_root):
    (copy_root / "truth.parquet").unlink()
    assert LocalArchive(copy_root).truth() is None


# --------------------------------------------------------------------------- IRSA files

needs_irsa = pytest.mark.skipif(
    not IRSA_DIR.is_dir(),
    reason=f"real IRSA light curves (shared data) not found at {IRSA_DIR}; "
    f"set {SHARED_ENV} to the shared folder to run this test",
)


@needs_irsa
def test_irsa_directory_as_archive():
    archive = LocalArchive(IRSA_DIR / "ztf")
    assert archive.manifest is None
    # the expected counts come from the CSV files themselves, read with plain pandas
    files = sorted((IRSA_DIR / "ztf").glob("*.csv"))
    points = pd.concat([pd.read_csv(f) for f in files], ignore_index=True)
    points = points[np.isfinite(points[["hjd", "mag", "magerr"]]).all(axis=1)]
    assert archive.fields() == sorted(points["field"].unique().tolist())
    raw = RawLightCurves.concat(
        [c for f in archive.fields() for c in archive.iter_light_curves(f, batch_size=3)]
    )
    assert len(raw) == points["oid"].nunique() == len(files)
    assert raw.batch.offsets[-1] == len(points)
    assert (raw.catflags == 0).sum() == (points["catflags"] == 0).sum()
    counts = points["programid"].value_counts()
    assert np.bincount(raw.programid).tolist() == [counts.get(i, 0) for i in range(4)]
    first = pd.read_csv(IRSA_DIR / "ztf" / "18aaaawyw-zg1.csv")
    k = int(np.flatnonzero(raw.batch.ids == first["oid"].iloc[0])[0])
    meta = raw.meta.iloc[k]
    assert (meta["field"], meta["ccd"], meta["quad"], meta["filter"]) == (462, 4, 1, 1)
    assert meta["nobs"] == len(first)
    t, mag, _ = raw.batch.curve(k)
    order = np.argsort(first["hjd"].to_numpy(), kind="stable")
    assert np.array_equal(t, first["hjd"].to_numpy()[order])
    np.testing.assert_allclose(mag, first["mag"].to_numpy()[order], atol=1e-5)
    assert np.all(raw.batch.t > 2458000)
    assert np.any(raw.batch.t > 2459951.5)


@needs_irsa
def test_irsa_parent_directory_ignores_other_tables():
    archive = LocalArchive(IRSA_DIR)  # holds labels.csv (no oid column) and ztf/
    assert len(archive.source_ids(462)) == 2
    assert len(find_irsa_files(IRSA_DIR)) == 53
    with pytest.raises(FileNotFoundError, match="IRSA"):
        archive.xmatch_catalog("Gaia_EDR3")


@needs_irsa
def test_irsa_parquet_and_mjd_only(tmp_path):
    frame = pd.read_csv(IRSA_DIR / "ztf" / "18aaaawyw-zr1.csv")
    frame.to_parquet(tmp_path / "as_parquet.parquet")
    frame.drop(columns="hjd").to_csv(tmp_path / "mjd_only.csv", index=False)
    from_parquet = read_irsa([tmp_path / "as_parquet.parquet"])
    assert np.array_equal(from_parquet.batch.t, np.sort(frame["hjd"].to_numpy()))
    with pytest.warns(UserWarning, match="not heliocentric"):
        from_mjd = read_irsa([tmp_path / "mjd_only.csv"])
    np.testing.assert_allclose(from_mjd.batch.t, np.sort(frame["mjd"] + 2400000.5))
    assert from_mjd.meta.loc[0, "filter"] == 2


def test_irsa_file_with_mjd_in_the_hjd_column_is_refused(tmp_path):
    frame = pd.read_csv(IRSA_DIR / "ztf" / "18aaaawyw-zr1.csv")
    frame.assign(hjd=frame["mjd"]).to_csv(tmp_path / "mjd_as_hjd.csv", index=False)
    with pytest.raises(ValueError, match=r"mjd_as_hjd.csv: column 'hjd' .*look like MJD"):
        read_irsa([tmp_path / "mjd_as_hjd.csv"])


def test_irsa_file_with_missing_columns(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("oid,hjd,mag,magerr\n1,2458000.5,15.0,0.01\n")
    with pytest.raises(ValueError, match=r"bad.csv: missing columns \['filtercode'"):
        LocalArchive(tmp_path)


# --------------------------------------------------------------------------- raw light curves


def test_raw_light_curves_take_and_concat(archive):
    raw = archive.read_light_curves(archive.source_ids(296)["_id"][:6])
    again = RawLightCurves.concat([raw.take([3, 4, 5]), raw.take([0, 1, 2])]).take(
        [3, 4, 5, 0, 1, 2]
    )
    assert np.array_equal(again.batch.t, raw.batch.t)
    assert np.array_equal(again.catflags, raw.catflags)
    assert again.meta.equals(raw.meta)
    assert len(RawLightCurves.empty()) == 0
    assert json.loads((archive.root / "manifest.json").read_text())["n_sources"] == 200
