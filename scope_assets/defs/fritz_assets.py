"""Fritz assets: scores to Fritz per field, and labelled Fritz sources back as a training set.

- ``fritz_classifications`` (per field): uploads the field's combined predictions
  (``preds_dnn_xgb/field_<f>.parquet``) with ``fritz_mapper.json`` at the config's threshold;
  idempotent, so rematerializing sends only what changed. Metadata: rows posted / updated /
  skipped / failed, classification counts, the result file. The check
  ``fritz_classifications_all_rows_uploaded`` fails when any row failed.
- ``fritz_training_set``: downloads the configured groups, merges Kowalski features and writes
  SCoPe's ``fritzDownload/merged_classifications_features.parquet``; give its path to the
  ``training_set`` asset (``source_table``) to train on it.

Both call the same functions as ``scope-upload-classification`` and
``scope-download-classification``.
"""

from pathlib import Path

import dagster as dg

from resources.fritz import FritzResource
from resources.kowalski import KowalskiResource
from resources.sky import SkySourceResource
from resources.storage import StorageResource
from scope_assets.defs.metadata import counts_markdown, table_metadata
from scope_assets.defs.partitions import field_partitions

GROUP = "fritz"
UPLOAD_DIRNAME = "fritzUpload"
DOWNLOAD_DIRNAME = "fritzDownload"


class FritzUploadConfig(dg.Config):
    """Which groups and classes to post (the groups have no default: they are the user's)."""

    group_ids: list[int]
    p_threshold: float | None = None
    """Post classes with p >= this; None: the config's ``training.threshold``."""
    taxonomy_map: str = "fritz_mapper.json"
    classification_origin: str = "SCoPe"
    skip_phot: bool = True
    post_phot_as_comment: bool = False
    post_phasefolded_phot: bool = False
    radius_arcsec: float = 2.0
    parallel: int = 4
    batch_size: int = 100


class FritzDownloadConfig(dg.Config):
    group_ids: list[int]
    taxonomy_map: str = "golden_dataset_mapper.json"
    merge_features: bool = True
    impute_missing_features: bool = False
    get_ztf_filters: bool = True


def upload_result_path(root: Path, field: int) -> Path:
    """Where a field's upload writes its result file (SCoPe's naming)."""
    from scope_assets.fritz.upload_results import result_paths

    combined = root / "preds_dnn_xgb" / f"field_{field}.parquet"
    return result_paths(combined, root / UPLOAD_DIRNAME, "fritzUpload", "parquet")[0]


@dg.asset(
    partitions_def=field_partitions,
    group_name=GROUP,
    kinds={"fritz"},
    deps=[dg.AssetKey("combined_predictions")],
    description="The field's combined scores posted to Fritz (idempotent; per-row result file).",
)
def fritz_classifications(
    context: dg.AssetExecutionContext,
    config: FritzUploadConfig,
    storage: StorageResource,
    fritz: FritzResource,
    sky: SkySourceResource,
) -> dg.MaterializeResult:
    from scope_assets.fritz.classification_upload import prepare_upload, upload_classifications
    from scope_assets.fritz.upload_plan import UploadOptions
    from scope_assets.io import read_table

    field = int(context.partition_key)
    layout, scope_config = storage.layout(), storage.scope_config()
    upload_dir = layout.root / UPLOAD_DIRNAME
    threshold = config.p_threshold
    options = UploadOptions(
        group_ids=tuple(config.group_ids),
        classification=("read",),
        taxonomy_map=config.taxonomy_map,
        p_threshold=scope_config.training.threshold if threshold is None else threshold,
        classification_origin=config.classification_origin,
        skip_phot=config.skip_phot,
        post_phot_as_comment=config.post_phot_as_comment,
        post_phasefolded_phot=config.post_phasefolded_phot,
        radius_arcsec=config.radius_arcsec,
        result_dir=str(upload_dir),
        phot_dirname=str(upload_dir / "phot_plots"),
        parallel=config.parallel,
        batch_size=config.batch_size,
    )
    combined = layout.combined_file(field)
    prepared = prepare_upload(read_table(combined), combined, options, scope_config)
    source = sky.get_source() if options.needs_light_curves else None
    with fritz.get_client() as client:
        summary = upload_classifications(client, prepared, options, scope_config, sky=source)
    context.log.info(summary.describe())
    return dg.MaterializeResult(
        metadata={
            "result_file": dg.MetadataValue.path(str(summary.result_path)),
            **{f"rows_{k}": dg.MetadataValue.int(v) for k, v in summary.rows_by_status.items()},
            "classifications": dg.MetadataValue.md(
                counts_markdown(summary.classifications, "classifications")
            ),
            "sources_created": dg.MetadataValue.int(summary.sources_created),
            "p_threshold": dg.MetadataValue.float(options.p_threshold),
        }
    )


@dg.asset_check(
    asset=fritz_classifications,
    partitions_def=field_partitions,
    description="Every row of the field's upload was posted, updated or skipped (none failed).",
)
def fritz_classifications_all_rows_uploaded(
    context: dg.AssetCheckExecutionContext, storage: StorageResource
) -> dg.AssetCheckResult:
    from scope_assets.io import read_table

    path = upload_result_path(storage.layout().root, int(context.partition_key))
    if not path.exists():
        return dg.AssetCheckResult(passed=False, metadata={"missing": str(path)})
    results = read_table(path)
    failed = results[results["status"] == "failed"]
    examples = failed.head(5)[["row", "obj_id", "detail"]].to_dict("records")
    return dg.AssetCheckResult(
        passed=failed.empty,
        metadata={
            "failed_rows": dg.MetadataValue.int(len(failed)),
            "result_file": dg.MetadataValue.path(str(path)),
            "examples": dg.MetadataValue.json(examples),
        },
    )


@dg.asset(
    group_name=GROUP,
    kinds={"fritz", "parquet"},
    description="Labelled Fritz sources with their features: SCoPe's "
    "merged_classifications_features table (a source for training_set).",
)
def fritz_training_set(
    context: dg.AssetExecutionContext,
    config: FritzDownloadConfig,
    storage: StorageResource,
    fritz: FritzResource,
    kowalski: KowalskiResource,
) -> dg.MaterializeResult:
    from scope_assets.fritz.classification_download import DownloadOptions
    from scope_assets.fritz.download_merge import download_classifications

    layout = storage.layout()
    options = DownloadOptions(
        group_ids=tuple(config.group_ids),
        merge_features=config.merge_features,
        taxonomy_map=config.taxonomy_map,
        impute_missing_features=config.impute_missing_features,
        get_ztf_filters=config.get_ztf_filters,
        output_dir=str(layout.root / DOWNLOAD_DIRNAME),
    )
    client_of_kowalski = kowalski.get_client() if config.merge_features else None
    with fritz.get_client() as client:
        result = download_classifications(
            client, options, storage.scope_config(), client_of_kowalski
        )
    context.log.info(f"{len(result.sources)} sources downloaded to {result.sources_path}")
    if result.merge is None:
        return dg.MaterializeResult(metadata=table_metadata(result.sources_path, result.sources))
    merged = result.merge.merged
    return dg.MaterializeResult(
        metadata=table_metadata(
            result.merge.merged_path, merged.drop(columns=["dmdt"], errors="ignore")
        )
        | {
            "sources": dg.MetadataValue.int(len(result.sources)),
            "sources_file": dg.MetadataValue.path(str(result.sources_path)),
        }
    )


FRITZ_ASSETS = [fritz_classifications, fritz_training_set]
FRITZ_CHECKS = [fritz_classifications_all_rows_uploaded]
