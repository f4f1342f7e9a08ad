"""Formats: metadata round trips, atomic writes and clear errors."""

import inspect
import json
import os
import stat
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from scope_assets.io import (
    DataLayout,
    TableFormatError,
    read_csv,
    read_parquet,
    read_parquet_metadata,
    read_table,
    write_csv,
    write_json,
    write_parquet,
    write_table,
)


@pytest.fixture
def table() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    df = pd.DataFrame(
        {
            "_id": np.array([10296582009946, 10296582009947], dtype=np.int64),
            "period_ELS_ECE_EAOV": rng.uniform(0.1, 10, 2),
            "dmdt": [rng.random((26, 26)).tolist(), np.zeros((26, 26)).tolist()],
        }
    )
    df.attrs = {"scope_code_version": "0.1.0", "feature_generation": {"max_freq": 48.0}, "n": 2}
    return df


@pytest.mark.parametrize("suffix", [".parquet", ".h5", ".csv"])
def test_round_trip_keeps_values_and_metadata(tmp_path, table, suffix):
    path = write_table(table, tmp_path / f"features{suffix}")
    back = read_table(path)
    assert back["_id"].tolist() == table["_id"].tolist()
    np.testing.assert_allclose(back["period_ELS_ECE_EAOV"], table["period_ELS_ECE_EAOV"])
    first = np.asarray([np.asarray(row, dtype=float) for row in back["dmdt"].iloc[0]])
    np.testing.assert_allclose(first, np.asarray(table["dmdt"].iloc[0]))
    if suffix == ".csv":
        assert back.attrs == {}  # CSV carries no metadata, as in SCoPe
    else:
        assert back.attrs == table.attrs


def test_parquet_metadata_is_json_under_scope_key(tmp_path, table):
    path = write_parquet(table, tmp_path / "f.parquet")
    raw = pq.read_schema(path).metadata[b"scope"]
    assert json.loads(raw) == table.attrs
    assert b"pandas" in pq.read_schema(path).metadata
    assert read_parquet_metadata(path) == table.attrs


def test_read_parquet_takes_scope_utils_arguments(tmp_path, table):
    params = list(inspect.signature(read_parquet).parameters.values())[:2]
    assert [(q.name, q.default) for q in params] == [
        ("filepath", inspect.Parameter.empty),
        ("meta_key", "scope"),
    ]
    path = write_parquet(table, tmp_path / "f.parquet")
    assert read_parquet(str(path), "scope").attrs == table.attrs
    assert read_parquet(filepath=path, meta_key="scope")["_id"].tolist() == table["_id"].tolist()
    other = write_parquet(table, tmp_path / "other.parquet", meta_key="mine")
    assert json.loads(pq.read_schema(other).metadata[b"mine"]) == table.attrs
    assert read_parquet(other, meta_key="mine").attrs == table.attrs
    assert read_parquet_metadata(other, meta_key="mine") == table.attrs
    with pytest.warns(UserWarning, match="'scope' metadata"):
        read_parquet(other)
    assert list(read_parquet(path, columns=["_id"]).columns) == ["_id"]


def test_csv_metadata_round_trip_as_a_commented_first_line(tmp_path, table):
    table = table.assign(note=["a#b", "#c,d"])  # '#' and ',' inside data cells
    path = write_csv(table, tmp_path / "t.csv", metadata=True)
    lines = path.read_text().splitlines()
    assert lines[0].startswith("# scope: ") and json.loads(lines[0][9:]) == table.attrs
    assert lines[1] == "_id,period_ELS_ECE_EAOV,dmdt,note"
    back = read_csv(path)
    assert back.attrs == table.attrs
    assert (
        back["note"].tolist() == ["a#b", "#c,d"] and back["_id"].tolist() == table["_id"].tolist()
    )
    np.testing.assert_allclose(np.asarray(back["dmdt"].iloc[0]), np.asarray(table["dmdt"].iloc[0]))
    plain = pd.read_csv(path, comment=None, skiprows=1)  # a SCoPe-style reader told to skip it
    assert list(plain.columns) == list(table.columns) and plain["note"].tolist() == ["a#b", "#c,d"]
    arrow = pacsv.read_csv(path, read_options=pacsv.ReadOptions(skip_rows=1)).to_pandas()
    assert arrow["_id"].tolist() == table["_id"].tolist() and arrow["note"].tolist()[0] == "a#b"


def test_csv_without_metadata_is_what_scope_writes(tmp_path, table):
    path = write_csv(table, tmp_path / "t.csv")
    assert path.read_text().splitlines()[0] == "_id,period_ELS_ECE_EAOV,dmdt"
    assert pd.read_csv(path)["_id"].tolist() == table["_id"].tolist()  # SCoPe's plain reader
    assert read_csv(path).attrs == {}


WRITERS_THAT_FAIL_AFTER_WRITING = {
    ".parquet": (pq, "write_table"),
    ".csv": (pd.DataFrame, "to_csv"),
    ".h5": (pd.HDFStore, "put"),
    ".json": (Path, "write_text"),
}


def _fail_after_writing(monkeypatch, suffix):
    """The format's low-level writer writes (wherever it was pointed), then fails: a disk that
    fills up part-way through a write."""
    owner, name = WRITERS_THAT_FAIL_AFTER_WRITING[suffix]
    real = getattr(owner, name)

    def write_then_fail(*args, **kwargs):
        real(*args, **kwargs)
        raise OSError("disk full")

    monkeypatch.setattr(owner, name, write_then_fail)


def _write(df, path):
    if path.suffix == ".json":
        return write_json(df.to_dict(orient="list"), path)
    return write_table(df, path)


@pytest.mark.parametrize("suffix", list(WRITERS_THAT_FAIL_AFTER_WRITING))
def test_failed_write_leaves_no_file(tmp_path, table, suffix, monkeypatch):
    target = tmp_path / f"out{suffix}"
    _fail_after_writing(monkeypatch, suffix)
    with pytest.raises(OSError, match="disk full"):
        _write(table[["_id"]], target)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("suffix", list(WRITERS_THAT_FAIL_AFTER_WRITING))
def test_write_failing_part_way_keeps_the_old_file(tmp_path, table, suffix, monkeypatch):
    target = _write(table[["_id"]], tmp_path / f"out{suffix}")
    before = target.read_bytes()
    _fail_after_writing(monkeypatch, suffix)
    with pytest.raises(OSError, match="disk full"):
        _write(table[["_id"]].iloc[:1], target)
    assert target.read_bytes() == before
    assert list(tmp_path.iterdir()) == [target]


def test_overwrite_is_atomic_and_replaces(tmp_path, table):
    target = tmp_path / "t.parquet"
    write_parquet(table, target)
    write_parquet(table.iloc[:1], target)
    assert len(read_table(target)) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["t.parquet"]


@pytest.mark.parametrize("suffix", [".parquet", ".h5", ".csv"])
def test_written_files_follow_the_umask(tmp_path, table, suffix):
    old = os.umask(0o022)
    try:
        path = write_table(table, tmp_path / f"t{suffix}")
        json_path = write_json({"a": 1}, tmp_path / "meta.json")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert stat.S_IMODE(json_path.stat().st_mode) == 0o644


@pytest.mark.parametrize("suffix", [".parquet", ".h5", ".csv"])
def test_corrupt_and_empty_files_name_the_file(tmp_path, suffix):
    path = tmp_path / f"bad{suffix}"
    path.write_bytes(b"")
    with pytest.raises(TableFormatError, match="bad"):
        read_table(path)
    path.write_bytes(b"\xff\xfe\x00garbage" * 10)
    with pytest.raises((TableFormatError, FileNotFoundError), match="bad"):
        read_table(path)


def test_unknown_suffix_and_missing_file(tmp_path):
    with pytest.raises(TableFormatError, match="unknown table format"):
        read_table(tmp_path / "x.xlsx")
    with pytest.raises(FileNotFoundError, match="missing.parquet"):
        read_table(tmp_path / "missing.parquet")


def test_layout_paths_are_scope_layout(tmp_path):
    layout = DataLayout(tmp_path)
    assert layout.preds_file("xgb", 296) == tmp_path / "preds_xgb/field_296/field_296.parquet"
    assert layout.flagged_file("dnn", 296).name == "field_296_flagged.json"
    assert layout.combined_file(296) == tmp_path / "preds_dnn_xgb/field_296.parquet"
    assert layout.features_file(296, 3, 2).name == "gen_features_field_296_ccd_3_quad_2.parquet"


def test_next_write_removes_temporaries_of_killed_runs_only(tmp_path, table):
    import uuid

    dead = tmp_path / f".t.parquet.{2**22 + 12345}-{uuid.uuid4().hex}.tmp"  # pid above pid_max
    live = tmp_path / f".t.parquet.{os.getppid()}-{uuid.uuid4().hex}.tmp"
    dead.write_bytes(b"half")
    live.write_bytes(b"being written")
    write_parquet(table, tmp_path / "t.parquet")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["t.parquet", live.name])
