"""Fine-tuning experiment: do real EROS-1 labels help the RR Lyrae / eclipsing-binary classifiers?

Usage::

    .venv/bin/python bench/finetune_real.py [--models-dir DIR] [--data-dir DIR] [--seed 5]

The 2,116 EROS-1 RR Lyrae and eclipsing binaries of the development set (plus its Cepheids and
Miras as further negatives) are split in two halves by star (seeded). Both arms are scored on the
same held-out half, by the ROC AUC of the RR Lyrae score (max ``rrab``/``rrc``) and of the
eclipsing-binary score (max ``ea``/``wuma``) for RRL vs EB:

* ``simulator``: the demo group as committed (trained on the simulated sky only);
* ``simulator + real half``: the same training set plus the other half's real stars, labelled by
  the catalogue (RR Lyrae with P > 0.4 d as ``rrab``, else ``rrc``; eclipsing binaries with
  P < 1 d as ``wuma``, else ``ea``; Cepheids ``ceph``; Miras ``mir``), the four classifiers
  ``rrab rrc ea wuma`` retrained with the demo's options.

Features of the real stars come from the pipeline with ``generate-features --lightcurves``
settings. The README reports the result; the demo models stay simulator-trained unless the real
arm is clearly better.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from scope_assets.config import load_config
from scope_assets.io import DataLayout
from scope_assets.ml.model_files.models_root import resolve_models_root
from scope_assets.ml.training.demo_models import train_options, training_set_for
from scope_assets.ml.training.model_training import train_models
from scope_assets.ml.training.training_set import build_training_set
from scope_assets.testing import shared_path
from scope_assets.testing.real_classification import score_features, separation_table
from scope_assets.testing.real_light_curves import RealCurve, load_eros1
from scope_assets.testing.real_recovery import pipeline_features

RETRAINED_TAGS = ["rrab", "rrc", "ea", "wuma"]
REAL_ID_BASE = 3 * 10**13
"""Real stars' ids in the mixed training set: above every simulated SCoPe id."""


def catalogue_tag(curve: RealCurve) -> str:
    """The demo class a catalogue label and period stand for (see the module doc)."""
    if curve.label == "RRL":
        return "rrab" if curve.period > 0.4 else "rrc"
    if curve.label == "EB":
        return "wuma" if curve.period < 1.0 else "ea"
    return {"CEP": "ceph", "MIRA": "mir"}[curve.label]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--models-dir", type=Path, help="the simulator-trained group's root")
    ap.add_argument("--data-dir", type=Path, default=Path("data"), help="training-set cache")
    ap.add_argument("--seed", type=int, default=5)
    args = ap.parse_args()
    config = load_config()
    fg = config.feature_generation.model_copy(update={"long_periods": True})
    lightcurves_config = config.model_copy(update={"feature_generation": fg})

    curves = load_eros1(shared_path("data", "real"), min_quality=0, per_class=None)
    started = time.perf_counter()
    features = pipeline_features(curves, lightcurves_config)
    print(f"features of {len(curves)} EROS-1 stars in {time.perf_counter() - started:.0f} s")
    in_train = np.random.default_rng(args.seed).random(len(curves)) < 0.5
    labels = pd.DataFrame(
        {
            "_id": np.arange(1, len(curves) + 1),
            "source": "eros1",
            "label": [c.label for c in curves],
        }
    )
    held_out = features[~in_train[features["_id"].to_numpy() - 1]]
    simulator_root = resolve_models_root(args.models_dir)

    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        arms = {"simulator": simulator_root, "simulator + real half": scratch / "models"}
        simulated, _ = training_set_for(DataLayout(args.data_dir), config)
        real = features[in_train[features["_id"].to_numpy() - 1]]
        truth = pd.DataFrame(
            {"_id": real["_id"], "class": [catalogue_tag(curves[i - 1]) for i in real["_id"]]}
        )
        real_rows = build_training_set(real, truth, source="EROS-1 half").assign(
            _id=lambda df: df["_id"] + REAL_ID_BASE, survey="eros1_real"
        )
        mixed = pd.concat([simulated, real_rows], ignore_index=True)
        retrained = arms["simulator + real half"]
        options = train_options(config)
        train_models(mixed, RETRAINED_TAGS, ["xgb", "dnn"], config, retrained, options=options)
        tables = []
        for arm, root in arms.items():
            scores = score_features(held_out, root, config, scratch / arm.replace(" ", "_"))
            tables.append(separation_table(scores, labels).assign(arm=arm))
    table = pd.concat(tables, ignore_index=True)
    table = table[table["set"] == "eros1"].drop(columns="set")
    print(f"\nHeld-out EROS-1 half (seed {args.seed}), RR Lyrae vs eclipsing binaries, ROC AUC")
    print(table.set_index(["arm", "algorithm"]).round(3).to_string())


if __name__ == "__main__":
    main()
