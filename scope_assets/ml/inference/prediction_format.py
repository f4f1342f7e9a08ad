"""SCoPe's prediction files, the one statement of their format: written and checked from here.

``_id, [obj_id], Gaia_EDR3___id, AllWISE___id, PS1_DR1___id, ra, dec, period, field, ccd, quad,
[filter], <tag>_<alg>…`` with SCoPe's types (``field``, ``ccd``, ``quad`` float64; scores float32
rounded to 2 decimals in float32, as SCoPe 0.9.5 writes them); survey ids are 0 when missing
(never null), ``_id`` is unique, scores lie in [0, 1] (spec/scope-pipeline.md §3).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from scope_assets.io.table_formats import META_KEY, attrs_to_json
from scope_assets.ml.backends.registry import ALGORITHMS

SURVEY_ID_COLUMNS = ["Gaia_EDR3___id", "AllWISE___id", "PS1_DR1___id"]
SCORE_TYPE = pa.float32()


def descriptive_fields(with_obj_id: bool, with_filter: bool) -> list[pa.Field]:
    """The columns before the scores, in order, with their types."""
    fields = [pa.field("_id", pa.int64())]
    if with_obj_id:
        fields.append(pa.field("obj_id", pa.string()))
    fields += [pa.field(c, pa.int64()) for c in SURVEY_ID_COLUMNS]
    fields += [pa.field(c, pa.float64()) for c in ("ra", "dec", "period", "field", "ccd", "quad")]
    if with_filter:
        fields.append(pa.field("filter", pa.int64()))
    return fields


def prediction_schema(
    score_columns: list[str], with_obj_id: bool, with_filter: bool, attrs: dict
) -> pa.Schema:
    """The schema of a prediction file (``attrs``: the table metadata it carries)."""
    fields = descriptive_fields(with_obj_id, with_filter)
    fields += [pa.field(c, SCORE_TYPE) for c in score_columns]
    return pa.schema(fields, metadata={META_KEY: attrs_to_json(attrs).encode()})


def score_array(scores: np.ndarray) -> pa.Array:
    """A score column as SCoPe writes it: float32, rounded to 2 decimals in float32."""
    return pa.array(np.round(np.asarray(scores).astype(np.float32), 2), SCORE_TYPE)


def _rounded(values: np.ndarray) -> bool:
    as_written = values.astype(np.float32)
    return bool(np.array_equal(as_written, np.round(as_written, 2)))


def split_score_column(name: str) -> tuple[str, str] | None:
    """``(tag, algorithm)`` of a ``<tag>_<alg>`` score column, None for any other column."""
    tag, _, algorithm = name.rpartition("_")
    return (tag, algorithm) if tag and algorithm in ALGORITHMS else None


def _is_score_column(name: str, algorithm: str | None) -> bool:
    parts = split_score_column(name)
    return parts is not None and algorithm in (None, parts[1])


def _schema_problems(
    schema: pa.Schema, head: list[pa.Field], scores: list[str], algorithm: str | None
) -> list[str]:
    names = schema.names
    problems = []
    missing = [f.name for f in head if f.name not in names]
    if missing:
        problems.append(f"missing columns {missing}")
    wrong = [c for c in scores if not _is_score_column(c, algorithm)]
    if wrong:
        problems.append(f"columns {wrong} are not {algorithm or '<tag>_<alg>'} score columns")
    expected = [f.name for f in head if f.name in names] + scores
    if not missing and names != expected:
        problems.append(f"column order {names}, expected {expected}")
    for f in head + [pa.field(c, SCORE_TYPE) for c in scores]:
        if f.name in names and schema.field(f.name).type != f.type:
            problems.append(f"column {f.name!r} has type {schema.field(f.name).type}, not {f.type}")
    return problems


def _score_problems(name: str, column: pa.ChunkedArray) -> list[str]:
    if not (pa.types.is_floating(column.type) or pa.types.is_integer(column.type)):
        return []
    values = column.to_numpy(zero_copy_only=False).astype(np.float64)
    values = values[~np.isnan(values)]
    problems = []
    if len(values) and (values.min() < 0 or values.max() > 1):
        problems.append(f"scores of {name!r} outside [0, 1]")
    if not _rounded(values):
        problems.append(f"scores of {name!r} not rounded to 2 decimals")
    return problems


def prediction_format_problems(path: str | Path, algorithm: str | None = None) -> list[str]:
    """What breaks SCoPe's prediction format in the file at ``path`` (``[]``: nothing).

    Reads the schema and only the ``_id``, survey-id and score columns. ``algorithm`` restricts
    the score columns to ``<tag>_<algorithm>`` (a ``preds_<alg>`` file).
    """
    schema = pq.read_schema(path)
    names = schema.names
    head = descriptive_fields("obj_id" in names, "filter" in names)
    head_names = {f.name for f in head}
    scores = [c for c in names if c not in head_names]
    problems = _schema_problems(schema, head, scores, algorithm)
    checked = [c for c in ["_id", *SURVEY_ID_COLUMNS] if c in names]
    table = pq.read_table(path, columns=checked + scores)
    if "_id" in names and len(pc.unique(table["_id"])) != table.num_rows:
        problems.append("duplicated _id")
    nulls = [c for c in SURVEY_ID_COLUMNS if c in names and table[c].null_count]
    if nulls:
        problems.append(f"null survey ids in {nulls}")
    for name in scores:
        problems += _score_problems(name, table[name])
    return problems
