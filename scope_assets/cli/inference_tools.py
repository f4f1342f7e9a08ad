"""Console scripts of inference: the same functions the Dagster assets call.

- ``run-inference``            score a field (or one ccd/quad) with a model group
- ``create-inference-script``  a shell script running every model of a group on field ``$1``
- ``combine-preds``            DNN + XGB catalogue of a field (``preds_dnn_xgb``)
- ``scope-eval``               ROC AUC per class against the simulator's truth table
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from scope_assets.cli.error_exit import cli_main
from scope_assets.cli.ml_shared_options import (
    SCOPE_CONFIG_HELP,
    add_algorithm_argument,
    add_common_arguments,
    add_group_arguments,
    add_group_name_argument,
    chosen_algorithms,
    fail,
    layout_arg,
    load_any_config_arg,
    load_config_arg,
    scope_data_dir,
    scope_feature_directory,
)
from scope_assets.cli.scope_flags import (
    ScopeArgumentParser,
    add_create_script_scope_flags,
    add_run_inference_scope_flags,
)
from scope_assets.io import read_parquet_metadata
from scope_assets.io.layout import field_label, safe_name
from scope_assets.ml.inference.prediction_writing import DEFAULT_BATCH_SIZE
from scope_assets.ml.model_files.models_root import scope_workdir_models_root

SCALINGS = ["min_max", "median_std", "none"]


def _scope_statistics(args: argparse.Namespace, scope) -> tuple[str | None, dict | None]:
    """(training set, feature_stats mapping) for SCoPe models. With SCoPe's ``config.yaml``
    (``scope``): ``--feature-stats config`` takes its ``feature_stats``, and without either flag
    its ``training.dataset`` (relative to the working directory, as SCoPe reads it) is used."""
    from scope_assets.ml.model_files.scope_layout import read_feature_stats_file

    if args.feature_stats == "config" and scope is not None:
        return args.training_set, dict(scope.feature_stats or {})
    feature_stats = read_feature_stats_file(args.feature_stats) if args.feature_stats else None
    training_set = args.training_set
    if scope is not None and training_set is None and feature_stats is None:
        path = scope.training_set_path(Path.cwd())
        training_set = str(path) if path else None
    return training_set, feature_stats


def load_inference_models(args: argparse.Namespace, config, algorithm: str, scope=None):
    """Models named by ``--paths-models`` or by ``--group-name`` (either layout; SCoPe's
    ``models_<alg>/<group>`` in the working directory too)."""
    from scope_assets.ml.model_files.either_layout import load_group, load_model_paths

    scale = None if args.scale_features == "none" else args.scale_features
    training_set, feature_stats = _scope_statistics(args, scope)
    if args.paths_models:
        return load_model_paths(
            args.paths_models,
            args.model_class_names,
            algorithm,
            config,
            training_set=training_set,
            feature_stats=feature_stats,
            scale_features=scale,
        )
    return load_group(
        scope_workdir_models_root(args.models_dir, algorithm, args.group_name),
        algorithm,
        args.group_name,
        config,
        tags=args.model_class_names,
        training_set=training_set,
        feature_stats=feature_stats,
        scale_features=scale,
    )


def _run_inference_parser() -> ScopeArgumentParser:
    parser = ScopeArgumentParser(
        prog="run-inference", description="Score a field's features with a group of models."
    )
    add_common_arguments(parser, SCOPE_CONFIG_HELP)
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
        "--feature-directory",
        help="read <dir>/field_<f>/*.parquet instead of the imputed features (with SCoPe's "
        "config.yaml: under its path_to_features or the working directory, default 'features')",
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
    parser.add_argument(
        "--feature-stats",
        help="SCoPe models: YAML/JSON feature_stats mapping ('config': the feature_stats of "
        "SCoPe's config.yaml)",
    )
    parser.add_argument(
        "--training-set",
        help="SCoPe models: training set for scaling/imputation (default with SCoPe's "
        "config.yaml: its training.dataset)",
    )
    add_run_inference_scope_flags(parser)
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

    from scope_assets.config import ConfigError
    from scope_assets.ml.inference.field_inference import count_rows, feature_inputs, predict_field
    from scope_assets.ml.model_errors import InputError, ModelError

    try:
        config, scope = load_any_config_arg(args.config_path, args.period_suffix)
    except ConfigError as exc:
        return fail(str(exc))
    layout = layout_arg(scope_data_dir(args.data_dir, scope))
    feature_directory = scope_feature_directory(args.feature_directory, scope)
    try:
        models = load_inference_models(args, config, args.algorithm, scope)
        inputs = feature_inputs(
            layout,
            args.field,
            ccd=args.ccd,
            quad=args.quad,
            feature_directory=feature_directory,
            feature_file_prefix=args.feature_file_prefix,
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
                feature_directory=feature_directory,
                batch_size=args.batch_size,
                flag_ids=args.flag_ids,
                write_csv=args.write_csv,
                write_metadata=args.write_metadata,
                feature_file_prefix=args.feature_file_prefix,
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
    warning = result.outside_training_warning()
    if warning:
        print(f"warning: {warning}", file=sys.stderr)
    return 0


@cli_main
def create_inference_script_main(argv: list[str] | None = None) -> int:
    parser = ScopeArgumentParser(
        prog="create-inference-script",
        description="Write a shell script running every model of a group on the field given as $1.",
    )
    add_common_arguments(parser, SCOPE_CONFIG_HELP)
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
    add_create_script_scope_flags(parser)
    args = parser.parse_args(argv)
    from scope_assets.config import ConfigError
    from scope_assets.ml.inference.inference_script import create_inference_script
    from scope_assets.ml.model_errors import ModelError

    try:
        config, _ = load_any_config_arg(args.config_path)
        path = create_inference_script(
            args.filename,
            scope_workdir_models_root(args.models_dir, args.algorithm, args.group_name),
            args.algorithm,
            args.group_name,
            config=config,
            batch_size=args.batch_size,
            write_csv=args.write_csv,
            data_dir=args.data_dir,
            feature_directory=args.feature_directory,
            feature_stats=args.feature_stats,
            training_set=args.training_set,
            scale_features=args.scale_features,
            period_suffix=args.period_suffix,
        )
    except (FileExistsError, ModelError, ConfigError) as exc:
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
