"""A loaded classifier: scaled inputs → scores, whatever its algorithm and file layout."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from scope_assets.features.imputation import ImputationReference
from scope_assets.ml.backends.registry import backend_for
from scope_assets.ml.model_errors import ModelError
from scope_assets.ml.model_files.manifest import ModelManifest
from scope_assets.ml.model_files.scaling import Scaler


@dataclass
class Classifier:
    """A loaded binary classifier: ``predict(X, dmdt)`` on scaled float32 inputs."""

    tag: str
    algorithm: str
    features: list[str]
    path: Path  # the model file
    scaler: Scaler
    imputation: ImputationReference | None
    uses_dmdt: bool
    layout: str  # "scope-assets" | "scope"
    manifest: ModelManifest | None = None
    _impl: Any = field(default=None, repr=False)
    _predict: Any = field(default=None, repr=False)

    @property
    def column(self) -> str:
        return f"{self.tag}_{self.algorithm}"

    def predict(self, X: np.ndarray, dmdt: np.ndarray | None = None) -> np.ndarray:
        """Scores in [0, 1] for scaled float32 inputs ``X`` (columns = ``features``)."""
        if X.shape[1] != len(self.features):
            raise ModelError(
                f"{self.path}: expects {len(self.features)} features, got {X.shape[1]} columns"
            )
        if self.uses_dmdt and dmdt is None:
            raise ModelError(f"{self.path}: the DNN needs the dmdt input")
        return self._predict(X, dmdt)

    def prepare(self, values: np.ndarray) -> np.ndarray:
        """Raw float64 feature values (``features`` order) → scaled float32 model input."""
        return self.scaler.transform(values).astype(np.float32)


def read_model(algorithm: str, path: Path, params_path: Path | None = None) -> Any:
    """A model file read with its algorithm's backend (inputs not yet checked)."""
    if not path.exists():
        raise ModelError(f"model file {path} does not exist")
    return backend_for(algorithm).read(path, params_path)


def load_classifier(
    tag: str,
    algorithm: str,
    features: list[str],
    path: Path,
    scaler: Scaler,
    imputation: ImputationReference | None,
    layout: str,
    manifest: ModelManifest | None = None,
    params_path: Path | None = None,
    model: Any = None,
) -> Classifier:
    """A classifier of a model file (``model``: the file already read by :func:`read_model`),
    its inputs checked against ``features``."""
    backend = backend_for(algorithm)
    if model is None:
        model = read_model(algorithm, path, params_path)
    backend.check_inputs(model, features, path)
    return Classifier(
        tag=tag,
        algorithm=algorithm,
        features=features,
        path=path,
        scaler=scaler,
        imputation=imputation,
        uses_dmdt=backend.uses_dmdt,
        layout=layout,
        manifest=manifest,
        _impl=model,
        _predict=backend.predictor(model),
    )
