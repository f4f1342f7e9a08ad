"""Where the project's files live: the data root, the models directory and the config file."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from scope_assets.config import ScopeConfig, data_root, load_config
from scope_assets.io import DataLayout
from scope_assets.ml.model_files.models_root import resolve_models_root


class StorageResource(dg.ConfigurableResource):
    """Data root (``SCOPE_DATA_DIR``, default ``./data``), models root (``SCOPE_MODELS_DIR``,
    default the repository's ``models/``) and optional ``scope.yaml``."""

    data_dir: str = ""
    models_dir: str = ""
    config_path: str = ""

    def layout(self) -> DataLayout:
        return DataLayout(data_root(self.data_dir or None))

    def models_root(self) -> Path:
        return resolve_models_root(self.models_dir or None)

    def scope_config(self) -> ScopeConfig:
        return load_config(self.config_path or None)
