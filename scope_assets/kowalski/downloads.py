"""SCoPe's get-quad-ids and get-features, done properly: every page kept, resumable, atomic.

Layout (spec/scope-pipeline.md §1), under a root directory::

    ids/field_<f>/data_ccd_<cc>_quad_<q>.h5      dataset dataset_ccd_<c>_quad_<q>_field_<f>
    ids/field_<f>/data_ccd_<c>_quad_<q>_field_<f>.csv   the same ids, no header
    ids/field_<f>/field_<f>.h5                   dataset dataset_field_<f>   (--whole-field)
    ids/field_<f>/meta.json                      {catalog, minobs, field, ccd_range, quad_range,
                                                  ccd: {c: {quad: {q: n}}}, total}
    features/field_<f>/{field_<f>|ccd_<cc>_quad_<q>}_iter_<i>.parquet (+ .csv)
    features/field_<f>/meta.json                 {catalog, field, files: {name: rows}, total}

Quads (and feature iterations) already on disk are skipped on a re-run, so an interrupted
download resumes where it stopped.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import h5py
import numpy as np
import pandas as pd

from scope_assets.io import atomic_path, write_csv, write_json, write_parquet
from scope_assets.kowalski.client import KowalskiClient
from scope_assets.kowalski.kowalski_sky import KowalskiSkySource, chunks, paged_find

T = TypeVar("T")
Track = Callable[[Sequence[T], str], Iterable[T]]


def no_tracking(items: Sequence[T], description: str) -> Iterable[T]:
    return items


def ids_dir(root: Path, field: int) -> Path:
    return Path(root) / "ids" / f"field_{field}"


def quad_ids_file(root: Path, field: int, ccd: int, quad: int) -> Path:
    return ids_dir(root, field) / f"data_ccd_{ccd:02d}_quad_{quad}.h5"


def quad_ids_dataset(field: int, ccd: int, quad: int) -> str:
    return f"dataset_ccd_{ccd}_quad_{quad}_field_{field}"


def field_ids_file(root: Path, field: int) -> Path:
    return ids_dir(root, field) / f"field_{field}.h5"


def features_dir(root: Path, field: int) -> Path:
    return Path(root) / "features" / f"field_{field}"


def write_ids_h5(ids: np.ndarray, path: Path, dataset: str) -> Path:
    """Write ``ids`` (int64) as one HDF5 dataset, atomically."""
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as handle:
        handle.create_dataset(dataset, data=np.asarray(ids, dtype=np.int64))
    return path


def read_ids_h5(path: Path) -> np.ndarray:
    """The ids of an ids file (its first dataset), int64."""
    if not path.is_file():
        raise FileNotFoundError(f"ids file {path} does not exist (run get-quad-ids first)")
    with h5py.File(path, "r") as handle:
        names = list(handle)
        if not names:
            raise ValueError(f"ids file {path} holds no dataset")
        return np.asarray(handle[names[0]][()], dtype=np.int64).ravel()


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

    def meta_key(self) -> dict[str, Any]:
        ccds = sorted({c for c, _ in self.quads})
        quads = sorted({q for _, q in self.quads})
        return {
            "catalog": self.catalog,
            "minobs": self.min_nobs,
            "field": self.field,
            "ccd_range": [ccds[0], ccds[-1]] if ccds else [],
            "quad_range": [quads[0], quads[-1]] if quads else [],
        }


def _load_meta(path: Path, key: dict[str, Any]) -> dict[str, Any] | None:
    """A previous run's meta.json if it was for the same request (else None: start over)."""
    if not path.is_file():
        return None
    meta = json.loads(path.read_text())
    same = all(meta.get(k) == v for k, v in key.items() if k not in ("ccd_range", "quad_range"))
    return meta if same else None


def download_quad_ids(
    client: KowalskiClient, root: Path, request: QuadIdsRequest, track: Track = no_tracking
) -> dict[str, Any]:
    """Write the ids of every requested quad (and the whole field); returns meta.json's content."""
    meta_path = ids_dir(root, request.field) / "meta.json"
    previous = _load_meta(meta_path, request.meta_key()) or {}
    counts: dict[str, dict[str, dict[str, int]]] = previous.get("ccd", {})
    done = {
        (int(c), int(q))
        for c, per_quad in counts.items()
        for q in per_quad.get("quad", {})
        if quad_ids_file(root, request.field, int(c), int(q)).is_file()
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
        path = quad_ids_file(root, request.field, ccd, quad)
        write_ids_h5(ids, path, quad_ids_dataset(request.field, ccd, quad))
        csv_path = path.parent / f"data_ccd_{ccd}_quad_{quad}_field_{request.field}.csv"
        with atomic_path(csv_path) as tmp:
            np.savetxt(tmp, ids, fmt="%d")
        counts.setdefault(str(ccd), {"quad": {}})["quad"][str(quad)] = len(ids)
        write_json(_quad_meta(request, counts), meta_path)
    meta = _quad_meta(request, counts)
    if request.whole_field:
        ids = np.concatenate(
            [read_ids_h5(quad_ids_file(root, request.field, c, q)) for c, q in request.quads]
            or [np.zeros(0, np.int64)]
        )
        write_ids_h5(
            np.sort(ids), field_ids_file(root, request.field), f"dataset_field_{request.field}"
        )
    write_json(meta, meta_path)
    return meta


def _quad_meta(request: QuadIdsRequest, counts: dict[str, Any]) -> dict[str, Any]:
    total = sum(n for per_quad in counts.values() for n in per_quad["quad"].values())
    return {**request.meta_key(), "ccd": counts, "total": total}


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


def data_release(catalog: str) -> str:
    """``ZTF_source_features_DR16`` → ``DR16`` (SCoPe's ``features_ztf_dataRelease``)."""
    return catalog.rsplit("_", 1)[-1]


def _targets(root: Path, request: FeaturesRequest) -> list[tuple[str, Path]]:
    """(output stem, ids file) per unit of work."""
    if request.whole_field:
        return [(f"field_{request.field}", field_ids_file(root, request.field))]
    return [
        (f"ccd_{ccd:02d}_quad_{quad}", quad_ids_file(root, request.field, ccd, quad))
        for ccd, quad in request.quads
    ]


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
    meta = {"catalog": request.catalog, "field": request.field, "files": {}, "total": 0}
    if meta_path.is_file() and not request.restart:
        meta["files"] = json.loads(meta_path.read_text()).get("files", {})
    work = [
        (out_dir / f"{stem}_iter_{i}.parquet", chunk)
        for stem, ids_file in _targets(root, request)
        for i, chunk in enumerate(chunks(read_ids_h5(ids_file), request.max_sources))
    ]
    for path, ids in track(work, f"field {request.field} features"):
        if path.is_file() and not request.restart and path.name in meta["files"]:
            continue
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
        meta["files"][path.name] = len(frame)
        meta["total"] = sum(meta["files"].values())
        write_json(meta, meta_path)
    meta["total"] = sum(meta["files"].values())
    write_json(meta, meta_path)
    return meta
