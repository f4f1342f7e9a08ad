"""What the ML console scripts share: the common flags, the config and data-layout lookups, the
error exit (the models root: ``resolve_models_root``), and SCoPe's working-directory conventions
for a run given SCoPe's ``config.yaml``."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from scope_assets.cli.error_exit import report_error
from scope_assets.ml.backends.registry import ALGORITHMS
from scope_assets.ml.model_files.models_root import MODELS_DIR_ENV
from scope_assets.ml.training.labels import DEMO_GROUP


def load_config_arg(path: str | None):
    from scope_assets.config import load_config

    return load_config(path)


def load_any_config_arg(path: str | None, period_suffix: str | None = None):
    """(config, SCoPe's ``config.yaml`` or None): ``--config-path`` may name SCoPe's
    ``config.yaml``; without it, ``./config.yaml`` counts when it is SCoPe's (SCoPe reads it
    from its working directory)."""
    from scope_assets.config.scope_yaml import load_any_config, looks_like_scope_yaml

    if path is None and os.environ.get("SCOPE_CONFIG") is None:
        path = "config.yaml" if looks_like_scope_yaml("config.yaml") else None
    return load_any_config(path, period_suffix)


def scope_data_dir(data_dir: str | None, scope) -> str | None:
    """With SCoPe's config (``scope``) and no data root given, SCoPe's: predictions go under
    ``inference.path_to_preds``, else the working directory."""
    if data_dir or scope is None or os.environ.get("SCOPE_DATA_DIR"):
        return data_dir
    return scope.path_to_preds or os.getcwd()


def scope_feature_directory(feature_directory: str | None, scope) -> str | None:
    """With SCoPe's config, SCoPe's: ``--feature-directory`` (default ``features``) under
    ``feature_generation.path_to_features``, else the working directory."""
    if scope is None:
        return feature_directory
    directory = Path(feature_directory or "features")
    if directory.is_absolute():
        return str(directory)
    return str(Path(scope.path_to_features or Path.cwd()) / directory)


def layout_arg(data_dir: str | None):
    from scope_assets.config import data_root
    from scope_assets.io import DataLayout

    return DataLayout(data_root(data_dir))


SCOPE_CONFIG_HELP = (
    "scope.yaml merged over the packaged defaults, or SCoPe's config.yaml (default: "
    "./config.yaml when it is SCoPe's)"
)


def add_common_arguments(
    parser: argparse.ArgumentParser,
    config_help: str = "scope.yaml merged over the packaged defaults",
) -> None:
    parser.add_argument("--data-dir", help="data root (default $SCOPE_DATA_DIR or ./data)")
    parser.add_argument(
        "--models-dir", help=f"models root (default ${MODELS_DIR_ENV} or the repository's models/)"
    )
    parser.add_argument("--config-path", help=config_help)


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
