"""dm-dt columns ↔ arrays: feature-table columns to model inputs, and arrays back to Arrow."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from scope_assets.ml.model_errors import InputError

DMDT_SHAPE = (26, 26)


class DmdtRows:
    """Selected rows of a dm-dt array, converted to float32 slice by slice (no full copy)."""

    def __init__(self, values: np.ndarray, index: np.ndarray):
        self.values = values
        self.index = np.asarray(index, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.index)

    @property
    def shape(self) -> tuple[int, ...]:
        return (len(self.index), *self.values.shape[1:])

    def __getitem__(self, item: slice) -> np.ndarray:
        return np.asarray(self.values[self.index[item]], dtype=np.float32)


def dmdt_from_arrow(
    column: pa.Array | pa.ChunkedArray,
    shape: tuple[int, int] = DMDT_SHAPE,
    where: str = "table",
    copy: bool = True,
) -> np.ndarray:
    """``list<list<number>>`` dm-dt column → ``(n, rows, cols)`` array (nulls → zeros).

    Vectorised through Arrow's flattened buffers; falls back to a per-row conversion only when
    rows are null or ragged, and raises :class:`InputError` when a row has the wrong shape.
    ``copy=False`` returns a read-only view of Arrow's buffer (its own dtype) when possible;
    otherwise the result is a float32 copy.
    """
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    n = len(column)
    rows, cols = shape
    if n == 0:
        return np.zeros((0, rows, cols), dtype=np.float32)
    if not pa.types.is_list(column.type) and not pa.types.is_large_list(column.type):
        raise InputError(f"{where}: column 'dmdt' must be a nested list, got {column.type}")
    if column.null_count == 0:
        inner = column.flatten()
        if len(inner) == n * rows and inner.null_count == 0:
            values = inner.flatten()
            if len(values) == n * rows * cols and values.null_count == 0:
                lengths = pa.compute.list_value_length(inner).to_numpy(zero_copy_only=False)
                if np.all(lengths == cols):
                    flat = values.to_numpy(zero_copy_only=False).reshape(n, rows, cols)
                    return flat if not copy else flat.astype(np.float32)
    out = np.zeros((n, rows, cols), dtype=np.float32)
    for i, value in enumerate(column.to_pylist()):
        if value is None:
            continue
        arr = np.asarray(value, dtype=np.float32)
        if arr.shape != shape:
            raise InputError(f"{where}: dmdt of row {i} has shape {arr.shape}, expected {shape}")
        out[i] = arr
    return out


def dmdt_from_series(series: pd.Series, shape: tuple[int, int] = DMDT_SHAPE) -> np.ndarray:
    """A pandas ``dmdt`` column (nested lists/arrays per row) → float32 ``(n, rows, cols)``."""
    out = np.zeros((len(series), *shape), dtype=np.float32)
    for i, value in enumerate(series):
        if value is None or (isinstance(value, float) and np.isnan(value)):
            continue
        arr = np.asarray(np.stack(value) if len(value) else value, dtype=np.float32)
        if arr.shape != shape:
            raise InputError(f"dmdt of row {i} has shape {arr.shape}, expected {shape}")
        out[i] = arr
    return out


def dmdt_to_arrow(dmdt: np.ndarray) -> pa.ListArray:
    """``(n, rows, cols)`` array → Arrow ``list<list<value>>`` (the feature files' dmdt type),
    keeping the array's dtype."""
    n, rows, cols = dmdt.shape
    values = pa.array(np.ascontiguousarray(dmdt).ravel())
    inner = pa.ListArray.from_arrays(
        pa.array(np.arange(n * rows + 1, dtype=np.int32) * cols), values
    )
    return pa.ListArray.from_arrays(pa.array(np.arange(n + 1, dtype=np.int32) * rows), inner)
