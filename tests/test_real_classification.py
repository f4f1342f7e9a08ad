"""The committed demo classifiers on real stars: EROS-1 RR Lyrae vs eclipsing binaries, and the
raw ZTF data-release files of detached binaries.

Features come from the pipeline (``generate-features --lightcurves`` settings) and scores from
``run_inference`` with the committed demo group, as ``make eval-real`` computes them, on stars of
EROS-1's held-out half only (the demo models learned from the other half); the AUC is checked
against scipy's Mann-Whitney U (an independent formula for the same number).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import mannwhitneyu

from scope_assets.config import load_config
from scope_assets.features.pipeline import lightcurves_mode
from scope_assets.ml.model_files.models_root import REPOSITORY_MODELS_DIR
from scope_assets.ml.training.catalogue_curves import load_eros1
from scope_assets.ml.training.eros1_training_rows import (
    is_eros1_training_star,
    real_curve_features,
)
from scope_assets.testing import shared_path
from scope_assets.testing.real_classification import (
    broad_class,
    score_features,
    separation_table,
)
from scope_assets.testing.real_light_curves import load_lcurvemaker_oids

REAL = shared_path("data", "real")
MINIMUM_AUC = {
    ("xgb", "AUC RRL score"): 0.91,
    ("xgb", "AUC EB score"): 0.93,
    ("dnn", "AUC RRL score"): 0.90,
    ("dnn", "AUC EB score"): 0.845,
}
"""Measured on the 936 RR Lyrae and 170 binaries of the held-out half (README): XGB 0.919 /
0.942, DNN 0.908 / 0.855; issue 13's target is 0.85. Each floor sits about 0.01 under the
measured value: one binary's score moving can shift the AUC by up to 1/170, and numba compiled
afresh may break a near-tie between two periods differently (1 curve in ~400). Lower fails."""


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
    held_out = [c for c in curves if not is_eros1_training_star(c.name)]
    assert 1000 < len(held_out) < 1200
    config = lightcurves_mode(load_config(environ={}))
    features = real_curve_features(held_out, config)
    labels = pd.DataFrame(
        {
            "_id": np.arange(1, len(held_out) + 1),
            "source": "eros1",
            "label": [c.label for c in held_out],
        }
    )
    scores = score_features(features, REPOSITORY_MODELS_DIR, config, tmp_path)
    table = separation_table(scores, labels).set_index(["set", "algorithm"])
    print(table.round(3).to_string())
    for (algorithm, score), minimum in MINIMUM_AUC.items():
        row = table.loc[("eros1", algorithm)]
        assert row["RRL"] + row["EB"] >= 0.98 * len(held_out), table
        assert row[score] >= minimum, table.round(3).to_string()


@pytest.mark.slow
@pytest.mark.skipif(
    not REAL.is_dir(),
    reason=f"shared real light curves not found at {REAL} (set $SCOPE_SHARED_DIR to use them)",
)
def test_demo_models_call_raw_ztf_detached_binaries_ea(tmp_path):
    """The 28 raw IRSA files cleaning keeps (3.3-56 d detached binaries, one oid each): both
    models put ``ea`` first for 27 (README). Before simulated ZTF curves reported their errors
    as data releases do and simulated EA reached 60 d, the DNN did for 21 and called 6 flares."""
    config = lightcurves_mode(load_config(environ={}))
    features = real_curve_features(load_lcurvemaker_oids(REAL), config)
    assert len(features) == 28
    scores = score_features(features, REPOSITORY_MODELS_DIR, config, tmp_path)
    for algorithm, table in scores.items():
        classes = table.drop(columns=["_id", f"vnv_{algorithm}"]).filter(like=f"_{algorithm}")
        first = classes.idxmax(axis=1).str.removesuffix(f"_{algorithm}")
        assert (first == "ea").sum() >= 26, (algorithm, first.value_counts().to_dict())
        eclipsing = table[[f"ea_{algorithm}", f"wuma_{algorithm}"]].max(axis=1)
        assert (eclipsing > 0.5).sum() >= 26, (algorithm, eclipsing.round(2).tolist())
