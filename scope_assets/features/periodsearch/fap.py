"""False-alarm probabilities of the period-search statistics, and phase bins adapted to N.

Every function works in natural logarithms (``log FAP``), so that significances of strong signals
(FAP ≪ 1e-300) stay finite; ``significance = -log10 FAP``.

* LS: Baluev (2008) for the generalised periodogram with a floating mean (astropy's
  ``fap_baluev``, "standard" normalisation): ``FAP = 1 - (1 - p₁) e^{-τ}``, with the
  single-frequency ``p₁ = (1 - z)^{(N-3)/2}`` and the Davies/Rice term ``τ`` from the highest
  frequency searched and the weighted time spread (the effective number of independent
  frequencies).
* AOV: the F statistic with the *populated* phase bins ``r``: ``F ~ F(r-1, N-r)`` for one
  frequency (exact for Gaussian noise), then ``FAP = 1 - (1 - p₁)^M``.
* CE: conditional entropy is a G-test of independence between phase bin and magnitude bin,
  ``G = 2N (H(mag) - CE) ~ χ²((r-1)(m-1))`` over the populated bins; then
  ``FAP = 1 - (1 - p₁)^M``.

For AOV and CE, ``M`` is the number of trial frequencies: their peaks are narrower than the
grid step (width ~1/(rT) for r phase bins), so grid bins are close to independent. Monte Carlo
on white noise (EROS-1 and ZTF-like sampling, 10 samples per peak): AOV's best peak behaves as
the best of 9-11 independent trials per 1/T, the grid size within ±15 %; CE's as the best of
0.5-1.4 × the grid size (its χ² approximation is rough with ~3 points per cell; Williams'
small-count correction over-corrects the far tail and is not used).
"""

from __future__ import annotations

import math

from numba import njit

from .kernels_phase_binning import MAX_MAG_BINS, MAX_PHASE_BINS

#: phase bins: one per ``POINTS_PER_PHASE_BIN`` points, at least ``MIN_PHASE_BINS``, at most
#: SCoPe's 20
MIN_PHASE_BINS = 5
POINTS_PER_PHASE_BIN = 12
#: CE magnitude bins: about ``POINTS_PER_CE_CELL`` points per phase × magnitude cell, at least
#: ``MIN_MAG_BINS``, at most SCoPe's 10
MIN_MAG_BINS = 3
POINTS_PER_CE_CELL = 3

_EPS = 1e-15
_TINY = 1e-300
_MAX_ITER = 500


@njit(cache=True)
def phase_bins_for(n: int) -> int:
    """Phase bins of CE and AOV for ``n`` points: ``n // 12`` within [5, 20]."""
    return min(MAX_PHASE_BINS, max(MIN_PHASE_BINS, n // POINTS_PER_PHASE_BIN))


@njit(cache=True)
def mag_bins_for(n: int, n_phase: int) -> int:
    """CE magnitude bins for ``n`` points and ``n_phase`` phase bins: ~3 points per cell."""
    return min(MAX_MAG_BINS, max(MIN_MAG_BINS, n // (POINTS_PER_CE_CELL * n_phase)))


@njit(cache=True)
def _log1mexp(x):
    """``log(1 - exp(x))`` for ``x <= 0``, accurate at both ends."""
    if x > -0.693:
        return math.log(-math.expm1(x))
    return math.log1p(-math.exp(x))


@njit(cache=True, inline="always")
def _lentz_step(d, c, a_n, b_n):
    """One modified-Lentz step of a continued fraction ``… a_n / (b_n + …)``: the new ``(d, c)``
    and the factor that multiplies the running value."""
    d = b_n + a_n * d
    d = _TINY if abs(d) < _TINY else d
    c = b_n + a_n / c
    c = _TINY if abs(c) < _TINY else c
    d = 1.0 / d
    return d, c, d * c


@njit(cache=True)
def _betacf(a, b, x):
    """Continued fraction of the incomplete beta function (modified Lentz)."""
    c = 1.0
    d = 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (_TINY if abs(d) < _TINY else d)
    h = d
    for m in range(1, _MAX_ITER + 1):
        m2 = 2 * m
        even = m * (b - m) * x / ((a - 1.0 + m2) * (a + m2))
        d, c, delta = _lentz_step(d, c, even, 1.0)
        h *= delta
        odd = -(a + m) * (a + b + m) * x / ((a + m2) * (a + 1.0 + m2))
        d, c, delta = _lentz_step(d, c, odd, 1.0)
        h *= delta
        if abs(delta - 1.0) < _EPS:
            break
    return h


@njit(cache=True)
def log_betainc(a, b, x):
    """``log I_x(a, b)``, the regularised incomplete beta function."""
    if x <= 0.0:
        return -math.inf
    if x >= 1.0:
        return 0.0
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    if x < (a + 1.0) / (a + b + 2.0):
        return log_front + math.log(_betacf(a, b, x)) - math.log(a)
    return _log1mexp(min(log_front + math.log(_betacf(b, a, 1.0 - x)) - math.log(b), 0.0))


@njit(cache=True)
def log_chi2_sf(x, dof):
    """``log P(χ²_dof > x)`` (regularised upper incomplete gamma ``Q(dof/2, x/2)``)."""
    if not x > 0.0:
        return 0.0
    a = 0.5 * dof
    z = 0.5 * x
    log_front = -z + a * math.log(z) - math.lgamma(a)
    if z < a + 1.0:  # series for the lower function P, then Q = 1 - P
        ap = a
        s = 1.0 / a
        term = s
        for _ in range(_MAX_ITER):
            ap += 1.0
            term *= z / ap
            s += term
            if abs(term) < abs(s) * _EPS:
                break
        return _log1mexp(min(log_front + math.log(s), 0.0))
    b = z + 1.0 - a  # continued fraction for Q (modified Lentz)
    c = 1.0 / _TINY
    d = 1.0 / b
    h = d
    for i in range(1, _MAX_ITER + 1):
        b += 2.0
        d, c, delta = _lentz_step(d, c, -i * (i - a), b)
        h *= delta
        if abs(delta - 1.0) < _EPS:
            break
    return log_front + math.log(h)


@njit(cache=True)
def log_fap_of_trials(log_p1, n_trials):
    """``log(1 - (1 - p₁)^M)``: the FAP of the best of ``M`` independent trials."""
    if not n_trials > 1.0:
        return min(log_p1, 0.0)
    if log_p1 + math.log(n_trials) < -30.0:
        return log_p1 + math.log(n_trials)
    p1 = math.exp(log_p1)
    if p1 >= 1.0:
        return 0.0
    return _log1mexp(n_trials * math.log1p(-p1))


@njit(cache=True)
def ls_log_fap(power, n, f_max, t_eff):
    """Baluev's log FAP of GLS ``power`` (standard normalisation) for ``n`` points searched up
    to ``f_max`` (cycles/day); ``t_eff = sqrt(4π Var_w(t))`` (days, weights 1/σ²)."""
    if n < 4 or not power > 0.0:
        return 0.0
    z = min(power, 1.0 - 1e-16)
    nh = n - 1.0
    nk = n - 3.0
    log_gamma = 0.5 * math.log(2.0 / nh) + math.lgamma(0.5 * nh) - math.lgamma(0.5 * (nh - 1.0))
    log_single = 0.5 * nk * math.log1p(-z)
    w = f_max * t_eff
    if not w > 0.0:
        return log_single
    log_tau = (
        log_gamma + math.log(w) + 0.5 * (nk - 1.0) * math.log1p(-z) + 0.5 * math.log(0.5 * nh * z)
    )
    # FAP = 1 - (1 - p1) exp(-tau) = p1 + (1 - p1)(1 - exp(-tau))
    if log_tau < -30.0 and log_single < -30.0:
        hi = max(log_single, log_tau)
        return hi + math.log1p(math.exp(min(log_single, log_tau) - hi))
    tau = math.exp(log_tau)
    return _log1mexp(min(math.log1p(-math.exp(min(log_single, -1e-300))) - tau, -1e-300))


@njit(cache=True)
def aov_log_fap(f_stat, n_populated, n, n_trials):
    """Log FAP of AOV ``f_stat`` with ``n_populated`` phase bins and ``n`` points over
    ``n_trials`` frequencies."""
    d1 = n_populated - 1.0
    d2 = n - n_populated
    if d1 < 1.0 or d2 < 1.0 or not f_stat > 0.0:
        return 0.0
    log_p1 = log_betainc(0.5 * d2, 0.5 * d1, d2 / (d2 + d1 * f_stat))
    return log_fap_of_trials(log_p1, n_trials)


@njit(cache=True)
def ce_log_fap(g_stat, dof, n_trials):
    """Log FAP of the CE G statistic with ``dof`` degrees of freedom over ``n_trials``
    frequencies."""
    if dof < 1 or not g_stat > 0.0:
        return 0.0
    return log_fap_of_trials(log_chi2_sf(g_stat, dof), n_trials)
