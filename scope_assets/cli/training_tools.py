"""Console scripts of classifier training: the same functions the Dagster assets call.

- ``scope-train``              train classifiers (``--all-demo``: the committed demo models)
- ``assemble-training-stats``  SCoPe's stats/importance file collection
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

from tqdm import tqdm

from scope_assets.cli.error_exit import cli_main
from scope_assets.cli.ml_shared_options import (
    add_algorithm_argument,
    add_common_arguments,
    add_group_arguments,
    chosen_algorithms,
    fail,
    layout_arg,
    load_config_arg,
)
from scope_assets.config import TrainingConfig
from scope_assets.ml.model_files.models_root import resolve_models_root
from scope_assets.ml.model_files.scaling import SCALING_METHODS
from scope_assets.ml.training.demo_models import (
    DEMO_DNN,
    train_demo_models,
    train_options,
    training_set_for,
)
from scope_assets.ml.training.labels import DEMO_GROUP, DEMO_TAGS
from scope_assets.ml.training.training_set import TRAINING_N_SOURCES

FEATURE_LOG_EVERY = 250
"""Without a terminal (no progress bar), a log line per this many featurised light curves."""


def _train_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scope-train", description="Train SCoPe classifiers (XGBoost and/or the DNN)."
    )
    add_common_arguments(parser)
    parser.add_argument(
        "--all-demo",
        action="store_true",
        help="train the demo model group: every demo class, both algorithms, on the simulated "
        "training set",
    )
    parser.add_argument("--tag", action="append", help="class tag (repeatable)")
    add_algorithm_argument(parser, "both", allow_both=True)
    parser.add_argument(
        "--path-dataset",
        help="training set table (.parquet/.h5/.csv); default: the simulated training set under "
        "<data>/training",
    )
    parser.add_argument("--group", default=None, help=f"model group (default: {DEMO_GROUP})")
    parser.add_argument(
        "--scale-features",
        default="log_min_max",
        choices=[*SCALING_METHODS, "none"],
        help="(default: %(default)s; SCoPe's is min_max: log_min_max scales features spanning "
        "two decades or more, like the period, in log10)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=None,
        help=f"split/training seed (default: the config's training.seed, {TrainingConfig().seed})",
    )
    parser.add_argument("--cv", action="store_true", help="XGB: SCoPe's staged 5-fold grid search")
    parser.add_argument(
        "--skip-cv", action="store_true", help="accepted for SCoPe compatibility (default)"
    )
    parser.add_argument(
        "--epochs", type=int, default=None, help=f"DNN epochs (default {DEMO_DNN.epochs})"
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=None,
        help=f"DNN batch size (default {DEMO_DNN.batch_size})",
    )
    parser.add_argument(
        "--lr",
        type=float,
        default=None,
        help=f"DNN learning rate (default {DEMO_DNN.learning_rate:g})",
    )
    parser.add_argument(
        "--patience",
        type=int,
        default=None,
        help=f"DNN early-stopping patience (default {DEMO_DNN.patience})",
    )
    parser.add_argument(
        "--n-sources",
        type=int,
        default=None,
        help=f"light curves of the simulated training sky (default {TRAINING_N_SOURCES})",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="processes for the training-set features (default: every CPU)",
    )
    parser.add_argument(
        "--eros1-dir",
        type=Path,
        default=None,
        help="folder holding eros1_ramp/ (the real EROS-1 development set): add the labelled "
        "stars of its training half to the simulated training set (the committed demo models "
        "were trained so; make models passes the shared data's folder when it is present)",
    )
    parser.add_argument("--rebuild-training-set", action="store_true")
    return parser


def _logged_progress(bar: tqdm, log: Callable[[str], None]) -> Callable[[int], None]:
    """Advance ``bar``; without a terminal (bar disabled), log a line now and then instead."""
    done = 0

    def progress(n: int) -> None:
        nonlocal done
        bar.update(n)
        done += n
        if bar.disable and done // FEATURE_LOG_EVERY > (done - n) // FEATURE_LOG_EVERY:
            log(f"training-set features: {done} light curves")

    return progress


def _train_all_demo(args, config, layout, models_root, options, algorithms) -> int:
    if args.tag or args.path_dataset:
        return fail(
            "--all-demo trains the demo classes on the simulated set; drop --tag/--path-dataset"
        )

    def log(message: str) -> None:
        print(message, flush=True)

    started = time.perf_counter()
    if args.eros1_dir is None:
        log(
            "no --eros1-dir: training on simulated stars only (the committed demo models also "
            "learned from the real EROS-1 training half)"
        )
    with tqdm(desc="training-set features", unit="lc", disable=None) as bar:
        training_set, path = training_set_for(
            layout,
            config,
            n_sources=args.n_sources,
            workers=args.workers,
            eros1_root=args.eros1_dir,
            rebuild=args.rebuild_training_set,
            progress=_logged_progress(bar, log),
        )
    log(f"training set: {len(training_set)} rows from {path}")
    with tqdm(
        total=len(algorithms) * len(DEMO_TAGS), desc="training", unit="model", disable=None
    ) as bar:
        result = train_demo_models(
            training_set,
            path,
            models_root,
            config,
            options=options,
            algorithms=algorithms,
            log=tqdm.write,
            progress=lambda *_: bar.update(),
        )
    print(
        f"trained {len(result.models)} models in {time.perf_counter() - started:.0f} s → "
        f"{models_root}; held-out set {result.holdout_path}"
    )
    return 0


def _training_set(args, config, layout):
    from scope_assets.io import read_table

    if args.path_dataset:
        training_set = read_table(args.path_dataset)
        training_set.attrs.setdefault("training_set_source", str(args.path_dataset))
        return training_set
    bar = tqdm(desc="training-set features", unit="lc", disable=None)
    training_set, _ = training_set_for(
        layout,
        config,
        n_sources=args.n_sources,
        workers=args.workers,
        eros1_root=args.eros1_dir,
        rebuild=args.rebuild_training_set,
        progress=bar.update,
    )
    bar.close()
    return training_set


@cli_main
def train_main(argv: list[str] | None = None) -> int:
    args = _train_parser().parse_args(argv)
    from scope_assets.ml.training.model_training import train_models

    config = load_config_arg(args.config_path)
    layout = layout_arg(args.data_dir)
    models_root = resolve_models_root(args.models_dir)
    options = train_options(
        config,
        seed=args.seed,
        scaling=None if args.scale_features == "none" else args.scale_features,
        cv=args.cv,
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.lr,
        patience=args.patience,
    )
    algorithms = chosen_algorithms(args.algorithm)
    if args.all_demo:
        return _train_all_demo(args, config, layout, models_root, options, algorithms)
    if not args.tag:
        return fail("give --tag (repeatable) or --all-demo")
    training_set = _training_set(args, config, layout)
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


@cli_main
def assemble_training_stats_main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="assemble-training-stats",
        description="Collect each class's stats (and XGB importance) JSON into one directory.",
    )
    add_common_arguments(parser)
    add_group_arguments(parser)
    parser.add_argument(
        "--set-name", default="val", choices=["val", "test"], help="(default: %(default)s)"
    )
    parser.add_argument(
        "--importance-directory", default="xgb_feature_importance", help="(default: %(default)s)"
    )
    parser.add_argument("--stats-directory", default="stats", help="(default: %(default)s)")
    args = parser.parse_args(argv)
    from scope_assets.analysis.training import assemble_training_stats

    layout = layout_arg(args.data_dir)
    try:
        out = assemble_training_stats(
            resolve_models_root(args.models_dir),
            args.algorithm,
            args.group_name,
            layout.root,
            set_name=args.set_name,
            importance_directory=args.importance_directory,
            stats_directory=args.stats_directory,
        )
    except FileNotFoundError as exc:
        return fail(str(exc))
    print(f"{len(out.stats_files)} stats files → {out.stats_dir}")
    if out.importance_files:
        print(f"{len(out.importance_files)} importance files → {out.importance_dir}")
    return 0
