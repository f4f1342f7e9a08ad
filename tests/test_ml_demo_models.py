"""The committed demo models (``make models``): loadable, small, and good on held-out data.

The held-out rows are the 10 % test split of the demo training set that no classifier saw
(``models/holdout/demo.parquet``, written by ``scope-train --all-demo``); they go through the
same ``run_inference`` as a field.
"""

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from scope_assets.config import load_config
from scope_assets.features.xmatch import ALERT_STAT_COLUMNS
from scope_assets.io import read_parquet
from scope_assets.ml.inference.field_inference import run_inference
from scope_assets.ml.model_files.models_root import REPOSITORY_MODELS_DIR
from scope_assets.ml.model_files.project_layout import load_models
from scope_assets.ml.training.classification_metrics import roc_auc
from scope_assets.ml.training.demo_models import holdout_path
from scope_assets.ml.training.labels import DEMO_TAGS, sim_classes_of_tag
from scope_assets.ml.training.training_set import TRAINING_FIELD

CONFIG = load_config(environ={})
MODELS = REPOSITORY_MODELS_DIR
HOLDOUT = holdout_path(MODELS)
AUC_SLACK = 0.002
"""Beyond the rounding bound (see :func:`rounding_bound`): float differences between the training
and the inference path."""


def rounding_bound(y: np.ndarray, rounded: np.ndarray) -> float:
    """How far rounding scores can move a ROC AUC: half the fraction of (positive, negative) pairs
    whose rounded scores tie. Rounding keeps every strict order, so only tied pairs may have been
    ordered either way before it."""
    y = np.asarray(y, dtype=bool)
    values, inverse = np.unique(np.asarray(rounded), return_inverse=True)
    positives = np.bincount(inverse[y], minlength=len(values))
    negatives = np.bincount(inverse[~y], minlength=len(values))
    return 0.5 * float(positives @ negatives) / (y.sum() * (~y).sum())


pytestmark = pytest.mark.skipif(
    not HOLDOUT.exists(), reason=f"demo models not built: {HOLDOUT} is missing (run `make models`)"
)


def test_demo_models_are_complete_and_small():
    for algorithm in ("xgb", "dnn"):
        models = load_models(MODELS, algorithm, "demo", config=CONFIG)
        assert sorted(m.tag for m in models) == sorted(DEMO_TAGS)
        for m in models:
            assert m.features == CONFIG.class_columns(m.tag)
            assert m.imputation is not None and m.manifest.scaling_stats
    total = sum(p.stat().st_size for p in MODELS.rglob("*") if p.is_file())
    assert total < 5 * 1024 * 1024, f"models/ holds {total / 1e6:.1f} MB"


@pytest.mark.parametrize("algorithm", ["xgb", "dnn"])
def test_demo_models_roc_auc_on_held_out_data(tmp_path, algorithm):
    models = load_models(MODELS, algorithm, "demo", config=CONFIG)
    result = run_inference(
        models,
        [HOLDOUT],
        tmp_path / "preds.parquet",
        algorithm=algorithm,
        field="holdout",
        config=CONFIG,
    )
    preds = read_parquet(result.path)
    truth = pq.read_table(HOLDOUT, columns=["_id", "sim_class"]).to_pandas()
    merged = preds.merge(truth, on="_id")
    assert len(merged) == len(preds) == len(truth)
    aucs, recorded, bounds = {}, {}, {}
    for m in models:
        if m.manifest.metrics.get("split") != "common":
            continue  # this classifier's test rows differ from the shared held-out set
        y = merged["sim_class"].isin(sim_classes_of_tag(m.tag, CONFIG)).astype(int)
        aucs[m.tag] = roc_auc(y, merged[m.column])
        recorded[m.tag] = m.manifest.metrics["test"]["roc_auc"]
        bounds[m.tag] = rounding_bound(y, merged[m.column]) + AUC_SLACK
    # The same rows as the manifests' test split: only the scores' rounding to 0.01 differs.
    off = {t: a for t, a in aucs.items() if a is None or abs(a - recorded[t]) > bounds[t]}
    table = pd.DataFrame({"held_out": aucs, "manifest": recorded, "bound": bounds}).round(4)
    assert len(aucs) >= len(DEMO_TAGS) - 1 and not off, table.to_string()


def test_rounding_bound_brackets_the_unrounded_auc():
    rng = np.random.default_rng(4)
    y = rng.random(400) < 0.1
    scores = rng.normal(0.02 + 0.05 * y, 0.03)
    rounded = np.round(scores, 2)
    bound = rounding_bound(y, rounded)
    assert 0 < bound < 0.5
    assert abs(roc_auc(y, scores) - roc_auc(y, rounded)) <= bound
    assert rounding_bound(y, scores) == 0.0  # continuous scores never tie


def _without_catalogue_columns(table: pa.Table) -> pa.Table:
    """``table`` with every cross-match and alert column null, as ``--lightcurves`` input has."""
    for column in [c for c in table.column_names if "__" in c or c in ALERT_STAT_COLUMNS]:
        index = table.column_names.index(column)
        table = table.set_column(
            index, column, pa.nulls(len(table), table.schema.field(column).type)
        )
    return table


@pytest.mark.parametrize("algorithm", ["xgb", "dnn"])
def test_demo_models_hold_on_ztf_stars_without_cross_matches(tmp_path, algorithm):
    """A ZTF light curve given to ``generate-features --lightcurves`` has no Gaia, PS1 or AllWISE
    match. The held-out simulated ZTF stars that have them are scored twice, as they are and with
    those columns blanked: the periodic classes' AUC may fall by at most 0.05, what losing the
    colours and parallaxes costs (measured: DNN rrab / rrc / wuma 0.974 / 0.949 / 0.978 → 0.959
    / 0.921 / 0.941, XGBoost at most 0.008). Trained on cross-matched ZTF rows only, the DNN fell
    from 0.980 to 0.878 for rrab."""
    table = pq.read_table(HOLDOUT)
    ztf = pc.and_(
        pc.equal(table["field"], TRAINING_FIELD), pc.is_valid(table["Gaia_EDR3__parallax"])
    )
    table = table.filter(ztf)
    pq.write_table(table, tmp_path / "with.parquet")
    pq.write_table(_without_catalogue_columns(table), tmp_path / "without.parquet")
    truth = table.select(["_id", "sim_class"]).to_pandas()
    models = load_models(MODELS, algorithm, "demo", config=CONFIG)
    aucs = {}
    for name in ("with", "without"):
        result = run_inference(
            models,
            [tmp_path / f"{name}.parquet"],
            tmp_path / f"{name}_preds.parquet",
            algorithm=algorithm,
            field="holdout",
            config=CONFIG,
        )
        preds = read_parquet(result.path).merge(truth, on="_id")
        assert len(preds) == len(truth) > 90
        aucs[name] = {
            m.tag: roc_auc(
                preds["sim_class"].isin(sim_classes_of_tag(m.tag, CONFIG)), preds[m.column]
            )
            for m in models
            if m.tag in ("rrab", "rrc", "wuma", "ea", "ceph", "dscu")
        }
    table = pd.DataFrame(aucs).round(3)
    assert (table["without"] >= table["with"] - 0.05).all(), table.to_string()
