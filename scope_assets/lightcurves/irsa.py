"""Readers for long (one row per point) light-curve tables: IRSA ZTF files and plain tables.

IRSA ZTF light-curve files (CSV as served by the IRSA light-curve API, or the same columns in
Parquet): ``oid, expid, hjd, mjd, mag, magerr, catflags, filtercode, ra, dec, ..., field, ccdid,
qid, ..., programid``. Each ``oid`` becomes one light curve with ``_id = oid``; ``filtercode``
``zg/zr/zi`` becomes filter 1/2/3; position is the mean of the points' ra/dec.

Time: ``hjd`` when the file has it; otherwise ``mjd + 2400000.5``, which is **not heliocentric**
(off by up to ±8.3 min, which matters only for minute-scale periods); a warning says so. Times
outside the plausible range of the declared column (:mod:`.time_system`) (e.g. MJD values in ``hjd``) are
refused with an error naming what was found.

Plain long tables (``read_long_table``, used by ``generate-features --lightcurves FILE``):
Parquet or CSV with ``_id, hjd|mjd, mag, magerr`` and optionally ``catflags`` (default 0),
``filter`` (1/2/3 or g/r/i/zg/zr/zi), ``ra, dec``, ``programid`` (default 1) and
``field, ccd, quad``. Missing location / filter columns are decoded from the ``_id`` when it is a
14-digit SCoPe ``_id`` or a ZTF data-release ``objectid``; otherwise they are reported as 0
(unknown).

Non-finite points: rows whose time, mag or magerr is NaN or infinite are dropped; the count is
returned in ``RawLightCurves.n_nonfinite_dropped`` and logged. Points are sorted by time within
each light curve.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from numpy.typing import ArrayLike

from scope_assets.lightcurves.ids import decode_id, is_scope_id, rcid_of
from scope_assets.lightcurves.raw import HJD_OFFSET, LIGHTCURVE_SCHEMA, RawLightCurves
from scope_assets.lightcurves.time_system import require_time_system

log = logging.getLogger(__name__)

IRSA_REQUIRED_COLUMNS = ["oid", "mag", "magerr", "filtercode", "field", "ccdid", "qid"]
IRSA_OPTIONAL_COLUMNS = ["hjd", "mjd", "catflags", "ra", "dec", "clrcoeff", "programid"]
LONG_REQUIRED_COLUMNS = ["_id", "mag", "magerr"]
LONG_OPTIONAL_COLUMNS = ["hjd", "mjd", "catflags", "filter", "ra", "dec", "programid"]
LOCATION_COLUMNS = ["field", "ccd", "quad"]
FILTER_IDS = {"g": 1, "r": 2, "i": 3, "zg": 1, "zr": 2, "zi": 3, "1": 1, "2": 2, "3": 3}
TABLE_SUFFIXES = (".csv", ".csv.gz", ".parquet", ".pq")


# --------------------------------------------------------------------------- file access


def _is_table_file(path: Path) -> bool:
    return path.is_file() and path.name.lower().endswith(TABLE_SUFFIXES)


def _is_parquet(path: Path) -> bool:
    return path.name.lower().endswith((".parquet", ".pq"))


def table_columns(path: Path) -> list[str]:
    """Column names of a CSV or Parquet file, read from its header only."""
    try:
        if _is_parquet(path):
            return pq.read_schema(path).names
        return list(pd.read_csv(path, nrows=0).columns)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise ValueError(f"cannot read table header of {path}: {exc}") from exc


def read_irsa_columns(path: Path, columns: Sequence[str]) -> pd.DataFrame:
    """Read the named columns of a CSV or Parquet file."""
    try:
        if _is_parquet(path):
            return pq.read_table(path, columns=list(columns)).to_pandas()
        options = pacsv.ConvertOptions(include_columns=list(columns))
        return pacsv.read_csv(path, convert_options=options).to_pandas()
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise ValueError(f"cannot read {path}: {exc}") from exc


def _require(
    source: Path | str, present: Sequence[str], required: Sequence[str], what: str
) -> None:
    missing = [c for c in required if c not in present]
    if missing:
        raise ValueError(
            f"{source}: missing columns {missing}; {what} needs {list(required)} (found {list(present)})"
        )


def find_irsa_files(directory: Path) -> list[Path]:
    """CSV / Parquet files under ``directory`` (recursively) whose header has an ``oid`` column."""
    found = []
    for path in sorted(Path(directory).rglob("*")):
        if not _is_table_file(path):
            continue
        try:
            has_oid = "oid" in table_columns(path)
        except ValueError:
            log.warning("ignoring unreadable file %s", path)
            continue
        if has_oid:
            found.append(path)
    return found


# --------------------------------------------------------------------------- IRSA files


def read_irsa_file(path: Path) -> tuple[pd.DataFrame, int]:
    """One IRSA file as normalised points and its count of dropped non-finite points."""
    path = Path(path)
    present = table_columns(path)
    _require(path, present, IRSA_REQUIRED_COLUMNS, "an IRSA ZTF light-curve file")
    if "hjd" not in present and "mjd" not in present:
        raise ValueError(f"{path}: needs an 'hjd' or 'mjd' column (found {present})")
    wanted = IRSA_REQUIRED_COLUMNS + [c for c in IRSA_OPTIONAL_COLUMNS if c in present]
    raw = read_irsa_columns(path, wanted)
    return _long_frame(
        ids=raw["oid"],
        t=_time_column(path, raw),
        mag=raw["mag"],
        magerr=raw["magerr"],
        filterid=_filter_ids(path, raw["filtercode"]),
        fieldid=raw["field"],
        rcid=rcid_of(raw["ccdid"], raw["qid"]),
        extra=raw,
    )


def irsa_dr_table(paths: Sequence[Path]) -> pa.Table:
    """IRSA files as one table in the data-release schema (one row per ``oid``)."""
    table, dropped = _irsa_table_and_dropped(paths)
    if dropped:
        log.warning("dropped %d non-finite points from %d IRSA files", dropped, len(paths))
    return table


def read_irsa(paths: Sequence[Path]) -> RawLightCurves:
    """IRSA light-curve files as ``RawLightCurves`` (one curve per ``oid``)."""
    table, dropped = _irsa_table_and_dropped(paths)
    return RawLightCurves.from_dr_table(table, source="IRSA files", n_nonfinite_dropped=dropped)


def _irsa_table_and_dropped(paths: Sequence[Path]) -> tuple[pa.Table, int]:
    if not paths:
        raise ValueError("no IRSA light-curve files given")
    frames, dropped = zip(*(read_irsa_file(Path(p)) for p in paths), strict=True)
    frame = pd.concat(frames, ignore_index=True)
    return long_frame_to_dr_table(frame, source=f"{len(frames)} IRSA files"), sum(dropped)


def _time_column(source: Path | str, raw: pd.DataFrame) -> pd.Series:
    if "hjd" in raw.columns:
        require_time_system(source, "hjd", raw["hjd"])
        return raw["hjd"]
    require_time_system(source, "mjd", raw["mjd"])
    warnings.warn(
        f"{source}: no 'hjd' column, using mjd + 2400000.5 (not heliocentric: up to ±8.3 min off)",
        stacklevel=3,
    )
    return raw["mjd"] + HJD_OFFSET


def _filter_ids(source: Path | str, codes: pd.Series) -> np.ndarray:
    """Filter ids 1/2/3 from ints or from codes g/r/i/zg/zr/zi."""
    if pd.api.types.is_integer_dtype(codes):
        values = codes.to_numpy(dtype=np.int64)
        bad = ~np.isin(values, [1, 2, 3])
    else:
        mapped = codes.astype(str).str.strip().str.lower().map(FILTER_IDS)
        bad = mapped.isna().to_numpy()
        values = mapped.fillna(0).to_numpy(dtype=np.int64)
    if np.any(bad):
        examples = pd.unique(codes[bad])[:5].tolist()
        raise ValueError(
            f"{source}: unknown filter values {examples}; expected zg/zr/zi, g/r/i or 1/2/3"
        )
    return values


# --------------------------------------------------------------------------- plain long tables


def read_long_table(path: Path | str) -> RawLightCurves:
    """A long light-curve table (Parquet or CSV, one row per point) as ``RawLightCurves``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"light-curve table {path} does not exist")
    present = table_columns(path)
    _check_long_columns(str(path), present)
    known = LONG_REQUIRED_COLUMNS + LONG_OPTIONAL_COLUMNS + LOCATION_COLUMNS
    return long_table_to_raw(read_irsa_columns(path, [c for c in known if c in present]), str(path))


def long_table_to_raw(table: pd.DataFrame, source: str) -> RawLightCurves:
    """Points of a long table (columns as for ``read_long_table``) as ``RawLightCurves``.

    ``source`` names the table in errors and logs (e.g. the user's file, when the caller reads
    it in chunks).
    """
    _check_long_columns(source, list(table.columns))
    ids = _integer_ids(source, table["_id"])
    if "field" in table.columns:
        fieldid = table["field"].to_numpy(np.int64)
        rcid = rcid_of(table["ccd"], table["quad"])
    else:
        fieldid, rcid = _location_from_ids(ids)
    if "filter" in table.columns:
        filterid = _filter_ids(source, table["filter"])
    else:
        filterid = _filter_from_ids(ids)
    frame, dropped = _long_frame(
        ids=ids,
        t=_time_column(source, table),
        mag=table["mag"],
        magerr=table["magerr"],
        filterid=filterid,
        fieldid=fieldid,
        rcid=rcid,
        extra=table,
    )
    if dropped:
        log.warning("%s: dropped %d points with non-finite time, mag or magerr", source, dropped)
    dr_table = long_frame_to_dr_table(frame, source=source)
    return RawLightCurves.from_dr_table(dr_table, source=source, n_nonfinite_dropped=dropped)


def _check_long_columns(source: str, present: Sequence[str]) -> None:
    _require(source, present, LONG_REQUIRED_COLUMNS, "a long light-curve table")
    if "hjd" not in present and "mjd" not in present:
        raise ValueError(f"{source}: needs an 'hjd' or 'mjd' column (found {list(present)})")
    location = [c for c in LOCATION_COLUMNS if c in present]
    if location and len(location) != len(LOCATION_COLUMNS):
        raise ValueError(f"{source}: give all of {LOCATION_COLUMNS} or none (found {location})")


def _integer_ids(source: str, ids: pd.Series) -> np.ndarray:
    if ids.isna().any() or not pd.api.types.is_integer_dtype(ids):
        raise ValueError(
            f"{source}: '_id' must be integers with no missing values (dtype {ids.dtype})"
        )
    return ids.to_numpy(dtype=np.int64)


def _is_dr_objectid(ids: np.ndarray) -> np.ndarray:
    """ZTF DR objectid: field(3-4) + filter(1) + ccd(2) + quad(1) + seq(8), 15-16 digits."""
    filterid = ids // 10**11 % 10
    ccd = ids // 10**9 % 100
    quad = ids // 10**8 % 10
    return (
        (ids >= 10**14)
        & (ids < 10**16)
        & np.isin(filterid, [1, 2, 3])
        & (ccd >= 1)
        & (ccd <= 16)
        & (quad >= 1)
        & (quad <= 4)
    )


def _location_from_ids(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(field, rcid) from SCoPe ids or DR objectids; 0 / -1 where neither."""
    fieldid = np.zeros(len(ids), dtype=np.int64)
    rcid = np.full(len(ids), -1, dtype=np.int64)
    scope = is_scope_id(ids)
    parts = decode_id(ids[scope])
    fieldid[scope] = parts.field
    rcid[scope] = rcid_of(parts.ccd, parts.quad)
    dr = _is_dr_objectid(ids) & ~scope
    fieldid[dr] = ids[dr] // 10**12
    rcid[dr] = rcid_of(ids[dr] // 10**9 % 100, ids[dr] // 10**8 % 10)
    return fieldid, rcid


def _filter_from_ids(ids: np.ndarray) -> np.ndarray:
    """Filter id from SCoPe ids or DR objectids; 0 where neither."""
    filterid = np.zeros(len(ids), dtype=np.int64)
    scope = is_scope_id(ids)
    filterid[scope] = decode_id(ids[scope]).filter
    dr = _is_dr_objectid(ids) & ~scope
    filterid[dr] = ids[dr] // 10**11 % 10
    return filterid


# --------------------------------------------------------------------------- long frame -> DR rows


def _long_frame(
    ids: ArrayLike,
    t: ArrayLike,
    mag: ArrayLike,
    magerr: ArrayLike,
    filterid: ArrayLike,
    fieldid: ArrayLike,
    rcid: ArrayLike,
    extra: pd.DataFrame,
) -> tuple[pd.DataFrame, int]:
    """Normalised points, one row per finite point, and the number of non-finite points dropped.

    ``extra`` supplies the optional per-point columns (catflags, programid, clrcoeff, ra, dec).
    """

    def optional(name: str, default: float) -> np.ndarray:
        if name in extra.columns:
            return extra[name].to_numpy(dtype=np.float64, na_value=default)
        return np.full(len(extra), default)

    frame = pd.DataFrame(
        {
            "objectid": np.asarray(ids, dtype=np.int64),
            "t": np.asarray(t, dtype=np.float64),
            "mag": np.asarray(mag, dtype=np.float64),
            "magerr": np.asarray(magerr, dtype=np.float64),
            "catflags": optional("catflags", 0).astype(np.int32),
            "programid": optional("programid", 1).astype(np.int8),
            "clrcoeff": optional("clrcoeff", np.nan),
            "filterid": np.asarray(filterid, dtype=np.int64),
            "fieldid": np.asarray(fieldid, dtype=np.int64),
            "rcid": np.asarray(rcid, dtype=np.int64),
            "ra": optional("ra", np.nan),
            "dec": optional("dec", np.nan),
        }
    )
    finite = np.isfinite(frame[["t", "mag", "magerr"]].to_numpy()).all(axis=1)
    return frame[finite].reset_index(drop=True), int((~finite).sum())


def long_frame_to_dr_table(frame: pd.DataFrame, source: str) -> pa.Table:
    """Group normalised points by ``objectid`` into data-release rows (points sorted by time)."""
    frame = frame.iloc[np.lexsort((frame["t"].to_numpy(), frame["objectid"].to_numpy()))]
    ids = frame["objectid"].to_numpy()
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]]) if len(ids) else np.zeros(0, int)
    offsets = np.r_[starts, len(ids)].astype(np.int32)
    for name in ("filterid", "fieldid", "rcid"):
        values = frame[name].to_numpy()
        varying = values != np.repeat(values[starts], np.diff(offsets))
        if np.any(varying):
            raise ValueError(
                f"{source}: {name} changes within light curve {ids[np.argmax(varying)]}; "
                "each _id must be one field, readout channel and filter"
            )

    def lists(name: str, arrow_type: pa.DataType) -> pa.ListArray:
        values = pa.array(frame[name].to_numpy(), type=arrow_type)
        return pa.ListArray.from_arrays(pa.array(offsets), values)

    hmjd = frame["t"].to_numpy() - HJD_OFFSET
    columns = {
        "objectid": pa.array(ids[starts], pa.int64()),
        "filterid": pa.array(frame["filterid"].to_numpy()[starts], pa.int8()),
        "fieldid": pa.array(frame["fieldid"].to_numpy()[starts], pa.int32()),
        "rcid": pa.array(frame["rcid"].to_numpy()[starts], pa.int8()),
        "objra": pa.array(_group_nanmean(frame["ra"].to_numpy(), offsets), pa.float64()),
        "objdec": pa.array(_group_nanmean(frame["dec"].to_numpy(), offsets), pa.float64()),
        "nepochs": pa.array(np.diff(offsets), pa.int32()),
        "hmjd": pa.ListArray.from_arrays(pa.array(offsets), pa.array(hmjd, pa.float64())),
        "mag": lists("mag", pa.float32()),
        "magerr": lists("magerr", pa.float32()),
        "clrcoeff": lists("clrcoeff", pa.float32()),
        "catflags": lists("catflags", pa.int32()),
        "programid": lists("programid", pa.int8()),
    }
    return pa.table(columns, schema=LIGHTCURVE_SCHEMA)


def _group_nanmean(values: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Mean of the finite values of each group (NaN for a group with none)."""
    if len(offsets) < 2:
        return np.zeros(0)
    finite = np.isfinite(values)
    starts = offsets[:-1]
    sums = np.add.reduceat(np.where(finite, values, 0.0), starts)
    counts = np.add.reduceat(finite.astype(np.int64), starts)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / counts, np.nan)
