"""Where the models live: the one resolution of the models root (resource and every CLI)."""

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
