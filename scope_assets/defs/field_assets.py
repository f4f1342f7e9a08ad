"""Per-field assets: quad_ids → light_curves → features → imputed_features (thin wrappers)."""

import dagster as dg

from resources.execution import ExecutionResource
from resources.sky import SkySourceResource
from resources.storage import StorageResource
from scope_assets.defs.metadata import (
    counts_markdown,
    data_path,
    table_metadata,
)
from scope_assets.defs.partitions import field_partitions
from scope_assets.features import field_steps as field_pipeline
from scope_assets.features import table_checks
from scope_assets.features.imputation import unimputable_columns

GROUP = "field_pipeline"


class FeatureRunConfig(dg.Config):
    """Per-run knobs of the features asset."""

    reference_table: str = ""


def _progress_logger(context: dg.AssetExecutionContext, what: str, every: int = 500):
    done = {"n": 0, "next": every}

    def progress(n: int) -> None:
        done["n"] += n
        if done["n"] >= done["next"]:
            context.log.info(f"{what}: {done['n']} light curves done")
            done["next"] += every

    return progress


def _field_asset(kind: str = "parquet", **kwargs):
    """An asset of the field pipeline: one partition per field, files of ``kind``."""
    return dg.asset(partitions_def=field_partitions, group_name=GROUP, kinds={kind}, **kwargs)


def _field(context: dg.AssetExecutionContext) -> int:
    return int(context.partition_key)


@_field_asset(
    kind="hdf5",
    description="IDs of every light curve in the field, in SCoPe's get-quad-ids format "
    "(field_<f>.h5 and meta.json with the count per ccd/quad).",
)
def quad_ids(
    context: dg.AssetExecutionContext, storage: StorageResource, sky: SkySourceResource
) -> dg.MaterializeResult:
    field = _field(context)
    layout = storage.layout()
    ids = field_pipeline.fetch_quad_ids(sky.get_source(), field, layout)
    per_quad = ids.groupby(["ccd", "quad"]).size()
    summary = counts_markdown({f"ccd {c} quad {q}": int(n) for (c, q), n in per_quad.items()})
    return dg.MaterializeResult(
        metadata=table_metadata(layout.ids_file(field), ids[["_id"]], summary, root=layout.root)
        | {"n_quadrants": dg.MetadataValue.int(len(per_quad))}
    )


@_field_asset(
    deps=[quad_ids],
    description="Cleaned light curves (catflags, HJD and programid cuts per point, 30-min thinning).",
)
def light_curves(
    context: dg.AssetExecutionContext, storage: StorageResource, sky: SkySourceResource
) -> dg.MaterializeResult:
    field = _field(context)
    layout = storage.layout()
    config = storage.scope_config()
    summary = field_pipeline.clean_field_light_curves(
        sky.get_source(), field, layout, config, _progress_logger(context, "cleaning")
    )
    counts = summary.as_dict()
    skipped = counts["curves_in"] - counts["curves_kept"]
    context.log.info(
        f"field {field}: kept {counts['curves_kept']} of {counts['curves_in']} light curves "
        f"(skipped {skipped}: {counts.get('curves_too_few_points', 0)} with fewer than "
        f"{config.feature_generation.min_n_lc_points} points, {counts.get('curves_empty', 0)} empty)"
    )
    return dg.MaterializeResult(
        metadata={
            "path": data_path(layout.root, layout.light_curves_file(field)),
            "dagster/row_count": dg.MetadataValue.int(counts["curves_kept"]),
            "curves_skipped": dg.MetadataValue.int(skipped),
            "summary": dg.MetadataValue.md(counts_markdown(counts)),
        }
    )


@_field_asset(
    deps=[light_curves],
    description="SCoPe's feature set per light curve: statistics, periods, Fourier, dm-dt, "
    "alerts and cross-matches; one file per ccd/quad.",
)
def features(
    context: dg.AssetExecutionContext,
    storage: StorageResource,
    sky: SkySourceResource,
    execution: ExecutionResource,
) -> dg.MaterializeResult:
    field = _field(context)
    layout = storage.layout()
    config = storage.scope_config()
    written = execution.call(
        context,
        field_pipeline.compute_field_features,
        sky.get_source(),
        field,
        layout,
        config,
        progress=_progress_logger(context, "features"),
    )
    df = field_pipeline.read_field_features(field, layout)
    missing = table_checks.unimputable_missing(df, config)
    summary = counts_markdown({f"ccd {c} quad {q}": n for (c, q), n in written.items()}, "rows")
    return dg.MaterializeResult(
        metadata=_feature_table_metadata(layout, layout.features_dir(field), df, summary)
        | {
            "files": dg.MetadataValue.json(
                [
                    data_path(layout.root, layout.features_file(field, c, q)).value
                    for c, q in written
                ]
            ),
            "rows_missing_unimputable": dg.MetadataValue.json(missing),
        }
    )


@_field_asset(
    deps=[features],
    description="Features with missing values imputed from stored reference statistics; rows "
    "still missing an unimputable feature are dropped (as in SCoPe).",
)
def imputed_features(
    context: dg.AssetExecutionContext, storage: StorageResource, config: FeatureRunConfig
) -> dg.MaterializeResult:
    field = _field(context)
    layout = storage.layout()
    imputed, summary = field_pipeline.impute_field_features(
        field, layout, storage.scope_config(), config.reference_table or None
    )
    context.log.info(
        f"field {field}: imputed {summary.rows_in} rows, dropped {summary.rows_dropped} "
        f"still missing an unimputable feature"
    )
    md = counts_markdown(
        {"rows in": summary.rows_in, "rows kept": summary.rows_kept}
        | {f"missing {c}": n for c, n in summary.missing_before.items()}
    )
    return dg.MaterializeResult(
        metadata=_feature_table_metadata(layout, layout.imputed_features_file(field), imputed, md)
        | {
            "rows_dropped": dg.MetadataValue.int(summary.rows_dropped),
            "reference_source": dg.MetadataValue.text(summary.reference_source),
            "reference_fingerprint": dg.MetadataValue.text(summary.reference_fingerprint),
            "reference_path": data_path(layout.root, layout.imputation_reference_file(field)),
        }
    )


def _feature_table_metadata(layout, path, df, summary: str) -> dict:
    """Path (relative), rows and columns; the column schema with descriptions is definition
    metadata (``asset_policies``), not repeated in every materialization."""
    metadata = table_metadata(path, df, summary, root=layout.root)
    del metadata["dagster/column_schema"]
    return metadata | {"n_columns": dg.MetadataValue.int(df.shape[1])}


def _check_result(
    report: table_checks.CheckReport,
    severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR,
) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        passed=report.passed,
        severity=severity,
        description="; ".join(report.problems) or None,
        metadata=report.facts,
    )


@dg.asset_check(asset=features, partitions_def=field_partitions, blocking=True)
def features_have_expected_columns(
    context: dg.AssetCheckExecutionContext, storage: StorageResource
) -> dg.AssetCheckResult:
    """Every model input column (61 ontological features) and the identity columns exist."""
    columns = field_pipeline.field_feature_columns(_field(context), storage.layout())
    return _check_result(table_checks.check_feature_columns(columns, storage.scope_config()))


@dg.asset_check(asset=features, partitions_def=field_partitions)
def features_unimputable_missing_is_rare(
    context: dg.AssetCheckExecutionContext, storage: StorageResource
) -> dg.AssetCheckResult:
    """Light-curve features (strategy ``none``) are missing only in rows imputation will drop.

    Warns when more than 5% of the rows would be dropped.
    """
    field, layout, config = _field(context), storage.layout(), storage.scope_config()
    present = set(field_pipeline.field_feature_columns(field, layout))
    columns = [c for c in unimputable_columns(config.impute_strategies()) if c in present]
    df = field_pipeline.read_field_features(field, layout, columns)
    report = table_checks.check_unimputable_missing(df, config)
    return _check_result(report, dg.AssetCheckSeverity.WARN)


@dg.asset_check(asset=features, partitions_def=field_partitions, blocking=True)
def features_row_count_matches_light_curves(
    context: dg.AssetCheckExecutionContext, storage: StorageResource
) -> dg.AssetCheckResult:
    """One feature row per cleaned light curve, and no duplicated ``_id``."""
    field, layout = _field(context), storage.layout()
    ids = field_pipeline.read_field_features(field, layout, ["_id"])["_id"]
    n_curves = field_pipeline.count_light_curves(field, layout)
    return _check_result(table_checks.check_one_row_per_light_curve(ids, n_curves))


FIELD_ASSETS = [quad_ids, light_curves, features, imputed_features]
FIELD_CHECKS = [
    features_have_expected_columns,
    features_unimputable_missing_is_rare,
    features_row_count_matches_light_curves,
]
