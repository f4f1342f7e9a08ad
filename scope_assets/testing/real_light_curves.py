"""Real light curves with catalogue periods, and the period-recovery table over them.

The loaders read the read-only development set in place (``shared_path("data", "real")``, see its
README); nothing is copied into the repository. Used by ``tests/test_period_real.py`` and
``bench/real_periods.py``.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from scope_assets.features.periodsearch import find_periods
from scope_assets.features.periodsearch.grid import (
    TERRESTRIAL_WINDOWS,
    grid_params,
    terrestrial_keep,
)
from scope_assets.features.periodsearch.period_match import match_label
from scope_assets.lightcurves.batch import LightCurveBatch


@dataclass(frozen=True)
class RealCurve:
    """One real light curve with its catalogue period (days)."""

    source: str
    name: str
    label: str  # broad class / type
    period: float
    t: np.ndarray
    mag: np.ndarray
    magerr: np.ndarray
    quality: float = math.nan  # EROS-1's human quality index 0-3 (NaN elsewhere)


def load_ztfperiodic(
    root: Path, band: str = "r", objects: Sequence[str] | None = None
) -> list[RealCurve]:
    """``ztfperiodic_workflows``: one curve per object in ``band`` (dmag, median-subtracted)."""
    d = Path(root) / "ztfperiodic_workflows"
    labels = pd.read_csv(d / "labels.csv")
    lc = pd.read_csv(d / "lightcurves_long.csv")
    out = []
    for _, row in labels.iterrows():
        name = Path(row["file"]).stem
        if objects is not None and name not in objects:
            continue
        sel = lc[(lc["object"] == name) & (lc["band"] == band)].sort_values("jd")
        if len(sel) == 0:
            continue
        out.append(
            RealCurve(
                "ztfperiodic",
                name,
                str(row["broad_class"]),
                float(row["period_guide_d"]),
                sel["jd"].to_numpy(float),
                sel["dmag"].to_numpy(float),
                sel["dmag_err"].to_numpy(float),
            )
        )
    return out


def load_lcurvemaker(root: Path, band: str = "zr", max_hjd: float | None = None) -> list[RealCurve]:
    """``lcurvemaker_ztf``: per star, all oid files of ``band``, catflags == 0, per-oid median
    subtracted, concatenated and time-sorted. ``max_hjd`` optionally cuts late points."""
    d = Path(root) / "lcurvemaker_ztf"
    labels = pd.read_csv(d / "labels.csv")
    out = []
    for _, row in labels.iterrows():
        parts = []
        for fname in str(row["ztf_files"]).split(";"):
            if f"-{band}" not in fname:
                continue
            x = pd.read_csv(d / "ztf" / fname)
            x = x[x["catflags"] == 0]
            if max_hjd is not None:
                x = x[x["hjd"] <= max_hjd]
            if len(x) == 0:
                continue
            parts.append(
                (
                    x["hjd"].to_numpy(float),
                    (x["mag"] - x["mag"].median()).to_numpy(float),
                    x["magerr"].to_numpy(float),
                )
            )
        if not parts:
            continue
        t = np.concatenate([p[0] for p in parts])
        o = np.argsort(t, kind="stable")
        out.append(
            RealCurve(
                "lcurvemaker",
                str(row["nick"]),
                str(row["vsx_type"]),
                float(row["period_d"]),
                t[o],
                np.concatenate([p[1] for p in parts])[o],
                np.concatenate([p[2] for p in parts])[o],
            )
        )
    return out


#: EROS-1 ``type`` code → class label
EROS_TYPES = {1: "EB", 2: "CEP", 3: "RRL", 4: "MIRA"}
#: HJD added to EROS-1's survey-relative days (290-1184; the kit states no origin): 1990-01-01,
#: a nominal origin that puts the times in HJD's plausible range; periods use differences only
EROS1_HJD_ORIGIN = 2447892.5


def load_eros1(
    root: Path,
    *,
    band: str = "b",
    min_quality: int = 2,
    per_class: int | None = 10,
    types: Sequence[int] = (1, 2, 3, 4),
    max_err: float = 0.5,
) -> list[RealCurve]:
    """``eros1_ramp``: first ``per_class`` stars (``None``: all) of each type with
    ``quality >= min_quality``; points with error < ``max_err`` and mag < 24.9; true period =
    ``period / div_period``; times in HJD from :data:`EROS1_HJD_ORIGIN`."""
    d = Path(root) / "eros1_ramp"
    meta = pd.read_csv(d / "train.csv")
    var = pd.read_csv(d / "train_varlength_features.csv.gz")
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


def astropy_ls_period(
    t: np.ndarray,
    mag: np.ndarray,
    magerr: np.ndarray,
    *,
    max_freq: float = 48.0,
    samples_per_peak: float = 10,
    remove_terrestrial: bool = True,
    method: str = "fast",
) -> float:
    """Best period (days) of astropy's generalised LombScargle on the same grid as ours.

    Evaluated on the full uniform grid (astropy's "fast" method needs a regular grid), then the
    terrestrial bins are masked. Time is passed relative to its minimum (with absolute HJD
    astropy's phases lose ~1e-8 rad at 48 c/d).
    """
    from astropy.timeseries import LombScargle

    f0, df, nf = grid_params(float(t.max() - t.min()), float(max_freq), float(samples_per_peak))
    if nf == 0 or len(t) < 4:
        return math.nan
    freqs = f0 + df * np.arange(nf)
    p = LombScargle(t - t.min(), mag, magerr).power(
        freqs, method=method, assume_regular_frequency=True
    )
    if remove_terrestrial:
        p = np.where(terrestrial_keep(f0, df, nf, TERRESTRIAL_WINDOWS).astype(bool), p, -np.inf)
    return float(1.0 / freqs[np.nanargmax(p)])


def recovery_table(
    curves: Sequence[RealCurve],
    *,
    algorithms: Sequence[str] = ("ELS_ECE_EAOV", "ELS"),
    max_freq: float | Sequence[float] = 48.0,
    with_astropy: bool = True,
    tol: float = 0.01,
    **kwargs,
) -> pd.DataFrame:
    """Run :func:`find_periods` on the curves (one batch per distinct ``max_freq``) and return
    :func:`match_table` of the periods found (plus astropy's LombScargle on the same grid when
    ``with_astropy``).

    ``max_freq`` (cycles/day) may be one value per curve.
    """
    mf = np.broadcast_to(np.asarray(max_freq, dtype=float), (len(curves),))
    found = {a: np.full(len(curves), np.nan) for a in algorithms}
    for fmax in np.unique(mf):
        idx = np.flatnonzero(mf == fmax)
        batch = LightCurveBatch.from_curves(
            idx, [(curves[i].t, curves[i].mag, curves[i].magerr) for i in idx]
        )
        res = find_periods(batch, algorithms=algorithms, max_freq=float(fmax), **kwargs)
        for a in algorithms:
            found[a][idx] = res[a].period
    tab = match_table(curves, found, tol=tol)
    if with_astropy:
        p = [
            _astropy_period(c, float(mf[i]), kwargs.get("samples_per_peak", 10), kwargs)
            for i, c in enumerate(curves)
        ]
        tab["P_astropy"] = p
        tab["astropy"] = [match_label(x, c.period, tol=tol) for x, c in zip(p, curves, strict=True)]
    return tab


def _astropy_period(c: RealCurve, max_freq: float, samples_per_peak: float, kwargs) -> float:
    good = np.isfinite(c.t) & np.isfinite(c.mag) & np.isfinite(c.magerr) & (c.magerr > 0)
    return astropy_ls_period(
        c.t[good],
        c.mag[good],
        c.magerr[good],
        max_freq=max_freq,
        samples_per_peak=samples_per_peak,
        remove_terrestrial=kwargs.get("remove_terrestrial", True),
    )


def match_table(
    curves: Sequence[RealCurve], found: dict[str, np.ndarray], *, tol: float = 0.01
) -> pd.DataFrame:
    """One row per curve: source, object, class, quality, points, catalogue period, and per
    algorithm (key of ``found``: periods in days, NaN = none) the period and its
    :func:`match_label`."""
    rows = []
    for i, c in enumerate(curves):
        row = {"source": c.source, "object": c.name, "class": c.label, "quality": c.quality}
        row |= {"n": len(c.t), "P_cat": c.period}
        for a, periods in found.items():
            row[f"P_{a}"] = periods[i]
            row[a] = match_label(periods[i], c.period, tol=tol)
        rows.append(row)
    return pd.DataFrame(rows)
