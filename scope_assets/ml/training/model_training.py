"""Train one classifier and save it in the model layout (``models/<alg>/<group>/<tag>/``).

Files written for a model (atomically: the directory appears complete or not at all)::

    models/imputation/<fingerprint>.json                   imputation reference (shared)
    models/<alg>/<group>/<tag>/manifest.json
    models/<alg>/<group>/<tag>/<tag>.json | <tag>.keras    the model
    models/<alg>/<group>/<tag>/<tag>.<time>_plots/<set>/<tag>.<time>_stats.json   (val, test)
    models/<alg>/<group>/<tag>/<tag>.<time>_plots/<set>/<tag>.<time>_impvars.json (xgb)

The algorithm is a :mod:`~scope_assets.ml.backends` entry; nothing here depends on which.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from scope_assets import __version__
from scope_assets.config import ScopeConfig
from scope_assets.features.imputation import ImputationReference
from scope_assets.io import write_json
from scope_assets.ml.backends.backend_api import Backend, FittedModel
from scope_assets.ml.backends.dnn import DNNOptions
from scope_assets.ml.backends.registry import backend_for
from scope_assets.ml.backends.xgb import XGBOptions
from scope_assets.ml.model_files.manifest import ModelManifest
from scope_assets.ml.model_files.project_layout import (
    model_dir,
    replacing_directory,
    save_imputation_reference,
)
from scope_assets.ml.training.classification_metrics import classification_stats
from scope_assets.ml.training.training_data import (
    PARTS,
    PreparedData,
    prepare_training_data,
    self_imputation_reference,
)
from scope_assets.ml.training.training_set import training_set_fingerprint

STATS_SETS = ("val", "test")


@dataclass
class TrainOptions:
    scaling_method: str | None = "log_min_max"  # SCoPe: min_max (see scaling.py)
    seed: int = 42
    test_size: float = 0.1
    val_size: float = 0.1
    imputation_max_rows: int = 1500
    xgb: XGBOptions = field(default_factory=XGBOptions)
    dnn: DNNOptions = field(default_factory=DNNOptions)

    def for_backend(self, algorithm: str) -> Any:
        """The options of one backend: ``self.xgb`` or ``self.dnn``."""
        return getattr(self, algorithm)


@dataclass
class TrainResult:
    tag: str
    algorithm: str
    model_dir: Path
    model_path: Path
    manifest: ModelManifest
    stats_files: dict[str, Path]
    importance: dict[str, float] | None
    seconds: float


@dataclass
class _Trained:
    """One classifier just trained, before it is saved."""

    backend: Backend
    group: str
    data: PreparedData
    fitted: FittedModel
    metrics: dict[str, Any]
    started: dt.datetime

    @property
    def time_tag(self) -> str:
        return self.started.strftime("%Y%m%d_%H%M%S")


def options_reference(
    training_set: pd.DataFrame, config: ScopeConfig, options: TrainOptions
) -> ImputationReference:
    """The training set's own imputation reference, sized and seeded by ``options``."""
    return self_imputation_reference(
        training_set, config, max_rows=options.imputation_max_rows, seed=options.seed
    )


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _library_versions(backend: Backend) -> dict[str, str]:
    """Versions in every manifest (xgboost, scikit-learn), then those of the backend."""
    import sklearn
    import xgboost

    return {"xgboost": xgboost.__version__, "scikit-learn": sklearn.__version__} | (
        backend.library_versions()
    )


def _metrics(data: PreparedData, backend: Backend, fitted: FittedModel) -> dict[str, Any]:
    predict = backend.predictor(fitted.model)
    metrics: dict[str, Any] = {
        p: classification_stats(data.parts[p].y, predict(data.parts[p].X, data.parts[p].dmdt))
        for p in PARTS
    }
    metrics["n_rows"] = data.n_rows
    metrics["split"] = data.split
    metrics["n_dropped_by_imputation"] = data.n_dropped
    return metrics


def _write_stats(directory: Path, trained: _Trained) -> dict[str, Path]:
    """SCoPe's ``<tag>.<time>_plots/<set>/`` stats (and XGB importance) files."""
    tag, time_tag = trained.data.tag, trained.time_tag
    files = {}
    for set_name in STATS_SETS:
        set_dir = directory / f"{tag}.{time_tag}_plots" / set_name
        files[set_name] = write_json(
            dict(trained.metrics[set_name]), set_dir / f"{tag}.{time_tag}_stats.json"
        )
        if trained.fitted.importance is not None:
            write_json(trained.fitted.importance, set_dir / f"{tag}.{time_tag}_impvars.json")
    return files


def _manifest(
    trained: _Trained,
    model_file: str,
    reference_path: str,
    reference: ImputationReference,
    training_set: pd.DataFrame,
    config: ScopeConfig,
    scaling_method: str | None,
) -> ModelManifest:
    data = trained.data
    fingerprint = training_set.attrs.get("training_set_fingerprint") or training_set_fingerprint(
        training_set
    )
    return ModelManifest(
        tag=data.tag,
        algorithm=trained.backend.name,
        group=trained.group,
        model_file=model_file,
        features=list(data.features),
        feature_set=data.feature_set,
        period_suffix=config.period_suffix,
        label=data.label,
        threshold=data.threshold,
        scaling_method=scaling_method,
        scaling_stats=data.stats.to_dict(),
        imputation_reference=reference_path,
        imputation_fingerprint=reference.fingerprint,
        training_set_fingerprint=fingerprint,
        training_set_source=str(training_set.attrs.get("training_set_source", "")),
        metrics=trained.metrics,
        params=trained.fitted.params,
        created_utc=trained.started.strftime("%Y-%m-%dT%H:%M:%SZ"),
        time_tag=trained.time_tag,
        code_version=__version__,
        library_versions=_library_versions(trained.backend),
        uses_dmdt=trained.backend.uses_dmdt,
    )


def _save(
    trained: _Trained,
    models_root: Path,
    reference: ImputationReference,
    training_set: pd.DataFrame,
    config: ScopeConfig,
    scaling_method: str | None,
) -> tuple[Path, ModelManifest, dict[str, Path]]:
    """Write the model directory: (its path, the manifest, the stats files inside it)."""
    tag = trained.data.tag
    target = model_dir(models_root, trained.backend.name, trained.group, tag)
    reference_path = os.path.relpath(save_imputation_reference(reference, models_root), target)
    with replacing_directory(target) as tmp:
        model_path = trained.backend.save(trained.fitted.model, tmp, tag)
        stats_files = _write_stats(tmp, trained)
        manifest = _manifest(
            trained,
            model_path.name,
            reference_path,
            reference,
            training_set,
            config,
            scaling_method,
        )
        manifest.to_json(tmp)
    return target, manifest, {k: target / v.relative_to(tmp) for k, v in stats_files.items()}


def train_model(
    training_set: pd.DataFrame,
    tag: str,
    algorithm: str,
    config: ScopeConfig,
    models_root: str | Path,
    *,
    group: str = "demo",
    options: TrainOptions | None = None,
    reference: ImputationReference | None = None,
    log: Callable[[str], None] | None = None,
) -> TrainResult:
    """Train classifier ``tag`` with ``algorithm`` ('xgb' | 'dnn') and save it."""
    backend = backend_for(algorithm)
    options = options or TrainOptions()
    log = log or (lambda _msg: None)
    started = _utc_now()
    reference = reference or options_reference(training_set, config, options)
    data = prepare_training_data(
        training_set,
        tag,
        config,
        reference,
        scaling_method=options.scaling_method,
        with_dmdt=backend.uses_dmdt,
        seed=options.seed,
        test_size=options.test_size,
        val_size=options.val_size,
    )
    log(
        f"{algorithm} {tag}: {len(data.parts['train'].y)} train / {len(data.parts['val'].y)} val / "
        f"{len(data.parts['test'].y)} test rows, {data.n_positive} positives"
    )
    fitted = backend.fit(data, options.for_backend(algorithm))
    trained = _Trained(backend, group, data, fitted, _metrics(data, backend, fitted), started)
    target, manifest, stats_files = _save(
        trained, Path(models_root), reference, training_set, config, options.scaling_method
    )
    seconds = (_utc_now() - started).total_seconds()
    test = trained.metrics["test"]
    log(
        f"{algorithm} {tag}: test ROC AUC {test['roc_auc']}, recall {test['recall']:.3f}, "
        f"precision {test['precision']:.3f} ({seconds:.1f} s) → {target}"
    )
    return TrainResult(
        tag=tag,
        algorithm=algorithm,
        model_dir=target,
        model_path=target / manifest.model_file,
        manifest=manifest,
        stats_files=stats_files,
        importance=fitted.importance,
        seconds=seconds,
    )


def train_models(
    training_set: pd.DataFrame,
    tags: list[str],
    algorithms: list[str],
    config: ScopeConfig,
    models_root: str | Path,
    *,
    group: str = "demo",
    options: TrainOptions | None = None,
    reference: ImputationReference | None = None,
    log: Callable[[str], None] | None = None,
    progress: Callable[[str, str], None] | None = None,
) -> list[TrainResult]:
    """Train every (algorithm, tag) pair with one shared imputation reference (by default
    built from the training set)."""
    options = options or TrainOptions()
    reference = reference or options_reference(training_set, config, options)
    results = []
    for algorithm in algorithms:
        for tag in tags:
            results.append(
                train_model(
                    training_set,
                    tag,
                    algorithm,
                    config,
                    models_root,
                    group=group,
                    options=options,
                    reference=reference,
                    log=log,
                )
            )
            if progress:
                progress(algorithm, tag)
    return results
