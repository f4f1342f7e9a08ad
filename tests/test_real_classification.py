"""The committed demo classifiers on real stars: EROS-1 RR Lyrae vs eclipsing binaries.

Features come from the pipeline (``generate-features --lightcurves`` settings) and scores from
``run_inference`` with the committed demo group, as ``make eval-real`` computes them; the AUC is
checked against scipy's Mann-Whitney U (an independent formula for the same number).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import mannwhitneyu

from scope_assets.config import load_config
from scope_assets.ml.model_files.models_root import REPOSITORY_MODELS_DIR
from scope_assets.testing import shared_path
from scope_assets.testing.real_classification import (
    broad_class,
    score_features,
    separation_table,
)
from scope_assets.testing.real_light_curves import load_eros1
from scope_assets.testing.real_recovery import pipeline_features

REAL = shared_path("data", "real")
MINIMUM_AUC = {
    ("xgb", "AUC RRL score"): 0.85,
    ("xgb", "AUC EB score"): 0.85,
    ("dnn", "AUC RRL score"): 0.82,
    ("dnn", "AUC EB score"): 0.52,
}
"""Measured on all 2,112 EROS-1 RR Lyrae and binaries (README): XGB 0.895 / 0.893, DNN 0.855 /
0.577. Issue 13's target is 0.85 for both algorithms; the DNN's EB score is below it (the
README's fine-tuning experiment reaches 0.905 with real labels). A drop below these fails."""
STARS_PER_CLASS = 200


def test_broad_classes_of_the_catalogue_labels():
    assert [broad_class(x) for x in ("RRL", "RRlyr_ab", "EB", "EA", "EA/RS", "EB_EW")] == [
        "RRL",
        "RRL",
        "EB",
        "EB",
        "EB",
        "EB",
    ]
    assert [broad_class(x) for x in ("CEP", "MIRA", "DSCT", "ROT")] == [None] * 4


def test_separation_table_is_the_mann_whitney_auc():
    rng = np.random.default_rng(3)
    labels = pd.DataFrame(
        {"_id": np.arange(1, 61), "source": "s", "label": ["RRL"] * 40 + ["EB"] * 20}
    )
    scores = pd.DataFrame({"_id": labels["_id"]})
    for tag in ("rrab", "rrc", "ea", "wuma"):
        scores[f"{tag}_xgb"] = rng.random(60)
    table = separation_table({"xgb": scores}, labels).set_index("set")
    rrl = scores[["rrab_xgb", "rrc_xgb"]].max(axis=1).to_numpy()
    u = mannwhitneyu(rrl[:40], rrl[40:]).statistic
    assert table.loc["s", "AUC RRL score"] == pytest.approx(u / (40 * 20))
    assert (table.loc["s", ["RRL", "EB"]] == [40, 20]).all()
    assert list(table.index) == ["s", "all"]


@pytest.mark.slow
@pytest.mark.skipif(
    not REAL.is_dir(),
    reason=f"shared real light curves not found at {REAL} (set $SCOPE_SHARED_DIR to use them)",
)
def test_demo_models_separate_real_rr_lyrae_from_eclipsing_binaries(tmp_path):
    curves = load_eros1(REAL, min_quality=0, per_class=None, types=(1, 3))
    rng = np.random.default_rng(11)
    picked = []
    for label in ("RRL", "EB"):
        members = [c for c in curves if c.label == label]
        picked += [members[i] for i in np.sort(rng.choice(len(members), STARS_PER_CLASS, False))]
    config = load_config(environ={})
    fg = config.feature_generation.model_copy(update={"long_periods": True})
    config = config.model_copy(update={"feature_generation": fg})
    features = pipeline_features(picked, config)
    labels = pd.DataFrame(
        {
            "_id": np.arange(1, len(picked) + 1),
            "source": "eros1",
            "label": [c.label for c in picked],
        }
    )
    scores = score_features(features, REPOSITORY_MODELS_DIR, config, tmp_path)
    table = separation_table(scores, labels).set_index(["set", "algorithm"])
    print(table.round(3).to_string())
    for (algorithm, score), minimum in MINIMUM_AUC.items():
        row = table.loc[("eros1", algorithm)]
        assert row["RRL"] + row["EB"] >= 0.98 * len(picked), table
        assert row[score] >= minimum, table.round(3).to_string()
