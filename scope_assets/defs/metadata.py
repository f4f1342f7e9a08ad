"""Small helpers that turn tables and plots into Dagster metadata.

Paths in metadata are relative to the data root (``StorageResource.layout().root``, given once
by ``SCOPE_DATA_DIR`` or the resource's ``data_dir``): a copied or moved data root keeps every
old materialization valid. Plots go in as small thumbnails (markdown with an inline PNG of at
most ``THUMBNAIL_MAX_BYTES``) beside the path of the full image, so the event log stays small.
Column schemas carry descriptions: features from the config's feature catalogue, scores from
its classes; the feature tables' schema is definition metadata (``feature_table_schema``).
"""

from __future__ import annotations

import base64
from pathlib import Path

import dagster as dg
import pandas as pd

from scope_assets.config import ScopeConfig

THUMBNAIL_WIDTH = 400
THUMBNAIL_MAX_BYTES = 12_000
IDENTITY_DESCRIPTIONS = {
    "_id": "SCoPe light-curve id (field, ccd, quad, filter and a sequence number)",
    "obj_id": "source name on Fritz",
    "ra": "right ascension (deg, J2000)",
    "dec": "declination (deg, J2000)",
    "field": "ZTF field",
    "ccd": "ZTF CCD (1-16)",
    "quad": "CCD quadrant (1-4)",
    "filter": "ZTF filter (1 g, 2 r, 3 i)",
    "n": "points of the cleaned light curve",
    "nobs": "points before cleaning",
    "period": "best period (days)",
    "dmdt": "26 x 26 dm-dt histogram of the light curve (DNN input)",
}
PER_ALGORITHM = {
    "period": "best period (days)",
    "significance": "significance of the best period",
    "pdot": "period derivative",
}
SCORE_ALGORITHMS = {"dnn": "DNN", "xgb": "XGBoost"}


def data_path(root: Path, path: Path | str) -> dg.PathMetadataValue:
    """``path`` relative to the data root (as given when it lies outside)."""
    path = Path(path)
    try:
        return dg.MetadataValue.path(str(path.relative_to(root)))
    except ValueError:
        return dg.MetadataValue.path(str(path))


def column_descriptions(config: ScopeConfig) -> dict[str, str]:
    """Description of every column a feature or prediction table can hold."""
    described = dict(IDENTITY_DESCRIPTIONS)
    for name, spec in config.features.catalog.items():
        described[config.column_name(name)] = spec.description
        for algorithm in config.feature_generation.period_algorithms:
            if spec.periodic:
                described[f"{name}_{algorithm}"] = f"{spec.description} ({algorithm} period)"
    for algorithm in config.feature_generation.period_algorithms:
        for prefix, what in PER_ALGORITHM.items():
            described[f"{prefix}_{algorithm}"] = f"{what} ({algorithm})"
    for catalog in ("Gaia_EDR3", "AllWISE", "PS1_DR1"):
        described[f"{catalog}___id"] = f"{catalog} id of the closest counterpart (0: none)"
    for tag, spec in config.classes.items():
        for algorithm, label in SCORE_ALGORITHMS.items():
            described[f"{tag}_{algorithm}"] = f"{label} score (0-1) of class {spec.label!r}"
    return described


def table_schema(df: pd.DataFrame, descriptions: dict[str, str] | None = None) -> dg.TableSchema:
    descriptions = descriptions or {}
    return dg.TableSchema(
        columns=[
            dg.TableColumn(name=str(c), type=str(t), description=descriptions.get(str(c)) or None)
            for c, t in df.dtypes.items()
        ]
    )


def feature_table_schema(config: ScopeConfig) -> dg.TableSchema:
    """The columns of a feature table, in file order, with descriptions (definition metadata of
    ``features`` and ``imputed_features``: stored once, not in every materialization)."""
    from scope_assets.features.pipeline import empty_features

    descriptions = column_descriptions(config)
    kinds = {"f": "float", "i": "integer", "O": "list"}
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                name=str(c), type=kinds.get(t.kind, str(t)), description=descriptions.get(str(c))
            )
            for c, t in empty_features(config).dtypes.items()
        ]
    )


def table_metadata(
    path: Path,
    df: pd.DataFrame,
    summary_md: str | None = None,
    *,
    root: Path | None = None,
    descriptions: dict[str, str] | None = None,
) -> dict:
    """Standard metadata of a table an asset wrote (``path`` relative to ``root`` if given)."""
    metadata = {
        "path": data_path(root, path) if root else dg.MetadataValue.path(str(path)),
        "dagster/row_count": dg.MetadataValue.int(len(df)),
        "dagster/column_schema": table_schema(df, descriptions),
    }
    if summary_md:
        metadata["summary"] = dg.MetadataValue.md(summary_md)
    return metadata


def image_metadata(root: Path, png: Path) -> dict:
    """``<name>_png``: the full image's path; ``<name>_preview``: an inline thumbnail."""
    from scope_assets.analysis.plots import thumbnail_png

    name = png.stem
    data = thumbnail_png(png, THUMBNAIL_WIDTH, THUMBNAIL_MAX_BYTES)
    encoded = base64.b64encode(data).decode()
    markdown = f"**{name}** (full size: `{data_path(root, png).value}`)\n\n"
    markdown += f"![{name}](data:image/png;base64,{encoded})\n"
    return {f"{name}_png": data_path(root, png), f"{name}_preview": dg.MetadataValue.md(markdown)}


def counts_markdown(counts: dict[str, int], title: str = "count") -> str:
    rows = "\n".join(f"| {k} | {v} |" for k, v in counts.items())
    return f"| what | {title} |\n| --- | --- |\n{rows}\n"
