"""The committed demo models (``make models``): loadable, small, and good on held-out data.

The held-out rows are the 10 % test split of the simulated training set that no classifier saw
(``models/holdout/demo.parquet``, written by ``scope-train --all-demo``); they go through the
same ``run_inference`` as a field.
"""

import pandas as pd
import pyarrow.parquet as pq
import pytest

from scope_assets.config import load_config
from scope_assets.io import read_parquet
from scope_assets.ml.inference.field_inference import run_inference
from scope_assets.ml.model_files.models_root import REPOSITORY_MODELS_DIR
from scope_assets.ml.model_files.project_layout import load_models
from scope_assets.ml.training.classification_metrics import roc_auc
from scope_assets.ml.training.demo_models import holdout_path
from scope_assets.ml.training.labels import DEMO_TAGS, sim_classes_of_tag

CONFIG = load_config(environ={})
MODELS = REPOSITORY_MODELS_DIR
HOLDOUT = holdout_path(MODELS)
AUC_TOLERANCE = 0.02
"""Held-out AUC may fall this far below the manifest's test AUC: prediction files round scores to
0.01 (SCoPe's format), which ties the rare class's low scores (flares: 0.938 → 0.924 measured);
a wrong feature order or scaling costs far more."""

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
    aucs, recorded = {}, {}
    for m in models:
        if m.manifest.metrics.get("split") != "common":
            continue  # this classifier's test rows differ from the shared held-out set
        y = merged["sim_class"].isin(sim_classes_of_tag(m.tag, CONFIG)).astype(int)
        aucs[m.tag] = roc_auc(y, merged[m.column])
        recorded[m.tag] = m.manifest.metrics["test"]["roc_auc"]
    # The same rows as the manifests' test split: only the scores' rounding to 0.01 differs.
    low = {t: a for t, a in aucs.items() if a is None or a < recorded[t] - AUC_TOLERANCE}
    table = pd.DataFrame({"held_out": aucs, "manifest": recorded}).round(4).to_dict()
    assert len(aucs) >= len(DEMO_TAGS) - 1 and not low, table
