"""Where the project's files live: the data root, the models directory and the config file."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from scope_assets.config import ScopeConfig, data_root
from scope_assets.config.scope_yaml import load_any_config
from scope_assets.io import DataLayout
from scope_assets.ml.model_files.models_root import resolve_models_root


class StorageResource(dg.ConfigurableResource):
    """Data root (``SCOPE_DATA_DIR``, default ``./data``), models root (``SCOPE_MODELS_DIR``,
    default the repository's ``models/``; it may be a SCoPe working directory holding
    ``models_xgb/<group>/`` and ``models_dnn/<group>/``) and optional config: this project's
    ``scope.yaml`` or SCoPe's ``config.yaml``."""

    data_dir: str = ""
    models_dir: str = ""
    config_path: str = ""

    def layout(self) -> DataLayout:
        return DataLayout(data_root(self.data_dir or None))

    def models_root(self) -> Path:
        return resolve_models_root(self.models_dir or None)

    def scope_config(self) -> ScopeConfig:
        return load_any_config(self.config_path or None)[0]

    def scope_training_set(self) -> Path | None:
        """With SCoPe's ``config.yaml``: its ``training.dataset`` (a relative path taken from the
        config's directory, SCoPe's working directory), which scales and imputes the inputs of
        SCoPe-layout models; else None."""
        _, scope = load_any_config(self.config_path or None)
        if scope is None:
            return None
        return scope.training_set_path(Path(self.config_path).resolve().parent)
