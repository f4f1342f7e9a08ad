"""The Kowalski emulator's query engine: the query types penquins sends, over ``Catalog``s.

Semantics follow spec/services.md §A: kwargs not allowed for a query type are dropped silently,
``max_time_ms`` (default 300 s) bounds an emulated cost per document, system collections are
refused, and ``cone_search``/``near`` return every requested object (``[]`` when unmatched).
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Callable, Mapping
from typing import Any

from scope_assets.emulator.catalog import Catalog

SYSTEM_COLLECTIONS = frozenset({"users", "filters", "queries"})
DEFAULT_MAX_TIME_MS = 300_000
NEAR_DEFAULT_MAX_DISTANCE = math.pi / 10800
UNITS_TO_RAD = {
    "arcsec": math.pi / 180 / 3600,
    "arcmin": math.pi / 180 / 60,
    "deg": math.pi / 180,
    "rad": 1.0,
}
ALLOWED_KWARGS = {
    "find": {"skip", "limit", "sort", "hint", "max_time_ms"},
    "find_one": {"max_time_ms"},
    "count_documents": {"skip", "limit", "hint", "max_time_ms"},
    "estimated_document_count": {"max_time_ms"},
    "aggregate": {"allowDiskUse", "max_time_ms"},
    "cone_search": {"skip", "limit", "sort", "hint", "filter_first", "max_time_ms"},
    "near": {"skip", "limit", "sort", "hint", "filter_first", "max_time_ms"},
    "info": {"max_time_ms"},
    "drop": {"max_time_ms"},
}


class ExecutionTimeout(Exception):
    """The query's emulated cost exceeded ``max_time_ms`` (MongoDB's error of that name)."""


class OperationFailure(Exception):
    """A query MongoDB would reject."""


# --- coordinates ----------------------------------------------------------------------------


def _sexagesimal(text: str, hours: bool) -> float:
    sign = -1.0 if text.strip().startswith("-") else 1.0
    parts = [float(p) for p in re.split(r"[hdms:\s]+", text.strip().lstrip("+-")) if p]
    value = sum(p / 60**i for i, p in enumerate(parts))
    return sign * value * (15.0 if hours else 1.0)


def _parse_position(text: str) -> tuple[float, float]:
    """``"ra dec"`` in degrees, ``"HH:MM:SS DD:MM:SS"`` or ``"12h34m56s +12d34m56s"``."""
    ra_text, dec_text = text.split()
    try:
        return float(ra_text), float(dec_text)
    except ValueError:
        return _sexagesimal(ra_text, hours=True), _sexagesimal(dec_text, hours=False)


def result_key(key: Any) -> str:
    """Kowalski's object key: ``str(key)`` with ``.`` replaced by ``_``."""
    return str(key).replace(".", "_")


def parse_radec(radec: Any) -> dict[str, tuple[float, float]]:
    """Every accepted ``radec`` form → ``{result key: (ra_deg, dec_deg)}``."""
    if isinstance(radec, str):
        stripped = radec.strip()
        if stripped[:1] in "[{(":
            return parse_radec(ast.literal_eval(stripped))
        return {result_key(stripped): _parse_position(stripped)}
    if isinstance(radec, Mapping):
        return {result_key(k): (float(v[0]), float(v[1])) for k, v in radec.items()}
    if isinstance(radec, list | tuple):
        if len(radec) == 2 and all(isinstance(v, int | float) for v in radec):
            radec = [radec]
        return {result_key(list(pair)): (float(pair[0]), float(pair[1])) for pair in radec}
    raise ValueError(f"unsupported radec specification: {radec!r}")


def to_radians(value: float, unit: str) -> float:
    try:
        return float(value) * UNITS_TO_RAD[unit]
    except KeyError:
        raise ValueError(f"unknown unit {unit!r}; expected one of {sorted(UNITS_TO_RAD)}") from None


def _literal(value: Any) -> Any:
    """Filters, projections and pipelines may be sent as Python-literal strings."""
    return ast.literal_eval(value) if isinstance(value, str) else value


# --- query types ------------------------------------------------------------------------------


class KowalskiQueries:
    """Kowalski's query types over ``catalogs``, with an emulated cost of ``ms_per_document``."""

    def __init__(self, catalogs: Mapping[str, Catalog]) -> None:
        self.catalogs = dict(catalogs)
        self.ms_per_document = 0.0
        self._query_types: dict[str, Callable[[Mapping[str, Any], Mapping[str, Any]], Any]] = {
            "find": self._find,
            "find_one": self._find_one,
            "count_documents": self._count_documents,
            "estimated_document_count": self._estimated_document_count,
            "aggregate": self._aggregate,
            "cone_search": self._cone_search,
            "near": self._near,
            "info": self._info,
            "drop": self._drop,
        }

    def run(self, query_type: Any, query: Any, kwargs: Any) -> Any:
        """The data of one query; kwargs the query type does not allow are dropped."""
        if query_type not in self._query_types:
            raise KeyError(f"query_type {query_type} not in {tuple(self._query_types)}")
        allowed = ALLOWED_KWARGS[query_type]
        kwargs = {k: v for k, v in (kwargs or {}).items() if k in allowed}
        max_time_ms = kwargs.get("max_time_ms", DEFAULT_MAX_TIME_MS)
        if int(max_time_ms) < 1:
            raise ValueError("max_time_ms must be a positive integer")
        kwargs["max_time_ms"] = int(max_time_ms)
        return self._query_types[query_type](query or {}, kwargs)

    def catalog(self, name: Any) -> Catalog:
        if not isinstance(name, str) or not name:
            raise ValueError("catalog must be a non-empty string")
        if name in SYSTEM_COLLECTIONS:
            raise PermissionError(f"access to collection {name} is restricted to admins")
        return self.catalogs.get(name) or Catalog(name, [])

    def _charge(self, n_documents: int, kwargs: Mapping[str, Any]) -> None:
        if n_documents * self.ms_per_document > kwargs["max_time_ms"]:
            raise ExecutionTimeout("operation exceeded time limit")

    @staticmethod
    def _filter(query: Mapping[str, Any]) -> Mapping[str, Any]:
        if "filter" not in query:
            raise ValueError("Unsupported filter specification")
        filter_ = _literal(query["filter"])
        if not isinstance(filter_, Mapping):
            raise ValueError("Unsupported filter specification")
        return filter_

    def _find(self, query: Mapping[str, Any], kwargs: Mapping[str, Any]) -> list:
        catalog = self.catalog(query.get("catalog"))
        docs = catalog.find(
            self._filter(query),
            _literal(query.get("projection")),
            skip=int(kwargs.get("skip", 0)),
            limit=int(kwargs.get("limit", 0)),
            sort=kwargs.get("sort"),
        )
        self._charge(len(docs), kwargs)
        return docs

    def _find_one(self, query: Mapping[str, Any], kwargs: Mapping[str, Any]) -> Any:
        return self.catalog(query.get("catalog")).find_one(self._filter(query))

    def _count_documents(self, query: Mapping[str, Any], kwargs: Mapping[str, Any]) -> int:
        return self.catalog(query.get("catalog")).count(self._filter(query))

    def _estimated_document_count(self, query: Mapping[str, Any], kwargs: Mapping[str, Any]) -> int:
        return len(self.catalog(query.get("catalog")))

    def _aggregate(self, query: Mapping[str, Any], kwargs: Mapping[str, Any]) -> list:
        pipeline = _literal(query.get("pipeline"))
        if not isinstance(pipeline, list) or not pipeline:
            raise ValueError("pipeline must be a non-empty list")
        docs = self.catalog(query.get("catalog")).aggregate(pipeline)
        self._charge(len(docs), kwargs)
        return docs

    def _positional(
        self,
        catalogs: Any,
        positions: Mapping[str, tuple[float, float]],
        max_rad: float,
        min_rad: float,
        kwargs: Mapping[str, Any],
    ) -> dict[str, dict[str, list]]:
        catalogs = _literal(catalogs)
        if not isinstance(catalogs, Mapping) or not catalogs:
            raise ValueError("catalogs must be a non-empty mapping")
        result: dict[str, dict[str, list]] = {}
        n_docs = 0
        for name, spec in catalogs.items():
            catalog = self.catalog(name)
            spec = _literal(spec) or {}
            filter_ = _literal(spec.get("filter")) or {}
            projection = _literal(spec.get("projection"))
            hits = {}
            for key, (ra, dec) in positions.items():
                hits[key] = catalog.near(
                    ra,
                    dec,
                    max_rad,
                    min_rad,
                    filter_,
                    projection,
                    skip=int(kwargs.get("skip", 0)),
                    limit=int(kwargs.get("limit", 0)),
                    sort=kwargs.get("sort"),
                )
                n_docs += len(hits[key])
            result[name] = hits
        self._charge(n_docs, kwargs)
        return result

    def _cone_search(self, query: Mapping[str, Any], kwargs: Mapping[str, Any]) -> dict:
        coords = _literal(query.get("object_coordinates"))
        if not isinstance(coords, Mapping) or "radec" not in coords:
            raise KeyError("object_coordinates.radec")
        radius = to_radians(coords["cone_search_radius"], coords.get("cone_search_unit", "arcsec"))
        positions = parse_radec(coords["radec"])
        return self._positional(query.get("catalogs"), positions, radius, 0.0, kwargs)

    def _near(self, query: Mapping[str, Any], kwargs: Mapping[str, Any]) -> dict:
        units = query.get("distance_units", "rad")
        max_rad = to_radians(query.get("max_distance", NEAR_DEFAULT_MAX_DISTANCE), units)
        min_rad = to_radians(query.get("min_distance", 0.0), units)
        positions = parse_radec(query["radec"])
        return self._positional(query.get("catalogs"), positions, max_rad, min_rad, kwargs)

    def _info(self, query: Mapping[str, Any], kwargs: Mapping[str, Any]) -> Any:
        command = query.get("command")
        if command == "catalog_names":
            return sorted((n for n in self.catalogs if n not in SYSTEM_COLLECTIONS), reverse=True)
        if command == "catalog_info":
            return self.catalog(query.get("catalog")).stats()
        if command == "index_info":
            return self.catalog(query.get("catalog")).index_info()
        if command == "db_info":
            return {
                "db": "kowalski",
                "collections": len(self.catalogs),
                "objects": sum(len(c) for c in self.catalogs.values()),
            }
        raise KeyError(
            f"command {command} not in (catalog_names, catalog_info, index_info, db_info)"
        )

    def _drop(self, query: Mapping[str, Any], kwargs: Mapping[str, Any]) -> None:
        raise OperationFailure("drop is disabled in the emulator")
