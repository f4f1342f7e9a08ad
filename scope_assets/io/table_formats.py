"""Tables on disk, as SCoPe stores them: Parquet, HDF5 and CSV, with ``DataFrame.attrs``.

- Parquet: ``attrs`` as JSON under the schema-metadata key ``scope`` (next to pandas' own key).
- HDF5: pandas ``HDFStore`` (fixed format, key ``df``) with ``attrs`` on the storer's
  ``attrs.metadata``.
- CSV: list/array cells (``dmdt``) are written as JSON strings and parsed back. SCoPe's CSV
  files carry no metadata, and SCoPe reads them with a plain ``pandas.read_csv``, which a header
  line would break; so ``attrs`` are written only on request (``write_csv(..., metadata=True)``)
  as one leading ``# scope: <JSON>`` line. :func:`read_csv` reads it back into ``attrs``; other
  readers skip it with ``skiprows=1`` (pandas) or ``ReadOptions(skip_rows=1)`` (pyarrow) — not
  with ``comment="#"``, which would also cut data cells at a ``#``.

Every write is atomic: the table goes to a temporary file in the target directory, then is
renamed over the target, so a crash never leaves a half-written file.
"""

from __future__ import annotations

import contextlib
import json
import os
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from scope_assets.io.run_files import remove_stale_temporaries, temporary_file_name
from scope_assets.io.table_metadata import TableFormatError, metadata_json, parse_table_metadata

META_KEY = b"scope"
CSV_META_PREFIX = "# scope: "
HDF_KEY = "df"
SUFFIXES = {".parquet": "parquet", ".h5": "hdf", ".hdf5": "hdf", ".hdf": "hdf", ".csv": "csv"}


def _json_default(value: object) -> object:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    return str(value)


def attrs_to_json(attrs: dict) -> str:
    """Serialise ``DataFrame.attrs`` (numpy scalars and paths become plain JSON), size-checked."""
    return metadata_json(attrs, lambda a: json.dumps(a, default=_json_default, sort_keys=True))


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it over ``path`` only on success.

    The temporary file is not created here: the writer creates it, so it gets the usual
    umask-derived mode (``mkstemp`` would leave a private 0600 file behind the rename). Its name
    carries this process's id; temporaries of killed runs in the directory are removed first.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path.parent)
    tmp_path = temporary_file_name(path)
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    finally:
        tmp_path.unlink(missing_ok=True)


def write_text_atomic(text: str, path: str | os.PathLike[str]) -> Path:
    """Write ``text`` to ``path`` atomically (for JSON side files such as ``meta.json``)."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)
    return Path(path)


def write_json(data: object, path: str | os.PathLike[str]) -> Path:
    """Write ``data`` as indented JSON, atomically."""
    return write_text_atomic(json.dumps(data, indent=2, default=_json_default) + "\n", path)


def _table_format(path: Path) -> str:
    try:
        return SUFFIXES[path.suffix.lower()]
    except KeyError:
        raise TableFormatError(
            f"{path}: unknown table format {path.suffix!r}; expected one of {sorted(SUFFIXES)}"
        ) from None


def write_parquet(
    df: pd.DataFrame, filepath: str | os.PathLike[str], meta_key: str = "scope"
) -> Path:
    """Write ``df`` to Parquet with ``df.attrs`` as JSON under the schema key ``meta_key``
    (SCoPe's ``scope.utils.write_parquet`` call shape)."""
    table = pa.Table.from_pandas(df, preserve_index=False)
    metadata = dict(table.schema.metadata or {})
    metadata[meta_key.encode()] = attrs_to_json(df.attrs).encode()
    table = table.replace_schema_metadata(metadata)
    with atomic_path(filepath) as tmp:
        pq.write_table(table, tmp)
    return Path(filepath)


def read_parquet_metadata(path: str | os.PathLike[str], meta_key: str = "scope") -> dict:
    """The ``meta_key`` metadata of a Parquet file without reading its data ({} if absent).

    The ``pandas`` key is checked too, so a reader that goes on to read batches meets sound
    metadata."""
    try:
        schema = pq.read_schema(path)
    except (OSError, pa.ArrowInvalid) as exc:
        raise TableFormatError(f"{path}: not a readable Parquet file ({exc})") from None
    metadata = schema.metadata or {}
    if metadata.get(b"pandas"):
        parse_table_metadata(metadata[b"pandas"], path, "pandas")
    raw = metadata.get(meta_key.encode())
    return parse_table_metadata(raw, path, meta_key) if raw else {}


def table_to_pandas(table: pa.Table, path: Path) -> pd.DataFrame:
    """``table`` as a DataFrame; its ``pandas`` metadata must be a sound JSON object."""
    raw = (table.schema.metadata or {}).get(b"pandas")
    if raw:
        parse_table_metadata(raw, path, "pandas")
    try:
        return table.to_pandas()
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise TableFormatError(
            f"{path}: 'pandas' metadata does not fit the table ({exc})"
        ) from None


def read_parquet(
    filepath: str | os.PathLike[str],
    meta_key: str = "scope",
    *,
    columns: list[str] | None = None,
) -> pd.DataFrame:
    """Read a Parquet table with ``attrs`` from the schema key ``meta_key`` (a warning if absent).

    The replacement for SCoPe's ``scope.utils.read_parquet(filepath, meta_key="scope")``: same
    arguments, same result; ``columns`` optionally reads a subset.
    """
    path = Path(filepath)
    try:
        table = pq.read_table(path, columns=columns)
    except FileNotFoundError:
        raise FileNotFoundError(f"table {path} does not exist") from None
    except (OSError, pa.ArrowInvalid) as exc:
        raise TableFormatError(f"{path}: not a readable Parquet file ({exc})") from None
    except KeyError as exc:
        raise TableFormatError(f"{path}: missing column {exc}") from None
    df = table_to_pandas(table, path)
    raw = (table.schema.metadata or {}).get(meta_key.encode())
    if raw:
        df.attrs = parse_table_metadata(raw, path, meta_key)
    else:
        warnings.warn(f"{path} has no {meta_key!r} metadata", stacklevel=2)
    return df


def write_hdf(df: pd.DataFrame, path: str | os.PathLike[str], key: str = HDF_KEY) -> Path:
    """Write ``df`` to HDF5 (fixed format) with ``attrs`` on the storer's ``attrs.metadata``."""
    with atomic_path(path) as tmp:
        with pd.HDFStore(tmp, mode="w") as store, warnings.catch_warnings():
            warnings.simplefilter("ignore", pd.errors.PerformanceWarning)
            store.put(key, df, format="fixed", track_times=False)
            store.get_storer(key).attrs.metadata = dict(df.attrs)
    return Path(path)


def read_hdf(path: str | os.PathLike[str], key: str = HDF_KEY) -> pd.DataFrame:
    """Read an HDF5 table written by :func:`write_hdf` (or by SCoPe)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"table {path} does not exist")
    try:
        with pd.HDFStore(path, mode="r") as store:
            if f"/{key}" not in store.keys():
                raise TableFormatError(f"{path}: no key {key!r} (keys: {store.keys()})")
            df = store.get(key)
            storer_attrs = store.get_storer(key).attrs
            metadata = getattr(storer_attrs, "metadata", None)
    except TableFormatError:
        raise
    except Exception as exc:  # PyTables raises many types for a corrupt file
        raise TableFormatError(f"{path}: not a readable HDF5 table ({exc})") from None
    if metadata is None:
        warnings.warn(f"{path} has no metadata attribute", stacklevel=2)
    else:
        df.attrs = dict(metadata)
    return df


def _is_array_cell(value: object) -> bool:
    return isinstance(value, list | np.ndarray)


def write_csv(df: pd.DataFrame, path: str | os.PathLike[str], *, metadata: bool = False) -> Path:
    """Write CSV; list/array cells become JSON strings. With ``metadata``, ``df.attrs`` go first
    as one ``# scope: <JSON>`` line (SCoPe writes none; see the module docstring)."""
    out = df.copy()
    for col in out.columns:
        if out[col].map(_is_array_cell).any():
            out[col] = out[col].map(
                lambda v: json.dumps(np.asarray(v).tolist()) if _is_array_cell(v) else v
            )
    with atomic_path(path) as tmp:
        with open(tmp, "w", newline="", encoding="utf-8") as handle:
            if metadata:
                handle.write(f"{CSV_META_PREFIX}{attrs_to_json(df.attrs)}\n")
            out.to_csv(handle, index=False)
    return Path(path)


def _csv_metadata(path: Path) -> tuple[dict, int]:
    """``(attrs, number of leading metadata lines)`` of a CSV file."""
    attrs: dict = {}
    n_lines = 0
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if not line.startswith(CSV_META_PREFIX):
                break
            attrs.update(parse_table_metadata(line[len(CSV_META_PREFIX) :], path, "scope"))
            n_lines += 1
    return attrs, n_lines


def read_csv(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read CSV written by :func:`write_csv` (or by SCoPe): ``attrs`` from a leading
    ``# scope:`` line if there is one, JSON list cells (e.g. ``dmdt``) parsed back."""
    path = Path(path)
    try:
        attrs, n_meta = _csv_metadata(path)
        df = pd.read_csv(path, skiprows=n_meta)
    except FileNotFoundError:
        raise FileNotFoundError(f"table {path} does not exist") from None
    except (
        pd.errors.EmptyDataError,
        pd.errors.ParserError,
        UnicodeDecodeError,
        json.JSONDecodeError,
    ) as exc:
        raise TableFormatError(f"{path}: not a readable CSV table ({exc})") from None
    for col in df.columns:
        if pd.api.types.is_object_dtype(df[col]) or pd.api.types.is_string_dtype(df[col]):
            first = df[col].dropna().head(1)
            if len(first) and isinstance(first.iloc[0], str) and first.iloc[0].startswith("["):
                df[col] = df[col].map(lambda v: json.loads(v) if isinstance(v, str) else v)
    df.attrs = attrs
    return df


def write_table(df: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write ``df`` in the format named by ``path``'s suffix (.parquet, .h5, .csv)."""
    path = Path(path)
    writer = {"parquet": write_parquet, "hdf": write_hdf, "csv": write_csv}[_table_format(path)]
    return writer(df, path)


def read_table(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a table in the format named by ``path``'s suffix (.parquet, .h5, .csv)."""
    path = Path(path)
    reader = {"parquet": read_parquet, "hdf": read_hdf, "csv": read_csv}[_table_format(path)]
    return reader(path)
