"""Full periodograms of one light curve on a uniform grid ``f0 + df * k`` (cycles/day, k < nf).

Thin, validated wrappers over the numba kernels, for tests, diagnostics and plots. Points with a
non-finite time, magnitude or error, or an error ≤ 0, are ignored. CE and AOV phases are
``frac(f * (t - t_min))`` over the good points (SCoPe subtracts t_min too); LS does not depend on
the time origin.
"""

from __future__ import annotations

import numpy as np

from .kernels_ls import gls_at, gls_direct, gls_weights
from .kernels_ls_fast import gls_fast
from .kernels_phase_binning import MAX_MAG_BINS, MAX_PHASE_BINS, fold_bin
from .kernels_shared import clean_curve


def _clean(t, mag, magerr):
    t = np.ascontiguousarray(t, dtype=np.float64)
    mag = np.ascontiguousarray(mag, dtype=np.float64)
    magerr = np.ascontiguousarray(magerr, dtype=np.float64)
    if not (t.shape == mag.shape == magerr.shape) or t.ndim != 1:
        raise ValueError("t, mag and magerr must be 1-d arrays of equal length")
    tt, mm, ee, _ = clean_curve(t, mag, magerr)
    if tt.size < 2:
        raise ValueError("need at least 2 good points")
    return tt, mm, ee


def _check_grid(f0: float, df: float, nf: int) -> tuple[float, float, int]:
    if not (np.isfinite(f0) and np.isfinite(df) and df > 0 and f0 >= 0 and nf >= 0):
        raise ValueError("grid needs finite f0 >= 0, df > 0 and nf >= 0")
    return float(f0), float(df), int(nf)


def gls_power(t, mag, magerr, frequency) -> np.ndarray:
    """Generalised Lomb-Scargle power (astropy "standard") at arbitrary frequencies (cycles/day).

    Exact: cos/sin evaluated directly at each frequency.
    """
    tt, mm, ee = _clean(t, mag, magerr)
    _, wy, w, yy = gls_weights(mm, ee)
    freq = np.asarray(frequency, dtype=np.float64)
    return np.array([gls_at(tt, wy, w, yy, f) for f in freq.ravel()]).reshape(freq.shape)


def gls_periodogram(
    t, mag, magerr, f0: float, df: float, nf: int, *, method: str = "direct"
) -> np.ndarray:
    """Generalised Lomb-Scargle power on the uniform grid.

    ``method="direct"``: exhaustive trig recurrence (exact to ~1e-13). ``"fast"``: exact sums on a
    decimated grid plus band-limited interpolation (absolute error ≲1e-8; no exact re-evaluation
    of the maximum here, :func:`find_periods` does that).
    """
    f0, df, nf = _check_grid(f0, df, nf)
    if method not in ("direct", "fast"):
        raise ValueError("method must be 'direct' or 'fast'")
    tt, mm, ee = _clean(t, mag, magerr)
    _, wy, w, yy = gls_weights(mm, ee)
    out = np.empty(nf)
    if method == "fast":
        gls_fast(tt, wy, w, yy, f0, df, nf, out)
    else:
        gls_direct(tt, wy, w, yy, f0, df, nf, out)
    return out


def ce_aov_periodograms(
    t,
    mag,
    f0: float,
    df: float,
    nf: int,
    *,
    n_phase: int = MAX_PHASE_BINS,
    n_mag: int = MAX_MAG_BINS,
) -> tuple[np.ndarray, np.ndarray]:
    """(conditional entropy, AOV F) on the uniform grid, exhaustive fold-and-bin.

    ``n_phase`` × ``n_mag`` bins (default SCoPe's 20 × 10; :func:`find_periods` adapts them to
    the number of points). Errors are not used by either statistic.
    """
    f0, df, nf = _check_grid(f0, df, nf)
    if not (2 <= n_phase <= MAX_PHASE_BINS and 1 <= n_mag <= MAX_MAG_BINS):
        raise ValueError(f"need 2 <= n_phase <= {MAX_PHASE_BINS} and 1 <= n_mag <= {MAX_MAG_BINS}")
    tt, mm, _ = _clean(t, mag, np.ones_like(np.asarray(mag, dtype=np.float64)))
    ce = np.empty(nf)
    aov = np.empty(nf)
    fold_bin(tt, mm, f0, df, nf, int(n_phase), int(n_mag), True, True, ce, aov)
    return ce, aov


def conditional_entropy(t, mag, f0: float, df: float, nf: int, **bins: int) -> np.ndarray:
    """Conditional entropy on the uniform grid (bins as :func:`ce_aov_periodograms`); lower =
    more periodic."""
    return ce_aov_periodograms(t, mag, f0, df, nf, **bins)[0]


def aov_periodogram(t, mag, f0: float, df: float, nf: int, **bins: int) -> np.ndarray:
    """AOV F statistic on the uniform grid (bins as :func:`ce_aov_periodograms`); higher = more
    periodic."""
    return ce_aov_periodograms(t, mag, f0, df, nf, **bins)[1]
