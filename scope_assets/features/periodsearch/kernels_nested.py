"""The nested ELS_ECE_EAOV choice: LS and CE candidates judged by their false-alarm probabilities.

The rule and its reasons are in the ``search`` module docstring; this module implements it for one
light curve (called by ``kernels_driver.search_curve``).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from .fap import aov_log_fap, ls_log_fap
from .kernels_ls import TWO_PI, gls_at
from .kernels_phase_binning import aov_at_frequency, aov_at_index
from .kernels_shared import frac

#: a statistic "supports" a candidate when its FAP is at most this (natural log of 1e-3)
LOG_FAP_SUPPORT = math.log(1e-3)
#: handicap (natural log of 1e3) of a candidate inside a terrestrial window
LOG_WINDOW_PENALTY = math.log(1e3)
#: candidates without agreement rank after every agreeing one
_NO_AGREEMENT = 0.0
#: sub-grid refinement: steps per grid step, and the half-width searched (grid steps)
REFINE_SUBSTEPS = 8
REFINE_HALF_WIDTH = 2
#: parameters of the two-harmonic refinement fit (mean, cos/sin at f and 2f)
N_FIT = 5


@njit(cache=True)
def _harmonic_fit_gain(tt, y, w, f):
    """Weighted variance explained, ``bᵀβ``, by a two-harmonic fit (mean, cos/sin of f and 2f)
    at frequency ``f``; ``y`` is weighted-mean-centred, ``w`` normalised weights."""
    a = np.zeros((N_FIT, N_FIT))
    b = np.zeros(N_FIT)
    x = np.empty(N_FIT)
    x[0] = 1.0
    for i in range(tt.size):
        ph = TWO_PI * frac(f * tt[i])
        c1 = math.cos(ph)
        s1 = math.sin(ph)
        x[1] = c1
        x[2] = s1
        x[3] = c1 * c1 - s1 * s1
        x[4] = 2.0 * s1 * c1
        for r in range(N_FIT):
            b[r] += w[i] * x[r] * y[i]
            for q in range(r, N_FIT):
                a[r, q] += w[i] * x[r] * x[q]
    for r in range(N_FIT):
        for q in range(r):
            a[r, q] = a[q, r]
    if abs(np.linalg.det(a)) < 1e-12:
        return -1.0
    return np.dot(b, np.linalg.solve(a, b))


@njit(cache=True)
def _vertex(values, h):
    """Offset (in frequency, steps of ``h`` from the centre of ``values``) of the best value,
    moved to the vertex of the parabola through it and its neighbours; ``values < 0``: not
    evaluated."""
    centre = values.size // 2
    best = centre
    for j in range(values.size):
        if values[j] > values[best]:
            best = j
    offset = h * (best - centre)
    if 0 < best < values.size - 1 and values[best - 1] >= 0.0 and values[best + 1] >= 0.0:
        curv = values[best - 1] - 2.0 * values[best] + values[best + 1]
        if curv < 0.0:
            offset += 0.5 * h * (values[best - 1] - values[best + 1]) / curv
    return offset


@njit(cache=True)
def _refine_fit(tt, wy, w, yy, f, df, two_harmonics):
    """Frequency of the best fit within ``f ± 2 df`` (steps of ``df / 8``, then the parabola
    vertex): a two-harmonic least-squares fit, or one sinusoid (the exact GLS power)."""
    n_steps = REFINE_SUBSTEPS * REFINE_HALF_WIDTH
    h = df / REFINE_SUBSTEPS
    y_weighted = wy / w  # magnitudes minus their weighted mean
    fit = np.full(2 * n_steps + 1, -1.0)
    for j in range(2 * n_steps + 1):
        fj = f + h * (j - n_steps)
        if fj > 0.0 and two_harmonics:
            fit[j] = _harmonic_fit_gain(tt, y_weighted, w, fj)
        elif fj > 0.0:
            fit[j] = gls_at(tt, wy, w, yy, fj)
    return f + _vertex(fit, h)


@njit(cache=True)
def _refine_aov(tt, y, ssq, stot, f, df, nb, sy):
    """Centre of the highest run of AOV F within ``f ± 2 df`` (steps of ``df / 8``)."""
    n_steps = REFINE_SUBSTEPS * REFINE_HALF_WIDTH
    best = -1.0
    first = 0
    last = 0
    for j in range(-n_steps, n_steps + 1):
        fj = f + df * j / REFINE_SUBSTEPS
        if not fj > 0.0:
            continue
        a, _ = aov_at_frequency(tt, y, ssq, stot, fj, nb, sy)
        if a > best:
            best = a
            first = j
            last = j
        elif a == best and last == j - 1:
            last = j
    return f + df * 0.5 * (first + last) / REFINE_SUBSTEPS


@njit(cache=True)
def _score_candidates(ctx, cand, n_cand, refine, keep):
    """Per candidate: AOV-refined grid index, log FAPs (AOV, LS at f, LS at 2f) and rank key."""
    tt, y, ssq, stot, ph0, inc, wy, w, yy, f0, df, nf, f_top, t_eff, nb, sy = ctx
    n = tt.size
    idx = np.full(n_cand, -1, dtype=np.int64)
    log_a = np.zeros(n_cand)
    log_l1 = np.zeros(n_cand)
    log_l2 = np.zeros(n_cand)
    key = np.full(n_cand, math.inf)
    for j in range(n_cand):
        best_f = -1.0
        best_r = 0
        for k in range(max(cand[j] - refine, 0), min(cand[j] + refine, nf - 1) + 1):
            a, r = aov_at_index(ph0, inc, y, ssq, stot, k, nb, sy)
            if a > best_f:
                best_f = a
                best_r = r
                idx[j] = k
        f = f0 + df * idx[j]
        log_a[j] = aov_log_fap(best_f, best_r, n, nf)
        log_l1[j] = ls_log_fap(gls_at(tt, wy, w, yy, f), n, f_top, t_eff)
        if 2.0 * f <= f_top:
            log_l2[j] = ls_log_fap(gls_at(tt, wy, w, yy, 2.0 * f), n, f_top, t_eff)
        log_ls = min(log_l1[j], log_l2[j])
        if log_ls <= LOG_FAP_SUPPORT and log_a[j] <= LOG_FAP_SUPPORT:
            key[j] = log_ls + log_a[j]
        else:
            key[j] = _NO_AGREEMENT + min(log_l1[j], log_a[j])
        if keep[idx[j]] == 0:
            key[j] += LOG_WINDOW_PENALTY
    return idx, log_a, log_l1, log_l2, key


@njit(cache=True)
def nested_select(ctx, cand, n_cand, refine, keep, n_top, min_log_sep, topf, topz):
    """Choose the nested period among the candidate grid indices ``cand[:n_cand]``.

    ``ctx`` bundles the light curve and its grid (see ``kernels_driver``); ``keep`` is the
    terrestrial mask (all ones when windows are off). Writes the ranked, isolated candidates to
    ``topf``/``topz`` (frequency, significance = -log10 AOV FAP), the winner first and refined
    below the grid step.
    """
    tt, y, ssq, stot, ph0, inc, wy, w, yy, f0, df, nf, f_top, t_eff, nb, sy = ctx
    idx, log_a, log_l1, log_l2, key = _score_candidates(ctx, cand, n_cand, refine, keep)
    order = np.argsort(key, kind="mergesort")
    win = order[0]
    f_win = f0 + df * idx[win]
    if log_l1[win] <= min(log_l2[win], LOG_FAP_SUPPORT):
        f_best = _refine_fit(tt, wy, w, yy, f_win, df, True)
    elif log_l2[win] <= LOG_FAP_SUPPORT:  # the power is at 2f (eclipsing binaries)
        f_best = 0.5 * _refine_fit(tt, wy, w, yy, 2.0 * f_win, 2.0 * df, False)
    else:
        f_best = _refine_aov(tt, y, ssq, stot, f_win, df, nb, sy)
    ln10 = math.log(10.0)
    topf[0] = f_best
    topz[0] = -log_a[win] / ln10
    found = 1
    for o in order[1:]:
        if found >= n_top:
            break
        lf = math.log(f0 + df * idx[o])
        ok = True
        for a in range(found):
            if abs(lf - math.log(topf[a])) < min_log_sep:
                ok = False
                break
        if ok:
            topf[found] = f0 + df * idx[o]
            topz[found] = -log_a[o] / ln10
            found += 1
