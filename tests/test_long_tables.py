"""The long-table readers: one row per point (Parquet or CSV) to raw light curves."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from scope_assets.lightcurves.ids import encode_id
from scope_assets.lightcurves.irsa import long_table_to_raw, read_long_table


def _long_frame() -> pd.DataFrame:
    scope_id = int(encode_id(296, 15, 3, 2, 17))
    return pd.DataFrame(
        {
            "_id": [scope_id] * 4 + [777] * 3,
            "hjd": [2459000.3, 2459000.1, np.nan, 2459000.2, 2459001.0, 2459002.0, 2459003.0],
            "mag": [15.0, 15.1, 15.2, np.inf, 18.0, 18.1, 18.2],
            "magerr": [0.01, 0.01, 0.01, 0.01, 0.05, 0.05, 0.05],
            "filter": ["zr"] * 4 + ["g"] * 3,
            "catflags": [0, 32768, 0, 0, 0, 0, 0],
        }
    )


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_read_long_table(tmp_path, suffix):
    path = tmp_path / f"lc{suffix}"
    frame = _long_frame()
    frame.to_parquet(path) if suffix == ".parquet" else frame.to_csv(path, index=False)
    raw = read_long_table(path)
    assert raw.n_nonfinite_dropped == 2
    assert list(raw.batch.n_points) == [3, 2]  # sorted by _id: 777 first
    assert list(raw.batch.ids) == [777, frame["_id"].iloc[0]]
    unknown, scope = raw.meta.iloc[0], raw.meta.iloc[1]
    assert (unknown["field"], unknown["ccd"], unknown["quad"], unknown["filter"]) == (0, 0, 0, 1)
    assert (scope["field"], scope["ccd"], scope["quad"], scope["filter"]) == (296, 15, 3, 2)
    t, mag, _ = raw.batch.curve(1)
    assert list(t) == [2459000.1, 2459000.3]  # time-sorted, non-finite points gone
    assert list(raw.catflags[3:]) == [32768, 0]
    assert np.all(raw.programid == 1)


def test_long_table_location_columns_and_mjd(tmp_path):
    frame = pd.DataFrame(
        {"_id": [5, 5], "mjd": [59000.0, 59001.0], "mag": [15.0, 15.1], "magerr": [0.01, 0.01]}
    ).assign(field=[700, 700], ccd=[2, 2], quad=[4, 4], filter=[3, 3])
    frame.to_parquet(tmp_path / "lc.parquet")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        raw = read_long_table(tmp_path / "lc.parquet")
    assert raw.meta.loc[0, ["field", "ccd", "quad", "filter"]].tolist() == [700, 2, 4, 3]
    assert raw.batch.t[0] == 2459000.5


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (pd.DataFrame({"_id": [1], "hjd": [1.0], "mag": [1.0]}), r"missing columns \['magerr'\]"),
        (pd.DataFrame({"_id": [1], "mag": [1.0], "magerr": [0.1]}), "'hjd' or 'mjd'"),
        (
            pd.DataFrame({"_id": [1.5], "hjd": [1.0], "mag": [1.0], "magerr": [0.1]}),
            "'_id' must be integers",
        ),
        (
            pd.DataFrame(
                {
                    "_id": [1, 1],
                    "hjd": [2458001.0, 2458002.0],
                    "mag": [1.0] * 2,
                    "magerr": [0.1] * 2,
                }
            ).assign(filter=["g", "r"]),
            "filterid changes within light curve 1",
        ),
        (
            pd.DataFrame(
                {"_id": [1], "hjd": [1.0], "mag": [1.0], "magerr": [0.1], "filter": ["u"]}
            ),
            "unknown filter values",
        ),
        (
            pd.DataFrame({"_id": [1], "hjd": [1.0], "mag": [1.0], "magerr": [0.1], "field": [1]}),
            "give all of",
        ),
    ],
)
def test_long_table_errors_name_the_file(tmp_path, frame, message):
    path = tmp_path / "lc.parquet"
    frame.to_parquet(path)
    with pytest.raises(ValueError, match=message) as error:
        read_long_table(path)
    assert str(path) in str(error.value)


def test_long_table_missing_or_corrupt_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_long_table(tmp_path / "none.parquet")
    (tmp_path / "bad.parquet").write_bytes(b"garbage")
    with pytest.raises(ValueError, match="bad.parquet"):
        read_long_table(tmp_path / "bad.parquet")


def test_long_table_to_raw_names_the_given_source():
    frame = pd.DataFrame({"_id": [1, 1], "hjd": [2458002.0, 2458001.0], "mag": [1.0, 2.0]})
    with pytest.raises(ValueError, match=r"user_file.csv: missing columns \['magerr'\]"):
        long_table_to_raw(frame, source="user_file.csv")
    raw = long_table_to_raw(frame.assign(magerr=0.1), source="user_file.csv")
    assert list(raw.batch.t) == [2458001.0, 2458002.0] and list(raw.batch.mag) == [2.0, 1.0]


@pytest.mark.parametrize(
    ("column", "times", "message"),
    [
        (
            "hjd",
            [59000.1, 59000.2],
            r"'hjd' has times outside .* 2 of 2 values in 59000.1.*look like MJD",
        ),
        ("hjd", [2459000.1, 0.0], r"'hjd' has times outside .* 1 of 2 values in 0.0–2459000.1"),
        ("mjd", [2459000.1, 2459000.2], r"'mjd' has times outside .*look like JD"),
    ],
)
def test_times_implausible_for_the_declared_system_are_refused(column, times, message):
    frame = pd.DataFrame({"_id": [1, 1], column: times, "mag": [15.0] * 2, "magerr": [0.1] * 2})
    with pytest.raises(ValueError, match=message) as error:
        long_table_to_raw(frame, source="user_file.csv")
    assert "user_file.csv" in str(error.value)
