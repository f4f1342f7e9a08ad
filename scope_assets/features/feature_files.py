"""The declared schema of a feature file, and the writer that holds every file to it.

A feature file's schema never comes from its data: a batch whose AllWISE ``ph_qual`` column is
all missing (no source matched) would otherwise fix that column as Arrow ``null``, and a batch
whose PS1 ``qualityFlag`` is all present would fix it as an integer; the next batch then cannot
be written. Types come from the config's feature catalogue, then from :data:`FIXED_TYPES`,
then from the ``_id`` suffix; every other column is float64.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from scope_assets.config import ScopeConfig
from scope_assets.io.table_formats import META_KEY, attrs_to_json
from scope_assets.io.table_metadata import TableFormatError

CONFIG_TYPES: dict[str, pa.DataType] = {
    "float": pa.float64(),
    "Int64": pa.int64(),
    "int": pa.int64(),
    "str": pa.string(),
}
FIXED_TYPES: dict[str, pa.DataType] = {
    "field": pa.int64(),
    "ccd": pa.int64(),
    "quad": pa.int64(),
    "filter": pa.int64(),
    "n_ztf_alerts": pa.int64(),
    "dmdt": pa.list_(pa.list_(pa.float64())),
    "AllWISE__ph_qual": pa.string(),
}
"""Columns outside the config's catalogue whose type is not float64."""
PANDAS_DTYPES = {pa.int64(): "Int64", pa.float64(): "float64"}


def column_type(column: str, config: ScopeConfig) -> pa.DataType:
    """The declared Arrow type of one feature-file column."""
    declared = {
        config.column_name(name): spec.dtype for name, spec in config.features.catalog.items()
    }
    if column in declared:
        return CONFIG_TYPES[declared[column]]
    if column in FIXED_TYPES:
        return FIXED_TYPES[column]
    return pa.int64() if column.endswith("_id") else pa.float64()


def feature_schema(columns: list[str], config: ScopeConfig) -> pa.Schema:
    """The Arrow schema of a feature file with ``columns`` (pandas metadata included)."""
    schema = pa.schema([(c, column_type(c, config)) for c in columns])
    pandas_meta = pa.Table.from_pandas(empty_frame(schema), schema=schema, preserve_index=False)
    return schema.with_metadata(pandas_meta.schema.metadata)


def empty_frame(schema: pa.Schema) -> pd.DataFrame:
    """A zero-row frame with one column per schema field (Int64 for integers, object else)."""
    return pd.DataFrame(
        {f.name: pd.Series(dtype=PANDAS_DTYPES.get(f.type, object)) for f in schema}
    )


def conform(df: pd.DataFrame, schema: pa.Schema, where: Path) -> pa.Table:
    """``df`` as an Arrow table of exactly ``schema``; a clear error if it cannot be."""
    missing = [c for c in schema.names if c not in df.columns]
    extra = [c for c in df.columns if c not in schema.names]
    if missing or extra:
        raise TableFormatError(
            f"{where}: feature columns differ from the declared table "
            f"(missing {missing}, undeclared {extra})"
        )
    try:
        return pa.Table.from_pandas(df, schema=schema, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
        raise TableFormatError(
            f"{where}: a feature does not fit its declared type ({exc})"
        ) from None


class FeatureFileWriter:
    """Streams feature DataFrames into one Parquet file of a declared schema, with ``scope`` attrs.

    The file is written even when no frame comes (an empty table of the schema). Use inside
    :func:`~scope_assets.io.atomic_path` so that a failure leaves no file.
    """

    def __init__(self, path: Path, attrs: dict[str, object], schema: pa.Schema) -> None:
        self.path = path
        self.rows = 0
        metadata = dict(schema.metadata or {})
        metadata[META_KEY] = attrs_to_json(attrs).encode()
        self._schema = schema.with_metadata(metadata)
        self._writer = pq.ParquetWriter(path, self._schema)

    def write(self, df: pd.DataFrame) -> None:
        table = conform(df, self._schema, self.path)
        self._writer.write_table(table.replace_schema_metadata(self._schema.metadata))
        self.rows += len(df)

    def close(self) -> None:
        self._writer.close()

    def __enter__(self) -> FeatureFileWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
