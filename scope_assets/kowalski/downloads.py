"""SCoPe's get-quad-ids and get-features, done properly: every page kept, resumable, atomic.

Layout (spec/scope-pipeline.md §1), under a root directory::

    ids/field_<f>/...                            SCoPe's ids folder (scope_assets.lightcurves.id_files):
                                                 per-quad .h5 + .csv, field_<f>.h5 (--whole-field),
                                                 meta.json
    features/field_<f>/{field_<f>|ccd_<cc>_quad_<q>}_iter_<i>.parquet (+ .csv)
    features/field_<f>/meta.json                 {catalog, field, files: {name: rows}, total}

Quads (and feature iterations) already on disk are skipped on a re-run, so an interrupted
download resumes where it stopped. A resume covers every option that changes the result:
ids are reused only for the same catalog, field, ``minobs`` and ``skip`` (otherwise the old ids
files are removed and every quad is fetched again); a feature file only for the same catalog,
imputation and ids (a fingerprint per file in ``meta.json``), and iteration files of the same
quads that the current ids no longer produce are removed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from scope_assets.io import (
    DataLayout,
    atomic_path,
    read_json_object,
    write_csv,
    write_json,
    write_parquet,
)
from scope_assets.kowalski.client import KowalskiClient
from scope_assets.kowalski.kowalski_sky import KowalskiSkySource, chunks, paged_find
from scope_assets.lightcurves.id_files import (
    IDS_META_NAME,
    QuadCounts,
    field_ids_dataset,
    ids_meta,
    meta_quads,
    quad_ids_csv,
    quad_ids_dataset,
    quad_ids_file,
    read_ids_h5,
    read_ids_meta,
    set_quad_count,
    write_ids_h5,
)

T = TypeVar("T")
Track = Callable[[Sequence[T], str], Iterable[T]]


def no_tracking(items: Sequence[T], description: str) -> Iterable[T]:
    return items


def features_dir(root: Path, field: int) -> Path:
    return Path(root) / "features" / f"field_{field}"


def nobs_field(catalog: str) -> str | None:
    """The point-count field SCoPe filters on: ``nobs`` (sources), ``n`` (features), else none."""
    name = catalog.lower()
    if "sources" in name:
        return "nobs"
    if "features" in name:
        return "n"
    return None


def fetch_quad_ids(
    client: KowalskiClient,
    catalog: str,
    field: int,
    ccd: int,
    quad: int,
    min_nobs: int = 0,
    skip: int = 0,
    page_size: int = 10_000,
) -> np.ndarray:
    """All ``_id`` of a quadrant with at least ``min_nobs`` points (ascending), every page."""
    selection: dict[str, Any] = {"field": int(field), "ccd": int(ccd), "quad": int(quad)}
    count_field = nobs_field(catalog)
    if min_nobs > 0 and count_field:
        selection[count_field] = {"$gte": int(min_nobs)}
    docs = paged_find(client, catalog, selection, {"_id": 1}, page_size=page_size, skip=skip)
    return np.array([d["_id"] for d in docs], dtype=np.int64)


@dataclass(frozen=True)
class QuadIdsRequest:
    """What ``get-quad-ids`` was asked for."""

    catalog: str
    field: int
    quads: Sequence[tuple[int, int]]
    min_nobs: int = 0
    skip: int = 0
    page_size: int = 10_000
    whole_field: bool = False

    def meta(self, counts: QuadCounts) -> dict[str, Any]:
        """``meta.json`` for this request with the per-quad ``counts`` so far."""
        return ids_meta(self.catalog, self.min_nobs, self.field, self.quads, counts) | {
            "skip": self.skip
        }

    def resume_key(self) -> tuple:
        """Every option that changes which ids a quad gets (not ``page_size``: paging is exact)."""
        return (self.catalog, self.min_nobs, self.field, self.skip)


def _previous_counts(layout: DataLayout, request: QuadIdsRequest) -> QuadCounts:
    """The per-quad counts of a previous run with the same resume key.

    After a run with other options, its ids files are removed (they would otherwise be read as
    this request's) and the counts start empty.
    """
    ids_dir = layout.ids_dir(request.field)
    meta = read_ids_meta(ids_dir / IDS_META_NAME)
    if meta is None:
        return {}
    previous = tuple(meta.get(k) for k in ("catalog", "minobs", "field")) + (meta.get("skip", 0),)
    if previous == request.resume_key():
        return meta.get("ccd", {})
    stale = [quad_ids_file(ids_dir, c, q) for c, q in meta_quads(meta)]
    stale += [quad_ids_csv(ids_dir, request.field, c, q) for c, q in meta_quads(meta)]
    for path in [*stale, layout.ids_file(request.field)]:
        path.unlink(missing_ok=True)
    return {}


def download_quad_ids(
    client: KowalskiClient, root: Path, request: QuadIdsRequest, track: Track = no_tracking
) -> dict[str, Any]:
    """Write the ids of every requested quad (and the whole field); returns meta.json's content."""
    layout = DataLayout(root)
    ids_dir = layout.ids_dir(request.field)
    meta_path = ids_dir / IDS_META_NAME
    counts = _previous_counts(layout, request)
    done = {
        (int(c), int(q))
        for c, per_quad in counts.items()
        for q in per_quad.get("quad", {})
        if quad_ids_file(ids_dir, int(c), int(q)).is_file()
    }
    for ccd, quad in track(list(request.quads), f"field {request.field} quads"):
        if (ccd, quad) in done:
            continue
        ids = fetch_quad_ids(
            client,
            request.catalog,
            request.field,
            ccd,
            quad,
            request.min_nobs,
            request.skip,
            request.page_size,
        )
        write_ids_h5(
            ids, quad_ids_file(ids_dir, ccd, quad), quad_ids_dataset(request.field, ccd, quad)
        )
        with atomic_path(quad_ids_csv(ids_dir, request.field, ccd, quad)) as tmp:
            np.savetxt(tmp, ids, fmt="%d")
        set_quad_count(counts, ccd, quad, len(ids))
        write_json(request.meta(counts), meta_path)
    meta = request.meta(counts)
    if request.whole_field:
        ids = np.concatenate(
            [read_ids_h5(quad_ids_file(ids_dir, c, q)) for c, q in request.quads]
            or [np.zeros(0, np.int64)]
        )
        write_ids_h5(np.sort(ids), layout.ids_file(request.field), field_ids_dataset(request.field))
    write_json(meta, meta_path)
    return meta


@dataclass(frozen=True)
class FeaturesRequest:
    """What ``get-features`` was asked for."""

    catalog: str
    field: int
    quads: Sequence[tuple[int, int]] = ()
    whole_field: bool = False
    limit_per_query: int = 1000
    max_sources: int = 100_000
    write_csv: bool = False
    restart: bool = False
    imputation_reference: Path | None = None
    """The reference file ``impute`` uses (part of the resume key; None: built from the data)."""


def data_release(catalog: str) -> str:
    """``ZTF_source_features_DR16`` → ``DR16`` (SCoPe's ``features_ztf_dataRelease``)."""
    return catalog.rsplit("_", 1)[-1]


def _targets(root: Path, request: FeaturesRequest) -> list[tuple[str, Path]]:
    """(output stem, ids file) per unit of work."""
    layout = DataLayout(root)
    if request.whole_field:
        return [(f"field_{request.field}", layout.ids_file(request.field))]
    ids_dir = layout.ids_dir(request.field)
    return [
        (f"ccd_{ccd:02d}_quad_{quad}", quad_ids_file(ids_dir, ccd, quad))
        for ccd, quad in request.quads
    ]


def _fingerprint(request: FeaturesRequest, imputed: bool, ids: np.ndarray) -> str:
    """What a feature file depends on: catalog, imputation and the exact ids."""
    reference = str(request.imputation_reference or "")
    digest = hashlib.sha256(repr((request.catalog, imputed, reference)).encode())
    digest.update(np.asarray(ids, dtype="<i8").tobytes())
    return digest.hexdigest()


def _reusable(path: Path, fingerprint: str, previous: dict, request: FeaturesRequest) -> bool:
    if request.restart or not path.is_file():
        return False
    if request.write_csv and not path.with_suffix(".csv").is_file():
        return False
    return previous.get("fingerprints", {}).get(path.name) == fingerprint


def _remove_stale_iterations(out_dir: Path, stems: set[str], current: set[str]) -> None:
    """Remove iteration files of the given stems that the current ids do not produce."""
    for stem in stems:
        for path in out_dir.glob(f"{stem}_iter_*"):
            if path.with_suffix(".parquet").name not in current:
                path.unlink(missing_ok=True)


def download_features(
    client: KowalskiClient,
    root: Path,
    request: FeaturesRequest,
    impute: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
    track: Track = no_tracking,
) -> dict[str, Any]:
    """Download the features of the ids written by get-quad-ids, ``max_sources`` rows per file."""
    source = KowalskiSkySource(
        client, features_catalog=request.catalog, ids_per_query=request.limit_per_query
    )
    out_dir = features_dir(root, request.field)
    meta_path = out_dir / "meta.json"
    previous = read_json_object(meta_path, "download meta.json") if meta_path.is_file() else {}
    targets = _targets(root, request)
    work = [
        (out_dir / f"{stem}_iter_{i}.parquet", chunk)
        for stem, ids_file in targets
        for i, chunk in enumerate(chunks(read_ids_h5(ids_file), request.max_sources))
    ]
    current = {path.name for path, _ in work}
    stems = {stem for stem, _ in targets}
    _remove_stale_iterations(out_dir, stems, current)
    others = {
        name: rows
        for name, rows in previous.get("files", {}).items()
        if name.rsplit("_iter_", 1)[0] not in stems and (out_dir / name).is_file()
    }
    meta = {"catalog": request.catalog, "field": request.field, "files": others, "total": 0}
    meta["fingerprints"] = {
        k: v for k, v in previous.get("fingerprints", {}).items() if k in others
    }
    for path, ids in track(work, f"field {request.field} features"):
        fingerprint = _fingerprint(request, impute is not None, ids)
        if _reusable(path, fingerprint, previous, request):
            meta["files"][path.name] = previous["files"][path.name]
        else:
            meta["files"][path.name] = _download_chunk(source, request, ids, path, impute)
        meta["fingerprints"][path.name] = fingerprint
        meta["total"] = sum(meta["files"].values())
        write_json(meta, meta_path)
    meta["total"] = sum(meta["files"].values())
    write_json(meta, meta_path)
    return meta


def _download_chunk(
    source: KowalskiSkySource,
    request: FeaturesRequest,
    ids: np.ndarray,
    path: Path,
    impute: Callable[[pd.DataFrame], pd.DataFrame] | None,
) -> int:
    """Fetch, optionally impute and write one feature file; returns its rows."""
    frame = source.features(ids.tolist())
    if impute is not None:
        frame = impute(frame)
    frame.attrs = {
        "features_download_dateTime_utc": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S"),
        "features_ztf_dataRelease": data_release(request.catalog),
        "features_imputed": impute is not None,
    }
    write_parquet(frame, path)
    if request.write_csv:
        write_csv(frame, path.with_suffix(".csv"))
    else:
        path.with_suffix(".csv").unlink(missing_ok=True)  # an earlier run's, now stale
    return len(frame)
