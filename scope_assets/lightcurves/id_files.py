"""SCoPe's ids folder, ``<root>/ids/field_<f>/``, as ``get-quad-ids`` writes it::

    field_<f>.h5                          HDF5 dataset ``dataset_field_<f>``: every ``_id`` (int64)
    data_ccd_<cc>_quad_<q>.h5             dataset ``dataset_ccd_<c>_quad_<q>_field_<f>``
    data_ccd_<c>_quad_<q>_field_<f>.csv   the same ids, no header
    meta.json                             {catalog, minobs, field, ccd_range, quad_range,
                                           ccd: {c: {quad: {q: n}}}, total}

One format per path: ``get-quad-ids`` and the ``quad_ids`` asset both write ``field_<f>.h5`` and
``meta.json`` with these functions, and the field pipeline reads them back with them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from scope_assets.io import atomic_path, read_json_object

IDS_META_NAME = "meta.json"

QuadCounts = dict[str, dict[str, dict[str, int]]]
"""``{ccd: {"quad": {quad: n}}}`` with string keys, as in ``meta.json``."""


def field_ids_dataset(field: int) -> str:
    return f"dataset_field_{field}"


def quad_ids_file(ids_dir: Path, ccd: int, quad: int) -> Path:
    return Path(ids_dir) / f"data_ccd_{ccd:02d}_quad_{quad}.h5"


def quad_ids_csv(ids_dir: Path, field: int, ccd: int, quad: int) -> Path:
    return Path(ids_dir) / f"data_ccd_{ccd}_quad_{quad}_field_{field}.csv"


def quad_ids_dataset(field: int, ccd: int, quad: int) -> str:
    return f"dataset_ccd_{ccd}_quad_{quad}_field_{field}"


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


def set_quad_count(counts: QuadCounts, ccd: int, quad: int, n: int) -> None:
    """Record ``n`` ids for (ccd, quad) in ``counts``."""
    counts.setdefault(str(int(ccd)), {"quad": {}})["quad"][str(int(quad))] = int(n)


def ids_meta(
    catalog: str,
    min_nobs: int,
    field: int,
    quads: Iterable[tuple[int, int]],
    counts: QuadCounts,
) -> dict[str, Any]:
    """``meta.json`` of an ids folder; ``quads`` are the requested (ccd, quad) pairs."""
    quads = list(quads)
    ccds = sorted({c for c, _ in quads})
    quad_numbers = sorted({q for _, q in quads})
    total = sum(n for per_ccd in counts.values() for n in per_ccd["quad"].values())
    return {
        "catalog": catalog,
        "minobs": min_nobs,
        "field": field,
        "ccd_range": [ccds[0], ccds[-1]] if ccds else [],
        "quad_range": [quad_numbers[0], quad_numbers[-1]] if quad_numbers else [],
        "ccd": counts,
        "total": total,
    }


def read_ids_meta(path: Path) -> dict[str, Any] | None:
    """A ``meta.json``, or None when there is none (TableFormatError naming it if corrupt)."""
    return read_json_object(path, "ids meta.json") if path.is_file() else None


def meta_quads(meta: Mapping[str, Any]) -> list[tuple[int, int]]:
    """The (ccd, quad) pairs a ``meta.json`` lists, in its order."""
    return [(int(c), int(q)) for c, per_ccd in meta["ccd"].items() for q in per_ccd["quad"]]
