"""Writing a run's outputs: the Parquet predictions, the flagged JSON, a CSV copy, ``meta.json``.

The Parquet file and the flagged JSON are written as the batches arrive and appear atomically
(complete, or not at all when the run fails); the caller stages the whole set and publishes it
together (:func:`scope_assets.io.run_files.staged_outputs`).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from scope_assets.io import atomic_path

DEFAULT_BATCH_SIZE = 100_000
"""Input rows per output row group."""


def _pattern_codes(missing: np.ndarray) -> np.ndarray:
    """Each row's missing-feature pattern as integers (63 columns per uint64 word): sorting
    these is much faster than sorting the boolean rows."""
    words = [
        (
            missing[:, j : j + 63].astype(np.uint64)
            << np.arange(min(63, missing.shape[1] - j), dtype=np.uint64)
        ).sum(axis=1)
        for j in range(0, missing.shape[1], 63)
    ] or [np.zeros(len(missing), dtype=np.uint64)]
    return words[0] if len(words) == 1 else np.column_stack(words)


class FlagWriter:
    """Streams ``{"<_id>": [missing features], ...}`` to a file, one entry per line."""

    def __init__(self, handle: TextIO, names: list[str]):
        self.handle = handle
        self.names = names
        self.first = True
        handle.write("{")

    def write(self, ids: np.ndarray, missing: np.ndarray) -> None:
        """One entry per id; ``missing``: (rows, ``names``) mask of missing features."""
        if not len(ids):
            return
        # one JSON list per pattern of missing features (a survey's columns go missing together)
        codes, inverse = np.unique(_pattern_codes(missing), axis=0, return_inverse=True)
        inverse = inverse.reshape(-1)
        example = np.zeros(len(codes), dtype=np.int64)  # a row of each pattern
        example[inverse] = np.arange(len(ids))
        lists = [json.dumps([self.names[j] for j in np.flatnonzero(missing[r])]) for r in example]
        entries = np.array(lists, dtype=object)[inverse]
        parts = [f'"{i}": {e}' for i, e in zip(ids.tolist(), entries, strict=True)]
        if parts:
            self.handle.write(("\n" if self.first else ",\n") + ",\n".join(parts))
            self.first = False

    def close(self) -> None:
        self.handle.write("\n}\n" if not self.first else "}\n")


class PredictionWriter:
    """Appends scored tables to the Parquet file, one row group per ``batch_size`` input rows."""

    def __init__(self, parquet: pq.ParquetWriter, flags: FlagWriter | None, batch_size: int):
        self.parquet = parquet
        self.flags = flags
        self.batch_size = batch_size
        self.pending: list[pa.Table] = []
        self.pending_rows = 0
        self.rows_out = 0
        self.row_groups = 0

    def append(self, table: pa.Table, rows_read: int) -> None:
        """The output rows of ``rows_read`` input rows."""
        self.pending.append(table)
        self.pending_rows += rows_read
        if self.pending_rows >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            table = pa.concat_tables(self.pending)
            self.parquet.write_table(table)
            self.rows_out += table.num_rows
            self.row_groups += 1
            self.pending, self.pending_rows = [], 0


@contextlib.contextmanager
def prediction_writer(
    output: Path,
    schema: pa.Schema,
    *,
    flagged_path: Path | None,
    flag_names: list[str],
    batch_size: int,
) -> Iterator[PredictionWriter]:
    """A :class:`PredictionWriter` whose files are complete when the block ends without error."""
    with contextlib.ExitStack() as stack:
        parquet = stack.enter_context(
            pq.ParquetWriter(stack.enter_context(atomic_path(output)), schema)
        )
        flags = None
        if flagged_path is not None:
            handle = stack.enter_context(open(stack.enter_context(atomic_path(flagged_path)), "w"))
            flags = FlagWriter(handle, flag_names)
        writer = PredictionWriter(parquet, flags, batch_size)
        yield writer
        writer.flush()
        if flags is not None:
            flags.close()


def write_csv_copy(parquet_path: Path, csv_path: Path) -> Path:
    """The predictions of ``parquet_path`` as CSV at ``csv_path`` (no table metadata)."""
    import pyarrow.csv as pacsv

    source = pq.ParquetFile(parquet_path)
    schema = source.schema_arrow.remove_metadata()
    with atomic_path(csv_path) as tmp, pacsv.CSVWriter(tmp, schema) as writer:
        for batch in source.iter_batches(batch_size=DEFAULT_BATCH_SIZE):
            writer.write_batch(batch)
    return csv_path


def default_flagged_path(output: Path) -> Path:
    """SCoPe's flagged JSON beside ``output``: ``<stem>_flagged.json``."""
    return output.with_name(f"{output.stem}_flagged.json")


def _field_value(field: int | str) -> int | str:
    try:
        return int(field)
    except (TypeError, ValueError):
        return str(field)


def meta_content(
    existing: Path, field: int | str, algorithm: str, model_paths: list[str], total: int
) -> dict:
    """``meta.json`` = ``{field, <alg>_models: [paths], total}``; other keys of the ``existing``
    file are kept, the model list is replaced by this run's (no duplicate appends)."""
    data: dict = {}
    if existing.exists():
        try:
            data = json.loads(existing.read_text())
        except json.JSONDecodeError:
            data = {}
    data = data if isinstance(data, dict) else {}
    data["field"] = _field_value(field)
    data[f"{algorithm}_models"] = list(dict.fromkeys(model_paths))
    data["total"] = int(total)
    return data
