"""Fine-tuning experiment: do real EROS-1 labels help the RR Lyrae / eclipsing-binary classifiers?

Usage::

    .venv/bin/python bench/finetune_real.py [--models-dir DIR] [--data-dir DIR] [--seeds 1 2 3]

The EROS-1 development set is split in two halves by star name (``is_eros1_training_star``). Two
arms are scored on the same held-out half, by the ROC AUC of the RR Lyrae score (max
``rrab``/``rrc``) and of the eclipsing-binary score (max ``ea``/``wuma``) for RRL vs EB:

* ``simulator only``: the four classifiers ``rrab rrc ea wuma`` trained here, with the demo's
  options, on the simulated rows of the demo training set alone (ZTF sky + simulated EROS-1 and
  Stripe 82 stars);
* ``simulator + EROS-1 half``: the committed demo group, trained by ``make models`` on the same
  simulated rows plus the labelled real stars of the training half
  (:mod:`scope_assets.ml.training.eros1_training_rows`);
* with ``--seeds``, one more arm per seed: the four classifiers trained here on the committed
  group's training set (simulated + real half) with that seed (which also draws the split), to
  show how much the DNN varies with it.

Features of the real stars come from the pipeline with ``generate-features --lightcurves``
settings. The README reports the result.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from scope_assets.config import load_config
from scope_assets.features.pipeline import lightcurves_mode
from scope_assets.io import DataLayout
from scope_assets.ml.model_files.models_root import resolve_models_root
from scope_assets.ml.training.catalogue_curves import load_eros1
from scope_assets.ml.training.demo_models import train_options, training_set_for
from scope_assets.ml.training.eros1_training_rows import (
    EROS1_SURVEY,
    is_eros1_training_star,
    real_curve_features,
)
from scope_assets.ml.training.model_training import train_models
from scope_assets.testing import shared_path
from scope_assets.testing.real_classification import score_features, separation_table

RETRAINED_TAGS = ["rrab", "rrc", "ea", "wuma"]
REAL = shared_path("data", "real")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--models-dir", type=Path, help="the committed group's root")
    ap.add_argument("--data-dir", type=Path, default=Path("data"), help="training-set cache")
    ap.add_argument("--seeds", type=int, nargs="*", default=[], help="retrain with these seeds")
    args = ap.parse_args()
    config = load_config()

    held_out = [
        c
        for c in load_eros1(REAL, min_quality=0, per_class=None)
        if not is_eros1_training_star(c.name)
    ]
    started = time.perf_counter()
    features = real_curve_features(held_out, lightcurves_mode(config))
    print(
        f"features of {len(held_out)} held-out EROS-1 stars in {time.perf_counter() - started:.0f} s"
    )
    labels = pd.DataFrame(
        {
            "_id": np.arange(1, len(held_out) + 1),
            "source": "eros1",
            "label": [c.label for c in held_out],
        }
    )
    training_set, _ = training_set_for(DataLayout(args.data_dir), config, eros1_root=REAL)
    simulated = training_set[training_set["survey"] != EROS1_SURVEY].reset_index(drop=True)

    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        arms = {
            "simulator only": scratch / "models",
            "simulator + EROS-1 half": resolve_models_root(args.models_dir),
        }
        to_train = {"simulator only": (simulated, train_options(config))}
        for seed in args.seeds:
            arm = f"simulator + EROS-1 half, seed {seed}"
            arms[arm] = scratch / f"seed_{seed}"
            to_train[arm] = (training_set, train_options(config, seed=seed))
        for arm, (rows, options) in to_train.items():
            train_models(rows, RETRAINED_TAGS, ["xgb", "dnn"], config, arms[arm], options=options)
        tables = []
        for arm, root in arms.items():
            scores = score_features(features, root, config, scratch / f"scores_{len(tables)}")
            tables.append(separation_table(scores, labels).assign(arm=arm))
    table = pd.concat(tables, ignore_index=True)
    table = table[table["set"] == "eros1"].drop(columns="set")
    print("\nHeld-out EROS-1 half, RR Lyrae vs eclipsing binaries, ROC AUC")
    print(table.set_index(["arm", "algorithm"]).round(3).to_string())


if __name__ == "__main__":
    main()
