"""Per-curve period search (LS, CE, AOV, nested ELS_ECE_EAOV) and its parallel batch driver.

Called by ``search.py``, which validates the options and documents the statistics and the nested
rule; conventions in ``kernels_shared.py``, false-alarm probabilities in ``fap.py``.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit, prange

from .fap import aov_log_fap, ce_log_fap, ls_log_fap, mag_bins_for, phase_bins_for
from .grid import grid_params, terrestrial_keep
from .kernels_ls import gls_direct, gls_weights
from .kernels_ls_fast import VERIFY_TOL, gls_fast, verify_near_max
from .kernels_nested import nested_select
from .kernels_peaks import isolated_peaks, kept_stats
from .kernels_phase_binning import (
    aov_at_index,
    ce_g_at_index,
    ce_mag_bins,
    fixed_point_phases,
    fold_bin,
    xlogx_table,
)
from .kernels_shared import clean_curve

#: Row of each algorithm in the per-curve outputs (``best_f[a]``, ``sig[a]``, ``topf[a]`` …).
ALG_LS, ALG_CE, ALG_AOV, ALG_NESTED = 0, 1, 2, 3
N_ALGS = 4
#: AOV and the nested search need more points than SCoPe's 20 phase bins
MIN_PHASE_POINTS = 21
_LN10 = math.log(10.0)


class SearchSettings(NamedTuple):
    """The options of :func:`search_curve`, the same for every light curve of a batch."""

    max_freq: float
    samples_per_peak: float
    fixed_baseline: float  # NaN: each light curve's own span
    long_periods: bool
    windows: np.ndarray  # terrestrial windows to mask, shape (k, 2)
    flags: np.ndarray  # uint8 per algorithm row: search it
    n_top: int
    min_log_sep: float
    refine: int
    ls_fast: bool


@njit(cache=True)
def _peaks(v, keep, f0, df, sign, n_cand, min_log_sep, mean, std):
    """``(indices, count)`` of the ``n_cand`` highest isolated peaks of ``sign * v``."""
    pk = np.empty(max(n_cand, 1), dtype=np.int64)
    hint = sign * mean + 2.0 * std if std > 0 else -math.inf
    cnt = isolated_peaks(v, keep, f0, df, sign, max(n_cand, 1), min_log_sep, pk, hint)
    return pk, cnt


@njit(cache=True)
def _store_ranked(pk, log_fap, cnt, f0, df, topf, topz):
    """Peaks ``pk[:cnt]`` into ``topf``/``topz`` (significance = -log10 FAP), most significant
    first (ties keep the statistic's order)."""
    order = np.argsort(log_fap[:cnt], kind="mergesort")
    for j in range(min(cnt, topf.size)):
        topf[j] = f0 + df * pk[order[j]]
        topz[j] = -log_fap[order[j]] / _LN10


@njit(cache=True)
def _time_spread(tt, w):
    """Baluev's effective baseline ``sqrt(4π Var_w(t))`` (``w`` normalised weights)."""
    s1 = 0.0
    s2 = 0.0
    for i in range(tt.size):
        s1 += w[i] * tt[i]
        s2 += w[i] * tt[i] * tt[i]
    return math.sqrt(4.0 * math.pi * max(s2 - s1 * s1, 0.0))


@njit(cache=True)
def search_curve(t, m, e, settings, best_f, sig, topf, topz):
    """Period search of one light curve with :class:`SearchSettings`; writes ``best_f[a]``,
    ``sig[a]``, ``topf[a]``, ``topz[a]`` for algorithm ``a`` in (LS, CE, AOV, nested) where
    ``flags[a]`` is set. Outputs must be NaN on entry; they stay NaN when the curve is unusable."""
    (
        max_freq,
        samples_per_peak,
        fixed_baseline,
        long_periods,
        windows,
        flags,
        n_top,
        min_log_sep,
        refine,
        ls_fast,
    ) = settings
    tt, mag, err, _ = clean_curve(t, m, e)
    n = tt.size
    if n < 4:
        return 0
    span = tt.max()
    baseline = span if math.isnan(fixed_baseline) else fixed_baseline
    f0, df, nf = grid_params(
        baseline, max_freq, samples_per_peak, span if long_periods else math.inf
    )
    if nf == 0 or not span > 0.0 or mag.max() == mag.min():
        return 0
    keep = terrestrial_keep(f0, df, nf, windows)
    every = np.ones(nf, dtype=np.uint8)
    f_top = f0 + df * (nf - 1)
    nested = flags[ALG_NESTED] != 0 and n >= MIN_PHASE_POINTS
    n_cand = max(n_top, 1)

    # ---- LS: Baluev FAP; the nested search takes its candidates on the unmasked grid
    _, wy, w, yy = gls_weights(mag, err)
    t_eff = _time_spread(tt, w)
    ls_pk = np.empty(0, dtype=np.int64)
    ls_cnt = 0
    if flags[ALG_LS] or nested:
        p = np.empty(nf)
        if ls_fast:
            gls_fast(tt, wy, w, yy, f0, df, nf, p)
        else:
            gls_direct(tt, wy, w, yy, f0, df, nf, p)
        mean, std, pmax = kept_stats(p, keep)
        if ls_fast:
            verify_near_max(p, keep, tt, wy, w, yy, f0, df, pmax, VERIFY_TOL)
        if flags[ALG_LS]:
            pk, cnt = _peaks(p, keep, f0, df, 1.0, n_cand, min_log_sep, mean, std)
            log_fap = np.empty(cnt)
            for j in range(cnt):
                log_fap[j] = ls_log_fap(p[pk[j]], n, f_top, t_eff)
            _store_ranked(pk, log_fap, cnt, f0, df, topf[ALG_LS], topz[ALG_LS])
        if nested:
            ls_pk, ls_cnt = _peaks(p, every, f0, df, 1.0, n_cand, min_log_sep, mean, std)

    # ---- CE / AOV with phase (and magnitude) bins adapted to N
    n_phase = phase_bins_for(n)
    n_mag = mag_bins_for(n, n_phase)
    do_ce = flags[ALG_CE] != 0 or nested
    do_aov = flags[ALG_AOV] != 0 and n >= MIN_PHASE_POINTS
    ce_pk = np.empty(0, dtype=np.int64)
    ce_cnt = 0
    ph0, inc = fixed_point_phases(tt, f0, df)
    y = mag - mag.mean()
    ssq = 0.0
    stot = 0.0
    for i in range(n):
        ssq += y[i] * y[i]
        stot += y[i]
    nb = np.zeros(n_phase, dtype=np.int64)
    sy = np.zeros(n_phase)
    if do_ce or do_aov:
        ce = np.empty(nf if do_ce else 0)
        aov = np.empty(nf if do_aov else 0)
        fold_bin(tt, mag, f0, df, nf, n_phase, n_mag, do_ce, do_aov, ce, aov)
        if flags[ALG_CE]:
            mean, std, _ = kept_stats(ce, keep)
            pk, cnt = _peaks(ce, keep, f0, df, -1.0, n_cand, min_log_sep, mean, std)
            mb = ce_mag_bins(mag, n_mag)
            mag_counts = np.zeros(n_mag, dtype=np.int64)
            for i in range(n):
                mag_counts[mb[i]] += 1
            cells = np.zeros(n_phase * n_mag, dtype=np.int64)
            xlx = xlogx_table(n)
            log_fap = np.empty(cnt)
            for j in range(cnt):
                g, dof = ce_g_at_index(ph0, inc, mb, mag_counts, pk[j], cells, nb, xlx)
                log_fap[j] = ce_log_fap(g, dof, nf)
            _store_ranked(pk, log_fap, cnt, f0, df, topf[ALG_CE], topz[ALG_CE])
            if nested:
                ce_pk, ce_cnt = _peaks(ce, every, f0, df, -1.0, n_cand, min_log_sep, mean, std)
        elif nested:
            mean, std, _ = kept_stats(ce, keep)
            ce_pk, ce_cnt = _peaks(ce, every, f0, df, -1.0, n_cand, min_log_sep, mean, std)
        if do_aov:
            mean, std, _ = kept_stats(aov, keep)
            pk, cnt = _peaks(aov, keep, f0, df, 1.0, n_cand, min_log_sep, mean, std)
            log_fap = np.empty(cnt)
            for j in range(cnt):
                a, r = aov_at_index(ph0, inc, y, ssq, stot, pk[j], nb, sy)
                log_fap[j] = aov_log_fap(a, r, n, nf)
            _store_ranked(pk, log_fap, cnt, f0, df, topf[ALG_AOV], topz[ALG_AOV])

    # ---- nested ELS_ECE_EAOV: agreement between LS and the phase-folding statistics
    if nested and (ls_cnt + ce_cnt) > 0:
        cand = np.empty(ls_cnt + ce_cnt, dtype=np.int64)
        cand[:ls_cnt] = ls_pk[:ls_cnt]
        cand[ls_cnt:] = ce_pk[:ce_cnt]
        ctx = (tt, y, ssq, stot, ph0, inc, wy, w, yy, f0, df, nf, f_top, t_eff, nb, sy)
        nested_select(
            ctx,
            cand,
            cand.size,
            refine,
            keep,
            n_top,
            min_log_sep,
            topf[ALG_NESTED],
            topz[ALG_NESTED],
        )
    for a in range(N_ALGS):
        if flags[a]:
            best_f[a] = topf[a, 0]
            sig[a] = topz[a, 0]
    return nf


@njit(cache=True, parallel=True)
def search_batch(offsets, t, m, e, settings, best_f, sig, topf, topz, nf_out):
    """:func:`search_curve` over a CSR batch, one light curve per task (prange)."""
    for c in prange(offsets.size - 1):
        a = offsets[c]
        b = offsets[c + 1]
        nf_out[c] = search_curve(
            t[a:b], m[a:b], e[a:b], settings, best_f[c], sig[c], topf[c], topz[c]
        )
