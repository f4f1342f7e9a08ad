"""Console scripts of the ML part: the same functions the Dagster assets call.

- ``scope-train``              train classifiers (``--all-demo``: the committed demo models)
- ``assemble-training-stats``  SCoPe's stats/importance file collection
- ``run-inference``            score a field (or one ccd/quad) with a model group
- ``create-inference-script``  a shell script running every model of a group on field ``$1``
- ``combine-preds``            DNN + XGB catalogue of a field (``preds_dnn_xgb``)
- ``scope-eval``               ROC AUC per class against the simulator's truth table
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")


def _config(path: str | None):
    from scope_assets.config import load_config

    return load_config(path)


def _layout(data_dir: str | None):
    from scope_assets.config import data_root
    from scope_assets.io import DataLayout

    return DataLayout(data_root(data_dir))


def _models_root(models_dir: str | None) -> Path:
    from scope_assets.ml.train import default_models_root

    return Path(models_dir).resolve() if models_dir else default_models_root()


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", help="data root (default $SCOPE_DATA_DIR or ./data)")
    parser.add_argument(
        "--models-dir", help="models root (default $SCOPE_MODELS_DIR or the repository's models/)"
    )
    parser.add_argument("--config-path", help="scope.yaml merged over the packaged defaults")


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 1


# --------------------------------------------------------------------------- scope-train


def train_main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="scope-train", description="Train SCoPe classifiers (XGBoost and/or the DNN)."
    )
    _common(parser)
    parser.add_argument("--all-demo", action="store_true", help="train the demo model group: "
                        "every demo class, both algorithms, on the simulated training set")  # fmt: skip
    parser.add_argument("--tag", action="append", help="class tag (repeatable)")
    parser.add_argument("--algorithm", choices=["xgb", "dnn", "both"], default="both")
    parser.add_argument("--path-dataset", help="training set table (.parquet/.h5/.csv); "
                        "default: the simulated training set under <data>/training")  # fmt: skip
    parser.add_argument("--group", default=None, help="model group (default: demo)")
    parser.add_argument(
        "--scale-features", default="min_max", choices=["min_max", "median_std", "none"]
    )
    parser.add_argument(
        "--seed", type=int, default=None, help="split/training seed (default: config, 42)"
    )
    parser.add_argument("--cv", action="store_true", help="XGB: SCoPe's staged 5-fold grid search")
    parser.add_argument(
        "--skip-cv", action="store_true", help="accepted for SCoPe compatibility (default)"
    )
    parser.add_argument("--epochs", type=int, default=None, help="DNN epochs (default 200)")
    parser.add_argument("--batch-size", type=int, default=None, help="DNN batch size (default 64)")
    parser.add_argument("--lr", type=float, default=None, help="DNN learning rate (default 3e-4)")
    parser.add_argument("--patience", type=int, default=None, help="DNN early-stopping patience")
    parser.add_argument(
        "--n-sources", type=int, default=None, help="light curves of the simulated training sky"
    )
    parser.add_argument(
        "--workers", type=int, default=None, help="processes for the training-set features"
    )
    parser.add_argument("--rebuild-training-set", action="store_true")
    args = parser.parse_args(argv)

    from tqdm import tqdm

    from scope_assets.io import read_table
    from scope_assets.ml import demo as demo_mod
    from scope_assets.ml.labels import DEMO_GROUP
    from scope_assets.ml.train import train_models

    config = _config(args.config_path)
    layout = _layout(args.data_dir)
    models_root = _models_root(args.models_dir)
    options = demo_mod.train_options(
        config,
        seed=args.seed,
        scaling=None if args.scale_features == "none" else args.scale_features,
        cv=args.cv,
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.lr,
        patience=args.patience,
    )
    algorithms = ["xgb", "dnn"] if args.algorithm == "both" else [args.algorithm]
    if args.all_demo:
        if args.tag or args.path_dataset:
            return _fail(
                "--all-demo trains the demo classes on the simulated set; drop --tag/--path-dataset"
            )
        started = time.perf_counter()
        result = demo_mod.train_demo_models(
            layout,
            models_root,
            config,
            options=options,
            algorithms=algorithms,
            n_sources=args.n_sources,
            workers=args.workers,
            rebuild_training_set=args.rebuild_training_set,
            log=lambda message: print(message, flush=True),
        )
        print(
            f"trained {len(result.models)} models in {time.perf_counter() - started:.0f} s → "
            f"{models_root}; held-out set {result.holdout_path}"
        )
        return 0
    if not args.tag:
        return _fail("give --tag (repeatable) or --all-demo")
    if args.path_dataset:
        training_set = read_table(args.path_dataset)
        training_set.attrs.setdefault("training_set_source", str(args.path_dataset))
    else:
        bar = tqdm(desc="training-set features", unit="lc", disable=None)
        training_set, path = demo_mod.training_set_for(
            layout, config, n_sources=args.n_sources, workers=args.workers,
            rebuild=args.rebuild_training_set, progress=bar.update,
        )  # fmt: skip
        bar.close()
    with tqdm(
        total=len(args.tag) * len(algorithms), desc="training", unit="model", disable=None
    ) as bar:
        train_models(
            training_set,
            args.tag,
            algorithms,
            config,
            models_root,
            group=args.group or DEMO_GROUP,
            options=options,
            log=tqdm.write,
            progress=lambda *_: bar.update(),
        )
    return 0


# --------------------------------------------------------------------------- assemble-training-stats


def assemble_training_stats_main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="assemble-training-stats",
        description="Collect each class's stats (and XGB importance) JSON into one directory.",
    )
    _common(parser)
    parser.add_argument("--group-name", default="demo")
    parser.add_argument("--algorithm", choices=["xgb", "dnn"], default="dnn")
    parser.add_argument("--set-name", default="val", choices=["val", "test"])
    parser.add_argument("--importance-directory", default="xgb_feature_importance")
    parser.add_argument("--stats-directory", default="stats")
    args = parser.parse_args(argv)
    from scope_assets.analysis.training import assemble_training_stats

    layout = _layout(args.data_dir)
    try:
        out = assemble_training_stats(
            _models_root(args.models_dir),
            args.algorithm,
            args.group_name,
            layout.root,
            set_name=args.set_name,
            importance_directory=args.importance_directory,
            stats_directory=args.stats_directory,
        )
    except FileNotFoundError as exc:
        return _fail(str(exc))
    print(f"{len(out.stats_files)} stats files → {out.stats_dir}")
    if out.importance_files:
        print(f"{len(out.importance_files)} importance files → {out.importance_dir}")
    return 0


# --------------------------------------------------------------------------- run-inference


def load_inference_models(args, config, algorithm: str):
    """Models named by ``--paths-models`` or by ``--group-name`` (either layout)."""
    from scope_assets.ml.models import (
        load_model_paths,
        load_models,
        load_scope_models,
        read_feature_stats_file,
    )

    scale = None if args.scale_features == "none" else args.scale_features
    feature_stats = read_feature_stats_file(args.feature_stats) if args.feature_stats else None
    if args.paths_models:
        return load_model_paths(
            args.paths_models, args.model_class_names, algorithm, config,
            training_set=args.training_set, feature_stats=feature_stats, scale_features=scale,
        )  # fmt: skip
    root = _models_root(args.models_dir)
    if (root / algorithm / args.group_name).is_dir():
        return load_models(
            root, algorithm, args.group_name, tags=args.model_class_names, config=config
        )
    return load_scope_models(
        root, algorithm, args.group_name, config, tags=args.model_class_names,
        training_set=args.training_set, feature_stats=feature_stats, scale_features=scale,
    )  # fmt: skip


def run_inference_main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="run-inference", description="Score a field's features with a group of models."
    )
    _common(parser)
    parser.add_argument(
        "--field", required=True, help="field number (or a label such as <dt>_specific_ids)"
    )
    parser.add_argument("--algorithm", choices=["xgb", "dnn"], default="dnn")
    parser.add_argument("--group-name", default="demo", help="model group (default: demo)")
    parser.add_argument("--paths-models", nargs="+", help="model dirs/files instead of a group")
    parser.add_argument(
        "--model-class-names", nargs="+", help="tags of --paths-models (or a subset of the group)"
    )
    parser.add_argument(
        "--whole-field", action="store_true", help="score the whole field (default)"
    )
    parser.add_argument("--ccd", type=int)
    parser.add_argument("--quad", type=int)
    parser.add_argument(
        "--feature-directory", help="read <dir>/field_<f>/*.parquet instead of the imputed features"
    )
    parser.add_argument("--flag-ids", dest="flag_ids", action="store_true", default=True)
    parser.add_argument("--no-flag-ids", dest="flag_ids", action="store_false")
    parser.add_argument("--write-csv", action="store_true")
    parser.add_argument("--batch-size", type=int, default=100_000)
    parser.add_argument("--scale-features", default="min_max", choices=["min_max", "median_std", "none"],
                        help="SCoPe models only (ours carry their own)")  # fmt: skip
    parser.add_argument("--feature-stats", help="SCoPe models: YAML/JSON feature_stats mapping")
    parser.add_argument("--training-set", help="SCoPe models: training set for scaling/imputation")
    args = parser.parse_args(argv)
    if (args.ccd is None) != (args.quad is None):
        return _fail("give both --ccd and --quad, or neither")
    if args.whole_field and args.ccd is not None:
        return _fail("--whole-field and --ccd/--quad exclude each other")

    from tqdm import tqdm

    from scope_assets.ml.arrays import InputError
    from scope_assets.ml.inference import count_rows, feature_inputs, predict_field
    from scope_assets.ml.manifest import ModelError

    config = _config(args.config_path)
    layout = _layout(args.data_dir)
    try:
        models = load_inference_models(args, config, args.algorithm)
        inputs = feature_inputs(
            layout,
            args.field,
            ccd=args.ccd,
            quad=args.quad,
            feature_directory=args.feature_directory,
        )
        with tqdm(total=count_rows(inputs), desc=f"{args.algorithm} field {args.field}",
                  unit="row", disable=None) as bar:  # fmt: skip
            result = predict_field(
                layout, args.field, args.algorithm, models, config,
                ccd=args.ccd, quad=args.quad, feature_directory=args.feature_directory,
                batch_size=args.batch_size, flag_ids=args.flag_ids, write_csv=args.write_csv,
                progress=bar.update,
            )  # fmt: skip
    except (ModelError, InputError, FileNotFoundError, ValueError) as exc:
        return _fail(str(exc))
    rate = result.rows_in / result.seconds if result.seconds else float("inf")
    print(
        f"{result.rows_out} of {result.rows_in} rows scored by {len(models)} {args.algorithm} "
        f"models ({result.rows_dropped} dropped by imputation) in {result.seconds:.1f} s "
        f"({rate:,.0f} rows/s) → {result.path}"
    )
    return 0


# --------------------------------------------------------------------------- create-inference-script


def create_inference_script_main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="create-inference-script",
        description="Write a shell script running every model of a group on the field given as $1.",
    )
    _common(parser)
    parser.add_argument("--filename", required=True)
    parser.add_argument("--group-name", default="demo")
    parser.add_argument("--algorithm", choices=["xgb", "dnn"], default="dnn")
    parser.add_argument("--batch-size", type=int, default=100_000)
    parser.add_argument("--feature-directory")
    parser.add_argument("--feature-stats")
    parser.add_argument("--training-set")
    parser.add_argument("--scale-features", choices=["min_max", "median_std", "none"])
    parser.add_argument("--write-csv", action="store_true")
    args = parser.parse_args(argv)
    from scope_assets.ml.manifest import ModelError
    from scope_assets.ml.script import create_inference_script

    try:
        path = create_inference_script(
            args.filename, _models_root(args.models_dir), args.algorithm, args.group_name,
            config=_config(args.config_path), batch_size=args.batch_size,
            write_csv=args.write_csv, data_dir=args.data_dir,
            feature_directory=args.feature_directory, feature_stats=args.feature_stats,
            training_set=args.training_set, scale_features=args.scale_features,
        )  # fmt: skip
    except (FileExistsError, ModelError) as exc:
        return _fail(str(exc))
    print(f"wrote {path}")
    return 0


# --------------------------------------------------------------------------- combine-preds


def combine_preds_main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="combine-preds", description="Join a field's DNN and XGB predictions (preds_dnn_xgb)."
    )
    _common(parser)
    parser.add_argument("--field", "--specific-field", dest="fields", action="append",
                        help="field (repeatable); default: every field with both predictions")  # fmt: skip
    parser.add_argument("--combined-preds-dirname", default="preds_dnn_xgb")
    parser.add_argument("--dnn-directory", default="preds_dnn")
    parser.add_argument("--xgb-directory", default="preds_xgb")
    parser.add_argument("--write-csv", action="store_true")
    parser.add_argument("--doNotSave", action="store_true", help="combine but write nothing")
    args = parser.parse_args(argv)
    from scope_assets.ml.combine import CombineError, combine_field_predictions

    layout = _layout(args.data_dir)
    fields = args.fields
    if not fields:
        dnn = {p.name for p in (layout.root / args.dnn_directory).glob("field_*") if p.is_dir()}
        xgb = {p.name for p in (layout.root / args.xgb_directory).glob("field_*") if p.is_dir()}
        fields = sorted(n.removeprefix("field_") for n in dnn & xgb)
        if not fields:
            return _fail(
                f"no field has both {args.dnn_directory} and {args.xgb_directory} predictions"
            )
    for field in fields:
        try:
            result = combine_field_predictions(
                layout, field, combined_dirname=args.combined_preds_dirname,
                dnn_directory=args.dnn_directory, xgb_directory=args.xgb_directory,
                save=not args.doNotSave, write_csv_file=args.write_csv,
            )  # fmt: skip
        except CombineError as exc:
            return _fail(str(exc))
        print(f"field {field}: {result.rows} rows → {result.path or '(not saved)'}")
    return 0


# --------------------------------------------------------------------------- scope-eval


def eval_main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="scope-eval", description="ROC AUC per class against the simulator's truth table."
    )
    _common(parser)
    parser.add_argument("--field", required=True)
    parser.add_argument("--truth", help="truth table (default <data>/archive/truth.parquet)")
    parser.add_argument("--algorithm", choices=["xgb", "dnn", "both"], default="both")
    args = parser.parse_args(argv)
    from scope_assets.ml.evaluate import evaluate_field, format_table

    algorithms = ("xgb", "dnn") if args.algorithm == "both" else (args.algorithm,)
    try:
        table = evaluate_field(
            _layout(args.data_dir), args.field, _config(args.config_path),
            truth_path=args.truth, algorithms=algorithms,
        )  # fmt: skip
    except FileNotFoundError as exc:
        return _fail(str(exc))
    print(f"field {args.field}: ROC AUC per class against the simulator truth")
    print(format_table(table))
    return 0
