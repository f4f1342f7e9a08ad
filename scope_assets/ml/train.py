"""Train one classifier and save it in the model layout (``models/<alg>/<group>/<tag>/``).

Files written for a model (atomically: the directory appears complete or not at all)::

    models/imputation/<fingerprint>.json                   imputation reference (shared)
    models/<alg>/<group>/<tag>/manifest.json
    models/<alg>/<group>/<tag>/<tag>.json | <tag>.keras    the model
    models/<alg>/<group>/<tag>/<tag>.<time>_plots/<set>/<tag>.<time>_stats.json   (val, test)
    models/<alg>/<group>/<tag>/<tag>.<time>_plots/<set>/<tag>.<time>_impvars.json (xgb)
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from scope_assets import __version__
from scope_assets.config import ScopeConfig
from scope_assets.features.imputation import ImputationReference
from scope_assets.io import write_json
from scope_assets.ml.dataset import PARTS, prepare_training_data, self_imputation_reference
from scope_assets.ml.dnn import DNNOptions
from scope_assets.ml.manifest import ALGORITHMS, ModelError, ModelManifest
from scope_assets.ml.metrics import classification_stats
from scope_assets.ml.training_set import training_set_fingerprint
from scope_assets.ml.xgb import XGBOptions

STATS_SETS = ("val", "test")


def default_models_root() -> Path:
    """``$SCOPE_MODELS_DIR``, else the repository's ``models/`` (the committed demo models)."""
    env = os.environ.get("SCOPE_MODELS_DIR")
    return Path(env).resolve() if env else Path(__file__).resolve().parents[2] / "models"


def model_dir(models_root: str | Path, algorithm: str, group: str, tag: str) -> Path:
    return Path(models_root) / algorithm / group / tag


@dataclass
class TrainOptions:
    scaling_method: str | None = "min_max"
    seed: int = 42
    test_size: float = 0.1
    val_size: float = 0.1
    imputation_max_rows: int = 1500
    xgb: XGBOptions = field(default_factory=XGBOptions)
    dnn: DNNOptions = field(default_factory=DNNOptions)


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


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _library_versions(algorithm: str) -> dict[str, str]:
    import sklearn
    import xgboost

    versions = {"xgboost": xgboost.__version__, "scikit-learn": sklearn.__version__}
    if algorithm == "dnn":
        import keras

        versions["keras"] = keras.__version__
        try:
            import tensorflow as tf

            versions["tensorflow"] = tf.__version__
        except ImportError:  # pragma: no cover
            pass
    return versions


def save_imputation_reference(reference: ImputationReference, models_root: Path) -> Path:
    """Store a reference once for all models: ``<models root>/imputation/<fingerprint>.json``."""
    path = Path(models_root) / "imputation" / f"{reference.fingerprint}.json"
    if not path.exists():
        reference.to_json(path)
    return path


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
    if algorithm not in ALGORITHMS:
        raise ModelError(f"unknown algorithm {algorithm!r}; expected one of {ALGORITHMS}")
    options = options or TrainOptions()
    log = log or (lambda _msg: None)
    started = _utc_now()
    reference = reference or self_imputation_reference(
        training_set, config, max_rows=options.imputation_max_rows, seed=options.seed
    )
    data = prepare_training_data(
        training_set,
        tag,
        config,
        reference,
        scaling_method=options.scaling_method,
        with_dmdt=algorithm == "dnn",
        seed=options.seed,
        test_size=options.test_size,
        val_size=options.val_size,
    )
    log(
        f"{algorithm} {tag}: {len(data.parts['train'].y)} train / {len(data.parts['val'].y)} val / "
        f"{len(data.parts['test'].y)} test rows, {data.n_positive} positives"
    )
    time_tag = started.strftime("%Y%m%d_%H%M%S")
    importance = None
    if algorithm == "xgb":
        from scope_assets.ml.xgb import feature_importance, predict_booster, train_xgb

        result = train_xgb(data, options.xgb)
        scores = {p: predict_booster(result.booster, data.parts[p].X) for p in PARTS}
        importance = feature_importance(result.booster)
        params = {
            **{k: v for k, v in result.params.items() if k != "nthread"},
            "best_iteration": result.best_iteration,
            "num_boost_round": result.best_iteration + 1,
            "cv": options.xgb.cv,
            "cv_results": result.cv_results,
        }

        def save(directory: Path) -> Path:
            path = directory / f"{tag}.json"
            result.booster.save_model(path)
            return path

    else:
        from scope_assets.ml.dnn import make_predictor, save_dnn, train_dnn

        result = train_dnn(data, options.dnn)
        predict = make_predictor(result.model)
        scores = {p: predict(data.parts[p].X, data.parts[p].dmdt) for p in PARTS}
        d = options.dnn
        params = {
            "epochs": d.epochs,
            "epochs_run": result.epochs_run,
            "best_epoch": result.best_epoch,
            "batch_size": d.batch_size,
            "learning_rate": result.learning_rate,
            "epsilon": d.epsilon,
            "amsgrad": d.amsgrad,
            "patience": d.patience,
            "reduce_lr_patience": d.reduce_lr_patience,
            "seed": d.seed,
            "class_weight": {str(k): v for k, v in data.class_weight().items()},
            "loss": "binary_crossentropy",
            "optimizer": "Adam",
        }

        def save(directory: Path) -> Path:
            return save_dnn(result.model, directory / f"{tag}.keras")

    metrics = {p: classification_stats(data.parts[p].y, scores[p]) for p in PARTS}
    metrics["n_rows"] = data.n_rows
    metrics["split"] = data.split
    metrics["n_dropped_by_imputation"] = data.n_dropped

    target = model_dir(models_root, algorithm, group, tag)
    group_dir = target.parent
    group_dir.mkdir(parents=True, exist_ok=True)
    ref_path = save_imputation_reference(reference, Path(models_root))
    tmp = Path(tempfile.mkdtemp(prefix=f".{tag}.", dir=group_dir))
    tmp.chmod(0o755)
    try:
        model_path = save(tmp)
        stats_files = {}
        for set_name in STATS_SETS:
            set_dir = tmp / f"{tag}.{time_tag}_plots" / set_name
            stats = {k: v for k, v in metrics[set_name].items()}
            stats_files[set_name] = write_json(stats, set_dir / f"{tag}.{time_tag}_stats.json")
            if importance is not None:
                write_json(importance, set_dir / f"{tag}.{time_tag}_impvars.json")
        fingerprint = training_set.attrs.get(
            "training_set_fingerprint"
        ) or training_set_fingerprint(training_set)
        manifest = ModelManifest(
            tag=tag,
            algorithm=algorithm,
            group=group,
            model_file=model_path.name,
            features=list(data.features),
            feature_set=data.feature_set,
            period_suffix=config.period_suffix,
            label=data.label,
            threshold=data.threshold,
            scaling_method=options.scaling_method,
            scaling_stats=data.stats.to_dict(),
            imputation_reference=os.path.relpath(ref_path, target),
            imputation_fingerprint=reference.fingerprint,
            training_set_fingerprint=fingerprint,
            training_set_source=str(training_set.attrs.get("training_set_source", "")),
            metrics=metrics,
            params=params,
            created_utc=started.strftime("%Y-%m-%dT%H:%M:%SZ"),
            time_tag=time_tag,
            code_version=__version__,
            library_versions=_library_versions(algorithm),
            uses_dmdt=algorithm == "dnn",
        )
        manifest.to_json(tmp)
        old = None
        if target.exists():
            old = group_dir / f".{tag}.old.{os.getpid()}"
            target.rename(old)
        tmp.rename(target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    seconds = (_utc_now() - started).total_seconds()
    test = metrics["test"]
    log(
        f"{algorithm} {tag}: test ROC AUC {test['roc_auc']}, recall {test['recall']:.3f}, "
        f"precision {test['precision']:.3f} ({seconds:.1f} s) → {target}"
    )
    return TrainResult(
        tag=tag,
        algorithm=algorithm,
        model_dir=target,
        model_path=target / model_path.name,
        manifest=manifest,
        stats_files={k: target / v.relative_to(tmp) for k, v in stats_files.items()},
        importance=importance,
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
    log: Callable[[str], None] | None = None,
    progress: Callable[[str, str], None] | None = None,
) -> list[TrainResult]:
    """Train every (algorithm, tag) pair with one shared imputation reference."""
    options = options or TrainOptions()
    reference = self_imputation_reference(
        training_set, config, max_rows=options.imputation_max_rows, seed=options.seed
    )
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
