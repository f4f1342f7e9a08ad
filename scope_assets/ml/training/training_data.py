"""Training data of one classifier: imputation, target, 81/9/10 split, scaling (SCoPe's rules).

- The training set is imputed with a reference built from itself (SCoPe's self-imputation) —
  the same reference is stored with the model and reused at inference.
- Target: training label ``> threshold`` (0.7).
- Split: 10 % test, then 10 % of the rest for validation (seed 42) → 81/9/10. The split does
  not depend on the class, so every classifier of a training set holds out the same rows (one
  held-out set serves all of them); only if a part would get no positive is that classifier's
  split stratified on its target instead.
- Scaling statistics come from the imputed rows used for training (all parts), stored with the
  model, and applied to every part.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from scope_assets.config import ScopeConfig
from scope_assets.features.imputation import (
    ImputationReference,
    build_imputation_reference,
    impute_features,
)
from scope_assets.ml.dmdt_arrays import dmdt_from_series
from scope_assets.ml.model_files.scaling import FeatureStats, Scaler
from scope_assets.ml.training.training_set import TrainingSetError

PARTS = ("train", "val", "test")


@dataclass
class Part:
    X: np.ndarray  # float32, scaled
    y: np.ndarray  # int, 0/1
    dmdt: np.ndarray | None  # float32 (n, 26, 26, 1)
    ids: np.ndarray


@dataclass
class PreparedData:
    tag: str
    label: str
    threshold: float
    features: list[str]
    feature_set: str
    parts: dict[str, Part]
    stats: FeatureStats
    scaler: Scaler
    imputation: ImputationReference
    n_rows: int
    n_dropped: int
    split: str = "common"

    @property
    def n_positive(self) -> int:
        return int(sum(int(p.y.sum()) for p in self.parts.values()))

    def class_weight(self) -> dict[int, float]:
        """SCoPe's weights: ~1/count per class, normalised so that the largest is 1."""
        y = self.parts["train"].y
        counts = np.array([(y == 0).sum(), (y == 1).sum()], dtype=float)
        if (counts == 0).any():
            raise TrainingSetError(
                f"class {self.tag}: the training part has no {'positives' if counts[1] == 0 else 'negatives'}"
            )
        w = 1.0 / counts
        w = w / w.max()
        return {0: float(w[0]), 1: float(w[1])}


def self_imputation_reference(
    training_set: pd.DataFrame, config: ScopeConfig, *, max_rows: int = 1500, seed: int = 42
) -> ImputationReference:
    """The imputation reference of a training set (stored with every model trained on it)."""
    source = training_set.attrs.get("training_set_source", "training set")
    return build_imputation_reference(
        training_set, config, source=f"training set: {source}", max_rows=max_rows, seed=seed
    )


def common_split(
    n: int, seed: int = 42, test_size: float = 0.1, val_size: float = 0.1
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(train, val, test) indices that do not depend on any class: the split every classifier
    of a training set shares (and the held-out set of the demo models)."""
    index = np.arange(n)
    rest, test = train_test_split(index, test_size=test_size, random_state=seed)
    train, val = train_test_split(rest, test_size=val_size, random_state=seed)
    return train, val, test


def split_indices(
    n: int, y: np.ndarray, seed: int = 42, test_size: float = 0.1, val_size: float = 0.1
) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    """(train, val, test, kind): 10 % test, then 10 % of the rest for validation; ``kind`` is
    ``"common"`` (independent of the class) or ``"stratified"`` (fallback)."""
    train, val, test = common_split(n, seed, test_size, val_size)
    index = np.arange(n)
    if all(y[part].any() and not y[part].all() for part in (train, val, test)):
        return train, val, test, "common"
    rest, test = train_test_split(index, test_size=test_size, random_state=seed, stratify=y)
    train, val = train_test_split(rest, test_size=val_size, random_state=seed, stratify=y[rest])
    return train, val, test, "stratified"


def prepare_training_data(
    training_set: pd.DataFrame,
    tag: str,
    config: ScopeConfig,
    reference: ImputationReference,
    *,
    scaling_method: str | None = "min_max",
    with_dmdt: bool = False,
    seed: int = 42,
    test_size: float = 0.1,
    val_size: float = 0.1,
) -> PreparedData:
    """Imputed, split and scaled arrays for classifier ``tag``."""
    if tag not in config.classes:
        raise TrainingSetError(f"unknown class tag {tag!r}; known: {sorted(config.classes)}")
    spec = config.classes[tag]
    features = config.class_columns(tag)
    if spec.label not in training_set.columns:
        raise TrainingSetError(f"class {tag}: the training set has no label column {spec.label!r}")
    missing = [c for c in features if c not in training_set.columns]
    if missing:
        raise TrainingSetError(f"class {tag}: the training set lacks feature columns {missing}")
    if with_dmdt and "dmdt" not in training_set.columns:
        raise TrainingSetError(f"class {tag}: the training set has no 'dmdt' column")
    imputed, kept = impute_features(training_set, reference)
    threshold = spec.threshold
    y = (imputed[spec.label].to_numpy(dtype=float) > threshold).astype(np.int64)
    if y.sum() < 3 or (1 - y).sum() < 3:
        raise TrainingSetError(
            f"class {tag}: {int(y.sum())} positives and {int((1 - y).sum())} negatives "
            f"(label {spec.label!r} > {threshold}); need at least 3 of each"
        )
    train, val, test, split = split_indices(len(imputed), y, seed, test_size, val_size)
    stats = FeatureStats.from_frame(imputed, features)
    scaler = Scaler.build(features, stats, scaling_method)
    values = scaler.transform(imputed[features].to_numpy(dtype=np.float64)).astype(np.float32)
    dmdt = dmdt_from_series(imputed["dmdt"])[..., None] if with_dmdt else None
    ids = imputed["_id"].to_numpy() if "_id" in imputed.columns else np.arange(len(imputed))
    parts = {
        name: Part(
            X=values[rows],
            y=y[rows],
            dmdt=dmdt[rows] if dmdt is not None else None,
            ids=ids[rows],
        )
        for name, rows in zip(PARTS, (train, val, test), strict=True)
    }
    return PreparedData(
        tag=tag,
        label=spec.label,
        threshold=threshold,
        features=features,
        feature_set=spec.feature_set,
        parts=parts,
        stats=stats,
        scaler=scaler,
        imputation=reference,
        n_rows=len(training_set),
        n_dropped=int((~kept).sum()),
        split=split,
    )
