"""Console scripts of inference: the same functions the Dagster assets call.

- ``run-inference``            score a field (or one ccd/quad) with a model group
- ``create-inference-script``  a shell script running every model of a group on field ``$1``
- ``combine-preds``            DNN + XGB catalogue of a field (``preds_dnn_xgb``)
- ``scope-eval``               ROC AUC per class against the simulator's truth table
"""

from __future__ import annotations

import argparse

from scope_assets.cli.error_exit import cli_main
from scope_assets.cli.ml_shared_options import (
    add_algorithm_argument,
    add_common_arguments,
    add_group_arguments,
    add_group_name_argument,
    chosen_algorithms,
    fail,
    layout_arg,
    load_config_arg,
)
from scope_assets.io import read_parquet_metadata
from scope_assets.io.layout import field_label, safe_name
from scope_assets.ml.inference.prediction_writing import DEFAULT_BATCH_SIZE
from scope_assets.ml.model_files.models_root import resolve_models_root

SCALINGS = ["min_max", "median_std", "none"]


def load_inference_models(args: argparse.Namespace, config, algorithm: str):
    """Models named by ``--paths-models`` or by ``--group-name`` (either layout)."""
    from scope_assets.ml.model_files.either_layout import load_model_paths
    from scope_assets.ml.model_files.project_layout import load_models
    from scope_assets.ml.model_files.scope_layout import load_scope_models, read_feature_stats_file

    scale = None if args.scale_features == "none" else args.scale_features
    feature_stats = read_feature_stats_file(args.feature_stats) if args.feature_stats else None
    if args.paths_models:
        return load_model_paths(
            args.paths_models,
            args.model_class_names,
            algorithm,
            config,
            training_set=args.training_set,
            feature_stats=feature_stats,
            scale_features=scale,
        )
    root = resolve_models_root(args.models_dir)
    if (root / algorithm / args.group_name).is_dir():
        return load_models(
            root, algorithm, args.group_name, tags=args.model_class_names, config=config
        )
    return load_scope_models(
        root,
        algorithm,
        args.group_name,
        config,
        tags=args.model_class_names,
        training_set=args.training_set,
        feature_stats=feature_stats,
        scale_features=scale,
    )


def _run_inference_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="run-inference", description="Score a field's features with a group of models."
    )
    add_common_arguments(parser)
    parser.add_argument(
        "--field", required=True, help="field number (or a label such as <dt>_specific_ids)"
    )
    add_algorithm_argument(parser, "dnn")
    add_group_name_argument(parser)
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
    parser.add_argument(
        "--flag-ids",
        dest="flag_ids",
        action="store_true",
        default=True,
        help="write the flagged JSON of missing features (default)",
    )
    parser.add_argument("--no-flag-ids", dest="flag_ids", action="store_false")
    parser.add_argument("--write-csv", action="store_true")
    parser.add_argument(
        "--batch-size",
        type=int,
        default=DEFAULT_BATCH_SIZE,
        help="input rows per output row group (default: %(default)s)",
    )
    parser.add_argument(
        "--scale-features",
        default="min_max",
        choices=SCALINGS,
        help="SCoPe models only (ours carry their own; default: %(default)s)",
    )
    parser.add_argument("--feature-stats", help="SCoPe models: YAML/JSON feature_stats mapping")
    parser.add_argument("--training-set", help="SCoPe models: training set for scaling/imputation")
    return parser


@cli_main
def run_inference_main(argv: list[str] | None = None) -> int:
    args = _run_inference_parser().parse_args(argv)
    args.field = field_label(args.field)
    if (args.ccd is None) != (args.quad is None):
        return fail("give both --ccd and --quad, or neither")
    if args.whole_field and args.ccd is not None:
        return fail("--whole-field and --ccd/--quad exclude each other")

    from tqdm import tqdm

    from scope_assets.ml.inference.field_inference import count_rows, feature_inputs, predict_field
    from scope_assets.ml.model_errors import InputError, ModelError

    config = load_config_arg(args.config_path)
    layout = layout_arg(args.data_dir)
    try:
        models = load_inference_models(args, config, args.algorithm)
        inputs = feature_inputs(
            layout,
            args.field,
            ccd=args.ccd,
            quad=args.quad,
            feature_directory=args.feature_directory,
        )
        for path in inputs:
            read_parquet_metadata(path)  # a corrupt input is named before anything is written
        with tqdm(
            total=count_rows(inputs),
            desc=f"{args.algorithm} field {args.field}",
            unit="row",
            disable=None,
        ) as bar:
            result = predict_field(
                layout,
                args.field,
                args.algorithm,
                models,
                config,
                ccd=args.ccd,
                quad=args.quad,
                feature_directory=args.feature_directory,
                batch_size=args.batch_size,
                flag_ids=args.flag_ids,
                write_csv=args.write_csv,
                progress=bar.update,
            )
    except (ModelError, InputError, FileNotFoundError, ValueError) as exc:
        return fail(str(exc))
    rate = result.rows_in / result.seconds if result.seconds else float("inf")
    print(
        f"{result.rows_out} of {result.rows_in} rows scored by {len(models)} {args.algorithm} "
        f"models ({result.rows_dropped} dropped by imputation) in {result.seconds:.1f} s "
        f"({rate:,.0f} rows/s) → {result.path}"
    )
    return 0


@cli_main
def create_inference_script_main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="create-inference-script",
        description="Write a shell script running every model of a group on the field given as $1.",
    )
    add_common_arguments(parser)
    parser.add_argument("--filename", required=True)
    add_group_arguments(parser)
    parser.add_argument(
        "--batch-size", type=int, default=DEFAULT_BATCH_SIZE, help="(default: %(default)s)"
    )
    parser.add_argument("--feature-directory")
    parser.add_argument("--feature-stats")
    parser.add_argument("--training-set")
    parser.add_argument("--scale-features", choices=SCALINGS)
    parser.add_argument("--write-csv", action="store_true")
    args = parser.parse_args(argv)
    from scope_assets.ml.inference.inference_script import create_inference_script
    from scope_assets.ml.model_errors import ModelError

    try:
        path = create_inference_script(
            args.filename,
            resolve_models_root(args.models_dir),
            args.algorithm,
            args.group_name,
            config=load_config_arg(args.config_path),
            batch_size=args.batch_size,
            write_csv=args.write_csv,
            data_dir=args.data_dir,
            feature_directory=args.feature_directory,
            feature_stats=args.feature_stats,
            training_set=args.training_set,
            scale_features=args.scale_features,
        )
    except (FileExistsError, ModelError) as exc:
        return fail(str(exc))
    print(f"wrote {path}")
    return 0


@cli_main
def combine_preds_main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="combine-preds", description="Join a field's DNN and XGB predictions (preds_dnn_xgb)."
    )
    add_common_arguments(parser)
    parser.add_argument(
        "--field",
        "--specific-field",
        dest="fields",
        action="append",
        help="field (repeatable); default: every field with both predictions",
    )
    parser.add_argument(
        "--combined-preds-dirname", default="preds_dnn_xgb", help="(default: %(default)s)"
    )
    parser.add_argument("--dnn-directory", default="preds_dnn", help="(default: %(default)s)")
    parser.add_argument("--xgb-directory", default="preds_xgb", help="(default: %(default)s)")
    parser.add_argument("--write-csv", action="store_true")
    parser.add_argument("--doNotSave", action="store_true", help="combine but write nothing")
    parser.add_argument(
        "--merge-dnn-xgb",
        action="store_true",
        help="GCN mode: one row per Fritz source (obj_id), DNN and XGB scores aggregated",
    )
    parser.add_argument("--dateobs", help="GCN event: merge field <dateobs>_specific_ids")
    parser.add_argument("--agg-method", default="mean", choices=["mean", "max"])
    parser.add_argument(
        "--p-threshold", type=float, default=0.7, help="meta file: classes above (%(default)s)"
    )
    args = parser.parse_args(argv)
    args.fields = [field_label(f) for f in args.fields or []]
    for flag in ("combined_preds_dirname", "dnn_directory", "xgb_directory"):
        safe_name(getattr(args, flag), f"--{flag.replace('_', '-')}")
    if args.merge_dnn_xgb or args.dateobs:
        from scope_assets.cli.gcn_tools import merge_preds_main

        return merge_preds_main(args)
    from scope_assets.ml.inference.combine_predictions import (
        CombineError,
        combine_field_predictions,
    )

    layout = layout_arg(args.data_dir)
    fields = args.fields
    if not fields:
        dnn = {p.name for p in (layout.root / args.dnn_directory).glob("field_*") if p.is_dir()}
        xgb = {p.name for p in (layout.root / args.xgb_directory).glob("field_*") if p.is_dir()}
        fields = sorted(n.removeprefix("field_") for n in dnn & xgb)
        if not fields:
            return fail(
                f"no field has both {args.dnn_directory} and {args.xgb_directory} predictions"
            )
    for field in fields:
        try:
            result = combine_field_predictions(
                layout,
                field,
                combined_dirname=args.combined_preds_dirname,
                dnn_directory=args.dnn_directory,
                xgb_directory=args.xgb_directory,
                save=not args.doNotSave,
                write_csv_file=args.write_csv,
            )
        except CombineError as exc:
            return fail(str(exc))
        print(f"field {field}: {result.rows} rows → {result.path or '(not saved)'}")
    return 0


@cli_main
def eval_main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="scope-eval", description="ROC AUC per class against the simulator's truth table."
    )
    add_common_arguments(parser)
    parser.add_argument("--field", required=True)
    parser.add_argument("--truth", help="truth table (default <data>/archive/truth.parquet)")
    add_algorithm_argument(parser, "both", allow_both=True)
    args = parser.parse_args(argv)
    args.field = field_label(args.field)
    from scope_assets.ml.inference.truth_evaluation import evaluate_field, format_table

    algorithms = tuple(chosen_algorithms(args.algorithm))
    try:
        table = evaluate_field(
            layout_arg(args.data_dir),
            args.field,
            load_config_arg(args.config_path),
            truth_path=args.truth,
            algorithms=algorithms,
        )
    except FileNotFoundError as exc:
        return fail(str(exc))
    print(f"field {args.field}: ROC AUC per class against the simulator truth")
    print(format_table(table))
    return 0
