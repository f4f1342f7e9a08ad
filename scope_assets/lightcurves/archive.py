"""The local light-curve archive: its on-disk format, the 14-digit SCoPe ``_id`` and a reader.

Archive format ``scope-assets-archive/1`` (written by ``scope-sim``; other tools code against it)::

    <archive>/
      manifest.json   {"format": "scope-assets-archive/1", "fields": [296, 297],
                       "created_by": "scope-sim <version>", "seed": <seed of the first field>,
                       "n_sources": <light curves, all fields>,
                       "field_info": {"296": {"seed", "n_sources", "id_block",
                                              "rows": {<shared table>: <rows of this field>}}}}
                      (field_info is optional: an archive without it holds one field)
      lightcurves/field_<f>/rc_<rcid:02d>.parquet
          one row per light curve, public ZTF data-release schema (LIGHTCURVE_SCHEMA):
          objectid int64 (the 14-digit SCoPe _id), filterid int8 (1 g, 2 r, 3 i), fieldid int32,
          rcid int8 (0..63; ccd = rcid // 4 + 1, quad = rcid % 4 + 1), objra, objdec float64 (deg),
          nepochs int32, hmjd list<float64> (HJD - 2400000.5), mag list<float32>,
          magerr list<float32>, clrcoeff list<float32>, catflags list<int32>, programid list<int8>
          (programid is not in the public DR files: optional on read, default 1; nepochs and
          clrcoeff are optional on read too)
      xmatch/Gaia_EDR3.parquet  _id, ra, dec, phot_g_mean_mag, phot_bp_mean_mag, phot_rp_mean_mag,
                                parallax, parallax_error, pmra, pmra_error, pmdec, pmdec_error,
                                astrometric_excess_noise, phot_bp_rp_excess_factor
      xmatch/AllWISE.parquet    _id, ra, dec, w1mpro, w1sigmpro, ..., w4sigmpro, ph_qual (str)
      xmatch/PS1_DR1.parquet    _id, ra, dec, {g,r,i,z,y}MeanPSFMag, {g,r,i,z,y}MeanPSFMagErr,
                                qualityFlag
      alerts/ZTF_alerts.parquet candid int64, objectId str, ra, dec, jd float64, braai float32 (NaN ok)
      truth.parquet             _id, class, period_days (NaN if aperiodic), ra, dec, field, ccd,
                                quad, filter, mean_mag, amplitude_mag   (simulated archives only)

The shared tables (xmatch/, alerts/, truth) cover every field: one block of rows per field, in
ascending field order, sized by ``field_info`` (``scope_assets.sim.archive_writer`` adds fields).

``LocalArchive`` reads such a directory, or a directory of IRSA light-curve files (no manifest;
``*.csv`` / ``*.parquet`` with an ``oid`` column, see ``irsa.py``). Light-curve points are
returned as stored: quality cuts (catflags, programid, HJD range) belong to the cleaning step.
Light curves stream in batches of at most ``batch_size`` rows, read from Parquet row groups, so
memory stays bounded however large a field is (IRSA directories are read into memory whole).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from scope_assets.errors import FieldNotFoundError
from scope_assets.io.table_formats import TableFormatError, table_to_pandas
from scope_assets.lightcurves.ids import rcid_of
from scope_assets.lightcurves.irsa import find_irsa_files, irsa_dr_table
from scope_assets.lightcurves.raw import (
    LIGHTCURVE_SCHEMA,
    META_COLUMNS,
    REQUIRED_COLUMNS,
    SCALAR_COLUMNS,
    RawLightCurves,
    list_lengths,
    meta_from_dr_table,
)

log = logging.getLogger(__name__)

ARCHIVE_FORMAT = "scope-assets-archive/1"
MANIFEST_NAME = "manifest.json"
XMATCH_REQUIRED_COLUMNS = ["_id", "ra", "dec"]
ALERT_COLUMNS = ["candid", "objectId", "ra", "dec", "jd", "braai"]


# --------------------------------------------------------------------------- reading helpers


def read_parquet_checked(path: Path, required: Sequence[str]) -> pd.DataFrame:
    """Read a whole Parquet table, failing with the path and the missing columns if bad."""
    parquet = _open_parquet(path, required)
    try:
        table = parquet.read()
    except (pa.ArrowException, OSError) as exc:
        raise TableFormatError(f"cannot read Parquet file {path}: {exc}") from exc
    return table_to_pandas(table, path)


def _open_parquet(path: Path, required: Sequence[str]) -> pq.ParquetFile:
    if not path.is_file():
        raise FileNotFoundError(f"expected Parquet file {path} does not exist")
    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        raise TableFormatError(f"cannot read Parquet file {path}: {exc}") from exc
    missing = [c for c in required if c not in parquet.schema_arrow.names]
    if missing:
        raise TableFormatError(
            f"{path}: missing columns {missing}; expected at least {list(required)} "
            f"(found {parquet.schema_arrow.names})"
        )
    return parquet


def rcids_for(ccd: int | None, quad: int | None) -> set[int] | None:
    """Readout channels selected by optional ccd / quad (None = all)."""
    if ccd is None and quad is None:
        return None
    ccds = range(1, 17) if ccd is None else [ccd]
    quads = range(1, 5) if quad is None else [quad]
    return {int(rcid_of(c, q)) for c in ccds for q in quads}


class _LightCurvePart:
    """One table of light curves in DR schema: a Parquet file or an in-memory table."""

    def __init__(self, name: str, table: pa.Table | None = None, path: Path | None = None):
        self.name = name
        self._table = table
        self._path = path
        self._parquet: pq.ParquetFile | None = None

    def _file(self) -> pq.ParquetFile:
        if self._parquet is None:
            self._parquet = _open_parquet(self._path, REQUIRED_COLUMNS)
        return self._parquet

    def columns(self) -> list[str]:
        if self._table is not None:
            return self._table.column_names
        return self._file().schema_arrow.names

    def read(self, columns: Sequence[str]) -> pa.Table:
        if self._table is not None:
            return self._table.select(list(columns))
        try:
            return self._file().read(columns=list(columns))
        except (pa.ArrowException, OSError) as exc:
            raise TableFormatError(f"cannot read Parquet file {self._path}: {exc}") from exc

    def iter_batches(self, columns: Sequence[str], batch_size: int) -> Iterator[pa.RecordBatch]:
        if self._table is not None:
            yield from self._table.select(list(columns)).to_batches(max_chunksize=batch_size)
            return
        try:
            yield from self._file().iter_batches(batch_size=batch_size, columns=list(columns))
        except (pa.ArrowException, OSError) as exc:
            raise TableFormatError(f"cannot read Parquet file {self._path}: {exc}") from exc


def _row_mask(
    table: pa.Table | pa.RecordBatch,
    ids: pa.Array | None,
    rcids: set[int] | None,
    min_nobs: int,
) -> pa.Array | None:
    """Boolean row selection, or None when every row is kept."""
    masks = []
    if ids is not None:
        masks.append(pc.is_in(table.column("objectid"), value_set=ids))
    if rcids is not None:
        rcid_values = pa.array(sorted(rcids), type=table.schema.field("rcid").type)
        masks.append(pc.is_in(table.column("rcid"), value_set=rcid_values))
    if min_nobs > 0:
        nobs = (
            table.column("nepochs")
            if "nepochs" in table.column_names
            else pc.list_value_length(table.column("hmjd"))
        )
        masks.append(pc.greater_equal(nobs, min_nobs))
    if not masks:
        return None
    mask = masks[0]
    for other in masks[1:]:
        mask = pc.and_(mask, other)
    return mask


# --------------------------------------------------------------------------- LocalArchive


class LocalArchive:
    """Read-only access to a local light-curve archive or a directory of IRSA files."""

    def __init__(self, root: Path | str):
        self.root = Path(root)
        if not self.root.is_dir():
            raise FileNotFoundError(f"archive directory {self.root} does not exist")
        manifest_path = self.root / MANIFEST_NAME
        self.manifest: dict | None = None
        self._irsa_table: pa.Table | None = None
        if manifest_path.is_file():
            self.manifest = _read_manifest(manifest_path)
            self._fields = sorted(int(f) for f in self.manifest["fields"])
        else:
            self._irsa_table = _read_irsa_directory(self.root)
            self._fields = sorted(set(self._irsa_table.column("fieldid").to_pylist()))

    def __repr__(self) -> str:
        kind = "archive" if self.manifest is not None else "IRSA directory"
        return f"LocalArchive({str(self.root)!r}, {kind}, fields={self._fields})"

    def fields(self) -> list[int]:
        """Field numbers present."""
        return list(self._fields)

    def source_ids(
        self,
        field: int,
        ccd: int | None = None,
        quad: int | None = None,
        min_nobs: int = 0,
    ) -> pd.DataFrame:
        """Light curves of a field (``META_COLUMNS``), without reading their points."""
        rcids = rcids_for(ccd, quad)
        frames = []
        for part in self._parts(field, rcids):
            # Without a stored nepochs the count needs the hmjd lists: read them only then.
            count_column = "nepochs" if "nepochs" in part.columns() else "hmjd"
            table = part.read(SCALAR_COLUMNS + [count_column])
            mask = _row_mask(table, None, rcids, min_nobs)
            if mask is not None:
                table = table.filter(mask)
            lengths = list_lengths(table, "hmjd") if count_column == "hmjd" else None
            frames.append(meta_from_dr_table(table, lengths))
        if not frames:
            return pd.DataFrame({c: np.zeros(0, dtype=_meta_dtype(c)) for c in META_COLUMNS})
        return pd.concat(frames, ignore_index=True)

    def iter_light_curves(
        self,
        field: int,
        ids: Iterable[int] | None = None,
        ccd: int | None = None,
        quad: int | None = None,
        batch_size: int = 1000,
        min_nobs: int = 0,
    ) -> Iterator[RawLightCurves]:
        """Stream a field's light curves in batches of at most ``batch_size`` curves."""
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        rcids = rcids_for(ccd, quad)
        wanted = None if ids is None else pa.array(np.unique(np.asarray(list(ids), np.int64)))
        for part in self._parts(field, rcids):
            if wanted is not None and not _part_has_any(part, wanted):
                continue
            columns = [c for c in LIGHTCURVE_SCHEMA.names if c in part.columns()]
            for record_batch in part.iter_batches(columns, batch_size):
                mask = _row_mask(record_batch, wanted, rcids, min_nobs)
                if mask is not None:
                    record_batch = record_batch.filter(mask)
                if record_batch.num_rows:
                    yield RawLightCurves.from_dr_table(record_batch, source=part.name)

    def read_light_curves(self, ids: Iterable[int]) -> RawLightCurves:
        """The light curves with these ``_id`` values (any field), in the order given."""
        requested = np.asarray(list(ids), dtype=np.int64)
        found = RawLightCurves.concat(
            [
                chunk
                for field in self._fields
                for chunk in self.iter_light_curves(field, ids=requested)
            ]
        )
        position = pd.Index(found.batch.ids).get_indexer(requested)
        if np.any(position < 0):
            missing = requested[position < 0]
            raise KeyError(
                f"{len(missing)} _id(s) not in archive {self.root}: {missing[:10].tolist()}"
            )
        return found.take(position)

    def xmatch_catalog(self, name: str) -> pd.DataFrame:
        """A cross-match catalogue (``xmatch/<name>.parquet``) as a DataFrame."""
        path = self._archive_path("xmatch") / f"{name}.parquet"
        if not path.is_file():
            available = sorted(p.stem for p in path.parent.glob("*.parquet"))
            raise FileNotFoundError(
                f"no cross-match catalogue {name!r} in {path.parent} (available: {available})"
            )
        return read_parquet_checked(path, XMATCH_REQUIRED_COLUMNS)

    def alerts(self) -> pd.DataFrame:
        """ZTF alert rows (``alerts/ZTF_alerts.parquet``)."""
        return read_parquet_checked(
            self._archive_path("alerts") / "ZTF_alerts.parquet", ALERT_COLUMNS
        )

    def truth(self) -> pd.DataFrame | None:
        """The simulator's truth table, or None if the archive has none."""
        path = self._archive_path("truth.parquet")
        return read_parquet_checked(path, ["_id", "class"]) if path.is_file() else None

    def _archive_path(self, name: str) -> Path:
        if self.manifest is None:
            raise FileNotFoundError(
                f"{self.root} is a directory of IRSA light curves: it has no {name!r} "
                f"(only archives with {MANIFEST_NAME} carry cross-matches, alerts and truth)"
            )
        return self.root / name

    def _check_field(self, field: int) -> None:
        if field not in self._fields:
            raise FieldNotFoundError(
                f"field {field} not in archive {self.root} (available: {self._fields})"
            )

    def _parts(self, field: int, rcids: set[int] | None) -> list[_LightCurvePart]:
        self._check_field(field)
        if self._irsa_table is not None:
            table = self._irsa_table.filter(pc.equal(self._irsa_table.column("fieldid"), field))
            return [_LightCurvePart(f"{self.root} (IRSA files, field {field})", table=table)]
        field_dir = self.root / "lightcurves" / f"field_{field}"
        if not field_dir.is_dir():
            raise FileNotFoundError(
                f"{MANIFEST_NAME} lists field {field} but {field_dir} does not exist"
            )
        paths = sorted(field_dir.glob("rc_*.parquet"))
        if rcids is not None:
            paths = [p for p in paths if _rcid_of_path(p) in rcids]
        return [_LightCurvePart(str(p), path=p) for p in paths]


def _meta_dtype(column: str) -> type:
    return np.float64 if column in ("ra", "dec") else np.int64


def _part_has_any(part: _LightCurvePart, ids: pa.Array) -> bool:
    objectids = part.read(["objectid"]).column("objectid")
    return pc.any(pc.is_in(objectids, value_set=ids)).as_py() or False


def _rcid_of_path(path: Path) -> int:
    try:
        return int(path.stem.removeprefix("rc_"))
    except ValueError as exc:
        raise ValueError(f"{path}: expected a file name rc_<rcid:02d>.parquet") from exc


def _read_manifest(path: Path) -> dict:
    try:
        manifest = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"cannot read archive manifest {path}: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != ARCHIVE_FORMAT:
        found = manifest.get("format") if isinstance(manifest, dict) else type(manifest).__name__
        raise ValueError(f"{path}: expected format {ARCHIVE_FORMAT!r}, found {found!r}")
    fields = manifest.get("fields")
    if not isinstance(fields, list) or not all(isinstance(f, int) for f in fields):
        raise ValueError(f"{path}: 'fields' must be a list of field numbers, got {fields!r}")
    return manifest


def _read_irsa_directory(root: Path) -> pa.Table:

    files = find_irsa_files(root)
    if not files:
        raise FileNotFoundError(
            f"{root} has no {MANIFEST_NAME} (not a scope-assets archive) and no IRSA light-curve "
            f"files (*.csv / *.parquet with an 'oid' column)"
        )
    log.info("reading %d IRSA light-curve files from %s", len(files), root)
    return irsa_dr_table(files)
