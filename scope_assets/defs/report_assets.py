"""Report assets (thin wrappers over ``scope_assets.analysis``): PNG files under the data root
plus the numbers and thumbnails in Dagster metadata.

- ``training_stats``: label distribution (from the training set, else from the models'
  manifests), per-class statistics (val/test) of every model, SCoPe's
  ``assemble-training-stats`` files and the DNN-vs-XGB recall/precision scatter.
- ``feature_importance``: XGB ``get_score()`` per class, assembled into SCoPe's
  ``xgb_feature_importance/`` and read from there, and the top-3-features bar chart.
- ``dnn_xgb_comparison`` (per field) and ``dnn_xgb_comparison_all`` (every combined field):
  score histograms, 2-D agreement heatmaps and the agreement fraction at 0.5 per class.
"""

import dagster as dg

from resources.storage import StorageResource
from scope_assets.defs.metadata import data_path, image_metadata
from scope_assets.defs.ml_assets import (
    _md_table,
    combined_predictions,
    dnn_models,
    training_set,
    xgb_models,
)
from scope_assets.defs.partitions import field_partitions
from scope_assets.ml.training.labels import DEMO_GROUP

GROUP = "reports"
_ALL = {"partition_mapping": dg.AllPartitionMapping()}


class ReportConfig(dg.Config):
    group: str = DEMO_GROUP
    set_name: str = "test"
    top_n: int = 3


@dg.asset(
    group_name=GROUP,
    kinds={"png"},
    deps=[training_set, dg.AssetDep(xgb_models, **_ALL), dg.AssetDep(dnn_models, **_ALL)],
    description="Training label distribution, per-class statistics (accuracy, precision, recall, "
    "F1, ROC AUC on val/test) and the DNN-vs-XGB recall/precision scatter.",
)
def training_stats(
    context: dg.AssetExecutionContext, storage: StorageResource, config: ReportConfig
) -> dg.MaterializeResult:
    from scope_assets.analysis.training import (
        assemble_training_stats,
        plot_label_distribution,
        plot_recall_precision,
        training_stats_table,
    )
    from scope_assets.io import write_csv

    layout = storage.layout()
    models_root = storage.models_root()
    threshold = storage.scope_config().training.threshold
    out_dir = layout.reports_dir / "training"
    stats = training_stats_table(models_root, config.group)
    if stats.empty:
        raise FileNotFoundError(f"no trained models of group {config.group!r} under {models_root}")
    stats.attrs = {"group": config.group, "models_root": str(models_root)}
    write_csv(stats, out_dir / "training_stats.csv", metadata=True)
    labels, label_source = _label_counts(layout, models_root, config.group, threshold)
    root = layout.root
    metadata = image_metadata(
        root, plot_label_distribution(labels, out_dir / "label_distribution.png", threshold)
    )
    metadata |= image_metadata(
        root, plot_recall_precision(stats, out_dir / "recall_precision.png", config.set_name)
    )
    copied = {}
    for algorithm in ("xgb", "dnn"):
        try:
            assembled = assemble_training_stats(
                models_root, algorithm, config.group, layout.root, set_name=config.set_name
            )
        except FileNotFoundError as exc:
            context.log.warning(str(exc))
            continue
        copied[algorithm] = data_path(root, assembled.stats_dir).value
    shown = stats[stats["set"] == config.set_name].drop(columns=["set"])
    metadata |= {
        "label_counts": dg.MetadataValue.json({k: int(v) for k, v in labels.items()}),
        "label_counts_source": dg.MetadataValue.text(label_source),
        "stats_table": dg.MetadataValue.md(_md_table(shown)),
        "stats_csv": data_path(root, out_dir / "training_stats.csv"),
        "assembled_stats_dirs": dg.MetadataValue.json(copied),
        "n_models": dg.MetadataValue.int(
            int(stats[["tag", "algorithm"]].drop_duplicates().shape[0])
        ),
    }
    return dg.MaterializeResult(metadata=metadata)


def _label_counts(layout, models_root, group: str, threshold: float):
    """Label positives from the training set when it is built, else from the model manifests
    (the committed demo models come without their training set)."""
    from scope_assets.analysis.training import (
        label_distribution,
        label_distribution_from_manifests,
    )
    from scope_assets.io import read_parquet
    from scope_assets.ml.training.training_set import training_set_path

    ts_path = training_set_path(layout.training_dir)
    if ts_path.exists():
        return label_distribution(read_parquet(ts_path), threshold), str(ts_path)
    return label_distribution_from_manifests(models_root, group), f"{models_root} manifests"


@dg.asset(
    group_name=GROUP,
    kinds={"png", "json"},
    deps=[dg.AssetDep(xgb_models, **_ALL)],
    description="XGB feature importance per class (get_score weight) in SCoPe's "
    "xgb_feature_importance/ and the top features across classifiers.",
)
def feature_importance(
    context: dg.AssetExecutionContext, storage: StorageResource, config: ReportConfig
) -> dg.MaterializeResult:
    from scope_assets.analysis.importance import (
        importance_tag,
        plot_top_features,
        read_importance_directory,
        top_features,
    )
    from scope_assets.analysis.training import assemble_training_stats
    from scope_assets.io import write_csv

    layout = storage.layout()
    assembled = assemble_training_stats(
        storage.models_root(), "xgb", config.group, layout.root, set_name=config.set_name
    )
    tags = {importance_tag(path)[0] for path in assembled.importance_files}
    importances = read_importance_directory(assembled.importance_dir, tags)
    if not importances:
        raise FileNotFoundError(f"no XGB importance files for group {config.group!r}")
    top = top_features(importances, config.top_n)
    top.attrs = {"group": config.group, "top_n": config.top_n, "classifiers": list(importances)}
    report_dir = layout.reports_dir / "training"
    write_csv(top, report_dir / "top_features.csv", metadata=True)
    png = plot_top_features(top, report_dir / "top_features.png", len(importances), config.top_n)
    root = layout.root
    return dg.MaterializeResult(
        metadata=image_metadata(root, png)
        | {
            "importance_dir": data_path(root, assembled.importance_dir),
            "importance_files": dg.MetadataValue.json(
                [data_path(root, f).value for f in assembled.importance_files]
            ),
            "top_features": dg.MetadataValue.md(_md_table(top.head(20))),
            "top_features_csv": data_path(root, report_dir / "top_features.csv"),
            "n_classifiers": dg.MetadataValue.int(len(importances)),
        }
    )


def _comparison_metadata(root, report) -> dict:
    summary = report.summary
    return (
        image_metadata(root, report.histogram_png)
        | image_metadata(root, report.heatmap_png)
        | {
            "agreement": dg.MetadataValue.md(_md_table(summary)),
            "agreement_by_class": dg.MetadataValue.json(
                {r.tag: round(float(r.agreement), 4) for r in summary.itertuples()}
            ),
            "summary_json": data_path(root, report.summary_json),
            "dagster/row_count": dg.MetadataValue.int(report.n_rows),
        }
    )


@dg.asset(
    partitions_def=field_partitions,
    group_name=GROUP,
    kinds={"png"},
    deps=[combined_predictions],
    description="DNN vs XGB for one field: score histograms, 2-D heatmaps, agreement at 0.5.",
)
def dnn_xgb_comparison(
    context: dg.AssetExecutionContext, storage: StorageResource
) -> dg.MaterializeResult:
    from scope_assets.analysis.comparison import field_comparison

    layout = storage.layout()
    report = field_comparison(layout, int(context.partition_key))
    return dg.MaterializeResult(metadata=_comparison_metadata(layout.root, report))


@dg.asset(
    group_name=GROUP,
    kinds={"png"},
    deps=[dg.AssetDep(combined_predictions, **_ALL)],
    description="DNN vs XGB over every field with a combined catalogue.",
)
def dnn_xgb_comparison_all(
    context: dg.AssetExecutionContext, storage: StorageResource
) -> dg.MaterializeResult:
    from scope_assets.analysis.comparison import all_fields_comparison

    layout = storage.layout()
    report = all_fields_comparison(layout)
    context.log.info(f"compared {len(report.sources)} combined catalogues")
    sources = [data_path(layout.root, s).value for s in report.sources]
    return dg.MaterializeResult(
        metadata=_comparison_metadata(layout.root, report)
        | {"fields": dg.MetadataValue.json(sources)}
    )


REPORT_ASSETS = [training_stats, feature_importance, dnn_xgb_comparison, dnn_xgb_comparison_all]
