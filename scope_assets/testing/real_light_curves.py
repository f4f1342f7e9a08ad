"""Real ZTF light curves with catalogue periods, and the period-recovery table over them.

EROS-1's loader is runtime code (:mod:`scope_assets.ml.training.catalogue_curves`: the demo
training set uses half of it).

The loaders read the read-only development set in place (``shared_path("data", "real")``, see its
README); nothing is copied into the repository. Used by ``tests/test_period_real.py`` and
``bench/real_periods.py``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from scope_assets.features.periodsearch import find_periods
from scope_assets.features.periodsearch.grid import (
    TERRESTRIAL_WINDOWS,
    grid_params,
    terrestrial_keep,
)
from scope_assets.features.periodsearch.period_match import HARMONIC_RATIOS, match_label
from scope_assets.lightcurves.batch import LightCurveBatch
from scope_assets.ml.training.catalogue_curves import RealCurve


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


def load_lcurvemaker_oids(root: Path) -> list[RealCurve]:
    """``lcurvemaker_ztf`` as ``generate-features --lightcurves`` reads the raw IRSA files: one
    curve per oid file (every band), catflags == 0, magnitudes as given; named
    ``<star>/<file stem>``. Cleaning then applies SCoPe's cuts (30-min cadence, HJD limit)."""
    d = Path(root) / "lcurvemaker_ztf"
    labels = pd.read_csv(d / "labels.csv")
    out = []
    for _, row in labels.iterrows():
        for fname in str(row["ztf_files"]).split(";"):
            x = pd.read_csv(d / "ztf" / fname)
            x = x[x["catflags"] == 0].sort_values("hjd", kind="stable")
            out.append(
                RealCurve(
                    "lcurvemaker_oids",
                    f"{row['nick']}/{Path(fname).stem}",
                    str(row["vsx_type"]),
                    float(row["period_d"]),
                    x["hjd"].to_numpy(float),
                    x["mag"].to_numpy(float),
                    x["magerr"].to_numpy(float),
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


RESOLUTION_FRACTION = 0.5
"""A period whose frequency lies within this many 1/T (T: the curve's baseline, days) of the
catalogue frequency or a harmonic's counts as found: the periodogram peak is 1/T wide, so a
Mira seen for three cycles cannot be told apart from one 5 % longer, and 1 % would call that a
miss. The simulated-sky tests count exact periods the same way."""


def resolved_match_label(found: float, true: float, baseline_days: float, tol: float = 0.01) -> str:
    """:func:`match_label`, but a miss or alias whose frequency is within
    :data:`RESOLUTION_FRACTION` / ``baseline_days`` of ``1/true`` (``"P"``) or of a harmonic's
    (``"P/2"``, ``"2P"`` … ``"5P"``) gets that label."""
    label = match_label(found, true, tol=tol)
    if label not in ("miss", "alias") or not baseline_days > 0:
        return label
    width = RESOLUTION_FRACTION / baseline_days
    for name, ratio in (("P", 1.0), *HARMONIC_RATIOS):
        if abs(1.0 / found - 1.0 / (ratio * true)) <= width:
            return name
    return label


def match_table(
    curves: Sequence[RealCurve], found: dict[str, np.ndarray], *, tol: float = 0.01
) -> pd.DataFrame:
    """One row per curve: source, object, class, quality, points, baseline (days), catalogue
    period, and per algorithm (key of ``found``: periods in days, NaN = none) the period, its
    :func:`match_label` and (column ``<algorithm>_resolved``) its :func:`resolved_match_label`."""
    rows = []
    for i, c in enumerate(curves):
        baseline = float(np.ptp(c.t)) if len(c.t) else math.nan
        row = {"source": c.source, "object": c.name, "class": c.label, "quality": c.quality}
        row |= {"n": len(c.t), "T": baseline, "P_cat": c.period}
        for a, periods in found.items():
            row[f"P_{a}"] = periods[i]
            row[a] = match_label(periods[i], c.period, tol=tol)
            row[f"{a}_resolved"] = resolved_match_label(periods[i], c.period, baseline, tol=tol)
        rows.append(row)
    return pd.DataFrame(rows)
