"""What the ML console scripts share: the common flags, the config and data-layout lookups, the
error exit (the models root: ``resolve_models_root``)."""

from __future__ import annotations

import argparse

from scope_assets.cli.error_exit import report_error
from scope_assets.ml.backends.registry import ALGORITHMS
from scope_assets.ml.model_files.models_root import MODELS_DIR_ENV
from scope_assets.ml.training.labels import DEMO_GROUP


def load_config_arg(path: str | None):
    from scope_assets.config import load_config

    return load_config(path)


def layout_arg(data_dir: str | None):
    from scope_assets.config import data_root
    from scope_assets.io import DataLayout

    return DataLayout(data_root(data_dir))


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", help="data root (default $SCOPE_DATA_DIR or ./data)")
    parser.add_argument(
        "--models-dir", help=f"models root (default ${MODELS_DIR_ENV} or the repository's models/)"
    )
    parser.add_argument("--config-path", help="scope.yaml merged over the packaged defaults")


def add_algorithm_argument(
    parser: argparse.ArgumentParser, default: str, *, allow_both: bool = False
) -> None:
    """``--algorithm``: one of the backends (or ``both``, when allowed)."""
    choices = [*ALGORITHMS, "both"] if allow_both else list(ALGORITHMS)
    parser.add_argument(
        "--algorithm", choices=choices, default=default, help="(default: %(default)s)"
    )


def add_group_arguments(parser: argparse.ArgumentParser) -> None:
    """``--group-name`` and ``--algorithm`` of a model group (the demo group's DNNs by default)."""
    add_group_name_argument(parser)
    add_algorithm_argument(parser, "dnn")


def add_group_name_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--group-name", default=DEMO_GROUP, help="model group (default: %(default)s)"
    )


def chosen_algorithms(choice: str) -> list[str]:
    """``both`` → every algorithm, else the one chosen."""
    return list(ALGORITHMS) if choice == "both" else [choice]


def fail(message: str) -> int:
    """``error: <message>`` on stderr; the bad-input exit code."""
    return report_error(message)
