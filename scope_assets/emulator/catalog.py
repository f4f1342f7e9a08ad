"""An in-memory, read-only Mongo collection with the query semantics Kowalski exposes.

Filters are evaluated with mongomock's matcher (so ``data.x`` matches if any array element
matches, ``$elemMatch``, ``$exists``, … behave as in MongoDB); storage, candidate narrowing by
``_id``/``field``, projection, sorting and the geo queries are done here so a whole simulated
field can be served without copying every document per query.

Heavy array columns (light-curve ``data``, ``dmdt``) can be *lazy*: they are materialised per
document only when a query's filter, sort or projection needs them.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from mongomock.aggregate import process_pipeline
from mongomock.filtering import filter_applies

Document = dict[str, Any]
LazyField = Callable[[int, frozenset[str] | None], Any]

FORBIDDEN_STAGES = ("$out", "$merge", "$unionWith")


def _tree(paths: Iterable[str]) -> dict[str, Any]:
    """``["data.hjd", "data.mag", "ra"]`` → ``{"data": {"hjd": {}, "mag": {}}, "ra": {}}``."""
    tree: dict[str, Any] = {}
    for path in paths:
        node = tree
        for part in path.split("."):
            node = node.setdefault(part, {})
    return tree


def _include(value: Any, tree: Mapping[str, Any]) -> Any:
    if not tree:
        return value
    if isinstance(value, list):
        return [_include(item, tree) for item in value if isinstance(item, dict)]
    if isinstance(value, dict):
        return {
            key: _include(value[key], sub) if sub else value[key]
            for key, sub in tree.items()
            if key in value
        }
    return value


def _exclude(value: Any, tree: Mapping[str, Any]) -> Any:
    if isinstance(value, list):
        return [_exclude(item, tree) if isinstance(item, dict) else item for item in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for key, item in value.items():
        if key not in tree:
            out[key] = item
        elif tree[key]:
            out[key] = _exclude(item, tree[key])
    return out


def _truthy(value: Any) -> bool:
    if isinstance(value, dict):
        raise ValueError(f"unsupported projection operator {value}")
    return bool(value)


def _projection_mode(projection: Mapping[str, Any]) -> tuple[bool, bool, dict[str, bool]]:
    """(inclusion mode?, keep ``_id``?, {field: included}) of a non-empty projection."""
    keep_id = _truthy(projection.get("_id", 1))
    fields = {key: _truthy(value) for key, value in projection.items() if key != "_id"}
    included = [key for key, value in fields.items() if value]
    if included and len(included) != len(fields):
        raise ValueError("Cannot do exclusion on a field in an inclusion projection")
    inclusion = bool(included) or (not fields and keep_id)  # {"_id": 1} keeps only _id
    return inclusion, keep_id, fields


def project(doc: Document, projection: Mapping[str, Any] | None) -> Document:
    """Apply a Mongo projection; ``_id`` is kept unless projected to 0."""
    if not projection:
        return doc
    inclusion, keep_id, fields = _projection_mode(projection)
    if inclusion:
        out = _include(doc, _tree(fields)) if fields else {}
        if keep_id and "_id" in doc:
            out = {"_id": doc["_id"], **out}
        return out
    excluded = list(fields) + ([] if keep_id else ["_id"])
    return _exclude(doc, _tree(excluded))


def get_path(doc: Any, path: str) -> Any:
    """The value at a dotted path (first element where the path crosses an array), or None."""
    value = doc
    for part in path.split("."):
        if isinstance(value, list):
            value = value[0] if value else None
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _sort_key(value: Any) -> tuple[int, Any]:
    """MongoDB's cross-type order, enough for numbers, strings and missing values."""
    if value is None:
        return (0, 0)
    if isinstance(value, bool):
        return (3, value)
    if isinstance(value, int | float):
        return (1, value) if not math.isnan(value) else (0, 1)
    if isinstance(value, str):
        return (2, value)
    return (4, str(value))


def normalise_sort(sort: Any) -> list[tuple[str, int]]:
    """``[[f, ±1], …]``, ``[(f, ±1)]`` or ``{f: ±1}`` → a list of (field, direction)."""
    if not sort:
        return []
    items = sort.items() if isinstance(sort, Mapping) else sort
    out = []
    for item in items:
        if isinstance(item, str):
            out.append((item, 1))
        else:
            name, direction = item
            out.append((str(name), 1 if int(direction) >= 0 else -1))
    return out


def _mentions(spec: Any, field: str) -> bool:
    """Whether a filter/sort spec refers to ``field`` or one of its sub-paths."""
    if isinstance(spec, Mapping):
        return any(
            key == field or key.startswith(field + ".") or _mentions(value, field)
            for key, value in spec.items()
        )
    if isinstance(spec, list | tuple):
        return any(
            (isinstance(item, str) and (item == field or item.startswith(field + ".")))
            or _mentions(item, field)
            for item in spec
        )
    return False


def _projection_needs(projection: Mapping[str, Any] | None, field: str) -> bool:
    """Whether the projected documents contain ``field`` (or part of it)."""
    if not projection:
        return True
    inclusion, _, fields = _projection_mode(projection)
    if inclusion:
        return any(key == field or key.startswith(field + ".") for key in fields)
    return field not in fields


def _projected_keys(
    projection: Mapping[str, Any] | None, fields: Iterable[str]
) -> dict[str, frozenset[str]]:
    """For ``{"data.hjd": 1, "data.mag": 1}``: ``{"data": {"hjd", "mag"}}`` (leaf keys only)."""
    if not projection:
        return {}
    included = [k for k, v in projection.items() if k != "_id" and _truthy(v)]
    tree = _tree(included)
    return {
        name: frozenset(tree[name])
        for name in fields
        if tree.get(name) and not any(tree[name].values())
    }


def angular_separation(ra1: np.ndarray, dec1: np.ndarray, ra2: float, dec2: float) -> np.ndarray:
    """Great-circle separation in radians (haversine); all angles in radians."""
    sin_ddec = np.sin((dec1 - dec2) / 2.0)
    sin_dra = np.sin((ra1 - ra2) / 2.0)
    a = sin_ddec**2 + np.cos(dec1) * np.cos(dec2) * sin_dra**2
    return 2.0 * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def _id_candidates(filter_: Mapping[str, Any]) -> list[Any] | None:
    """The ``_id`` values a filter is restricted to, if it says so at top level."""
    clauses = [filter_] + [c for c in filter_.get("$and", []) if isinstance(c, Mapping)]
    for clause in clauses:
        if "_id" not in clause:
            continue
        cond = clause["_id"]
        if isinstance(cond, Mapping):
            if "$in" in cond:
                return list(cond["$in"])
            if "$eq" in cond:
                return [cond["$eq"]]
            continue
        return [cond]
    return None


class Catalog:
    """A read-only collection of documents, optionally positional (``coordinates.radec_geojson``)."""

    def __init__(
        self,
        name: str,
        documents: Sequence[Document],
        lazy: Mapping[str, LazyField] | None = None,
        indexes: Sequence[Sequence[tuple[str, int]]] = (),
    ) -> None:
        self.name = name
        self._docs = list(documents)
        self._lazy = dict(lazy or {})
        self._position = {self._hashable(doc.get("_id")): i for i, doc in enumerate(self._docs)}
        self._by_field: dict[Any, list[int]] = {}
        for i, doc in enumerate(self._docs):
            if "field" in doc:
                self._by_field.setdefault(doc["field"], []).append(i)
        self.indexes = [list(index) for index in indexes]
        self._build_geo()

    @staticmethod
    def _hashable(value: Any) -> Any:
        return value if not isinstance(value, list | dict) else repr(value)

    def _build_geo(self) -> None:
        rows, ras, decs = [], [], []
        for i, doc in enumerate(self._docs):
            coords = get_path(doc, "coordinates.radec_geojson.coordinates")
            if isinstance(coords, list) and len(coords) == 2:
                rows.append(i)
                ras.append(math.radians(coords[0] + 180.0))
                decs.append(math.radians(coords[1]))
        order = np.argsort(decs, kind="stable")
        self._geo_rows = np.asarray(rows, dtype=np.int64)[order]
        self._geo_ra = np.asarray(ras, dtype=np.float64)[order]
        self._geo_dec = np.asarray(decs, dtype=np.float64)[order]

    def __len__(self) -> int:
        return len(self._docs)

    # --- document access -------------------------------------------------------------------

    def _candidate_rows(self, filter_: Mapping[str, Any]) -> Iterable[int]:
        ids = _id_candidates(filter_)
        if ids is not None:
            rows = (self._position.get(self._hashable(i)) for i in ids)
            return sorted({r for r in rows if r is not None})
        field = filter_.get("field")
        if field is not None and not isinstance(field, Mapping):
            return self._by_field.get(field, [])
        return range(len(self._docs))

    def _view(
        self, row: int, needed: Iterable[str], keys: Mapping[str, frozenset[str]] | None = None
    ) -> Document:
        """The document with its ``needed`` lazy fields (sub-documents limited to ``keys``)."""
        doc = self._docs[row]
        keys = keys or {}
        extra = {name: self._lazy[name](row, keys.get(name)) for name in needed}
        return {**doc, **extra} if extra else doc

    def _needed_for_filter(self, filter_: Mapping[str, Any], sort: Any) -> list[str]:
        return [
            n for n in self._lazy if _mentions(filter_, n) or _mentions(normalise_sort(sort), n)
        ]

    def _matching(self, rows: Iterable[int], filter_: Mapping[str, Any], sort: Any) -> list[int]:
        needed = self._needed_for_filter(filter_, sort)
        if not filter_:
            return list(rows)
        return [r for r in rows if filter_applies(filter_, self._view(r, needed))]

    def _output(self, rows: Sequence[int], projection: Mapping[str, Any] | None) -> list[Document]:
        needed = [n for n in self._lazy if _projection_needs(projection, n)]
        keys = _projected_keys(projection, needed)
        return [project(self._view(r, needed, keys), projection) for r in rows]

    def _order(self, rows: list[int], sort: Any) -> list[int]:
        keys = normalise_sort(sort)
        if not keys:
            return rows
        needed = [n for n in self._lazy if _mentions(keys, n)]
        views = {r: self._view(r, needed) for r in rows}
        for name, direction in reversed(keys):
            rows = sorted(
                rows, key=lambda r, n=name: _sort_key(get_path(views[r], n)), reverse=direction < 0
            )
        return rows

    @staticmethod
    def _page(rows: list[int], skip: int, limit: int) -> list[int]:
        rows = rows[max(int(skip), 0) :]
        return rows[: int(limit)] if limit and int(limit) > 0 else rows

    # --- queries ------------------------------------------------------------------------------

    def find(
        self,
        filter_: Mapping[str, Any],
        projection: Mapping[str, Any] | None = None,
        skip: int = 0,
        limit: int = 0,
        sort: Any = None,
    ) -> list[Document]:
        rows = self._matching(self._candidate_rows(filter_), filter_, sort)
        rows = self._page(self._order(rows, sort), skip, limit)
        return self._output(rows, projection)

    def find_one(self, filter_: Mapping[str, Any]) -> Document | None:
        found = self.find(filter_, limit=1)
        return found[0] if found else None

    def count(self, filter_: Mapping[str, Any]) -> int:
        return len(self._matching(self._candidate_rows(filter_), filter_, None))

    def aggregate(self, pipeline: Sequence[Mapping[str, Any]]) -> list[Document]:
        """Run a pipeline; a leading ``$match`` is evaluated here, the rest by mongomock."""
        if not pipeline:
            raise ValueError("pipeline must not be empty")
        for stage in pipeline:
            forbidden = [name for name in stage if name in FORBIDDEN_STAGES]
            if forbidden:
                raise ValueError(f"{forbidden[0]} is not allowed")
        stages = list(pipeline)
        first_match: Mapping[str, Any] = {}
        if "$match" in stages[0]:
            first_match = stages.pop(0)["$match"]
        rows = self._matching(self._candidate_rows(first_match), first_match, None)
        docs = copy.deepcopy(self._output(rows, None))
        return list(process_pipeline(docs, None, stages, None)) if stages else docs

    def _within(self, ra_deg: float, dec_deg: float, max_rad: float, min_rad: float = 0.0):
        """(rows, separations) of positional documents in the annulus, nearest first."""
        ra, dec = math.radians(ra_deg), math.radians(dec_deg)
        lo = np.searchsorted(self._geo_dec, dec - max_rad, side="left")
        hi = np.searchsorted(self._geo_dec, dec + max_rad, side="right")
        sep = angular_separation(self._geo_ra[lo:hi], self._geo_dec[lo:hi], ra, dec)
        keep = (sep <= max_rad) & (sep >= min_rad)
        rows, sep = self._geo_rows[lo:hi][keep], sep[keep]
        order = np.argsort(sep, kind="stable")
        return rows[order].tolist(), sep[order]

    def near(
        self,
        ra_deg: float,
        dec_deg: float,
        max_rad: float,
        min_rad: float = 0.0,
        filter_: Mapping[str, Any] | None = None,
        projection: Mapping[str, Any] | None = None,
        skip: int = 0,
        limit: int = 0,
        sort: Any = None,
    ) -> list[Document]:
        """Documents within ``[min_rad, max_rad]`` of (ra, dec), nearest first unless ``sort``."""
        rows, _ = self._within(ra_deg, dec_deg, max_rad, min_rad)
        rows = self._matching(rows, filter_ or {}, sort)
        rows = self._page(self._order(rows, sort), skip, limit)
        return self._output(rows, projection)

    def index_info(self) -> dict[str, Any]:
        info = {"_id_": {"v": 2, "key": [["_id", 1]]}}
        for index in self.indexes:
            name = "_".join(f"{f}_{d}" for f, d in index)
            info[name] = {"v": 2, "key": [[f, d] for f, d in index]}
        return info

    def stats(self) -> dict[str, Any]:
        return {
            "ns": f"kowalski.{self.name}",
            "count": len(self),
            "nindexes": 1 + len(self.indexes),
        }
