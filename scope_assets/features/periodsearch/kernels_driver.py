"""Per-curve period search (LS, CE, AOV, nested ELS_ECE_EAOV) and its parallel batch driver.

Called by ``search.py``, which validates the options; conventions in ``kernels_shared.py``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from .grid import grid_params, terrestrial_keep
from .kernels_ls import gls_direct, gls_weights
from .kernels_ls_fast import VERIFY_TOL, gls_fast, verify_near_max
from .kernels_peaks import isolated_peaks, kept_stats
from .kernels_phase_binning import N_PHASE_BINS, aov_at_index, fixed_point_phases, fold_bin
from .kernels_shared import clean_curve

#: Row of each algorithm in the per-curve outputs (``best_f[a]``, ``sig[a]``, ``topf[a]`` …).
ALG_LS, ALG_CE, ALG_AOV, ALG_NESTED = 0, 1, 2, 3
N_ALGS = 4


@njit(cache=True)
def _store_peaks(v, keep, f0, df, sign, n_top, min_log_sep, mean, std, topf, topz):
    """Isolated peaks of ``sign * v`` into ``topf`` (frequencies) and ``topz`` (z-scores);
    returns ``(peak indices, count)``."""
    pk = np.empty(max(n_top, 1), dtype=np.int64)
    hint = sign * mean + 2.0 * std if std > 0 else -math.inf
    cnt = isolated_peaks(v, keep, f0, df, sign, max(n_top, 1), min_log_sep, pk, hint)
    for j in range(min(cnt, n_top)):
        topf[j] = f0 + df * pk[j]
        topz[j] = sign * (v[pk[j]] - mean) / std if std > 0 else math.nan
    return pk, cnt


@njit(cache=True)
def search_curve(
    t,
    m,
    e,
    max_freq,
    samples_per_peak,
    fixed_baseline,
    windows,
    flags,
    n_top,
    min_log_sep,
    refine,
    sig_stride,
    ls_fast,
    best_f,
    sig,
    topf,
    topz,
):
    """Period search of one light curve; writes ``best_f[a]``, ``sig[a]``, ``topf[a]``, ``topz[a]``
    for algorithm ``a`` in (LS, CE, AOV, nested) where ``flags[a]`` is set. Outputs must be NaN on
    entry; they stay NaN when the curve is unusable."""
    tt, mag, err, _ = clean_curve(t, m, e)
    n = tt.size
    if n < 4:
        return 0
    span = tt.max()
    baseline = span if math.isnan(fixed_baseline) else fixed_baseline
    f0, df, nf = grid_params(baseline, max_freq, samples_per_peak)
    if nf == 0 or not span > 0.0 or mag.max() == mag.min():
        return 0
    keep = terrestrial_keep(f0, df, nf, windows)
    nested = flags[ALG_NESTED] != 0
    aov_ok = n > N_PHASE_BINS
    n_cand = max(n_top, 1)

    # ---- LS
    ls_pk = np.empty(0, dtype=np.int64)
    ls_cnt = 0
    if flags[ALG_LS] or nested:
        y, wy, w, yy = gls_weights(mag, err)
        p = np.empty(nf)
        if ls_fast:
            gls_fast(tt, wy, w, yy, f0, df, nf, p)
        else:
            gls_direct(tt, wy, w, yy, f0, df, nf, p)
        mean, std, pmax = kept_stats(p, keep)
        if ls_fast:
            verify_near_max(p, keep, tt, wy, w, yy, f0, df, pmax, VERIFY_TOL)
        ls_pk, ls_cnt = _store_peaks(
            p, keep, f0, df, 1.0, n_cand, min_log_sep, mean, std, topf[ALG_LS], topz[ALG_LS]
        )
        if ls_cnt > 0 and flags[ALG_LS]:
            best_f[ALG_LS] = f0 + df * ls_pk[0]
            sig[ALG_LS] = topz[ALG_LS, 0]

    # ---- CE / AOV
    ce_pk = np.empty(0, dtype=np.int64)
    ce_cnt = 0
    do_ce = flags[ALG_CE] != 0 or nested
    do_aov = flags[ALG_AOV] != 0 and aov_ok
    if do_ce or do_aov:
        ce = np.empty(nf if do_ce else 0)
        aov = np.empty(nf if do_aov else 0)
        fold_bin(tt, mag, f0, df, nf, do_ce, do_aov, ce, aov)
        if do_ce:
            mean, std, _ = kept_stats(ce, keep)
            ce_pk, ce_cnt = _store_peaks(
                ce, keep, f0, df, -1.0, n_cand, min_log_sep, mean, std, topf[ALG_CE], topz[ALG_CE]
            )
            if ce_cnt > 0 and flags[ALG_CE]:
                best_f[ALG_CE] = f0 + df * ce_pk[0]
                sig[ALG_CE] = topz[ALG_CE, 0]
        if do_aov:
            mean, std, _ = kept_stats(aov, keep)
            a_pk, a_cnt = _store_peaks(
                aov, keep, f0, df, 1.0, n_cand, min_log_sep, mean, std, topf[ALG_AOV], topz[ALG_AOV]
            )
            if a_cnt > 0:
                best_f[ALG_AOV] = f0 + df * a_pk[0]
                sig[ALG_AOV] = topz[ALG_AOV, 0]

    # ---- nested ELS_ECE_EAOV: AOV decides between isolated LS peaks and CE minima
    if nested and aov_ok and (ls_cnt + ce_cnt) > 0:
        ph0, inc = fixed_point_phases(tt, f0, df)
        y = mag - mag.mean()
        ssq = 0.0
        stot = 0.0
        for i in range(n):
            ssq += y[i] * y[i]
            stot += y[i]
        nb_scr = np.zeros(N_PHASE_BINS, dtype=np.int64)
        sy_scr = np.zeros(N_PHASE_BINS)
        # AOV significance scale: mean/std of AOV on every sig_stride-th kept bin
        n_sub = (nf + sig_stride - 1) // sig_stride
        sub = np.empty(n_sub)
        sub_keep = np.empty(n_sub, dtype=np.uint8)
        for j in range(n_sub):
            k = j * sig_stride
            sub_keep[j] = keep[k]
            sub[j] = (
                aov_at_index(ph0, inc, y, ssq, stot, k, nb_scr, sy_scr) if keep[k] else math.nan
            )
        mean, std, _ = kept_stats(sub, sub_keep)
        cand = np.empty(ls_cnt + ce_cnt, dtype=np.int64)
        cand[:ls_cnt] = ls_pk[:ls_cnt]
        cand[ls_cnt:] = ce_pk[:ce_cnt]
        nc = cand.size
        ref_idx = np.full(nc, -1, dtype=np.int64)
        ref_val = np.full(nc, -math.inf)
        for j in range(nc):
            for k in range(max(cand[j] - refine, 0), min(cand[j] + refine, nf - 1) + 1):
                if keep[k]:
                    a = aov_at_index(ph0, inc, y, ssq, stot, k, nb_scr, sy_scr)
                    if a > ref_val[j]:
                        ref_val[j] = a
                        ref_idx[j] = k
        order = np.argsort(-ref_val, kind="mergesort")
        found = 0
        for o in order:
            k = ref_idx[o]
            if k < 0 or found >= n_top:
                break
            lf = math.log(f0 + df * k)
            ok = True
            for a in range(found):
                if abs(lf - math.log(topf[ALG_NESTED, a])) < min_log_sep:
                    ok = False
                    break
            if ok:
                topf[ALG_NESTED, found] = f0 + df * k
                topz[ALG_NESTED, found] = (ref_val[o] - mean) / std if std > 0 else math.nan
                found += 1
        best = order[0]
        if ref_idx[best] >= 0:
            best_f[ALG_NESTED] = f0 + df * ref_idx[best]
            sig[ALG_NESTED] = (ref_val[best] - mean) / std if std > 0 else math.nan
    return nf


@njit(cache=True, parallel=True)
def search_batch(
    offsets,
    t,
    m,
    e,
    max_freq,
    samples_per_peak,
    fixed_baseline,
    windows,
    flags,
    n_top,
    min_log_sep,
    refine,
    sig_stride,
    ls_fast,
    best_f,
    sig,
    topf,
    topz,
    nf_out,
):
    """:func:`search_curve` over a CSR batch, one light curve per task (prange)."""
    for c in prange(offsets.size - 1):
        a = offsets[c]
        b = offsets[c + 1]
        nf_out[c] = search_curve(
            t[a:b],
            m[a:b],
            e[a:b],
            max_freq,
            samples_per_peak,
            fixed_baseline,
            windows,
            flags,
            n_top,
            min_log_sep,
            refine,
            sig_stride,
            ls_fast,
            best_f[c],
            sig[c],
            topf[c],
            topz[c],
        )
