"""Real light curves with catalogue classes and periods: EROS-1's labelled LMC stars.

The EROS-1 development set (``eros1_ramp/`` of the shared real data: ``train.csv`` with the
catalogue's type, quality and period, ``train_varlength_features.csv.gz`` with the photometry) is
read in place, never copied. The demo training set adds the labelled stars of its training half
(:mod:`scope_assets.ml.training.eros1_training_rows`); the evaluation scores the other half.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from scope_assets.errors import ScopeError
from scope_assets.lightcurves.irsa import long_table_to_raw
from scope_assets.lightcurves.raw import RawLightCurves


@dataclass(frozen=True)
class RealCurve:
    """One real light curve with its catalogue class and period (days)."""

    source: str
    name: str
    label: str  # broad class / type
    period: float
    t: np.ndarray
    mag: np.ndarray
    magerr: np.ndarray
    quality: float = math.nan  # EROS-1's human quality index 0-3 (NaN elsewhere)


#: EROS-1 ``type`` code → class label
EROS_TYPES = {1: "EB", 2: "CEP", 3: "RRL", 4: "MIRA"}
#: HJD added to EROS-1's survey-relative days (290-1184; the kit states no origin): 1990-01-01,
#: a nominal origin that puts the times in HJD's plausible range; periods use differences only
EROS1_HJD_ORIGIN = 2447892.5
EROS1_FILES = ("train.csv", "train_varlength_features.csv.gz")
"""The two files of ``eros1_ramp/`` the loader reads."""


def eros1_folder(root: Path) -> Path:
    """``root/eros1_ramp``, checked to hold :data:`EROS1_FILES`."""
    folder = Path(root) / "eros1_ramp"
    missing = [name for name in EROS1_FILES if not (folder / name).is_file()]
    if missing:
        raise ScopeError(
            f"EROS-1 development set {folder} lacks {missing} (expected {list(EROS1_FILES)})"
        )
    return folder


def load_eros1(
    root: Path,
    *,
    band: str = "b",
    min_quality: int = 2,
    per_class: int | None = 10,
    types: Sequence[int] = (1, 2, 3, 4),
    max_err: float = 0.5,
) -> list[RealCurve]:
    """``eros1_ramp`` under ``root``: first ``per_class`` stars (``None``: all) of each type with
    ``quality >= min_quality``; points with error < ``max_err`` and mag < 24.9; true period =
    ``period / div_period``; times in HJD from :data:`EROS1_HJD_ORIGIN`."""
    d = eros1_folder(root)
    meta = pd.read_csv(d / EROS1_FILES[0])
    var = pd.read_csv(d / EROS1_FILES[1])
    out = []
    for typ in types:
        rows = meta.index[(meta["type"] == typ) & (meta["quality"] >= min_quality)][:per_class]
        for i in rows:
            t = EROS1_HJD_ORIGIN + np.array(
                ast.literal_eval(var.loc[i, f"time_points_{band}"]), dtype=float
            )
            m = np.array(ast.literal_eval(var.loc[i, f"light_points_{band}"]), dtype=float)
            e = np.array(ast.literal_eval(var.loc[i, f"error_points_{band}"]), dtype=float)
            ok = (e < max_err) & (m < 24.9)
            out.append(
                RealCurve(
                    "eros1",
                    str(meta.iloc[i, 0]),
                    EROS_TYPES[typ],
                    float(meta.loc[i, "period"] / meta.loc[i, "div_period"]),
                    t[ok],
                    m[ok],
                    e[ok],
                    float(meta.loc[i, "quality"]),
                )
            )
    return out


def real_curves_to_raw(curves: Sequence[RealCurve]) -> RawLightCurves:
    """The curves as a ``generate-features`` long table would give them: ``_id`` = position + 1,
    ``hjd``, ``mag``, ``magerr`` (no filter, catflags or programid columns)."""
    lengths = [len(c.t) for c in curves]
    table = pd.DataFrame(
        {
            "_id": np.repeat(np.arange(1, len(curves) + 1, dtype=np.int64), lengths),
            "hjd": np.concatenate([c.t for c in curves]),
            "mag": np.concatenate([c.mag for c in curves]),
            "magerr": np.concatenate([c.magerr for c in curves]),
        }
    )
    return long_table_to_raw(table, source="real catalogue light curves")
