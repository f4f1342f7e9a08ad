"""Features of a list of light-curve ids (``generate-features --doSpecificIDs``).

The ids file is SCoPe's: ``ztf_id`` (or ``_id``), optionally ``coordinates`` and
``fritz_name``. Light curves are fetched per field (the field is part of the 14-digit id), so
any sky source serves them; ``fritz_name`` is carried into the feature table (inference turns
it into ``obj_id``). Unlike SCoPe, field/ccd/quad are the light curves' real ones.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from scope_assets.config import ScopeConfig
from scope_assets.features.pipeline import (
    CleaningSummary,
    assemble_features,
    empty_features,
    feature_attrs,
    features_for_light_curves,
    iter_cleaned_light_curves,
    write_cleaned_light_curves,
)
from scope_assets.io import read_table, write_parquet
from scope_assets.lightcurves.ids import decode_id, is_scope_id
from scope_assets.lightcurves.raw import RawLightCurves

ID_COLUMNS = ("ztf_id", "_id")


class SpecificIdsError(ValueError):
    """The ids file cannot be used: the message names the problem."""


def read_specific_ids(path: str | Path) -> pd.DataFrame:
    """``ztf_id`` (int64) and ``fritz_name`` (None where absent) of an ids file."""
    table = read_table(path)
    column = next((c for c in ID_COLUMNS if c in table.columns), None)
    if column is None:
        raise SpecificIdsError(f"{path}: no id column (expected one of {list(ID_COLUMNS)})")
    ids = pd.to_numeric(table[column], errors="coerce").fillna(0).astype(np.int64).to_numpy()
    bad = ~is_scope_id(ids)
    if bad.any():
        raise SpecificIdsError(f"{path}: not ZTF light-curve ids: {ids[bad][:5].tolist()}")
    names = table["fritz_name"].astype(object) if "fritz_name" in table else [None] * len(ids)
    out = pd.DataFrame({"ztf_id": ids, "fritz_name": list(names)})
    return out.drop_duplicates("ztf_id").reset_index(drop=True)


def light_curves_by_id(sky, ids: np.ndarray, batch_size: int) -> Iterator[RawLightCurves]:
    """The light curves of ``ids`` in batches, field by field (ids absent from the sky skipped)."""
    ids = np.asarray(ids, dtype=np.int64)
    fields = decode_id(ids).field
    for field in np.unique(fields):
        wanted = ids[fields == field].tolist()
        yield from sky.iter_light_curves(int(field), ids=wanted, batch_size=batch_size)


def _with_fritz_names(features: pd.DataFrame, names: pd.Series) -> pd.DataFrame:
    """``fritz_name`` inserted after ``_id`` (SCoPe's identity column order)."""
    out = features.copy()
    out.insert(1, "fritz_name", out["_id"].astype("int64").map(names).astype(object))
    return out


FeatureBatches = Iterable[tuple[pd.DataFrame, int]]
"""(feature rows, light curves they came from) per batch."""


def features_of_raw(batches: Iterable[RawLightCurves], sky, config: ScopeConfig) -> FeatureBatches:
    """Clean and featurize raw light curves, batch by batch."""
    for raw in batches:
        yield features_for_light_curves(raw, sky, config)[0], len(raw)


def features_of_cleaned(path: Path, sky, config: ScopeConfig) -> FeatureBatches:
    """Featurize a cleaned ``light_curves`` file, batch by batch."""
    for meta, batch in iter_cleaned_light_curves(path, config.feature_generation.batch_size):
        if len(meta):
            yield assemble_features(meta, batch, sky, config), len(meta)


def write_features_file(
    batches: FeatureBatches,
    config: ScopeConfig,
    output: str | Path,
    attrs: dict[str, object],
    *,
    transform: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
    progress: Callable[[int], None] | None = None,
) -> tuple[int, int]:
    """Every batch's features in one file (the empty table if none survives); returns (light
    curves read, feature rows). Frames are joined in memory before writing, so a column missing
    in every row of one batch cannot fix a wrong type (specific-id lists are small)."""
    frames, n_read = [], 0
    for features, n_curves in batches:
        n_read += n_curves
        if len(features):
            frames.append(features)
        if progress:
            progress(n_curves)
    table = pd.concat(frames, ignore_index=True) if frames else empty_features(config)
    table = transform(table) if transform else table
    table.attrs = attrs
    write_parquet(table, output)
    return n_read, sum(len(f) for f in frames)


def _fritz_name_transform(ids: pd.DataFrame):
    names = ids.set_index("ztf_id")["fritz_name"]
    return (lambda f: _with_fritz_names(f, names)) if names.notna().any() else None


def specific_ids_features(
    ids: pd.DataFrame,
    sky,
    config: ScopeConfig,
    output: str | Path,
    progress: Callable[[int], None] | None = None,
) -> tuple[int, int]:
    """Features of the light curves in ``ids`` streamed into ``output``; returns
    (light curves read, feature rows written). An empty file is written if none survives."""
    batches = light_curves_by_id(
        sky, ids["ztf_id"].to_numpy(), config.feature_generation.batch_size
    )
    return write_features_file(
        features_of_raw(batches, sky, config),
        config,
        output,
        feature_attrs(config, specific_ids=True, n_ids=len(ids)),
        transform=_fritz_name_transform(ids),
        progress=progress,
    )


def clean_specific_ids(
    ids: pd.DataFrame,
    sky,
    config: ScopeConfig,
    output: str | Path,
    progress: Callable[[int], None] | None = None,
) -> CleaningSummary:
    """The light curves of ``ids``, cleaned, in one ``light_curves`` file."""
    batches = light_curves_by_id(
        sky, ids["ztf_id"].to_numpy(), config.feature_generation.batch_size
    )
    return write_cleaned_light_curves(batches, Path(output), config, progress)


def cleaned_specific_ids_features(
    ids: pd.DataFrame,
    cleaned: str | Path,
    sky,
    config: ScopeConfig,
    output: str | Path,
    progress: Callable[[int], None] | None = None,
) -> tuple[int, int]:
    """Features of a cleaned ``light_curves`` file of specific ids (``fritz_name`` from ``ids``)."""
    return write_features_file(
        features_of_cleaned(Path(cleaned), sky, config),
        config,
        output,
        feature_attrs(config, specific_ids=True, n_ids=len(ids)),
        transform=_fritz_name_transform(ids),
        progress=progress,
    )
