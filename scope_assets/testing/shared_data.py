"""Where the shared development data lives: ``$SCOPE_SHARED_DIR``, else ``../shared``."""

from __future__ import annotations

import os
from pathlib import Path

SHARED_ENV = "SCOPE_SHARED_DIR"


def shared_dir() -> Path:
    """The shared folder: ``$SCOPE_SHARED_DIR`` if set, else ``shared/`` beside the checkout.

    CI lays ``shared/`` next to its clone; a user's own clone usually has none, and tests that
    need it skip with the path they looked at.
    """
    env = os.environ.get(SHARED_ENV)
    if env:
        return Path(env).expanduser().resolve()
    return Path(__file__).resolve().parents[3] / "shared"


def shared_path(*parts: str) -> Path:
    """A path inside the shared folder, e.g. ``shared_path("data", "real")``."""
    return shared_dir().joinpath(*parts)
