"""Taxonomy mappers: which Fritz label (in which taxonomy) a score or label column stands for.

SCoPe's JSON format, ``{column: {"fritz_label": str, "taxonomy_id": int}}``. The four mappers
SCoPe ships are generated here from the config's class table (``classes:``), so they cannot
drift from it (``scope-taxonomy-map --kind … --output FILE``; the generated files ship in
``scope_assets/config/mappers/``):

==========  ===========================  ==================================================
kind        file                         columns
==========  ===========================  ==================================================
training    golden_dataset_mapper.json   training labels (``variable``, ``RR Lyrae ab``, …)
fritz       fritz_mapper.json            classifier tags (``vnv``, ``rrab``, …)
dnn         DNN_AL_mapper.json           ``<tag>_dnn`` columns of the DNN catalogue
xgb         XGB_AL_mapper.json           ``<tag>_xgb`` columns of the XGB catalogue
==========  ===========================  ==================================================

``training`` lists every configured class; the other three only classes with published
models. Each also carries SCoPe's derived ``nonvar`` (= 1 − ``vnv``, Fritz label
``non-variable``). A ``fritz_label`` of ``"None"`` (SCoPe's golden mapper uses it) marks a
column that is never posted or mapped.

Before use a mapper is validated: every column must be one the config can produce, and every
label must be a class of its taxonomy as Fritz's ``/api/taxonomy`` serves it. Errors name the
entry.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from scope_assets.config import ScopeConfig
from scope_assets.errors import ScopeError
from scope_assets.io import write_text_atomic

MapperKind = Literal["training", "fritz", "dnn", "xgb"]
MAPPER_FILES: dict[str, str] = {
    "training": "golden_dataset_mapper.json",
    "fritz": "fritz_mapper.json",
    "dnn": "DNN_AL_mapper.json",
    "xgb": "XGB_AL_mapper.json",
}
SKIP_LABEL = "None"
COMPLEMENT_TAG = "nonvar"
"""SCoPe's derived class: ``nonvar = 1 - vnv`` (no classifier of its own)."""
COMPLEMENT_OF = "vnv"
COMPLEMENT_LABEL = "non-variable"
"""Training label and Fritz label of ``nonvar``."""


class MapperError(ScopeError, ValueError):
    """A mapper file is malformed or names a column, label or taxonomy Fritz does not know."""


@dataclass(frozen=True)
class MapperEntry:
    """One mapper entry: ``column`` stands for ``fritz_label`` in taxonomy ``taxonomy_id``."""

    column: str
    fritz_label: str
    taxonomy_id: int

    @property
    def skipped(self) -> bool:
        """True for SCoPe's ``"None"`` entries: the column is never posted or mapped."""
        return self.fritz_label == SKIP_LABEL


@dataclass(frozen=True)
class TaxonomyMapper:
    """An ordered set of entries, read from (or written to) SCoPe's JSON format."""

    entries: tuple[MapperEntry, ...]
    source: str = "<generated>"

    def __post_init__(self) -> None:
        columns = [e.column for e in self.entries]
        duplicated = sorted({c for c in columns if columns.count(c) > 1})
        if duplicated:
            raise MapperError(f"{self.source}: columns listed twice: {duplicated}")

    def __iter__(self) -> Iterator[MapperEntry]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def __contains__(self, column: object) -> bool:
        return any(e.column == column for e in self.entries)

    @property
    def columns(self) -> list[str]:
        return [e.column for e in self.entries]

    def entry(self, column: str) -> MapperEntry:
        for e in self.entries:
            if e.column == column:
                return e
        raise MapperError(f"{self.source}: no entry for column {column!r}")

    def to_json(self) -> dict[str, dict[str, Any]]:
        return {
            e.column: {"fritz_label": e.fritz_label, "taxonomy_id": e.taxonomy_id}
            for e in self.entries
        }

    def label_to_column(self) -> dict[tuple[str, int], str]:
        """(Fritz label, taxonomy id) → column, for mapping downloaded classifications."""
        return {(e.fritz_label, e.taxonomy_id): e.column for e in self.entries if not e.skipped}


# --------------------------------------------------------------------------- generation


def _class_rows(config: ScopeConfig, kind: MapperKind) -> list[tuple[str, str, str, int]]:
    """(tag, training label, Fritz label, taxonomy id) of the classes a mapper kind covers."""
    rows = [
        (tag, spec.label, spec.fritz_label, spec.taxonomy_id)
        for tag, spec in config.classes.items()
        if kind == "training" or spec.published
    ]
    if COMPLEMENT_OF in config.classes:
        taxonomy_id = config.classes[COMPLEMENT_OF].taxonomy_id
        rows.append((COMPLEMENT_TAG, COMPLEMENT_LABEL, COMPLEMENT_LABEL, taxonomy_id))
    return rows


def mapper_column(kind: MapperKind, tag: str, training_label: str) -> str:
    """The column a class is listed under in a mapper of ``kind``."""
    if kind == "training":
        return training_label
    return tag if kind == "fritz" else f"{tag}_{kind}"


def build_mapper(config: ScopeConfig, kind: MapperKind) -> TaxonomyMapper:
    """The mapper of ``kind`` for the config's class table (see the module docstring)."""
    if kind not in MAPPER_FILES:
        raise MapperError(f"unknown mapper kind {kind!r}; expected one of {list(MAPPER_FILES)}")
    entries = tuple(
        MapperEntry(mapper_column(kind, tag, label), fritz_label, taxonomy_id)
        for tag, label, fritz_label, taxonomy_id in _class_rows(config, kind)
    )
    return TaxonomyMapper(entries, source=f"<{kind} mapper from config>")


def known_columns(config: ScopeConfig) -> set[str]:
    """Every column name a mapper may use: tags, ``<tag>_dnn|_xgb`` and training labels."""
    rows = _class_rows(config, "training")
    return {mapper_column(kind, tag, label) for kind in MAPPER_FILES for tag, label, _, _ in rows}  # type: ignore[arg-type]


# --------------------------------------------------------------------------- files


def packaged_mapper_path(name: str) -> Path:
    """Path of a mapper file shipped in ``scope_assets/config/mappers``."""
    return Path(str(resources.files("scope_assets.config").joinpath("mappers", name)))


def resolve_mapper_path(path: str | os.PathLike[str]) -> Path:
    """``path`` if it exists, else the shipped mapper of that file name (SCoPe's names work)."""
    candidate = Path(path)
    if candidate.exists():
        return candidate
    shipped = packaged_mapper_path(candidate.name)
    if shipped.exists():
        return shipped
    raise MapperError(
        f"taxonomy map {path} does not exist (shipped mappers: {sorted(MAPPER_FILES.values())})"
    )


def _entry_from_json(source: str, column: str, value: Any) -> MapperEntry:
    if not isinstance(value, Mapping) or set(value) != {"fritz_label", "taxonomy_id"}:
        raise MapperError(
            f"{source}: entry {column!r} must be {{'fritz_label': str, 'taxonomy_id': int}}, "
            f"got {value!r}"
        )
    label, taxonomy_id = value["fritz_label"], value["taxonomy_id"]
    if not isinstance(label, str) or not label:
        raise MapperError(f"{source}: entry {column!r}: fritz_label must be a non-empty string")
    if isinstance(taxonomy_id, bool) or not isinstance(taxonomy_id, int):
        raise MapperError(f"{source}: entry {column!r}: taxonomy_id must be an integer")
    return MapperEntry(column, label, taxonomy_id)


def load_mapper(path: str | os.PathLike[str]) -> TaxonomyMapper:
    """Read a mapper file (``path`` or a shipped file name), checking its structure."""
    resolved = resolve_mapper_path(path)
    source = str(resolved)
    try:
        data = json.loads(resolved.read_text())
    except json.JSONDecodeError as exc:
        raise MapperError(f"{source}: not valid JSON ({exc})") from None
    if not isinstance(data, dict) or not data:
        raise MapperError(f"{source}: expected a non-empty JSON object of entries")
    entries = tuple(_entry_from_json(source, str(k), v) for k, v in data.items())
    return TaxonomyMapper(entries, source=source)


def write_mapper(mapper: TaxonomyMapper, path: str | os.PathLike[str]) -> Path:
    """Write ``mapper`` in SCoPe's JSON format (atomically)."""
    return write_text_atomic(json.dumps(mapper.to_json(), indent=2) + "\n", path)


# --------------------------------------------------------------------------- validation


def hierarchy_classes(hierarchy: Mapping[str, Any]) -> Iterator[str]:
    """Every ``class`` name of a tdtax hierarchy, depth first."""
    yield str(hierarchy.get("class"))
    for sub in hierarchy.get("subclasses") or []:
        yield from hierarchy_classes(sub)


def validate_mapper(
    mapper: TaxonomyMapper,
    taxonomies: Sequence[Mapping[str, Any]],
    columns: set[str] | None = None,
) -> None:
    """Raise MapperError naming every entry with an unknown column, taxonomy id or label.

    ``taxonomies`` is Fritz's ``GET /api/taxonomy`` answer; labels are compared
    case-sensitively, as Fritz does. ``columns`` (e.g. :func:`known_columns`) limits the
    allowed column names.
    """
    classes = {int(t["id"]): set(hierarchy_classes(t["hierarchy"])) for t in taxonomies}
    problems = []
    for e in mapper:
        if columns is not None and e.column not in columns:
            problems.append(f"entry {e.column!r}: unknown column")
        if e.skipped:
            continue
        if e.taxonomy_id not in classes:
            problems.append(f"entry {e.column!r}: taxonomy id {e.taxonomy_id} is not on Fritz")
        elif e.fritz_label not in classes[e.taxonomy_id]:
            problems.append(
                f"entry {e.column!r}: Fritz label {e.fritz_label!r} is not a class of "
                f"taxonomy {e.taxonomy_id}"
            )
    if problems:
        raise MapperError(f"{mapper.source}: " + "; ".join(problems))
