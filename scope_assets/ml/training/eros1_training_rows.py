"""Labelled real stars for the demo training set: the training half of EROS-1's development set.

Simulated curves alone leave the DNN's eclipsing-binary score near chance on real EROS-1 stars
(ROC AUC 0.57 for binaries vs RR Lyrae; ``bench/finetune_real.py``): its ``wuma`` classifier fires
on real RR Lyrae. Adding half of the real labelled stars to the simulated training set lifts it to
0.85-0.89 on the other half (depending on the training seed), so the committed demo models are
trained on both, and every evaluation on EROS-1 (``make eval-real``,
``tests/test_real_classification.py``) scores the other half only.

The halves are fixed by the star's name (:func:`is_eros1_training_star`: the first byte of its
SHA-256, even → training), not by file order or a random draw, so they never change when the
file is reordered or read in part. The catalogue's broad types become demo classes by period
(:func:`catalogue_class`); every quality index (0-3) is used, as the evaluation does.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from scope_assets.config import ScopeConfig
from scope_assets.features.pipeline import lightcurves_mode
from scope_assets.ml.training.catalogue_curves import (
    EROS1_FILES,
    RealCurve,
    eros1_folder,
    load_eros1,
    real_curves_to_raw,
)
from scope_assets.ml.training.training_set import build_training_set

REAL_ID_BASE = 3 * 10**13
"""Real stars' ids in the training set: above every simulated SCoPe id (``1`` + field …)."""
SPLIT_RULE = "sha256(name)[0] even"
"""The training-half rule, recorded with the cached rows."""
EROS1_SURVEY = "eros1_real"
"""The ``survey`` column of the real rows (simulated rows say ``ztf``, ``eros1`` …)."""


def is_eros1_training_star(name: str) -> bool:
    """Whether an EROS-1 star (``train.csv``'s first column) is in the training half."""
    return hashlib.sha256(name.encode()).digest()[0] % 2 == 0


def catalogue_class(curve: RealCurve) -> str:
    """The demo class of a catalogue type and period: RR Lyrae with P > 0.4 d ``rrab``, else
    ``rrc``; eclipsing binaries with P < 1 d ``wuma``, else ``ea``; ``ceph``; ``mir``."""
    if curve.label == "RRL":
        return "rrab" if curve.period > 0.4 else "rrc"
    if curve.label == "EB":
        return "wuma" if curve.period < 1.0 else "ea"
    return {"CEP": "ceph", "MIRA": "mir"}[curve.label]


def real_curve_features(curves: Sequence[RealCurve], config: ScopeConfig) -> pd.DataFrame:
    """The feature rows of the curves (``_id`` = position + 1; curves cleaning drops are
    absent), from ``features_for_light_curves`` run with ``config``."""
    from scope_assets.features.pipeline import features_for_light_curves

    features, _ = features_for_light_curves(real_curves_to_raw(curves), None, config)
    return features


def eros1_training_rows(real_root: Path, config: ScopeConfig) -> pd.DataFrame:
    """Training rows (features, ``sim_class``, label columns, ``survey``) of the EROS-1 stars of
    the training half under ``real_root`` (the folder holding ``eros1_ramp/``)."""
    curves = [
        c
        for c in load_eros1(real_root, min_quality=0, per_class=None)
        if is_eros1_training_star(c.name)
    ]
    features = real_curve_features(curves, lightcurves_mode(config))
    position = features["_id"].to_numpy(dtype=np.int64) - 1
    truth = pd.DataFrame(
        {"_id": features["_id"], "class": [catalogue_class(curves[i]) for i in position]}
    )
    source = f"{len(features)} EROS-1 stars (training half of {eros1_folder(real_root)})"
    rows = build_training_set(features, truth, source=source)
    return rows.assign(_id=rows["_id"] + REAL_ID_BASE, survey=EROS1_SURVEY)


def eros1_settings(real_root: Path, config: ScopeConfig) -> dict:
    """What the EROS-1 rows depend on: the two input files' SHA-256, the split rule and the
    feature configuration (``--lightcurves`` mode)."""
    folder = eros1_folder(real_root)
    return {
        "eros1_files": {
            name: hashlib.sha256((folder / name).read_bytes()).hexdigest() for name in EROS1_FILES
        },
        "split": SPLIT_RULE,
        "period_suffix": config.period_suffix,
        "feature_generation": lightcurves_mode(config).feature_generation.model_dump(),
    }
