"""Conditional entropy and AOV by fixed-point fold-and-bin (20 phase bins; CE also 10 mag bins)."""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from .kernels_shared import FASTMATH, frac

#: Phase bins of CE and AOV and magnitude bins of CE (SCoPe / periodfind hard-code these).
N_PHASE_BINS = 20
N_MAG_BINS = 10
#: Row stride of the CE cell histogram: cell = phase_bin * _CELL_STRIDE + mag_bin.
_CELL_STRIDE = N_MAG_BINS


@njit(cache=True, inline="always")
def _u64_from_frac(x):
    """Fixed-point (2**-64 cycles) value of a phase ``x`` in [0, 1), truncated exactly."""
    y = x * 4294967296.0
    hi = math.floor(y)
    lo = math.floor((y - hi) * 4294967296.0)
    return (np.uint64(hi) << np.uint64(32)) + np.uint64(lo)


@njit(cache=True)
def ce_mag_bins(mag):
    """CE magnitude bin (0..9) of each point.

    Magnitudes are rescaled per curve to [5e-4, 0.9995] as periodfind does,
    ``u = 5e-4 + 0.999 * (m - min) / (max - min)``, and binned as ``floor(10 u)``; a constant curve
    puts every point in bin 0.
    """
    lo = mag.min()
    span = mag.max() - lo
    out = np.zeros(mag.size, dtype=np.int64)
    if span > 0.0:
        for i in range(mag.size):
            u = 5e-4 + 0.999 * ((mag[i] - lo) / span)
            b = int(math.floor(u * N_MAG_BINS))
            out[i] = min(max(b, 0), N_MAG_BINS - 1)
    return out


@njit(cache=True)
def fixed_point_phases(tt, f0, df):
    """``(ph0, inc)`` as uint64 fractions of a cycle: phase at ``f0`` and its change per ``df``.

    Phase at grid index k is ``ph0 + k*inc (mod 2**64)``, exact integer arithmetic; the
    only rounding is in ``ph0``/``inc`` (≲1e-16 cycles, ≲1e-11 after 1e6 steps).
    """
    n = tt.size
    ph0 = np.empty(n, dtype=np.uint64)
    inc = np.empty(n, dtype=np.uint64)
    for i in range(n):
        ph0[i] = _u64_from_frac(frac(f0 * tt[i]))
        inc[i] = _u64_from_frac(frac(df * tt[i]))
    return ph0, inc


@njit(cache=True, inline="always")
def _phase_bin(p):
    # floor(20 * p / 2**64) from the top 32 bits: (p >> 32) * 20 < 2**37 fits in uint64
    return ((p >> np.uint64(32)) * np.uint64(N_PHASE_BINS)) >> np.uint64(32)


@njit(cache=True)
def xlogx_table(n):
    """``k ln k`` for k = 0..n (0 ln 0 = 0)."""
    out = np.zeros(n + 1)
    for k in range(2, n + 1):
        out[k] = k * math.log(k)
    return out


@njit(cache=True, fastmath=FASTMATH, inline="always")
def _ce_aov_reduce(cnt, sy, xlx, n, ssq, stot, do_ce, do_aov):
    """CE = Σ_ij p_ij ln(p_j/p_ij) = (Σ_j n_j ln n_j − Σ_ij n_ij ln n_ij)/N and AOV F from the
    cell counts ``cnt`` and cell sums of y ``sy`` (cell = phase_bin * 10 + mag_bin)."""
    h = 0.0
    between = 0.0
    for b in range(N_PHASE_BINS):
        nb = 0
        yb = 0.0
        for j in range(N_MAG_BINS):
            q = cnt[b * _CELL_STRIDE + j]
            nb += q
            if do_ce:
                h -= xlx[q]
            if do_aov:
                yb += sy[b * _CELL_STRIDE + j]
        if do_ce:
            h += xlx[nb]
        if do_aov and nb > 0:
            between += yb * yb / nb
    ce = h / n
    aov = math.nan
    if do_aov:
        r = N_PHASE_BINS
        aov = ((n - r) / (r - 1.0)) * (between - stot * stot / n) / (ssq - between)
    return ce, aov


@njit(cache=True, fastmath=FASTMATH)
def fold_bin(tt, mag, f0, df, nf, do_ce, do_aov, ce_out, aov_out):
    """Exhaustive CE (20 phase × 10 mag bins) and/or AOV (20 phase bins) on ``f0 + df*k``.

    Phase is ``frac(f * (t - t_min))`` held as a uint64 fixed-point fraction advanced by an
    integer increment per grid step; phase bin = ``floor(20 * phase)``. Per frequency one
    vectorised loop computes every point's cell code, a second scatters counts (and y sums for
    AOV) into 20×10 cells. AOV is unweighted:
    ``F = (N-r)/(r-1) · Σ n_b(ȳ_b-ȳ)² / ΣΣ(y-ȳ_b)²`` with r = 20 (empty bins count in r).
    """
    n = tt.size
    ph, inc = fixed_point_phases(tt, f0, df)
    mb = ce_mag_bins(mag).astype(np.uint32)
    ybar = mag.mean()
    y = mag - ybar
    ssq = 0.0
    stot = 0.0
    for i in range(n):
        ssq += y[i] * y[i]
        stot += y[i]
    xlx = xlogx_table(n)
    # unsigned indices: numba emits no negative-index wraparound check for them
    code = np.empty(n, dtype=np.uint32)
    cnt = np.zeros(N_PHASE_BINS * _CELL_STRIDE, dtype=np.uint32)
    sy = np.zeros(N_PHASE_BINS * _CELL_STRIDE)
    for k in range(nf):
        for i in range(n):
            p = ph[i]
            code[i] = np.uint32(_phase_bin(p)) * np.uint32(_CELL_STRIDE) + mb[i]
            ph[i] = p + inc[i]
        cnt[:] = 0
        if do_aov:
            sy[:] = 0.0
            for i in range(n):
                cd = code[i]
                cnt[cd] += 1
                sy[cd] += y[i]
        else:
            for i in range(n):
                cnt[code[i]] += 1
        ce, aov = _ce_aov_reduce(cnt, sy, xlx, n, ssq, stot, do_ce, do_aov)
        if do_ce:
            ce_out[k] = ce
        if do_aov:
            aov_out[k] = aov


@njit(cache=True, fastmath=FASTMATH)
def aov_at_index(ph0, inc, y, ssq, stot, k, nb, sy):
    """AOV F at grid index ``k`` (same fixed-point phases as :func:`fold_bin`, so identical);
    ``nb`` (int64) and ``sy`` (float64) are scratch arrays of :data:`N_PHASE_BINS`."""
    n = y.size
    nb[:] = 0
    sy[:] = 0.0
    kk = np.uint64(k)
    for i in range(n):
        b = _phase_bin(ph0[i] + kk * inc[i])
        nb[b] += 1
        sy[b] += y[i]
    between = 0.0
    for b in range(N_PHASE_BINS):
        if nb[b] > 0:
            between += sy[b] * sy[b] / nb[b]
    r = N_PHASE_BINS
    return ((n - r) / (r - 1.0)) * (between - stot * stot / n) / (ssq - between)
