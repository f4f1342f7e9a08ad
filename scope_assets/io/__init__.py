"""Reading and writing tables in SCoPe's formats, and SCoPe's on-disk layout."""

from scope_assets.io.layout import DataLayout
from scope_assets.io.table_formats import (
    atomic_path,
    read_csv,
    read_hdf,
    read_parquet,
    read_parquet_metadata,
    read_table,
    write_csv,
    write_hdf,
    write_json,
    write_parquet,
    write_table,
    write_text_atomic,
)
from scope_assets.io.table_metadata import TableFormatError, read_json_object

__all__ = [
    "DataLayout",
    "TableFormatError",
    "atomic_path",
    "read_csv",
    "read_hdf",
    "read_json_object",
    "read_parquet",
    "read_parquet_metadata",
    "read_table",
    "write_csv",
    "write_hdf",
    "write_json",
    "write_parquet",
    "write_table",
    "write_text_atomic",
]
