"""Periodogram statistics on the kept grid and selection of isolated peaks (candidates)."""

from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(cache=True)
def kept_stats(v, keep):
    """``(mean, std, max)`` of ``v`` over kept, finite bins (population std; NaN if none)."""
    cnt = 0
    shift = math.nan
    s1 = 0.0
    s2 = 0.0
    vmax = -math.inf
    for k in range(v.size):
        x = v[k]
        if keep[k] and math.isfinite(x):
            if cnt == 0:
                shift = x
            d = x - shift
            s1 += d
            s2 += d * d
            cnt += 1
            if x > vmax:
                vmax = x
    if cnt == 0:
        return math.nan, math.nan, math.nan
    m = s1 / cnt
    return shift + m, math.sqrt(max(s2 / cnt - m * m, 0.0)), vmax


@njit(cache=True)
def _collect_peaks(v, keep, sign, thr, idx):
    """Kept local maxima of ``sign * v`` with value >= thr into ``idx``; returns their count."""
    n = v.size
    npk = 0
    for i in range(n):
        x = sign * v[i]
        if not x >= thr or keep[i] == 0:  # also skips NaN
            continue
        if i > 0 and keep[i - 1] and sign * v[i - 1] > x:
            continue
        if i + 1 < n and keep[i + 1] and sign * v[i + 1] >= x:
            continue
        idx[npk] = i
        npk += 1
    return npk


@njit(cache=True)
def isolated_peaks(v, keep, f0, df, sign, n_top, min_log_sep, out_idx, hint=-math.inf):
    """Indices of the ``n_top`` highest isolated peaks of ``sign * v`` (sign=-1: minima).

    A peak is a kept bin not exceeded by its kept neighbours (masked neighbours are ignored, so
    the global kept maximum is always a peak; plateaus count once). Peaks are taken in decreasing
    order and one is skipped if ``|ln f - ln f_a| < min_log_sep`` for an already accepted peak
    ``f_a`` (equivalently, periods within a factor ``exp(min_log_sep)``). Ties go to lower
    frequency. Returns the number found (written to ``out_idx[:count]``).

    ``hint`` (in units of ``sign * v``) is a speed-up only: peaks below it are considered only
    if fewer than ``n_top`` isolated peaks lie above it, so the result does not depend on it.
    """
    n = v.size
    if n_top == 0 or n == 0:
        return 0
    idx = np.empty(n // 2 + 2, dtype=np.int64)
    thr = hint
    while True:
        npk = _collect_peaks(v, keep, sign, thr, idx)
        found = 0
        if npk > 0:
            vals = np.empty(npk)
            for j in range(npk):
                vals[j] = sign * v[idx[j]]
            order = np.argsort(-vals, kind="mergesort")
            for o in order:
                lf = math.log(f0 + df * idx[o])
                ok = True
                for a in range(found):
                    if abs(lf - math.log(f0 + df * out_idx[a])) < min_log_sep:
                        ok = False
                        break
                if ok:
                    out_idx[found] = idx[o]
                    found += 1
                    if found == n_top:
                        break
        if found == n_top or thr == -math.inf:
            return found
        thr = -math.inf
