"""Where the project's files live: the data root, the models directory and the config file."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from scope_assets.config import ScopeConfig, data_root, load_config
from scope_assets.io import DataLayout

REPO_MODELS_DIR = Path(__file__).resolve().parents[1] / "models"


class StorageResource(dg.ConfigurableResource):
    """Data root (``SCOPE_DATA_DIR``, default ``./data``), models dir and optional ``scope.yaml``."""

    data_dir: str = ""
    models_dir: str = ""
    config_path: str = ""

    def layout(self) -> DataLayout:
        return DataLayout(data_root(self.data_dir or None))

    def models_root(self) -> Path:
        return Path(self.models_dir).resolve() if self.models_dir else REPO_MODELS_DIR

    def scope_config(self) -> ScopeConfig:
        return load_config(self.config_path or None)
