"""SCoPe's own model files: ``<root>/models_<alg>/<group>/<tag>/<tag>.<YYYYmmdd_HHMMSS>.*``.

The newest file per tag is used (``.json`` booster + ``.params``, or a Keras 2 ``.h5``). SCoPe
stores no statistics with its models: the input order is what the file stores (a booster's
``feature_names``), else the class's feature set in the config's order (SCoPe's own
``config.yaml`` keeps SCoPe's order, :mod:`scope_assets.config.scope_yaml`); scaling statistics
come from a SCoPe training set (nan-aware statistics of the whole raw set, as SCoPe computes
them) or a config-style ``feature_stats`` mapping, and imputation uses a reference built from
that training set (read once) when one is given.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from scope_assets.config import ScopeConfig
from scope_assets.features.imputation import (
    ImputationError,
    ImputationReference,
    build_imputation_reference,
)
from scope_assets.ml.backends.registry import backend_for
from scope_assets.ml.model_errors import ModelError
from scope_assets.ml.model_files.classifier import Classifier, load_classifier, read_model
from scope_assets.ml.model_files.project_layout import class_order
from scope_assets.ml.model_files.scaling import FeatureStats, Scaler

SCOPE_TIME_TAG = re.compile(r"\.(\d{8}_\d{6})$")
"""The ``.<YYYYmmdd_HHMMSS>`` ending of a SCoPe model file's stem."""


def _time_key(path: Path) -> tuple[str, float]:
    match = SCOPE_TIME_TAG.search(path.stem)
    return (match.group(1) if match else "", path.stat().st_ctime)


def newest_scope_model_file(tag_dir: Path, algorithm: str) -> Path:
    """The newest ``<tag>.<time>.json`` / ``.h5`` in a SCoPe tag directory (by time tag, ctime)."""
    pattern = backend_for(algorithm).scope_model_glob
    files = [
        p
        for p in tag_dir.glob(pattern)
        if p.is_file() and not p.name.endswith(("_stats.json", "_impvars.json"))
    ]
    if not files:
        raise ModelError(f"no {pattern} model file in {tag_dir}")
    return max(files, key=_time_key)


def read_training_set(training_set: str | Path | pd.DataFrame) -> pd.DataFrame:
    """A SCoPe training set given as a table or a file (.parquet/.h5/.csv)."""
    if isinstance(training_set, pd.DataFrame):
        return training_set
    from scope_assets.io import read_table

    path = Path(training_set)
    if not path.exists():
        raise ModelError(f"training set {path} does not exist")
    return read_table(path)


def scope_feature_stats(
    config: ScopeConfig,
    *,
    training_set: str | Path | pd.DataFrame | None = None,
    feature_stats: Mapping[str, Mapping[str, float]] | None = None,
) -> FeatureStats | None:
    """Scaling statistics for SCoPe models: from a training set (raw, whole set) or a mapping."""
    columns = config.feature_columns("ontological")
    if training_set is not None:
        df = read_training_set(training_set)
        present = [c for c in columns if c in df.columns]
        if not present:
            where = "" if isinstance(training_set, pd.DataFrame) else f" {training_set}"
            raise ModelError(f"training set{where} has none of the feature columns")
        return FeatureStats.from_frame(df, present)
    if feature_stats is not None:
        return FeatureStats.from_mapping(feature_stats, columns, config.period_suffix)
    return None


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
    backend = backend_for(algorithm)
    params = path.with_suffix(backend.scope_params_suffix) if backend.scope_params_suffix else None
    model = read_model(algorithm, path, params)
    features = backend.scope_input_order(model, config.class_columns(tag), path)
    scaler = Scaler.build(features, stats, scale_features)
    return load_classifier(
        tag, algorithm, features, path, scaler, imputation, "scope", None, params, model
    )


def scope_imputation(
    frame: pd.DataFrame, config: ScopeConfig, source: str | Path | pd.DataFrame
) -> ImputationReference:
    """The imputation reference of a SCoPe training set ``frame`` read from ``source``."""
    name = "" if isinstance(source, pd.DataFrame) else str(source)
    try:
        return build_imputation_reference(
            frame, config, source=f"SCoPe training set {name}".strip()
        )
    except ImputationError as exc:
        raise ModelError(f"training set: {exc}") from None


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
    backend_for(algorithm)
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
        order = class_order(list(tag_dirs), config)
    if not order:
        raise ModelError(f"no SCoPe {algorithm} models in {group_dir}")
    frame = read_training_set(training_set) if training_set is not None else None
    stats = scope_feature_stats(config, training_set=frame, feature_stats=feature_stats)
    imputation = scope_imputation(frame, config, training_set) if frame is not None else None
    return [
        load_scope_model_file(
            newest_scope_model_file(tag_dirs[t], algorithm),
            t,
            algorithm,
            config,
            stats=stats,
            scale_features=scale_features,
            imputation=imputation,
        )
        for t in order
    ]


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
