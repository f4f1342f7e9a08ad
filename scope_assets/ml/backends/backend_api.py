"""What training and model loading need of one classifier algorithm: the ``Backend`` record."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from scope_assets.ml.training.training_data import PreparedData

Predict = Callable[[np.ndarray, Any], np.ndarray]
"""``predict(X, dmdt)``: scores in [0, 1] of scaled float32 features (the XGB ignores dmdt)."""


@dataclass
class FittedModel:
    """A freshly trained model, the parameters its manifest records and (XGB) importances."""

    model: Any
    params: dict[str, Any]
    importance: dict[str, float] | None = None


@dataclass(frozen=True)
class Backend:
    """One algorithm (``xgb``, ``dnn``): train, save, load and run its models."""

    name: str
    uses_dmdt: bool
    fit: Callable[[PreparedData, Any], FittedModel]
    """Train on prepared data with the backend's own options (``XGBOptions`` / ``DNNOptions``)."""
    save: Callable[[Any, Path, str], Path]
    """Write the model of a tag into a directory; returns the model file."""
    read: Callable[[Path, Path | None], Any]
    """Read an existing model file (and SCoPe's parameter file); raises ``ModelError`` naming
    the file."""
    check_inputs: Callable[[Any, list[str], Path], None]
    """Check a read model's inputs against its ordered feature columns (``ModelError``)."""
    scope_input_order: Callable[[Any, list[str], Path], list[str]]
    """The input columns of a SCoPe model file, given the ones SCoPe's config lists for its
    class: what the file stores (a booster's ``feature_names``), else the configured order."""
    predictor: Callable[[Any], Predict]
    library_versions: Callable[[], dict[str, str]]
    scope_model_glob: str
    """SCoPe's model files in a tag directory."""
    scope_params_suffix: str | None = None
    """Suffix of the file SCoPe keeps next to a model file with its parameters, if any."""
