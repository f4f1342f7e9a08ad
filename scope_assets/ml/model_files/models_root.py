"""Where the models live: the one resolution of the models root (resource and every CLI).

A models root holds groups in this project's layout (``<root>/<alg>/<group>/``), SCoPe's
(``<root>/models_<alg>/<group>/``, SCoPe's working directory), or both.
"""

from __future__ import annotations

import os
from pathlib import Path

MODELS_DIR_ENV = "SCOPE_MODELS_DIR"
REPOSITORY_MODELS_DIR = Path(__file__).resolve().parents[3] / "models"
"""The committed demo models."""


def resolve_models_root(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The models root: ``explicit`` (``--models-dir``), else ``$SCOPE_MODELS_DIR``, else the
    repository's ``models/`` (the committed demo models)."""
    if explicit:
        return Path(explicit).resolve()
    env = os.environ.get(MODELS_DIR_ENV)
    return Path(env).resolve() if env else REPOSITORY_MODELS_DIR


def scope_workdir_models_root(
    explicit: str | os.PathLike[str] | None, algorithm: str, group: str | None
) -> Path:
    """:func:`resolve_models_root`, except that with neither ``explicit`` nor the environment
    set, SCoPe's working directory is the root when it holds ``models_<alg>/<group>`` (where
    SCoPe keeps a group)."""
    cwd = Path.cwd()
    if not explicit and not os.environ.get(MODELS_DIR_ENV) and group:
        if (cwd / f"models_{algorithm}" / group).is_dir():
            return cwd
    return resolve_models_root(explicit)
