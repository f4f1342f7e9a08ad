"""Streaming a user's long light-curve table (Parquet or CSV) in batches of light curves.

``generate-features --lightcurves FILE`` must keep memory bounded by the batch size, not the
file size. A CSV is first converted block by block to a temporary Parquet file (under the data
root's ``.scratch``, removed on exit and, after a killed run, by the next run); then the
distinct ``_id`` values are read (one column), and each batch of ids is read back with a
predicate filter and parsed by :func:`~scope_assets.lightcurves.irsa.long_table_to_raw`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from scope_assets.io.run_files import scratch_directory
from scope_assets.lightcurves.irsa import long_table_to_raw
from scope_assets.lightcurves.raw import RawLightCurves


def _csv_to_parquet(path: Path, target: Path) -> None:
    try:
        reader = pacsv.open_csv(path)
    except pa.ArrowInvalid as exc:
        raise ValueError(f"{path}: not a readable CSV light-curve table ({exc})") from None
    with pq.ParquetWriter(target, reader.schema) as writer:
        for block in reader:
            writer.write_batch(block)


def light_curve_ids(path: Path) -> np.ndarray:
    """Distinct ``_id`` values of a long Parquet table, in order of first appearance."""
    try:
        ids = pq.read_table(path, columns=["_id"]).column("_id").to_numpy()
    except KeyError:
        raise ValueError(f"{path}: no '_id' column (expected a long light-curve table)") from None
    _, first = np.unique(ids, return_index=True)
    return ids[np.sort(first)]


def iter_long_table(
    path: str | Path, batch_size: int = 1000, *, scratch_root: Path
) -> Iterator[RawLightCurves]:
    """Yield ``RawLightCurves`` of at most ``batch_size`` light curves from a long table.

    ``scratch_root`` (the data root) holds the temporary Parquet copy of a CSV table.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"light-curve table {path} does not exist")
    with scratch_directory(scratch_root) as tmp:
        parquet_path = path
        if path.suffix.lower() == ".csv" or path.name.lower().endswith(".csv.gz"):
            parquet_path = tmp / "table.parquet"
            _csv_to_parquet(path, parquet_path)
        ids = light_curve_ids(parquet_path)
        if len(ids) == 0:
            raise ValueError(f"{path}: the light-curve table has no rows")
        dataset = ds.dataset(parquet_path)
        for start in range(0, len(ids), batch_size):
            chunk = ids[start : start + batch_size]
            table = dataset.to_table(filter=pc.field("_id").isin(pa.array(chunk)))
            yield long_table_to_raw(table.to_pandas(), source=str(path))
