"""Kowalski collections built from a local archive directory (the simulated sky).

Archive layout (written by ``scope-sim``; the public ZTF data-release schema)::

    lightcurves/field_<f>/rc_<rcid:02d>.parquet   one row per light curve
    xmatch/{Gaia_EDR3,AllWISE,PS1_DR1}.parquet    _id, ra, dec + catalogue columns
    alerts/ZTF_alerts.parquet                     candid, objectId, ra, dec, jd, braai
    features/ZTF_source_features_DR16.parquet     optional: a features catalogue to serve

Documents are shaped like the real collections (spec/services.md §A.5). Light-curve ``data``
arrays and other list columns are materialised lazily, per document, when a query needs them.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from bson import ObjectId

from scope_assets.emulator.catalog import Catalog

SOURCES_CATALOG = "ZTF_sources_20240515"
FEATURES_CATALOG = "ZTF_source_features_DR16"
ALERTS_CATALOG = "ZTF_alerts"
XMATCH_CATALOGS = ("Gaia_EDR3", "AllWISE", "PS1_DR1")
MJD_TO_JD = 2400000.5
POINT_DTYPES = {  # per-point list columns of the archive (besides hmjd), when present
    "mag": np.float64,
    "magerr": np.float64,
    "clrcoeff": np.float64,
    "catflags": np.int64,
    "programid": np.int64,
}
GEO_INDEX = [("coordinates.radec_geojson", "2dsphere"), ("_id", 1)]


def radec_str(ra: float, dec: float) -> list[str]:
    """``["HH:MM:SS.ssss", "±DD:MM:SS.sss"]`` as Kowalski stores it."""
    hours = (ra % 360.0) / 15.0
    h, rem = divmod(hours * 3600.0, 3600.0)
    m, s = divmod(rem, 60.0)
    sign = "-" if dec < 0 else "+"
    d, rem = divmod(abs(dec) * 3600.0, 3600.0)
    dm, ds = divmod(rem, 60.0)
    return [f"{int(h):02d}:{int(m):02d}:{s:07.4f}", f"{sign}{int(d):02d}:{int(dm):02d}:{ds:06.3f}"]


def coordinates(ra: float, dec: float) -> dict[str, Any]:
    """The ``coordinates`` sub-document every positional Kowalski document carries."""
    return {
        "radec_str": radec_str(ra, dec),
        "radec_geojson": {"type": "Point", "coordinates": [ra - 180.0, dec]},
    }


def _native(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return value


@dataclass
class _Curves:
    """Flat point arrays of one light-curve file, with CSR offsets."""

    offsets: np.ndarray
    columns: dict[str, np.ndarray]

    def slice(self, i: int) -> dict[str, np.ndarray]:
        a, b = int(self.offsets[i]), int(self.offsets[i + 1])
        return {name: values[a:b] for name, values in self.columns.items()}


def _flat_list_column(table: pa.Table, name: str, dtype: Any) -> tuple[np.ndarray, np.ndarray]:
    column = table.column(name).combine_chunks()
    offsets = np.asarray(column.offsets, dtype=np.int64)
    values = column.values.to_numpy(zero_copy_only=False).astype(dtype)
    base = offsets[0]
    return offsets - base, values[base : offsets[-1]]


def _read_curves(table: pa.Table) -> _Curves:
    offsets, hmjd = _flat_list_column(table, "hmjd", np.float64)
    columns = {"hmjd": hmjd}
    for name, dtype in POINT_DTYPES.items():
        if name in table.column_names:
            _, columns[name] = _flat_list_column(table, name, dtype)
    return _Curves(offsets, columns)


def _light_curve_stats(mag: np.ndarray, magerr: np.ndarray) -> dict[str, float]:
    good = np.isfinite(mag) & np.isfinite(magerr)
    m, e = mag[good], magerr[good]
    if len(m) == 0:
        return dict.fromkeys(
            ("meanmag", "refmag", "refmagerr", "iqr", "vonneumannratio", "refchi"), math.nan
        )
    median = float(np.median(m))
    variance = float(np.var(m))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        vnr = (
            float(np.mean(np.diff(m) ** 2) / variance) if len(m) > 1 and variance > 0 else math.nan
        )
        chi = float(np.mean(((m - median) / e) ** 2)) if np.all(e > 0) else math.nan
    q25, q75 = np.percentile(m, [25, 75])
    return {
        "meanmag": float(np.mean(m)),
        "refmag": median,
        "refmagerr": float(np.median(e)),
        "iqr": float(q75 - q25),
        "vonneumannratio": vnr,
        "refchi": chi,
    }


def _data_points(
    curve: dict[str, np.ndarray],
    doc: dict[str, Any],
    keys: frozenset[str] | None = None,
) -> list[dict]:
    """Kowalski's per-point sub-documents of ``doc``, sorted by ``hjd`` (only ``keys`` if given)."""
    order = np.argsort(curve["hmjd"], kind="stable")
    hmjd = curve["hmjd"][order]
    expid = np.rint((hmjd - 58000.0) * 2880.0).astype(np.int64)
    n = len(hmjd)
    columns: dict[str, Callable[[], list]] = {
        "hjd": lambda: (hmjd + MJD_TO_JD).tolist(),
        **{
            name: (lambda v=values: v[order].tolist())
            for name, values in curve.items()
            if name != "hmjd"
        },
        "ra": lambda: [doc["ra"]] * n,
        "dec": lambda: [doc["dec"]] * n,
        "expid": expid.tolist,
        "uexpid": lambda: (
            10**16 + doc["field"] * 10**12 + doc["rc"] * 10**10 + doc["filter"] * 10**9 + expid
        ).tolist(),
    }
    names = [name for name in columns if keys is None or name in keys]
    values = [columns[name]() for name in names]
    return [dict(zip(names, row, strict=True)) for row in zip(*values, strict=True)]


def build_sources_catalog(files: Iterable[Path], name: str = SOURCES_CATALOG) -> Catalog:
    """``ZTF_sources_*``: one document per light curve, ``data`` lazy."""
    docs: list[dict[str, Any]] = []
    where: list[tuple[_Curves, int]] = []
    for path in files:
        table = pq.read_table(path)
        curves = _read_curves(table)
        meta = table.select(
            ["objectid", "filterid", "fieldid", "rcid", "objra", "objdec"]
        ).to_pylist()
        nepochs = table.column("nepochs").to_pylist() if "nepochs" in table.column_names else None
        for i, row in enumerate(meta):
            curve = curves.slice(i)
            _id, rc = int(row["objectid"]), int(row["rcid"])
            ra, dec = float(row["objra"]), float(row["objdec"])
            docs.append(
                {
                    "_id": _id,
                    "matchid": _id % 10**6,
                    "ra": ra,
                    "dec": dec,
                    "filter": int(row["filterid"]),
                    "field": int(row["fieldid"]),
                    "ccd": rc // 4 + 1,
                    "quad": rc % 4 + 1,
                    "rc": rc,
                    "nobs": int(nepochs[i]) if nepochs is not None else len(curve["hmjd"]),
                    **_light_curve_stats(curve["mag"], curve["magerr"]),
                    "coordinates": coordinates(ra, dec),
                }
            )
            where.append((curves, i))

    def data(row: int, keys: frozenset[str] | None) -> list[dict]:
        curves, i = where[row]
        return _data_points(curves.slice(i), docs[row], keys)

    indexes = [GEO_INDEX, [("field", 1), ("ccd", 1), ("quad", 1)], [("nobs", 1), ("_id", 1)]]
    return Catalog(name, docs, lazy={"data": data}, indexes=indexes)


def _table_catalog(
    name: str,
    table: pa.Table,
    convert_id: Callable[[Any], Any] = _native,
    indexes: list | None = None,
) -> Catalog:
    """Documents from a flat table; list columns are lazy; ``coordinates`` added from ra/dec."""
    list_columns = [
        f.name for f in table.schema if pa.types.is_list(f.type) or pa.types.is_large_list(f.type)
    ]
    scalar = table.drop_columns(list_columns)
    docs = scalar.to_pylist()
    for doc in docs:
        if "_id" in doc:
            doc["_id"] = convert_id(doc["_id"])
        if "coordinates" not in doc and doc.get("ra") is not None and doc.get("dec") is not None:
            doc["coordinates"] = coordinates(float(doc["ra"]), float(doc["dec"]))

    def lazy_column(column: pa.ChunkedArray) -> Callable[[int, frozenset[str] | None], Any]:
        return lambda row, keys: column[row].as_py()

    lazy = {c: lazy_column(table.column(c)) for c in list_columns}
    return Catalog(name, docs, lazy=lazy, indexes=indexes or [GEO_INDEX])


def build_alerts_catalog(table: pa.Table) -> Catalog:
    """``ZTF_alerts``: ObjectId ``_id``, ``candidate{…}``, ``classifications{braai}`` (may be ``{}``)."""
    docs = []
    for row in table.to_pylist():
        candid = int(row.pop("candid"))
        braai = row.pop("braai", None)
        object_id = row.pop("objectId")
        candidate = {"candid": candid, **{k: _native(v) for k, v in row.items()}}
        has_braai = braai is not None and not (isinstance(braai, float) and math.isnan(braai))
        docs.append(
            {
                "_id": ObjectId(f"{candid:024x}"),
                "candid": candid,
                "objectId": object_id,
                "candidate": candidate,
                "classifications": {"braai": float(braai)} if has_braai else {},
                "coordinates": coordinates(float(row["ra"]), float(row["dec"])),
            }
        )
    return Catalog(ALERTS_CATALOG, docs, indexes=[GEO_INDEX, [("candid", 1)], [("objectId", 1)]])


def load_kowalski_catalogs(
    archive_dir: str | Path, features_path: str | Path | None = None
) -> dict[str, Catalog]:
    """Every collection the emulator serves, from ``archive_dir`` (and an optional features file)."""
    archive = Path(archive_dir)
    if not archive.is_dir():
        raise FileNotFoundError(
            f"archive directory {archive} does not exist (create one with scope-sim)"
        )
    files = sorted(archive.glob("lightcurves/field_*/rc_*.parquet"))
    catalogs = {SOURCES_CATALOG: build_sources_catalog(files)}
    for name in XMATCH_CATALOGS:
        path = archive / "xmatch" / f"{name}.parquet"
        if path.exists():
            convert = str if name == "Gaia_EDR3" else _native
            catalogs[name] = _table_catalog(name, pq.read_table(path), convert)
    alerts = archive / "alerts" / "ZTF_alerts.parquet"
    if alerts.exists():
        catalogs[ALERTS_CATALOG] = build_alerts_catalog(pq.read_table(alerts))
    features = (
        Path(features_path)
        if features_path
        else archive / "features" / f"{FEATURES_CATALOG}.parquet"
    )
    if features_path and not features.exists():
        raise FileNotFoundError(f"features file {features} does not exist")
    indexes = [GEO_INDEX, [("period", -1), ("significance", -1)]]
    table = (
        pq.read_table(features)
        if features.exists()
        else pa.table({"_id": pa.array([], pa.int64())})
    )
    catalogs[FEATURES_CATALOG] = _table_catalog(FEATURES_CATALOG, table, indexes=indexes)
    return catalogs


def catalog_subset(catalogs: Mapping[str, Catalog], names: Iterable[str]) -> dict[str, Catalog]:
    """The catalogs among ``names`` (for splitting collections over several instances)."""
    return {name: catalogs[name] for name in names if name in catalogs}
