"""Loading classifiers for inference: this project's layout and SCoPe's own.

This project: ``<root>/<alg>/<group>/<tag>/manifest.json`` + model file; the manifest carries the
feature order, imputation reference and scaling statistics (:mod:`scope_assets.ml.manifest`).

SCoPe: ``<root>/models_<alg>/<group>/<tag>/<tag>.<YYYYmmdd_HHMMSS>.{json,params|h5}``, the
newest file per tag. SCoPe stores no statistics with its models: the feature order is the
class's feature set from the config, scaling statistics come from a SCoPe training set (nan-aware
statistics of the whole raw set, as SCoPe computes them) or a config-style ``feature_stats``
mapping, and imputation uses a reference built from that training set when one is given.

Every load error is a :class:`~scope_assets.ml.manifest.ModelError` naming the file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scope_assets.config import ScopeConfig
from scope_assets.features.imputation import (
    ImputationError,
    ImputationReference,
    build_imputation_reference,
)
from scope_assets.ml.manifest import ALGORITHMS, MANIFEST_NAME, ModelError, ModelManifest
from scope_assets.ml.scaling import FeatureStats, Scaler

_TIME_TAG = re.compile(r"\.(\d{8}_\d{6})$")


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
        if self.uses_dmdt:
            if dmdt is None:
                raise ModelError(f"{self.path}: the DNN needs the dmdt input")
            return self._predict(X, dmdt)
        return self._predict(X)

    def prepare(self, values: np.ndarray) -> np.ndarray:
        """Raw float64 feature values (``features`` order) → scaled float32 model input."""
        return self.scaler.transform(values).astype(np.float32)


# --------------------------------------------------------------------------- model files


def _load_booster(path: Path, params_path: Path | None = None):
    import xgboost as xgb

    if not path.exists():
        raise ModelError(f"model file {path} does not exist")
    booster = xgb.Booster()
    try:
        booster.load_model(str(path))
    except xgb.core.XGBoostError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise ModelError(f"{path}: not a readable XGBoost model ({first})") from None
    if params_path is not None and params_path.exists():
        try:
            booster.load_config(params_path.read_text())
        except (xgb.core.XGBoostError, UnicodeDecodeError) as exc:
            raise ModelError(f"{params_path}: not a readable booster config ({exc})") from None
    booster.set_param({"nthread": 0})
    return booster


def _check_booster_features(booster, features: list[str], path: Path) -> None:
    n = booster.num_features()
    if n != len(features):
        raise ModelError(
            f"{path}: the booster has {n} input features but {len(features)} are configured "
            f"for it ({features[:3]}...)"
        )
    names = booster.feature_names
    if names and list(names) != list(features):
        diff = [(i, a, b) for i, (a, b) in enumerate(zip(names, features, strict=True)) if a != b]
        raise ModelError(
            f"{path}: the booster's feature order differs from the configured one "
            f"(first differences (index, booster, expected): {diff[:3]})"
        )


def _load_keras(path: Path):
    from scope_assets.ml.dnn import load_keras_model

    if not path.exists():
        raise ModelError(f"model file {path} does not exist")
    try:
        return load_keras_model(path)
    except Exception as exc:  # Keras raises many types for a bad file
        msg = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
        raise ModelError(f"{path}: not a readable Keras model ({msg})") from None


def _check_keras_features(model, n_features: int, path: Path) -> None:
    from scope_assets.ml.dnn import input_names

    names = input_names(model)
    if sorted(names) != ["dmdt", "features"]:
        raise ModelError(f"{path}: expected inputs 'features' and 'dmdt', got {names}")
    inputs = dict(zip(names, model.inputs, strict=True))
    n = inputs["features"].shape[-1]
    if n != n_features:
        raise ModelError(
            f"{path}: the network takes {n} input features but {n_features} are configured for it"
        )
    shape = tuple(inputs["dmdt"].shape[1:])
    if shape != (26, 26, 1):
        raise ModelError(f"{path}: dmdt input shape {shape}, expected (26, 26, 1)")


def _classifier(
    tag: str,
    algorithm: str,
    features: list[str],
    path: Path,
    scaler: Scaler,
    imputation: ImputationReference | None,
    layout: str,
    manifest: ModelManifest | None = None,
    params_path: Path | None = None,
) -> Classifier:
    if algorithm == "xgb":
        from scope_assets.ml.xgb import predict_booster

        booster = _load_booster(path, params_path)
        _check_booster_features(booster, features, path)
        return Classifier(
            tag, algorithm, features, path, scaler, imputation, False, layout, manifest,
            booster, lambda X: predict_booster(booster, X),
        )  # fmt: skip
    model = _load_keras(path)
    _check_keras_features(model, len(features), path)
    from scope_assets.ml.dnn import make_predictor

    return Classifier(
        tag, algorithm, features, path, scaler, imputation, True, layout, manifest,
        model, make_predictor(model),
    )  # fmt: skip


# --------------------------------------------------------------------------- this project's layout


def load_model_dir(directory: str | Path, reference_cache: dict | None = None) -> Classifier:
    """Load ``<alg>/<group>/<tag>/`` (manifest + model file) of this project's layout."""
    directory = Path(directory)
    if directory.is_file() and directory.name == MANIFEST_NAME:
        directory = directory.parent
    if not directory.is_dir():
        raise ModelError(f"model directory {directory} does not exist")
    manifest = ModelManifest.from_json(directory / MANIFEST_NAME)
    imputation = None
    if manifest.imputation_reference:
        ref_path = (directory / manifest.imputation_reference).resolve()
        cache = reference_cache if reference_cache is not None else {}
        if ref_path not in cache:
            try:
                cache[ref_path] = ImputationReference.from_json(ref_path)
            except (FileNotFoundError, ImputationError) as exc:
                raise ModelError(f"{directory / MANIFEST_NAME}: {exc}") from None
        imputation = cache[ref_path]
        if (
            manifest.imputation_fingerprint
            and imputation.fingerprint != manifest.imputation_fingerprint
        ):
            raise ModelError(
                f"{ref_path}: fingerprint {imputation.fingerprint} differs from the one recorded in "
                f"{directory / MANIFEST_NAME} ({manifest.imputation_fingerprint})"
            )
    scaler = Scaler.build(
        manifest.features, FeatureStats(manifest.scaling_stats), manifest.scaling_method
    )
    return _classifier(
        manifest.tag,
        manifest.algorithm,
        manifest.features,
        directory / manifest.model_file,
        scaler,
        imputation,
        "scope-assets",
        manifest,
    )


def _tag_order(tags: list[str], config: ScopeConfig | None) -> list[str]:
    if config is None:
        return sorted(tags)
    known = [t for t in config.classes if t in tags]
    return known + sorted(t for t in tags if t not in config.classes)


def find_model_dirs(
    models_root: str | Path, algorithm: str, group: str, tags: list[str] | None = None,
    config: ScopeConfig | None = None,
) -> list[Path]:  # fmt: skip
    """Model directories of ``<root>/<alg>/<group>/``, in config class order (or ``tags`` order)."""
    if algorithm not in ALGORITHMS:
        raise ModelError(f"unknown algorithm {algorithm!r}; expected one of {ALGORITHMS}")
    group_dir = Path(models_root) / algorithm / group
    if not group_dir.is_dir():
        raise ModelError(f"no {algorithm} models: directory {group_dir} does not exist")
    available = {
        p.name: p for p in group_dir.iterdir() if p.is_dir() and (p / MANIFEST_NAME).exists()
    }
    if tags:
        missing = [t for t in tags if t not in available]
        if missing:
            raise ModelError(
                f"no {algorithm} model for tags {missing} in {group_dir} "
                f"(available: {sorted(available)})"
            )
        return [available[t] for t in tags]
    if not available:
        raise ModelError(f"no {algorithm} models (no */{MANIFEST_NAME}) in {group_dir}")
    return [available[t] for t in _tag_order(list(available), config)]


def load_models(
    models_root: str | Path,
    algorithm: str,
    group: str,
    tags: list[str] | None = None,
    config: ScopeConfig | None = None,
) -> list[Classifier]:
    """Load every model of a group (this project's layout), once each."""
    cache: dict = {}
    return [
        load_model_dir(d, cache)
        for d in find_model_dirs(models_root, algorithm, group, tags, config)
    ]


# --------------------------------------------------------------------------- SCoPe's layout


def _time_key(path: Path) -> tuple[str, float]:
    match = _TIME_TAG.search(path.stem)
    return (match.group(1) if match else "", path.stat().st_ctime)


def newest_scope_model_file(tag_dir: Path, algorithm: str) -> Path:
    """The newest ``<tag>.<time>.json`` / ``.h5`` in a SCoPe tag directory (by time tag, ctime)."""
    pattern = "*.json" if algorithm == "xgb" else "*.h5"
    files = [
        p
        for p in tag_dir.glob(pattern)
        if p.is_file() and not p.name.endswith(("_stats.json", "_impvars.json"))
    ]
    if not files:
        raise ModelError(f"no {pattern} model file in {tag_dir}")
    return max(files, key=_time_key)


def scope_feature_stats(
    config: ScopeConfig,
    *,
    training_set: str | Path | pd.DataFrame | None = None,
    feature_stats: Mapping[str, Mapping[str, float]] | None = None,
) -> FeatureStats | None:
    """Scaling statistics for SCoPe models: from a training set (raw, whole set) or a mapping."""
    columns = config.feature_columns("ontological")
    if training_set is not None:
        df = _read_training_set(training_set)
        present = [c for c in columns if c in df.columns]
        if not present:
            raise ModelError(f"training set {training_set!r} has none of the feature columns")
        return FeatureStats.from_frame(df, present)
    if feature_stats is not None:
        return FeatureStats.from_mapping(feature_stats, columns, config.period_suffix)
    return None


def _read_training_set(training_set: str | Path | pd.DataFrame) -> pd.DataFrame:
    if isinstance(training_set, pd.DataFrame):
        return training_set
    from scope_assets.io import read_table

    path = Path(training_set)
    if not path.exists():
        raise ModelError(f"training set {path} does not exist")
    return read_table(path)


def load_scope_model_file(
    path: str | Path,
    tag: str,
    algorithm: str,
    config: ScopeConfig,
    *,
    stats: FeatureStats | None = None,
    scale_features: str | None = "min_max",
    imputation: ImputationReference | None = None,
) -> Classifier:
    """Load one SCoPe model file (``.json`` booster + ``.params``, or Keras 2 ``.h5``)."""
    path = Path(path)
    if tag not in config.classes:
        raise ModelError(f"{path}: unknown class tag {tag!r} (not in the config's classes)")
    if stats is None and scale_features not in (None, "none"):
        raise ModelError(
            f"{path}: SCoPe models store no scaling statistics; give a SCoPe training set "
            "(--training-set) or a feature_stats mapping (--feature-stats), or --scale-features none"
        )
    features = config.class_columns(tag)
    scaler = Scaler.build(features, stats, scale_features)
    params = path.with_suffix(".params") if algorithm == "xgb" else None
    return _classifier(tag, algorithm, features, path, scaler, imputation, "scope", None, params)


def load_scope_models(
    models_root: str | Path,
    algorithm: str,
    group: str,
    config: ScopeConfig,
    *,
    tags: list[str] | None = None,
    training_set: str | Path | pd.DataFrame | None = None,
    feature_stats: Mapping[str, Mapping[str, float]] | None = None,
    scale_features: str | None = "min_max",
) -> list[Classifier]:
    """Load ``<root>/models_<alg>/<group>/<tag>/`` (newest file per tag) as SCoPe wrote them."""
    if algorithm not in ALGORITHMS:
        raise ModelError(f"unknown algorithm {algorithm!r}; expected one of {ALGORITHMS}")
    group_dir = Path(models_root) / f"models_{algorithm}" / group
    if not group_dir.is_dir():
        raise ModelError(f"no SCoPe {algorithm} models: directory {group_dir} does not exist")
    tag_dirs = {p.name: p for p in group_dir.iterdir() if p.is_dir()}
    if tags:
        missing = [t for t in tags if t not in tag_dirs]
        if missing:
            raise ModelError(f"no SCoPe {algorithm} model for tags {missing} in {group_dir}")
        order = list(tags)
    else:
        order = _tag_order(list(tag_dirs), config)
    if not order:
        raise ModelError(f"no SCoPe {algorithm} models in {group_dir}")
    stats = scope_feature_stats(config, training_set=training_set, feature_stats=feature_stats)
    imputation = None
    if training_set is not None:
        df = _read_training_set(training_set)
        try:
            imputation = build_imputation_reference(
                df,
                config,
                source=f"SCoPe training set {training_set if not isinstance(training_set, pd.DataFrame) else ''}".strip(),
            )
        except ImputationError as exc:
            raise ModelError(f"training set: {exc}") from None
    return [
        load_scope_model_file(
            newest_scope_model_file(tag_dirs[t], algorithm),
            t,
            algorithm,
            config,
            stats=stats,
            scale_features=scale_features,
            imputation=imputation,
        )  # fmt: skip
        for t in order
    ]


def load_model_paths(
    paths: list[str | Path],
    tags: list[str] | None,
    algorithm: str,
    config: ScopeConfig,
    *,
    training_set: str | Path | None = None,
    feature_stats: Mapping[str, Mapping[str, float]] | None = None,
    scale_features: str | None = "min_max",
) -> list[Classifier]:
    """``run-inference --paths-models``: model directories/manifests (this layout) or SCoPe files."""
    if tags is not None and len(tags) != len(paths):
        raise ModelError(
            f"{len(paths)} model paths but {len(tags)} class names; give one name per model"
        )
    cache: dict = {}
    stats = imputation = None
    out = []
    for i, raw in enumerate(paths):
        path = Path(raw)
        if path.is_dir() or path.name == MANIFEST_NAME or (path.parent / MANIFEST_NAME).exists():
            model = load_model_dir(
                path if path.is_dir() or path.name == MANIFEST_NAME else path.parent, cache
            )
            if tags is not None and tags[i] != model.tag:
                raise ModelError(f"{path}: holds the model of {model.tag!r}, not {tags[i]!r}")
        else:
            if not path.exists():
                raise ModelError(f"model file {path} does not exist")
            tag = tags[i] if tags is not None else _TIME_TAG.sub("", path.stem)
            if stats is None and (training_set is not None or feature_stats is not None):
                stats = scope_feature_stats(
                    config, training_set=training_set, feature_stats=feature_stats
                )
                if training_set is not None:
                    imputation = build_imputation_reference(
                        _read_training_set(training_set), config, source=str(training_set)
                    )
            model = load_scope_model_file(
                path, tag, algorithm, config, stats=stats, scale_features=scale_features,
                imputation=imputation,
            )  # fmt: skip
        if model.algorithm != algorithm:
            raise ModelError(f"{path}: a {model.algorithm} model, but --algorithm is {algorithm}")
        out.append(model)
    return out


def read_feature_stats_file(path: str | Path) -> dict[str, dict[str, float]]:
    """A ``feature_stats`` mapping from YAML/JSON (a whole SCoPe config or just the section)."""
    import yaml

    path = Path(path)
    try:
        data = (
            yaml.safe_load(path.read_text())
            if path.suffix in (".yaml", ".yml")
            else json.loads(path.read_text())
        )
    except FileNotFoundError:
        raise ModelError(f"feature stats file {path} does not exist") from None
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        raise ModelError(f"feature stats file {path} is not valid: {exc}") from None
    if isinstance(data, dict) and "feature_stats" in data:
        data = data["feature_stats"]
    if not isinstance(data, dict):
        raise ModelError(f"feature stats file {path}: expected a mapping of feature → stats")
    return data
