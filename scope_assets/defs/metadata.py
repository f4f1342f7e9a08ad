"""Small helpers that turn tables into Dagster metadata (path, rows, schema, summary)."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pandas as pd


def table_schema(df: pd.DataFrame) -> dg.TableSchema:
    return dg.TableSchema(
        columns=[dg.TableColumn(name=str(c), type=str(t)) for c, t in df.dtypes.items()]
    )


def table_metadata(path: Path, df: pd.DataFrame, summary_md: str | None = None) -> dict:
    """Standard metadata of a table an asset wrote."""
    metadata = {
        "path": dg.MetadataValue.path(str(path)),
        "dagster/row_count": dg.MetadataValue.int(len(df)),
        "dagster/column_schema": table_schema(df),
    }
    if summary_md:
        metadata["summary"] = dg.MetadataValue.md(summary_md)
    return metadata


def counts_markdown(counts: dict[str, int], title: str = "count") -> str:
    rows = "\n".join(f"| {k} | {v} |" for k, v in counts.items())
    return f"| what | {title} |\n| --- | --- |\n{rows}\n"
