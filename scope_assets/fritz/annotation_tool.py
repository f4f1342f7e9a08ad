"""``scope-manage-annotation``: set or remove one key of an annotation on many sources.

Fritz keeps one annotation per (source, origin) and ``PUT`` replaces its whole ``data``, so every
change here reads the source's annotations first and writes the merged data:

- ``post``: create the annotation ``{key: value}``, or add/replace the key in an existing one;
- ``update``: the same, but the annotation must already exist;
- ``delete``: remove the key; the annotation itself is deleted when nothing else is left in it
  (SCoPe deleted the whole annotation, other keys and all).

A source that already shows the wanted state is left alone, so reruns send nothing. (SCoPe's
update sent the annotation id as ``obj_id``; here the body is ``{data, origin}`` only.)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scope_assets.errors import ScopeError
from scope_assets.fritz.fritz_client import FritzClient, source_path
from scope_assets.fritz.fritz_transport import FritzError
from scope_assets.io import read_table

ACTIONS = ("post", "update", "delete")


class AnnotationInputError(ScopeError, ValueError):
    """The sources or values to annotate are unusable; the message says which."""


@dataclass(frozen=True)
class AnnotationOutcome:
    obj_id: str
    status: str
    """posted, updated, deleted, unchanged or failed."""
    detail: str = ""


def coerce_value(value: Any) -> Any:
    """SCoPe's coercion: an integer or a float if the text is one, else the text."""
    if isinstance(value, np.generic):
        value = value.item()
    if not isinstance(value, str):
        return value
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            continue
    return value


def annotation_targets(
    source: str, key: str, value: Any | None, action: str
) -> list[tuple[str, Any]]:
    """(obj_id, value) pairs: from a table (``obj_id`` and ``<key>`` columns) or one source."""
    path = Path(source)
    if path.suffix.lower() in (".csv", ".parquet", ".h5", ".hdf5") or path.exists():
        table = read_table(path)
        need = ["obj_id"] + ([key] if action != "delete" and value is None else [])
        missing = [c for c in need if c not in table.columns]
        if missing:
            raise AnnotationInputError(f"{path}: missing columns {missing}")
        values = table[key] if key in table.columns and value is None else [value] * len(table)
        pairs = [(str(o), coerce_value(v)) for o, v in zip(table["obj_id"], values, strict=True)]
    else:
        pairs = [(source, coerce_value(value))]
    if action != "delete":
        bad = [o for o, v in pairs if v is None or (isinstance(v, float) and math.isnan(v))]
        if bad:
            raise AnnotationInputError(f"no value for {key!r} on sources {bad[:5]} (give --value)")
    return pairs


def _apply(
    client: FritzClient,
    obj_id: str,
    value: Any,
    action: str,
    origin: str,
    key: str,
    group_ids: Sequence[int] | None,
) -> AnnotationOutcome:
    found = next((a for a in client.get_annotations(obj_id) if a.get("origin") == origin), None)
    data = dict((found or {}).get("data") or {})
    if action == "delete":
        if found is None or key not in data:
            return AnnotationOutcome(obj_id, "unchanged", f"no {key!r} in origin {origin!r}")
        data.pop(key)
        if data:
            client.put_annotation(obj_id, found["id"], data, origin)
        else:
            client.delete(source_path(obj_id, f"/annotations/{found['id']}"))
        return AnnotationOutcome(obj_id, "deleted")
    if found is None:
        if action == "update":
            return AnnotationOutcome(obj_id, "failed", f"no annotation with origin {origin!r}")
        client.post_annotation(obj_id, origin, {key: value}, group_ids)
        return AnnotationOutcome(obj_id, "posted")
    if key in data and data[key] == value:
        return AnnotationOutcome(obj_id, "unchanged")
    client.put_annotation(obj_id, found["id"], {**data, key: value}, origin)
    return AnnotationOutcome(obj_id, "updated")


def manage_annotations(
    client: FritzClient,
    action: str,
    targets: Sequence[tuple[str, Any]],
    origin: str,
    key: str,
    group_ids: Sequence[int] | None = None,
    parallel: int = 4,
    progress: Callable[[int], None] | None = None,
) -> pd.DataFrame:
    """Apply ``action`` to every (obj_id, value); one outcome row per target, never raises for one."""
    if action not in ACTIONS:
        raise AnnotationInputError(f"--action {action!r}: expected one of {list(ACTIONS)}")

    def one(target: tuple[str, Any]) -> AnnotationOutcome:
        try:
            outcome = _apply(client, *target, action, origin, key, group_ids)
        except FritzError as exc:
            outcome = AnnotationOutcome(target[0], "failed", exc.message)
        if progress is not None:
            progress(1)
        return outcome

    with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
        outcomes = list(pool.map(one, targets))
    return pd.DataFrame([vars(o) for o in outcomes], columns=["obj_id", "status", "detail"])
