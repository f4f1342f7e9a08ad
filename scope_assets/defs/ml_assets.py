"""ML assets (thin wrappers over ``scope_assets.ml``): training set → per-class models →
per-field XGB/DNN predictions → combined catalogue.

- ``training_set``: the labelled training table (simulated sky through the feature code, or a
  given SCoPe-format table).
- ``xgb_models`` / ``dnn_models``: partitioned by class tag; each partition trains one binary
  classifier into ``<models>/<alg>/<group>/<tag>/`` (model file + ``manifest.json``).
- ``xgb_predictions`` / ``dnn_predictions``: partitioned by field; score the field's imputed
  features with every model of the group (SCoPe's ``preds_<alg>`` layout). The group may be in
  this project's layout or SCoPe's (``<models root>/models_<alg>/<group>/``, e.g. a user's
  published ``trained_xgb_models``), scaled and imputed from SCoPe's training set.
- ``combined_predictions``: ``preds_dnn_xgb/field_<f>.parquet``.
"""

from pathlib import Path

import dagster as dg
import numpy as np
import pandas as pd

from resources.execution import ExecutionResource
from resources.storage import StorageResource
from scope_assets.defs.metadata import (
    column_descriptions,
    counts_markdown,
    data_path,
    table_metadata,
)
from scope_assets.defs.partitions import field_partitions
from scope_assets.defs.versions import manifest_fingerprints
from scope_assets.ml.inference.prediction_writing import DEFAULT_BATCH_SIZE
from scope_assets.ml.training.demo_models import DEMO_DNN
from scope_assets.ml.training.labels import DEMO_GROUP, DEMO_TAGS
from scope_assets.ml.training.model_training import TrainOptions
from scope_assets.ml.training.training_set import TRAINING_N_SOURCES, TRAINING_SEED

GROUP = "ml"

class_tag_partitions = dg.StaticPartitionsDefinition(list(DEMO_TAGS))
"""One partition per classifier of the demo group (the classes the simulator can label)."""


class TrainingSetConfig(dg.Config):
    """Where the training set comes from."""

    source_table: str = ""
    """A SCoPe-format training table (.parquet/.h5/.csv) to use as is; empty: simulate."""
    n_sources: int = TRAINING_N_SOURCES
    """Light curves of the simulated training sky."""
    seed: int = TRAINING_SEED
    rebuild: bool = False
    workers: int = 0
    """Processes for the training-set features (0: every CPU)."""
    eros1_dir: str = ""
    """Folder holding ``eros1_ramp/`` (real EROS-1 stars): add its training half's labelled stars
    (as the committed demo models were trained); empty: simulated stars only."""


class TrainConfig(dg.Config):
    """Training knobs (SCoPe's defaults; the DNN learning rate is applied as given)."""

    group: str = DEMO_GROUP
    scaling_method: str = TrainOptions().scaling_method
    seed: int = TrainOptions().seed
    xgb_cv: bool = False
    dnn_epochs: int = DEMO_DNN.epochs
    dnn_batch_size: int = DEMO_DNN.batch_size
    dnn_learning_rate: float = DEMO_DNN.learning_rate
    dnn_patience: int = DEMO_DNN.patience


class InferenceConfig(dg.Config):
    """Per-run knobs of the prediction assets."""

    group: str = DEMO_GROUP
    """A model group of the models root, in this project's layout or SCoPe's."""
    training_set: str = ""
    """SCoPe-layout groups: the training set giving their scaling statistics and imputation
    reference; empty: the SCoPe config's ``training.dataset``."""
    batch_size: int = DEFAULT_BATCH_SIZE
    flag_ids: bool = True
    write_csv: bool = False


def _md_table(df: pd.DataFrame, floatfmt: str = ".3f") -> str:
    if df.empty:
        return "(empty)"
    cols = list(df.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + " --- |" * len(cols)]
    for row in df.itertuples(index=False):
        cells = [
            format(v, floatfmt) if isinstance(v, float) and np.isfinite(v) else str(v) for v in row
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- training


@dg.asset(
    group_name=GROUP,
    kinds={"parquet"},
    description="Labelled training table: the simulated training sky through the feature code "
    "(or a given SCoPe training set), with SCoPe label columns.",
)
def training_set(
    context: dg.AssetExecutionContext, storage: StorageResource, config: TrainingSetConfig
) -> dg.MaterializeResult:
    from scope_assets.io import read_table, write_parquet
    from scope_assets.ml.training.training_set import (
        demo_training_set,
        label_counts,
        training_set_fingerprint,
        training_set_path,
    )

    layout = storage.layout()
    scope_config = storage.scope_config()
    path = training_set_path(layout.training_dir)
    if config.source_table:
        df = read_table(config.source_table)
        df.attrs.setdefault("training_set_source", config.source_table)
        df.attrs["training_set_fingerprint"] = training_set_fingerprint(df)
        write_parquet(df, path)
    else:
        done = {"n": 0}

        def progress(n: int) -> None:
            done["n"] += n
            if done["n"] % 500 < n:
                context.log.info(f"training-set features: {done['n']} light curves")

        df, path = demo_training_set(
            layout.training_dir,
            scope_config,
            n_sources=config.n_sources,
            seed=config.seed,
            eros1_root=Path(config.eros1_dir) if config.eros1_dir else None,
            rebuild=config.rebuild,
            workers=config.workers or None,
            progress=progress,
        )
    counts = label_counts(df, scope_config.training.threshold)
    return dg.MaterializeResult(
        metadata=table_metadata(path, df.drop(columns=["dmdt"], errors="ignore"), root=layout.root)
        | {
            "label_counts": dg.MetadataValue.md(counts_markdown(counts, "positives ≥ 0.7")),
            "fingerprint": dg.MetadataValue.text(str(df.attrs.get("training_set_fingerprint"))),
            "source": dg.MetadataValue.text(str(df.attrs.get("training_set_source", ""))),
        }
    )


def _train(
    context: dg.AssetExecutionContext, storage: StorageResource, config: TrainConfig, algorithm: str
) -> dg.MaterializeResult:
    from scope_assets.io import read_parquet
    from scope_assets.ml.training.demo_models import train_options
    from scope_assets.ml.training.model_training import train_model
    from scope_assets.ml.training.training_set import training_set_path

    tag = context.partition_key
    layout = storage.layout()
    scope_config = storage.scope_config()
    path = training_set_path(layout.training_dir)
    if not path.exists():
        raise FileNotFoundError(f"no training set: {path} is missing (materialize training_set)")
    df = read_parquet(path)
    options = train_options(
        scope_config,
        seed=config.seed,
        scaling=None if config.scaling_method == "none" else config.scaling_method,
        cv=config.xgb_cv,
        epochs=config.dnn_epochs,
        batch_size=config.dnn_batch_size,
        learning_rate=config.dnn_learning_rate,
        patience=config.dnn_patience,
    )
    result = train_model(
        df,
        tag,
        algorithm,
        scope_config,
        storage.models_root(),
        group=config.group,
        options=options,
        log=context.log.info,
    )
    metrics = result.manifest.metrics
    rows = [
        {"set": s}
        | {k: metrics[s][k] for k in ("roc_auc", "accuracy", "precision", "recall", "f1_score")}
        | {"n": metrics[s]["n"], "positives": metrics[s]["n_positive"]}
        for s in ("train", "val", "test")
    ]
    test_auc = metrics["test"]["roc_auc"]
    models_root = storage.models_root()
    fingerprint = manifest_fingerprints(models_root, algorithm, config.group)[tag]
    return dg.MaterializeResult(
        data_version=dg.DataVersion(fingerprint),
        metadata={
            "model_dir": data_path(models_root, result.model_dir),
            "model_file": data_path(models_root, result.model_path),
            "manifest": data_path(models_root, result.model_dir / "manifest.json"),
            "manifest_fingerprint": fingerprint,
            "stats_files": dg.MetadataValue.json(
                {k: data_path(models_root, v).value for k, v in result.stats_files.items()}
            ),
            "test_roc_auc": dg.MetadataValue.float(
                float(test_auc) if test_auc is not None else float("nan")
            ),
            "metrics": dg.MetadataValue.md(_md_table(pd.DataFrame(rows))),
            "n_features": dg.MetadataValue.int(len(result.manifest.features)),
            "training_set_fingerprint": dg.MetadataValue.text(
                result.manifest.training_set_fingerprint
            ),
            "seconds": dg.MetadataValue.float(round(result.seconds, 2)),
        },
    )


@dg.asset(
    partitions_def=class_tag_partitions,
    group_name=GROUP,
    kinds={"xgboost"},
    deps=[training_set],
    description="One binary XGBoost booster per class (SCoPe's parameters), with its manifest.",
)
def xgb_models(
    context: dg.AssetExecutionContext, storage: StorageResource, config: TrainConfig
) -> dg.MaterializeResult:
    return _train(context, storage, config, "xgb")


@dg.asset(
    partitions_def=class_tag_partitions,
    group_name=GROUP,
    kinds={"keras"},
    deps=[training_set],
    description="SCoPe's two-branch DNN (features + dm-dt) per class, Keras 3, with its manifest.",
)
def dnn_models(
    context: dg.AssetExecutionContext, storage: StorageResource, config: TrainConfig
) -> dg.MaterializeResult:
    return _train(context, storage, config, "dnn")


# --------------------------------------------------------------------------- inference


def _predict(
    context: dg.AssetExecutionContext,
    storage: StorageResource,
    execution: ExecutionResource,
    config: InferenceConfig,
    algorithm: str,
) -> dg.MaterializeResult:
    import pyarrow.parquet as pq

    from scope_assets.analysis.comparison import is_positive
    from scope_assets.hpc.steps import predict_field_with_group

    field = int(context.partition_key)
    layout = storage.layout()
    scope_config = storage.scope_config()
    scored = execution.call(
        context,
        predict_field_with_group,
        layout,
        field,
        algorithm,
        storage.models_root(),
        config.group,
        scope_config,
        batch_size=config.batch_size,
        flag_ids=config.flag_ids,
        write_csv=config.write_csv,
        training_set=config.training_set or storage.scope_training_set(),
        log=context.log.info,
    )
    result = scored.inference
    warning = result.outside_training_warning()
    if warning:
        context.log.warning(warning)
    # only the score columns are read back for the summary (a field can be large)
    scores = pq.read_table(result.path, columns=scored.score_columns)
    rows = []
    for column in scored.score_columns:
        values = scores.column(column).to_numpy()
        rows.append(
            {
                "class": column,
                "mean": float(values.mean()) if len(values) else float("nan"),
                "> 0.5": int(is_positive(values).sum()),
                "> 0.7": int((values > 0.7).sum()),
            }
        )
    schema = pq.read_schema(result.path)
    described = column_descriptions(scope_config)
    rate = result.rows_in / result.seconds if result.seconds else 0.0
    return dg.MaterializeResult(
        metadata={
            "path": data_path(layout.root, result.path),
            "dagster/row_count": dg.MetadataValue.int(scores.num_rows),
            "dagster/column_schema": dg.TableSchema(
                columns=[
                    dg.TableColumn(name=f.name, type=str(f.type), description=described.get(f.name))
                    for f in schema
                ]
            ),
            "summary": dg.MetadataValue.md(_md_table(pd.DataFrame(rows))),
            "rows_in": dg.MetadataValue.int(result.rows_in),
            "rows_dropped": dg.MetadataValue.int(result.rows_dropped),
            "rows_outside_training_range": dg.MetadataValue.int(result.rows_outside_training),
            "models": dg.MetadataValue.json(result.models),
            "meta_json": data_path(layout.root, result.meta_path),
            "flagged_json": data_path(layout.root, result.flagged_path or ""),
            "seconds": dg.MetadataValue.float(round(result.seconds, 3)),
            "rows_per_second": dg.MetadataValue.float(round(rate, 1)),
        }
    )


_MODEL_DEP = {"partition_mapping": dg.AllPartitionMapping()}


@dg.asset(
    partitions_def=field_partitions,
    group_name=GROUP,
    kinds={"parquet", "xgboost"},
    deps=[dg.AssetDep("imputed_features"), dg.AssetDep(xgb_models, **_MODEL_DEP)],
    description="XGBoost scores of every source of the field (preds_xgb/field_<f>/).",
)
def xgb_predictions(
    context: dg.AssetExecutionContext,
    storage: StorageResource,
    execution: ExecutionResource,
    config: InferenceConfig,
) -> dg.MaterializeResult:
    return _predict(context, storage, execution, config, "xgb")


@dg.asset(
    partitions_def=field_partitions,
    group_name=GROUP,
    kinds={"parquet", "keras"},
    deps=[dg.AssetDep("imputed_features"), dg.AssetDep(dnn_models, **_MODEL_DEP)],
    description="DNN scores of every source of the field (preds_dnn/field_<f>/).",
)
def dnn_predictions(
    context: dg.AssetExecutionContext,
    storage: StorageResource,
    execution: ExecutionResource,
    config: InferenceConfig,
) -> dg.MaterializeResult:
    return _predict(context, storage, execution, config, "dnn")


@dg.asset(
    partitions_def=field_partitions,
    group_name=GROUP,
    kinds={"parquet"},
    deps=[xgb_predictions, dnn_predictions],
    description="DNN and XGB catalogues joined on _id (preds_dnn_xgb/field_<f>.parquet).",
)
def combined_predictions(
    context: dg.AssetExecutionContext, storage: StorageResource
) -> dg.MaterializeResult:
    from scope_assets.ml.inference.combine_predictions import combine_field_predictions

    field = int(context.partition_key)
    layout = storage.layout()
    result = combine_field_predictions(layout, field)
    md = counts_markdown(
        {"DNN rows": result.rows_dnn, "XGB rows": result.rows_xgb, "joined": result.rows}
    )
    described = column_descriptions(storage.scope_config())
    return dg.MaterializeResult(
        metadata=table_metadata(
            result.path, result.frame, md, root=layout.root, descriptions=described
        )
        | {"fields_json": data_path(layout.root, result.fields_json)}
    )


# --------------------------------------------------------------------------- checks


def _predictions_check(asset, algorithm: str):
    @dg.asset_check(
        asset=asset,
        name=f"{algorithm}_predictions_match_scope_format",
        partitions_def=field_partitions,
        blocking=True,
        description="SCoPe's column order, unique _id, survey ids never null, scores in [0, 1] "
        "rounded to 2 decimals, one row per imputed source.",
    )
    def check(
        context: dg.AssetCheckExecutionContext, storage: StorageResource
    ) -> dg.AssetCheckResult:
        import pyarrow.parquet as pq

        from scope_assets.ml.inference.prediction_format import prediction_format_problems

        field = int(context.partition_key)
        layout = storage.layout()
        path = layout.preds_file(algorithm, field)
        problems = prediction_format_problems(path, algorithm)
        rows = pq.ParquetFile(path).metadata.num_rows
        imputed = layout.imputed_features_file(field)
        expected = pq.ParquetFile(imputed).metadata.num_rows if imputed.exists() else rows
        if expected != rows:
            problems.append(f"{rows} prediction rows for {expected} imputed rows")
        scores = [c for c in pq.read_schema(path).names if c.endswith(f"_{algorithm}")]
        return dg.AssetCheckResult(
            passed=not problems,
            metadata={
                "problems": dg.MetadataValue.json(problems),
                "rows": rows,
                "score_columns": dg.MetadataValue.json(scores),
            },
        )

    return check


xgb_predictions_format = _predictions_check(xgb_predictions, "xgb")
dnn_predictions_format = _predictions_check(dnn_predictions, "dnn")

TRAINING_ASSETS = [training_set, xgb_models, dnn_models]
INFERENCE_ASSETS = [xgb_predictions, dnn_predictions, combined_predictions]
ML_ASSETS = TRAINING_ASSETS + INFERENCE_ASSETS
ML_CHECKS = [xgb_predictions_format, dnn_predictions_format]
