"""Light curves as stored, before cleaning: the ZTF data-release row schema and ``RawLightCurves``.

``LIGHTCURVE_SCHEMA`` is one row per light curve in the public ZTF data-release layout (see
:mod:`scope_assets.lightcurves.archive` for the archive around it); ``RawLightCurves`` holds a
batch of them with their per-curve metadata, as every reader (archive, IRSA, long tables,
Kowalski) returns them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from scope_assets.lightcurves.batch import LightCurveBatch

HJD_OFFSET = 2400000.5  # hmjd = HJD - HJD_OFFSET
FILTER_CODES = {1: "g", 2: "r", 3: "i"}

LIGHTCURVE_SCHEMA = pa.schema(
    [
        ("objectid", pa.int64()),
        ("filterid", pa.int8()),
        ("fieldid", pa.int32()),
        ("rcid", pa.int8()),
        ("objra", pa.float64()),
        ("objdec", pa.float64()),
        ("nepochs", pa.int32()),
        ("hmjd", pa.list_(pa.float64())),
        ("mag", pa.list_(pa.float32())),
        ("magerr", pa.list_(pa.float32())),
        ("clrcoeff", pa.list_(pa.float32())),
        ("catflags", pa.list_(pa.int32())),
        ("programid", pa.list_(pa.int8())),
    ]
)
SCALAR_COLUMNS = ["objectid", "filterid", "fieldid", "rcid", "objra", "objdec"]
POINT_COLUMNS = ["hmjd", "mag", "magerr", "catflags"]
REQUIRED_COLUMNS = SCALAR_COLUMNS + POINT_COLUMNS
META_COLUMNS = ["_id", "ra", "dec", "field", "ccd", "quad", "filter", "nobs"]


@dataclass(frozen=True)
class RawLightCurves:
    """Light curves as stored, before cleaning.

    ``meta`` has one row per curve (``META_COLUMNS``; ``nobs`` is the stored point count, like
    Kowalski's), in the order of ``batch``. ``catflags`` (int32) and ``programid`` (int8) are
    aligned with the batch's points. ``n_nonfinite_dropped`` counts points a reader dropped
    because time, mag or magerr was NaN or infinite (only ``read_long_table`` drops points).
    """

    meta: pd.DataFrame
    batch: LightCurveBatch
    catflags: np.ndarray
    programid: np.ndarray
    n_nonfinite_dropped: int = 0

    def __post_init__(self) -> None:
        if list(self.meta.columns) != META_COLUMNS:
            raise ValueError(f"meta columns must be {META_COLUMNS}, got {list(self.meta.columns)}")
        if not np.array_equal(self.meta["_id"].to_numpy(), self.batch.ids):
            raise ValueError("meta['_id'] must equal batch.ids, in the same order")
        n_points = int(self.batch.offsets[-1])
        if len(self.catflags) != n_points or len(self.programid) != n_points:
            raise ValueError("catflags and programid must have one value per batch point")

    def __len__(self) -> int:
        return len(self.batch)

    def take(self, index: Sequence[int] | np.ndarray) -> RawLightCurves:
        """The curves at positions ``index``, in that order."""
        index = np.asarray(index, dtype=np.int64)
        _, points = self.batch.point_index(index)
        batch = self.batch.subset(index)
        meta = self.meta.iloc[index].reset_index(drop=True)
        return RawLightCurves(meta, batch, self.catflags[points], self.programid[points])

    @classmethod
    def concat(cls, parts: Sequence[RawLightCurves]) -> RawLightCurves:
        """One object holding all curves of ``parts``, in order."""
        if not parts:
            return cls.empty()
        counts = np.concatenate([p.batch.n_points for p in parts])
        offsets = np.zeros(len(counts) + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        batch = LightCurveBatch(
            ids=np.concatenate([p.batch.ids for p in parts]),
            offsets=offsets,
            t=np.concatenate([p.batch.t for p in parts]),
            mag=np.concatenate([p.batch.mag for p in parts]),
            magerr=np.concatenate([p.batch.magerr for p in parts]),
        )
        return cls(
            meta=pd.concat([p.meta for p in parts], ignore_index=True),
            batch=batch,
            catflags=np.concatenate([p.catflags for p in parts]),
            programid=np.concatenate([p.programid for p in parts]),
            n_nonfinite_dropped=sum(p.n_nonfinite_dropped for p in parts),
        )

    @classmethod
    def empty(cls) -> RawLightCurves:
        """No light curves."""
        return cls.from_dr_table(LIGHTCURVE_SCHEMA.empty_table(), source="<empty>")

    @classmethod
    def from_dr_table(
        cls, table: pa.Table | pa.RecordBatch, source: str, n_nonfinite_dropped: int = 0
    ) -> RawLightCurves:
        """Convert rows in the ZTF data-release schema; ``source`` names the origin in errors."""
        lengths = list_lengths(table, "hmjd")
        for name in ("mag", "magerr", "catflags", "programid"):
            if name in table.column_names:
                _check_same_lengths(table, name, lengths, source)
        offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        ids = table.column("objectid").to_numpy().astype(np.int64)
        batch = LightCurveBatch(
            ids=ids,
            offsets=offsets,
            t=_flat(table, "hmjd", np.float64) + HJD_OFFSET,
            mag=_flat(table, "mag", np.float64),
            magerr=_flat(table, "magerr", np.float64),
        )
        if "programid" in table.column_names:
            programid = _flat(table, "programid", np.int8)
        else:
            programid = np.ones(offsets[-1], dtype=np.int8)
        return cls(
            meta=meta_from_dr_table(table, lengths),
            batch=batch,
            catflags=_flat(table, "catflags", np.int32),
            programid=programid,
            n_nonfinite_dropped=n_nonfinite_dropped,
        )


def list_lengths(table: pa.Table | pa.RecordBatch, name: str) -> np.ndarray:
    lengths = pc.list_value_length(table.column(name)).fill_null(0)
    return lengths.to_numpy().astype(np.int64)


def _check_same_lengths(
    table: pa.Table | pa.RecordBatch, name: str, expected: np.ndarray, source: str
) -> None:
    bad = np.flatnonzero(list_lengths(table, name) != expected)
    if len(bad):
        objectid = table.column("objectid")[int(bad[0])].as_py()
        raise ValueError(
            f"{source}: list column {name!r} has a different length from 'hmjd' "
            f"for objectid {objectid} (and {len(bad) - 1} more rows)"
        )


def _flat(table: pa.Table | pa.RecordBatch, name: str, dtype: type) -> np.ndarray:
    values = pc.list_flatten(table.column(name))
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    return values.to_numpy(zero_copy_only=False).astype(dtype, copy=False)


def meta_from_dr_table(
    table: pa.Table | pa.RecordBatch, lengths: np.ndarray | None
) -> pd.DataFrame:
    """Meta rows; ``lengths`` (points per row) stand in for a missing ``nepochs`` column."""

    def column(name: str, dtype: type) -> np.ndarray:
        return table.column(name).to_numpy().astype(dtype)

    rcid = column("rcid", np.int64)
    known = rcid >= 0  # rcid -1: a long table that did not say where the curve was observed
    nobs = column("nepochs", np.int64) if "nepochs" in table.column_names else lengths
    return pd.DataFrame(
        {
            "_id": column("objectid", np.int64),
            "ra": column("objra", np.float64),
            "dec": column("objdec", np.float64),
            "field": column("fieldid", np.int64),
            "ccd": np.where(known, rcid // 4 + 1, 0),
            "quad": np.where(known, rcid % 4 + 1, 0),
            "filter": column("filterid", np.int64),
            "nobs": nobs,
        }
    )
