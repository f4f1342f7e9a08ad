"""Scoring a found period against a known one: exact, harmonic (P/2, 2P, …), alias or miss."""

from __future__ import annotations

import math

#: harmonic ratios found/true reported as "harmonic" (P/2 and 2P first: eclipsing binaries)
HARMONIC_RATIOS: tuple[tuple[str, float], ...] = (
    ("P/2", 0.5),
    ("2P", 2.0),
    ("P/3", 1 / 3),
    ("3P", 3.0),
    ("P/4", 0.25),
    ("4P", 4.0),
    ("P/5", 0.2),
    ("5P", 5.0),
)
#: alias spacings (cycles/day): solar day, sidereal day, year
ALIAS_SPACINGS = (1.0, 1.0 / 0.99726957, 1.0 / 365.25)


def match_label(found: float, true: float, *, tol: float = 0.01) -> str:
    """Detailed relation of a found period to the true one (days).

    ``"P"`` (|found/true - 1| < tol), ``"P/2"``, ``"2P"``, ``"P/3"`` … ``"5P"`` (same tolerance on
    the ratio), ``"alias"`` (frequency within ``tol * f`` of ``|h·f_true + n·s|`` for h ∈ {1, 2,
    1/2}, n = ±1…±3 and s a solar-day, sidereal-day or yearly spacing), else ``"miss"``;
    ``"nan"`` if either period is not a positive finite number.
    """
    if not (math.isfinite(found) and math.isfinite(true) and found > 0 and true > 0):
        return "nan"
    r = found / true
    if abs(r - 1.0) < tol:
        return "P"
    for label, h in HARMONIC_RATIOS:
        if abs(r / h - 1.0) < tol:
            return label
    ff, ft = 1.0 / found, 1.0 / true
    for h in (1.0, 2.0, 0.5):
        for s in ALIAS_SPACINGS:
            for k in (1, 2, 3):
                for sign in (-1.0, 1.0):
                    fa = abs(h * ft + sign * k * s)
                    if abs(ff - fa) < tol * max(ff, fa):
                        return "alias"
    return "miss"


def classify_period_match(found: float, true: float, *, tol: float = 0.01) -> str:
    """``"exact"``, ``"harmonic"`` (P/2, 2P, … 5P), ``"alias"`` or ``"miss"`` (see :func:`match_label`)."""
    label = match_label(found, true, tol=tol)
    if label == "P":
        return "exact"
    if label in ("alias", "miss"):
        return label
    if label == "nan":
        return "miss"
    return "harmonic"
