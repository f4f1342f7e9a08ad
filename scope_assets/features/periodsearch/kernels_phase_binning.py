"""Conditional entropy and AOV by fixed-point fold-and-bin, with phase and magnitude bins given per
light curve (``fap.phase_bins_for`` / ``fap.mag_bins_for``; SCoPe hard-codes 20 × 10).

Cells are laid out for the largest case, SCoPe's 20 phase × 10 magnitude bins (cell =
phase_bin * 10 + mag_bin); fewer bins leave cells empty, which add nothing to either statistic,
so the reductions keep compile-time bounds (unrolled, as fast as SCoPe's fixed layout)."""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from .kernels_shared import FASTMATH, frac

#: SCoPe's (and periodfind's) phase and CE magnitude bins: the most the cell layout holds.
MAX_PHASE_BINS = 20
MAX_MAG_BINS = 10
_N_CELLS = MAX_PHASE_BINS * MAX_MAG_BINS


@njit(cache=True, inline="always")
def _u64_from_frac(x):
    """Fixed-point (2**-64 cycles) value of a phase ``x`` in [0, 1), truncated exactly."""
    y = x * 4294967296.0
    hi = math.floor(y)
    lo = math.floor((y - hi) * 4294967296.0)
    return (np.uint64(hi) << np.uint64(32)) + np.uint64(lo)


@njit(cache=True)
def ce_mag_bins(mag, n_mag):
    """CE magnitude bin (0 .. n_mag-1) of each point.

    Magnitudes are rescaled per curve to [5e-4, 0.9995] as periodfind does,
    ``u = 5e-4 + 0.999 * (m - min) / (max - min)``, and binned as ``floor(n_mag u)``; a constant
    curve puts every point in bin 0.
    """
    lo = mag.min()
    span = mag.max() - lo
    out = np.zeros(mag.size, dtype=np.int64)
    if span > 0.0:
        for i in range(mag.size):
            u = 5e-4 + 0.999 * ((mag[i] - lo) / span)
            b = int(math.floor(u * n_mag))
            out[i] = min(max(b, 0), n_mag - 1)
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
def _phase_bin(p, n_phase):
    """``floor(r * p / 2**64)`` from the top 27 bits of the phase, in uint32 arithmetic (which
    vectorises): ``(p >> 37) * r < 2**32`` for ``r = n_phase <= 32`` (a uint32)."""
    return (np.uint32(p >> np.uint64(37)) * n_phase) >> np.uint32(27)


@njit(cache=True)
def xlogx_table(n):
    """``k ln k`` for k = 0..n (0 ln 0 = 0)."""
    out = np.zeros(n + 1)
    for k in range(2, n + 1):
        out[k] = k * math.log(k)
    return out


@njit(cache=True, fastmath=FASTMATH, inline="always")
def _ce_aov_reduce(cnt, sy, xlx, n, ssq, stot, n_phase, do_ce, do_aov):
    """CE = Σ_ij p_ij ln(p_j/p_ij) = (Σ_j n_j ln n_j − Σ_ij n_ij ln n_ij)/N and AOV F (r =
    ``n_phase``) from the cell counts ``cnt`` and cell sums of y ``sy``."""
    h = 0.0
    between = 0.0
    for b in range(MAX_PHASE_BINS):
        nb = 0
        yb = 0.0
        for j in range(MAX_MAG_BINS):
            q = cnt[b * MAX_MAG_BINS + j]
            nb += q
            if do_ce:
                h -= xlx[q]
            if do_aov:
                yb += sy[b * MAX_MAG_BINS + j]
        if do_ce:
            h += xlx[nb]
        if do_aov and nb > 0:
            between += yb * yb / nb
    ce = h / n
    aov = math.nan
    if do_aov:
        r = n_phase
        aov = ((n - r) / (r - 1.0)) * (between - stot * stot / n) / (ssq - between)
    return ce, aov


@njit(cache=True, fastmath=FASTMATH)
def fold_bin(tt, mag, f0, df, nf, n_phase, n_mag, do_ce, do_aov, ce_out, aov_out):
    """Exhaustive CE (``n_phase`` × ``n_mag`` bins, at most 20 × 10) and/or AOV (``n_phase``
    bins) on ``f0 + df*k``.

    Phase is ``frac(f * (t - t_min))`` held as a uint64 fixed-point fraction advanced by an
    integer increment per grid step; phase bin = ``floor(n_phase * phase)``. Per frequency one
    vectorised loop computes every point's cell code, a second scatters counts (and y sums for
    AOV) into the cells. AOV is unweighted:
    ``F = (N-r)/(r-1) · Σ n_b(ȳ_b-ȳ)² / ΣΣ(y-ȳ_b)²`` with r = ``n_phase`` (empty bins count in r
    here; :func:`fold_at_index` uses the populated bins, for the false-alarm probability).
    """
    n = tt.size
    ph, inc = fixed_point_phases(tt, f0, df)
    mb = ce_mag_bins(mag, n_mag).astype(np.uint32)
    ybar = mag.mean()
    y = mag - ybar
    ssq = 0.0
    stot = 0.0
    for i in range(n):
        ssq += y[i] * y[i]
        stot += y[i]
    xlx = xlogx_table(n)
    r32 = np.uint32(n_phase)
    stride = np.uint32(MAX_MAG_BINS)
    # unsigned indices: numba emits no negative-index wraparound check for them
    code = np.empty(n, dtype=np.uint32)
    cnt = np.zeros(_N_CELLS, dtype=np.uint32)
    sy = np.zeros(_N_CELLS)
    for k in range(nf):
        for i in range(n):
            p = ph[i]
            code[i] = _phase_bin(p, r32) * stride + mb[i]
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
        ce, aov = _ce_aov_reduce(cnt, sy, xlx, n, ssq, stot, n_phase, do_ce, do_aov)
        if do_ce:
            ce_out[k] = ce
        if do_aov:
            aov_out[k] = aov


@njit(cache=True)
def aov_populated(nb, sy, n, ssq, stot):
    """``(F, r)``: AOV F over the ``r`` populated bins from bin counts ``nb`` and y sums ``sy``."""
    between = 0.0
    r = 0
    for b in range(nb.size):
        if nb[b] > 0:
            r += 1
            between += sy[b] * sy[b] / nb[b]
    within = ssq - between
    if r < 2 or not within > 0.0:
        return 0.0, r
    return ((n - r) / (r - 1.0)) * (between - stot * stot / n) / within, r


@njit(cache=True)
def aov_at_index(ph0, inc, y, ssq, stot, k, nb, sy):
    """``(F, r)``: AOV over the populated bins at grid index ``k`` (same fixed-point phases as
    :func:`fold_bin`); ``nb`` (int64) and ``sy`` (float64) are scratch arrays, one per phase
    bin."""
    n_phase = np.uint32(nb.size)
    nb[:] = 0
    sy[:] = 0.0
    kk = np.uint64(k)
    for i in range(y.size):
        b = _phase_bin(ph0[i] + kk * inc[i], n_phase)
        nb[b] += 1
        sy[b] += y[i]
    return aov_populated(nb, sy, y.size, ssq, stot)


@njit(cache=True)
def aov_at_frequency(tt, y, ssq, stot, f, nb, sy):
    """``(F, r)`` at any frequency ``f`` (float phases, for refinement between grid bins)."""
    n_phase = nb.size
    nb[:] = 0
    sy[:] = 0.0
    for i in range(y.size):
        b = min(int(frac(f * tt[i]) * n_phase), n_phase - 1)
        nb[b] += 1
        sy[b] += y[i]
    return aov_populated(nb, sy, y.size, ssq, stot)


@njit(cache=True)
def ce_g_at_index(ph0, inc, mb, mag_counts, k, cnt, nb, xlx):
    """``(G, dof)`` of the CE fold at grid index ``k``: the G-test of independence between
    phase bin and magnitude bin (``G = 2N (H(mag) - CE)``) and its degrees of freedom over the
    populated bins. ``mag_counts``: points per magnitude bin; ``cnt`` (n_phase·n_mag) and ``nb``
    (n_phase) are int64 scratch arrays."""
    n = mb.size
    n_phase = nb.size
    n_mag = mag_counts.size
    nm = mag_counts
    cnt[:] = 0
    nb[:] = 0
    kk = np.uint64(k)
    for i in range(n):
        b = _phase_bin(ph0[i] + kk * inc[i], np.uint32(n_phase))
        nb[b] += 1
        cnt[b * n_mag + mb[i]] += 1
    g = xlx[n]
    rp = 0
    for b in range(n_phase):
        if nb[b] > 0:
            rp += 1
            g -= xlx[nb[b]]
            for j in range(n_mag):
                g += xlx[cnt[b * n_mag + j]]
    mp = 0
    for j in range(n_mag):
        if nm[j] > 0:
            mp += 1
            g -= xlx[nm[j]]
    dof = (rp - 1) * (mp - 1)
    if dof < 1:
        return 0.0, 0
    return 2.0 * g, dof
