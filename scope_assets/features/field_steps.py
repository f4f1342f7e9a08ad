"""The field pipeline's steps as plain functions (quad ids → light curves → features → imputed).

Each function is one job, called by both the Dagster asset and the CLI, and writes its files
in SCoPe's layout through :class:`~scope_assets.io.DataLayout`.
"""

from __future__ import annotations

import datetime as dt
import glob
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from scope_assets.config import ScopeConfig
from scope_assets.features.imputation import (
    ImputationReference,
    build_imputation_reference,
    impute_features,
    missing_counts,
)
from scope_assets.features.pipeline import (
    CleaningSummary,
    empty_features,
    feature_attrs,
    generate_field_features,
    write_cleaned_light_curves,
)
from scope_assets.io import DataLayout, read_parquet, read_table, write_json, write_parquet
from scope_assets.lightcurves.id_files import (
    IDS_META_NAME,
    QuadCounts,
    field_ids_dataset,
    ids_meta,
    meta_quads,
    read_ids_h5,
    read_ids_meta,
    set_quad_count,
    write_ids_h5,
)

ALL_QUADS = [(ccd, quad) for ccd in range(1, 17) for quad in range(1, 5)]
"""The 16 CCDs x 4 quadrants the quad_ids asset asks for (the whole field)."""


class FieldPipelineError(RuntimeError):
    """A step of the field pipeline cannot run: the message names the missing input."""


def _utc_now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def fetch_quad_ids(sky, field: int, layout: DataLayout, min_nobs: int = 0) -> pd.DataFrame:
    """IDs, positions, ccd/quad and filter of every light curve of ``field``, sorted by
    (ccd, quad, ``_id``); writes the ids as ``get-quad-ids --whole-field`` does.

    That is SCoPe's ``field_<f>.h5`` (dataset ``dataset_field_<f>``) and ``meta.json`` with the
    count of every (ccd, quad) holding light curves.
    """
    ids = sky.source_ids(field, min_nobs=min_nobs)
    ids = ids.sort_values(["ccd", "quad", "_id"]).reset_index(drop=True)
    write_ids_h5(ids["_id"].to_numpy(), layout.ids_file(field), field_ids_dataset(field))
    counts: QuadCounts = {}
    for (ccd, quad), n in ids.groupby(["ccd", "quad"]).size().items():
        set_quad_count(counts, ccd, quad, n)
    meta = ids_meta(type(sky).__name__, min_nobs, field, ALL_QUADS, counts)
    write_json(meta, layout.ids_dir(field) / IDS_META_NAME)
    return ids


def read_quad_ids(field: int, layout: DataLayout) -> np.ndarray:
    """The ``_id`` of the field's ids file (written by the quad_ids asset or get-quad-ids)."""
    path = layout.ids_file(field)
    if not path.exists():
        raise FieldPipelineError(f"no quad ids for field {field}: {path} is missing (run quad_ids)")
    return read_ids_h5(path)


def read_field_quads(field: int, layout: DataLayout) -> list[tuple[int, int]]:
    """The (ccd, quad) pairs the field's ids ``meta.json`` lists."""
    path = layout.ids_dir(field) / IDS_META_NAME
    meta = read_ids_meta(path)
    if meta is None:
        raise FieldPipelineError(f"no quad ids for field {field}: {path} is missing (run quad_ids)")
    return meta_quads(meta)


def clean_field_light_curves(
    sky,
    field: int,
    layout: DataLayout,
    config: ScopeConfig,
    progress: Callable[[int], None] | None = None,
) -> CleaningSummary:
    """Fetch and clean every light curve listed in the field's ids file; one Parquet output."""
    ids = read_quad_ids(field, layout)
    batches = sky.iter_light_curves(
        field, ids=ids.tolist(), batch_size=config.feature_generation.batch_size
    )
    return write_cleaned_light_curves(batches, layout.light_curves_file(field), config, progress)


def compute_field_features(
    sky,
    field: int,
    layout: DataLayout,
    config: ScopeConfig,
    progress: Callable[[int], None] | None = None,
) -> dict[tuple[int, int], int]:
    """Features of the field's cleaned light curves, one file per (ccd, quad) as SCoPe writes."""
    path = layout.light_curves_file(field)
    if not path.exists():
        raise FieldPipelineError(
            f"no light curves for field {field}: {path} is missing (run light_curves)"
        )
    for old in glob.glob(str(layout.features_dir(field) / "*.parquet")):
        Path(old).unlink()
    written = generate_field_features(
        path, sky, config, lambda ccd, quad: layout.features_file(field, ccd, quad), progress
    )
    for ccd, quad in sorted(set(read_field_quads(field, layout)) - set(written)):
        # As SCoPe does: a quadrant with no surviving light curve gets an empty file, so it
        # counts as done and inference sees every quadrant.
        empty = empty_features(config)
        empty.attrs = feature_attrs(config, field=field, ccd=ccd, quad=quad)
        write_parquet(empty, layout.features_file(field, ccd, quad))
        written[(ccd, quad)] = 0
    return dict(sorted(written.items()))


def _feature_files(field: int, layout: DataLayout) -> list[Path]:
    files = sorted(layout.features_dir(field).glob("*.parquet"))
    if not files:
        raise FieldPipelineError(
            f"no features for field {field} in {layout.features_dir(field)} (run features)"
        )
    return files


def read_field_features(
    field: int, layout: DataLayout, columns: list[str] | None = None
) -> pd.DataFrame:
    """All feature files of a field (only ``columns`` if given), concatenated (attrs of the first
    file)."""
    frames = [read_parquet(f, columns=columns) for f in _feature_files(field, layout)]
    df = pd.concat(frames, ignore_index=True)
    df.attrs = frames[0].attrs
    return df


def field_feature_columns(field: int, layout: DataLayout) -> list[str]:
    """The columns of the field's feature files (their union, in order), without reading rows."""
    names = [pq.read_schema(f).names for f in _feature_files(field, layout)]
    return list(dict.fromkeys(c for file_names in names for c in file_names))


def count_light_curves(field: int, layout: DataLayout) -> int:
    """Rows of the field's cleaned light-curve file, from its footer."""
    return pq.ParquetFile(layout.light_curves_file(field)).metadata.num_rows


@dataclass(frozen=True)
class ImputationSummary:
    rows_in: int
    rows_kept: int
    rows_dropped: int
    missing_before: dict[str, int]
    reference_source: str
    reference_fingerprint: str


def impute_field_features(
    field: int,
    layout: DataLayout,
    config: ScopeConfig,
    reference_table: str | Path | None = None,
) -> tuple[pd.DataFrame, ImputationSummary]:
    """Impute the field's features with stored reference statistics and write the result.

    The reference is ``reference_table`` (e.g. the training set) when given, otherwise the whole
    field — computed once here and written to ``imputation_reference.json``, never per batch.
    """
    features = read_field_features(field, layout)
    if reference_table:
        reference_df = read_table(reference_table)
        source = str(reference_table)
    else:
        reference_df, source = features, f"field {field} features"
    reference = build_imputation_reference(reference_df, config, source=source)
    reference.to_json(layout.imputation_reference_file(field))
    missing = missing_counts(features, list(reference.strategies))
    imputed, kept = impute_features(features, reference)
    imputed.attrs = dict(features.attrs) | {
        "features_imputed": True,
        "imputation_reference": reference.fingerprint,
        "imputation_reference_source": source,
        "imputed_utc": _utc_now(),
    }
    write_parquet(imputed, layout.imputed_features_file(field))
    summary = ImputationSummary(
        rows_in=len(features),
        rows_kept=int(kept.sum()),
        rows_dropped=int((~kept).sum()),
        missing_before=missing,
        reference_source=source,
        reference_fingerprint=reference.fingerprint,
    )
    return imputed, summary


def load_imputation_reference(field: int, layout: DataLayout) -> ImputationReference:
    return ImputationReference.from_json(layout.imputation_reference_file(field))
