"""Kowalski as a sky source: the local archive's interface, served from Kowalski collections.

:class:`KowalskiSkySource` answers the same questions as ``ArchiveSkySource`` (ids of a field,
light curves, cross-matches, alert statistics) plus ``features`` from a features catalogue.
Unlike SCoPe it keeps every page of ids (counted first, all pages fetched in parallel, the total
checked) and matches every batched answer by ``_id`` or result key, never by position: penquins
returns batch results in completion order.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from scope_assets.features import xmatch
from scope_assets.kowalski.client import KowalskiClient, KowalskiError
from scope_assets.lightcurves.batch import LightCurveBatch
from scope_assets.lightcurves.raw import META_COLUMNS, RawLightCurves

SOURCES_CATALOG = "ZTF_sources_20240515"
FEATURES_CATALOG = "ZTF_source_features_DR16"
ALERTS_CATALOG = "ZTF_alerts"
POINT_FIELDS = ("hjd", "mag", "magerr", "catflags", "programid")
META_PROJECTION = {
    "_id": 1,
    "ra": 1,
    "dec": 1,
    "field": 1,
    "ccd": 1,
    "quad": 1,
    "filter": 1,
    "nobs": 1,
}


def chunks(values: Sequence[Any], size: int) -> list[Sequence[Any]]:
    """``values`` cut into consecutive pieces of at most ``size``."""
    if size < 1:
        raise ValueError(f"chunk size must be >= 1, got {size}")
    return [values[i : i + size] for i in range(0, len(values), size)]


def _float(value: Any) -> float:
    return math.nan if value is None else float(value)


def cone_search_query(
    radec: dict[str, list[float]],
    catalog: str,
    projection: Mapping[str, Any],
    radius_arcsec: float,
    max_time_ms: int,
) -> dict[str, Any]:
    """One Kowalski cone search of ``catalog`` around each position (key → ``[ra, dec]``)."""
    return {
        "query_type": "cone_search",
        "query": {
            "object_coordinates": {
                "radec": radec,
                "cone_search_radius": radius_arcsec,
                "cone_search_unit": "arcsec",
            },
            "catalogs": {catalog: {"filter": {}, "projection": dict(projection)}},
        },
        "kwargs": {"max_time_ms": max_time_ms},
    }


def each_once(hits: Mapping[Any, Sequence[Mapping[str, Any]]]) -> list[Mapping[str, Any]]:
    """Every document of the cone-search ``hits`` once (by ``_id``)."""
    unique: dict[Any, Mapping[str, Any]] = {}
    for docs in hits.values():
        for doc in docs:
            unique[doc["_id"]] = doc
    return list(unique.values())


def meta_frame(docs: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """``META_COLUMNS`` of Kowalski source documents, in document order."""
    return pd.DataFrame(
        {
            name: np.array(
                [d[name] for d in docs], dtype=np.float64 if name in ("ra", "dec") else np.int64
            )
            for name in META_COLUMNS
        }
    )


def raw_light_curves(docs: Sequence[Mapping[str, Any]]) -> RawLightCurves:
    """Kowalski source documents (with ``data``) → :class:`RawLightCurves`, in document order."""
    meta = meta_frame(docs)
    points = [d.get("data") or [] for d in docs]
    counts = np.array([len(p) for p in points], dtype=np.int64)
    offsets = np.zeros(len(docs) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    flat = [point for curve in points for point in curve]

    def column(name: str, dtype: type, missing: float) -> np.ndarray:
        return np.array([missing if p.get(name) is None else p[name] for p in flat], dtype=dtype)

    batch = LightCurveBatch(
        ids=meta["_id"].to_numpy(),
        offsets=offsets,
        t=column("hjd", np.float64, math.nan),
        mag=column("mag", np.float64, math.nan),
        magerr=column("magerr", np.float64, math.nan),
    )
    return RawLightCurves(
        meta=meta,
        batch=batch,
        catflags=column("catflags", np.int32, 0),
        programid=column("programid", np.int8, 1),
    )


def find_query(
    catalog: str,
    filter_: Mapping[str, Any],
    projection: Mapping[str, Any],
    max_time_ms: int = 300_000,
    **kwargs: Any,
) -> dict[str, Any]:
    """A ``find`` query body for ``KowalskiClient.batch``."""
    return {
        "query_type": "find",
        "query": {"catalog": catalog, "filter": dict(filter_), "projection": dict(projection)},
        "kwargs": {"max_time_ms": max_time_ms, **kwargs},
    }


def paged_find(
    client: KowalskiClient,
    catalog: str,
    filter_: Mapping[str, Any],
    projection: Mapping[str, Any],
    page_size: int = 10_000,
    skip: int = 0,
    max_time_ms: int = 300_000,
) -> list[dict[str, Any]]:
    """Every document matching ``filter_`` after the first ``skip``, ascending ``_id``.

    The total is counted first; all ``skip``/``limit`` pages are then fetched in parallel and
    their union must reach the count (SCoPe kept only the last page).
    """
    if page_size < 1:
        raise ValueError(f"page size must be >= 1, got {page_size}")
    total = int(client.query("count_documents", {"catalog": catalog, "filter": dict(filter_)}))
    pages = [
        find_query(
            catalog,
            filter_,
            projection,
            max_time_ms,
            skip=start,
            limit=page_size,
            sort=[["_id", 1]],
        )
        for start in range(skip, total, page_size)
    ]
    docs = {d["_id"]: d for page in client.batch(pages) for d in page}
    expected = max(total - skip, 0)
    if len(docs) != expected:
        raise KowalskiError(
            f"Kowalski {catalog}: expected {expected} documents for {dict(filter_)}, "
            f"got {len(docs)} (the catalogue changed while paging?)"
        )
    return [docs[i] for i in sorted(docs)]


class KowalskiSkySource:
    """A sky source backed by Kowalski's light-curve, features, cross-match and alert collections."""

    def __init__(
        self,
        client: KowalskiClient,
        catalog: str = SOURCES_CATALOG,
        features_catalog: str = FEATURES_CATALOG,
        alerts_catalog: str = ALERTS_CATALOG,
        xmatch_columns: Mapping[str, Sequence[str]] | None = None,
        page_size: int = 10_000,
        ids_per_query: int = 1000,
        max_time_ms: int = 300_000,
    ) -> None:
        self.client = client
        self.catalog = catalog
        self.features_catalog = features_catalog
        self.alerts_catalog = alerts_catalog
        self.xmatch_columns = dict(xmatch_columns or xmatch.XMATCH_COLUMNS)
        self.page_size = page_size
        self.ids_per_query = ids_per_query
        self.max_time_ms = max_time_ms

    def _find(
        self, catalog: str, filter_: Mapping[str, Any], projection: Mapping[str, Any]
    ) -> dict[str, Any]:
        return find_query(catalog, filter_, projection, self.max_time_ms)

    # --- ids ----------------------------------------------------------------------------------

    def fields(self) -> list[int]:
        """Field numbers present in the light-curve catalogue."""
        groups = self.client.query(
            "aggregate",
            {"catalog": self.catalog, "pipeline": [{"$group": {"_id": "$field"}}]},
            {"max_time_ms": self.max_time_ms},
        )
        return sorted(int(g["_id"]) for g in groups if g.get("_id") is not None)

    @staticmethod
    def _selection(field: int, ccd: int | None, quad: int | None, min_nobs: int) -> dict[str, Any]:
        selection: dict[str, Any] = {"field": int(field)}
        if ccd is not None:
            selection["ccd"] = int(ccd)
        if quad is not None:
            selection["quad"] = int(quad)
        if min_nobs > 0:
            selection["nobs"] = {"$gte": int(min_nobs)}
        return selection

    def source_ids(
        self, field: int, ccd: int | None = None, quad: int | None = None, min_nobs: int = 0
    ) -> pd.DataFrame:
        """Every light curve of a field/ccd/quad with ``nobs >= min_nobs`` (``META_COLUMNS``, by ``_id``)."""
        docs = paged_find(
            self.client,
            self.catalog,
            self._selection(field, ccd, quad, min_nobs),
            META_PROJECTION,
            page_size=self.page_size,
            max_time_ms=self.max_time_ms,
        )
        return meta_frame(docs)

    # --- light curves -------------------------------------------------------------------------

    def iter_light_curves(
        self,
        field: int,
        ids: Iterable[int] | None = None,
        ccd: int | None = None,
        quad: int | None = None,
        batch_size: int = 1000,
        min_nobs: int = 0,
    ) -> Iterator[RawLightCurves]:
        """Light curves of a field in batches of at most ``batch_size`` (ids ascending).

        Each batch is one ``find {_id: {$in: …}}``; ``max_n_threads`` batches run in parallel and
        every answer is matched to its batch by ``_id``. Requested ids absent from the field
        (or outside ccd/quad/min_nobs) are skipped, as the archive does.
        """
        if ids is None:
            wanted = self.source_ids(field, ccd, quad, min_nobs)["_id"].tolist()
        else:
            wanted = sorted({int(i) for i in ids})
        selection = self._selection(field, ccd, quad, min_nobs)
        projection = {**META_PROJECTION, **{f"data.{name}": 1 for name in POINT_FIELDS}}
        id_batches = chunks(wanted, batch_size)
        for round_ in chunks(id_batches, max(1, self.client.max_n_threads)):
            queries = [
                self._find(self.catalog, {**selection, "_id": {"$in": list(b)}}, projection)
                for b in round_
            ]
            found = {d["_id"]: d for answer in self.client.batch(queries) for d in answer}
            for id_batch in round_:
                docs = [found[i] for i in id_batch if i in found]
                if docs:
                    yield raw_light_curves(docs)

    # --- features -----------------------------------------------------------------------------

    def features(
        self, ids: Iterable[int], projection: Mapping[str, Any] | None = None
    ) -> pd.DataFrame:
        """Rows of the features catalogue for ``ids`` (in the given order; unknown ids skipped)."""
        wanted = list(dict.fromkeys(int(i) for i in ids))
        queries = [
            self._find(self.features_catalog, {"_id": {"$in": list(b)}}, projection or {})
            for b in chunks(wanted, self.ids_per_query)
        ]
        found = {d["_id"]: d for answer in self.client.batch(queries) for d in answer}
        rows = [found[i] for i in wanted if i in found]
        return (
            pd.DataFrame.from_records(rows)
            if rows
            else pd.DataFrame({"_id": np.zeros(0, np.int64)})
        )

    # --- positional queries -------------------------------------------------------------------

    def _cone_hits(
        self,
        sources: pd.DataFrame,
        catalog: str,
        projection: Mapping[str, Any],
        radius_arcsec: float,
    ) -> dict[int, list[dict[str, Any]]]:
        """Row position in ``sources`` → documents of ``catalog`` within the radius (rows without
        finite coordinates are not searched)."""
        ra = sources["ra"].to_numpy(dtype=np.float64)
        dec = sources["dec"].to_numpy(dtype=np.float64)
        radec = [
            (str(i), [float(ra[i]), float(dec[i])])
            for i in range(len(sources))
            if np.isfinite(ra[i]) and np.isfinite(dec[i])
        ]
        queries = [
            cone_search_query(dict(part), catalog, projection, radius_arcsec, self.max_time_ms)
            for part in chunks(radec, self.ids_per_query)
        ]
        hits: dict[int, list[dict[str, Any]]] = {}
        for answer in self.client.batch(queries):
            for key, docs in answer.get(catalog, {}).items():
                hits[int(key)] = docs
        return hits

    def crossmatch(self, sources: pd.DataFrame, radius_arcsec: float = 2.0) -> pd.DataFrame:
        """``<Cat>___id`` and ``<Cat>__<col>`` of the closest match per source, as the archive gives.

        Kowalski supplies the candidates (cone searches); the closest one is chosen by the same
        code the archive uses, so both sources agree column for column.
        """
        parts = []
        for name, columns in self.xmatch_columns.items():
            projection = {"_id": 1, "ra": 1, "dec": 1, **dict.fromkeys(columns, 1)}
            docs = each_once(self._cone_hits(sources, name, projection, radius_arcsec))
            table = pd.DataFrame.from_records(docs, columns=["_id", "ra", "dec", *columns])
            table["_id"] = table["_id"].astype(np.int64)  # Gaia ids are strings in Kowalski
            parts.append(xmatch.crossmatch(sources, table, name, radius_arcsec, columns))
        return pd.concat(parts, axis=1) if parts else pd.DataFrame(index=sources.index)

    def cone_ids(self, positions: pd.DataFrame, radius_arcsec: float) -> pd.DataFrame:
        """Light curves of the sources catalogue within the radius of each position: ``row``
        (the position's index label), ``_id``, ``ra``, ``dec`` (SCoPe's ``get_cone_ids``)."""
        projection = {"_id": 1, "ra": 1, "dec": 1}
        hits = self._cone_hits(
            positions.reset_index(drop=True), self.catalog, projection, radius_arcsec
        )
        records = [
            {"row": positions.index[i], "_id": int(d["_id"]), "ra": d["ra"], "dec": d["dec"]}
            for i in sorted(hits)
            for d in sorted(hits[i], key=lambda doc: int(doc["_id"]))
        ]
        return pd.DataFrame.from_records(records, columns=["row", "_id", "ra", "dec"])

    def alert_stats(self, sources: pd.DataFrame, radius_arcsec: float = 2.0) -> pd.DataFrame:
        """``n_ztf_alerts`` and ``mean_ztf_alert_braai`` from the alerts within the radius."""
        projection = {"candidate.ra": 1, "candidate.dec": 1, "classifications.braai": 1}
        hits = self._cone_hits(sources, self.alerts_catalog, projection, radius_arcsec)
        docs = each_once(hits)
        alerts = pd.DataFrame(
            {
                "ra": [d["candidate"]["ra"] for d in docs],
                "dec": [d["candidate"]["dec"] for d in docs],
                "braai": [_float((d.get("classifications") or {}).get("braai")) for d in docs],
            },
            dtype=np.float64,
        )
        return xmatch.alert_stats(sources, alerts, radius_arcsec)
