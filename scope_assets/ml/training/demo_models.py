"""The demo model group: what ``make models`` (``scope-train --all-demo``) builds and commits.

1. The training set (``<data>/training/training_set.parquet``, each part built once: a training
   sky simulated with its own field and seed, run through the feature pipeline, plus, when the
   real development set is given, the labelled EROS-1 stars of its training half).
2. One XGBoost and one DNN classifier per demo class (``labels.DEMO_TAGS``), seed 42, in
   ``<models>/<alg>/demo/<tag>/``, all sharing one imputation reference.
3. The held-out rows (the 10 % test split every classifier left out) with their true classes:
   ``<models>/holdout/demo.parquet``, for the tests that check the committed models.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from scope_assets.config import ScopeConfig
from scope_assets.features.imputation import ImputationReference, impute_features
from scope_assets.io import DataLayout, atomic_path
from scope_assets.ml.backends.dnn import DNNOptions
from scope_assets.ml.backends.registry import ALGORITHMS
from scope_assets.ml.backends.xgb import XGBOptions
from scope_assets.ml.dmdt_arrays import dmdt_to_arrow
from scope_assets.ml.model_files.manifest import MANIFEST_NAME
from scope_assets.ml.training.labels import DEMO_GROUP, DEMO_TAGS
from scope_assets.ml.training.model_training import (
    TrainOptions,
    TrainResult,
    options_reference,
    train_models,
)
from scope_assets.ml.training.training_data import common_split
from scope_assets.ml.training.training_set import TRAINING_N_SOURCES, demo_training_set


def reduce_lr_patience(patience: int) -> int:
    """The demo's learning-rate patience: half the early-stopping patience."""
    return max(1, patience // 2)


DEMO_DNN = DNNOptions(
    epochs=150, batch_size=64, patience=15, reduce_lr_patience=reduce_lr_patience(15)
)
"""The demo's DNN budget: fewer epochs and a shorter patience than SCoPe's defaults."""


def holdout_path(models_root: str | Path, group: str = DEMO_GROUP) -> Path:
    return Path(models_root) / "holdout" / f"{group}.parquet"


def train_options(
    config: ScopeConfig,
    *,
    seed: int | None = None,
    scaling: str | None = "log_min_max",
    cv: bool = False,
    epochs: int | None = None,
    batch_size: int | None = None,
    learning_rate: float | None = None,
    patience: int | None = None,
) -> TrainOptions:
    """Training options: SCoPe's defaults with the demo's DNN budget; ``None`` keeps a default."""
    seed = config.training.seed if seed is None else seed
    patience = patience or DEMO_DNN.patience
    dnn = DNNOptions(
        epochs=epochs or DEMO_DNN.epochs,
        batch_size=batch_size or DEMO_DNN.batch_size,
        patience=patience,
        reduce_lr_patience=reduce_lr_patience(patience),
        seed=seed,
    )
    if learning_rate is not None:
        dnn.learning_rate = learning_rate
    return TrainOptions(
        scaling_method=scaling, seed=seed, xgb=XGBOptions(cv=cv, seed=seed), dnn=dnn
    )


def training_set_for(
    layout: DataLayout,
    config: ScopeConfig,
    *,
    n_sources: int | None = None,
    workers: int | None = None,
    eros1_root: Path | None = None,
    rebuild: bool = False,
    progress: Callable[[int], None] | None = None,
) -> tuple[pd.DataFrame, Path]:
    """The demo training set of ``layout``: simulated, plus EROS-1's training half with
    ``eros1_root`` (``progress``: light curves featurised)."""
    return demo_training_set(
        layout.training_dir,
        config,
        n_sources=n_sources or TRAINING_N_SOURCES,
        eros1_root=eros1_root,
        workers=workers,
        rebuild=rebuild,
        progress=progress,
    )


def write_holdout(
    training_set: pd.DataFrame,
    config: ScopeConfig,
    reference: ImputationReference,
    path: Path,
    *,
    seed: int = 42,
    test_size: float = 0.1,
    val_size: float = 0.1,
) -> Path:
    """The common test split (raw feature rows, ``sim_class``; dm-dt as float32)."""
    _, kept = impute_features(training_set.drop(columns=["dmdt"]), reference)
    rows = training_set.loc[kept].reset_index(drop=True)
    _, _, test = common_split(len(rows), seed, test_size, val_size)
    test = np.sort(test)
    keep_columns = [
        c
        for c in rows.columns
        if c in ("_id", "ra", "dec", "field", "ccd", "quad", "filter", "sim_class")
        or c.endswith("___id")
        or c in config.feature_columns("ontological")
    ]
    part = rows.iloc[test][keep_columns].reset_index(drop=True)
    table = pa.Table.from_pandas(part, preserve_index=False)
    dmdt = np.stack([np.asarray(np.stack(v), dtype=np.float32) for v in rows["dmdt"].iloc[test]])
    table = table.append_column("dmdt", dmdt_to_arrow(dmdt))
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, compression="zstd", compression_level=19)
    return path


@dataclass
class DemoResult:
    models: list[TrainResult]
    training_set_path: Path
    holdout_path: Path


def _prune_imputation_references(models_root: Path) -> None:
    """Remove ``imputation/*.json`` files no manifest refers to."""
    ref_dir = models_root / "imputation"
    if not ref_dir.is_dir():
        return
    used = set()
    for manifest in models_root.glob(f"*/*/*/{MANIFEST_NAME}"):
        data = json.loads(manifest.read_text())
        if data.get("imputation_reference"):
            used.add((manifest.parent / data["imputation_reference"]).resolve())
    for path in ref_dir.glob("*.json"):
        if path.resolve() not in used:
            path.unlink()


def train_demo_models(
    training_set: pd.DataFrame,
    training_set_path: Path,
    models_root: str | Path,
    config: ScopeConfig,
    *,
    options: TrainOptions | None = None,
    algorithms: list[str] | tuple[str, ...] = ALGORITHMS,
    tags: tuple[str, ...] = DEMO_TAGS,
    log: Callable[[str], None] | None = None,
    progress: Callable[[str, str], None] | None = None,
) -> DemoResult:
    """(Re)train the whole demo group from scratch on the simulated training set, one shared
    imputation reference, and write the held-out rows (``progress``: a model trained)."""
    models_root = Path(models_root)
    options = options or train_options(config)
    reference = options_reference(training_set, config, options)
    for algorithm in algorithms:
        shutil.rmtree(models_root / algorithm / DEMO_GROUP, ignore_errors=True)
    results = train_models(
        training_set,
        list(tags),
        list(algorithms),
        config,
        models_root,
        group=DEMO_GROUP,
        options=options,
        reference=reference,
        log=log,
        progress=progress,
    )
    _prune_imputation_references(models_root)
    holdout = write_holdout(
        training_set,
        config,
        reference,
        holdout_path(models_root),
        seed=options.seed,
        test_size=options.test_size,
        val_size=options.val_size,
    )
    return DemoResult(results, training_set_path, holdout)
