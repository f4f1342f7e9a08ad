"""Small synthetic training sets and quickly trained models, for tests and examples."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from scope_assets.config import ScopeConfig
from scope_assets.ml.backends.dnn import DNNOptions
from scope_assets.ml.backends.registry import ALGORITHMS
from scope_assets.ml.backends.xgb import XGBOptions
from scope_assets.ml.training.model_training import TrainOptions, TrainResult, train_models
from scope_assets.ml.training.training_set import build_training_set
from scope_assets.testing.synthetic_features import synthetic_features, synthetic_truth


def tiny_training_set(
    config: ScopeConfig, n: int = 1200, seed: int = 0, missing_xmatch: float = 0.1
) -> pd.DataFrame:
    """A balanced synthetic training set (every simulated class ~n/9 rows), field 699."""
    truth = synthetic_truth(n, field=699, seed=seed, balanced=True)
    features = synthetic_features(truth, config, seed=seed + 1, missing_xmatch=missing_xmatch)
    return build_training_set(features, truth, source=f"synthetic (n={n}, seed={seed})")


def quick_options(epochs: int = 2, seed: int = 42) -> TrainOptions:
    return TrainOptions(
        seed=seed,
        imputation_max_rows=300,
        xgb=XGBOptions(num_boost_round=60, early_stopping_rounds=5, seed=seed),
        dnn=DNNOptions(epochs=epochs, batch_size=128, patience=5, reduce_lr_patience=3, seed=seed),
    )


def train_tiny(
    models_root: str | Path,
    config: ScopeConfig,
    *,
    training_set: pd.DataFrame | None = None,
    tags: tuple[str, ...] = ("vnv", "rrab"),
    algorithms: tuple[str, ...] = ALGORITHMS,
    group: str = "demo",
    epochs: int = 2,
) -> list[TrainResult]:
    training_set = tiny_training_set(config) if training_set is None else training_set
    return train_models(
        training_set,
        list(tags),
        list(algorithms),
        config,
        models_root,
        group=group,
        options=quick_options(epochs),
    )


def shared_tiny_models(base_dir: str | Path, config: ScopeConfig) -> Path:
    """Tiny XGB + DNN models for ``vnv`` and ``rrab``, trained once under ``base_dir``.

    Test modules pass the session's temporary base directory, so the models are trained once
    per test session and reused by every module.
    """
    root = Path(base_dir) / "shared_tiny_models"
    marker = root / "complete"
    if not marker.exists():
        train_tiny(root, config, training_set=tiny_training_set(config, n=900, seed=5))
        marker.write_text("ok\n")
    return root
