"""Numba kernels of the period search (private; the public API is in ``search.py``).

Conventions shared by all kernels:

* time ``tt`` is float64 days relative to the light curve's first good point (``t - t_min``);
* a grid is ``(f0, df, nf)``: frequencies ``f0 + df * k`` cycles/day for ``k < nf``, evaluated in
  full; terrestrial windows are applied afterwards as a uint8 ``keep`` mask;
* inputs are already clean (finite, ``magerr > 0``): validation happens once, in ``search.py``.

``fastmath`` is limited to ``reassoc``/``contract``/``nsz``/``arcp`` (what vectorised reductions and
FMAs need); ``nnan``/``ninf`` are never set, so NaN and inf propagate as in plain IEEE arithmetic.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from .grid import grid_params, terrestrial_keep

FASTMATH = {"reassoc", "contract", "nsz", "arcp"}
TWO_PI = 2.0 * math.pi

#: Phase bins of CE and AOV and magnitude bins of CE (SCoPe / periodfind hard-code these).
N_PHASE_BINS = 20
N_MAG_BINS = 10
#: Row stride of the CE cell histogram: cell = phase_bin * _CELL_STRIDE + mag_bin.
_CELL_STRIDE = N_MAG_BINS
#: Exact cos/sin re-seeding period of the trigonometric recurrences (grid steps).
RESEED = 256

ALG_LS, ALG_CE, ALG_AOV, ALG_NESTED = 0, 1, 2, 3
N_ALGS = 4


# --------------------------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------------------------
@njit(cache=True, inline="always")
def _frac(x):
    return x - math.floor(x)


@njit(cache=True, inline="always")
def _u64_from_frac(x):
    """Fixed-point (2**-64 cycles) value of a phase ``x`` in [0, 1), truncated exactly."""
    y = x * 4294967296.0
    hi = math.floor(y)
    lo = math.floor((y - hi) * 4294967296.0)
    return (np.uint64(hi) << np.uint64(32)) + np.uint64(lo)


@njit(cache=True)
def clean_curve(t, m, e):
    """Good points (finite t, mag, magerr and magerr > 0) as ``(t - t_min, mag, magerr, t_min)``."""
    n = t.size
    good = np.empty(n, dtype=np.bool_)
    ng = 0
    t_min = math.inf
    for i in range(n):
        ok = math.isfinite(t[i]) and math.isfinite(m[i]) and math.isfinite(e[i]) and e[i] > 0.0
        good[i] = ok
        if ok:
            ng += 1
            if t[i] < t_min:
                t_min = t[i]
    tt = np.empty(ng)
    mm = np.empty(ng)
    ee = np.empty(ng)
    j = 0
    for i in range(n):
        if good[i]:
            tt[j] = t[i] - t_min
            mm[j] = m[i]
            ee[j] = e[i]
            j += 1
    return tt, mm, ee, t_min


@njit(cache=True)
def gls_weights(mag, err):
    """``(y, wy, w, yy)``: normalised weights ``w = σ⁻²/Σσ⁻²``, ``y = mag - Σ w mag``, ``wy = w*y``,
    ``yy = Σ w y²``."""
    n = mag.size
    w = np.empty(n)
    sw = 0.0
    for i in range(n):
        w[i] = 1.0 / (err[i] * err[i])
        sw += w[i]
    ybar = 0.0
    for i in range(n):
        w[i] /= sw
        ybar += w[i] * mag[i]
    y = np.empty(n)
    wy = np.empty(n)
    yy = 0.0
    for i in range(n):
        y[i] = mag[i] - ybar
        wy[i] = w[i] * y[i]
        yy += wy[i] * y[i]
    return y, wy, w, yy


# --------------------------------------------------------------------------------------------
# Generalised Lomb-Scargle (Zechmeister & Kürster 2009), astropy "standard" normalisation
# --------------------------------------------------------------------------------------------
@njit(cache=True, fastmath=FASTMATH, inline="always")
def gls_from_sums(yc, ys, c, s, cc_raw, cs_raw, yy):
    """GLS power from weighted sums (Σw = 1, y weighted-mean-centred).

    ``yc = Σwy cos``, ``ys = Σwy sin``, ``c = Σw cos``, ``s = Σw sin``, ``cc_raw = Σw cos²``,
    ``cs_raw = Σw cos sin``; returns ``1 - χ²(f)/χ²₀`` (0 where the fit is degenerate).
    """
    cc = cc_raw - c * c
    ss = (1.0 - cc_raw) - s * s
    cs = cs_raw - c * s
    d = cc * ss - cs * cs
    if not d > 0.0:
        return 0.0
    return (ss * yc * yc + cc * ys * ys - 2.0 * cs * yc * ys) / (yy * d)


@njit(cache=True)
def gls_at(tt, wy, w, yy, f):
    """Exact GLS power at one frequency ``f`` (cycles/day), cos/sin evaluated directly."""
    yc = ys = c = s = cc = cs = 0.0
    for i in range(tt.size):
        a = TWO_PI * _frac(f * tt[i])
        ci = math.cos(a)
        si = math.sin(a)
        yc += wy[i] * ci
        ys += wy[i] * si
        c += w[i] * ci
        s += w[i] * si
        cc += w[i] * ci * ci
        cs += w[i] * ci * si
    return gls_from_sums(yc, ys, c, s, cc, cs, yy)


@njit(cache=True, fastmath=FASTMATH)
def gls_direct(tt, wy, w, yy, f0, df, nf, out):
    """Exhaustive GLS on ``f0 + df*k`` (k < nf) into ``out``.

    cos/sin of every point are advanced by one rotation per grid step and re-seeded exactly every
    :data:`RESEED` steps, so the recurrence error stays ~1e-13.
    """
    n = tt.size
    c = np.empty(n)
    s = np.empty(n)
    dc = np.empty(n)
    ds = np.empty(n)
    for i in range(n):
        a = TWO_PI * _frac(df * tt[i])
        dc[i] = math.cos(a)
        ds[i] = math.sin(a)
    for k in range(nf):
        if k % RESEED == 0:
            f = f0 + df * k
            for i in range(n):
                a = TWO_PI * _frac(f * tt[i])
                c[i] = math.cos(a)
                s[i] = math.sin(a)
        syc = 0.0
        sys = 0.0
        sc = 0.0
        ss = 0.0
        scc = 0.0
        scs = 0.0
        for i in range(n):
            ci = c[i]
            si = s[i]
            wc = w[i] * ci
            syc += wy[i] * ci
            sys += wy[i] * si
            sc += wc
            ss += w[i] * si
            scc += wc * ci
            scs += wc * si
            c[i] = ci * dc[i] - si * ds[i]
            s[i] = si * dc[i] + ci * ds[i]
        out[k] = gls_from_sums(syc, sys, sc, ss, scc, scs, yy)


#: Fast GLS: coarse grid oversampled >= SIGMA_MIN times w.r.t. the light curve's span, and
#: windowed-sinc half-width m = ceil(KERNEL_DIGITS / (π - π/σ)) (error ≲1e-8 of Σ|h| at σ = 2).
SIGMA_MIN = 2.0
KERNEL_DIGITS = 15.0
MAX_DECIMATION = 64
#: Bins whose fast-GLS power is within this of the maximum are re-evaluated exactly
#: (fast-GLS error is ≲1e-6; see tests/test_periodsearch.py::test_fast_gls_matches_direct).
VERIFY_TOL = 1e-4
#: fast-GLS bins whose normal-equation determinant is below this are computed exactly
DET_EXACT = 1e-2


@njit(cache=True)
def _bessel_i0(x):
    """Modified Bessel function I0 (power series; fine for the x ≲ 60 used here)."""
    term = 1.0
    total = 1.0
    q = 0.25 * x * x
    k = 1
    while term > 1e-17 * total:
        term *= q / (k * k)
        total += term
        k += 1
    return total


@njit(cache=True)
def _kaiser_sinc(d, m, beta, i0_beta):
    """sinc(d) · Kaiser-Bessel window of half-width m (0 outside |d| < m)."""
    z = d / m
    if abs(z) >= 1.0:
        return 0.0
    win = _bessel_i0(beta * math.sqrt(1.0 - z * z)) / i0_beta
    if d == 0.0:
        return win
    x = math.pi * d
    return math.sin(x) / x * win


@njit(cache=True)
def gls_decimation(span, df, sigma_min=SIGMA_MIN):
    """Coarse-grid decimation D of the fast GLS (1: no decimation possible)."""
    if not (span > 0.0 and df > 0.0):
        return 1
    d = int(math.floor(1.0 / (sigma_min * df * span)))
    return min(max(d, 1), MAX_DECIMATION)


_F32_ZERO = np.float32(0.0)
#: float32 runs of the fast-GLS coarse pass restart from float64 phases every this many steps
F32_RUN = 32


@njit(cache=True, fastmath=FASTMATH)
def _coarse_sums(tau, wy, w, g0, dg, ny, nw, cyr, cyi, cwr, cwi):
    """Σwy·e^{2πigτ} (first ny frequencies) and Σw·e^{2πigτ} (all nw) on ``g = g0 + dg*k``.

    Mixed precision: float64 phases (exact cos/sin every :data:`RESEED` × 16 steps, a float64
    rotation by :data:`F32_RUN` steps in between) seed float32 runs of :data:`F32_RUN` steps of the
    trig recurrence with float32 accumulation (8 SIMD lanes). Two frequencies per pass over the
    points. Error ≈ 1e-7 of Σ|h|; the exact re-evaluation near the maximum
    (:func:`verify_near_max`) makes the chosen period exact anyway.
    """
    n = tau.size
    wy32 = np.empty(n, dtype=np.float32)
    w32 = np.empty(n, dtype=np.float32)
    c = np.empty(n, dtype=np.float32)
    s = np.empty(n, dtype=np.float32)
    dc = np.empty(n, dtype=np.float32)
    ds = np.empty(n, dtype=np.float32)
    bc = np.empty(n)
    bs = np.empty(n)
    c64 = np.empty(n)
    s64 = np.empty(n)
    for i in range(n):
        wy32[i] = np.float32(wy[i])
        w32[i] = np.float32(w[i])
        a = TWO_PI * _frac(dg * tau[i])
        dc[i] = np.float32(math.cos(a))
        ds[i] = np.float32(math.sin(a))
        a = TWO_PI * _frac(F32_RUN * dg * tau[i])
        bc[i] = math.cos(a)
        bs[i] = math.sin(a)
    for k0 in range(0, nw, F32_RUN):
        if k0 % (16 * RESEED) == 0:
            g = g0 + dg * k0
            for i in range(n):
                a = TWO_PI * _frac(g * tau[i])
                c64[i] = math.cos(a)
                s64[i] = math.sin(a)
        for i in range(n):
            ci = c64[i]
            si = s64[i]
            c[i] = np.float32(ci)
            s[i] = np.float32(si)
            c64[i] = ci * bc[i] - si * bs[i]
            s64[i] = si * bc[i] + ci * bs[i]
        k1 = min(k0 + F32_RUN, nw)
        k = k0
        while k + 1 < k1 and k + 1 < ny:  # pairs, both sums
            a0 = a1 = a2 = a3 = _F32_ZERO
            b0 = b1 = b2 = b3 = _F32_ZERO
            for i in range(n):
                ci = c[i]
                si = s[i]
                dci = dc[i]
                dsi = ds[i]
                wyi = wy32[i]
                wi = w32[i]
                a0 += wyi * ci
                a1 += wyi * si
                a2 += wi * ci
                a3 += wi * si
                c1 = ci * dci - si * dsi
                s1 = si * dci + ci * dsi
                b0 += wyi * c1
                b1 += wyi * s1
                b2 += wi * c1
                b3 += wi * s1
                c[i] = c1 * dci - s1 * dsi
                s[i] = s1 * dci + c1 * dsi
            cyr[k] = a0
            cyi[k] = a1
            cwr[k] = a2
            cwi[k] = a3
            cyr[k + 1] = b0
            cyi[k + 1] = b1
            cwr[k + 1] = b2
            cwi[k + 1] = b3
            k += 2
        while k < k1 and k < ny:  # at most one single step, both sums
            a0 = a1 = a2 = a3 = _F32_ZERO
            for i in range(n):
                ci = c[i]
                si = s[i]
                a0 += wy32[i] * ci
                a1 += wy32[i] * si
                a2 += w32[i] * ci
                a3 += w32[i] * si
                c[i] = ci * dc[i] - si * ds[i]
                s[i] = si * dc[i] + ci * ds[i]
            cyr[k] = a0
            cyi[k] = a1
            cwr[k] = a2
            cwi[k] = a3
            k += 1
        while k + 1 < k1:  # pairs, Σw only
            a2 = a3 = b2 = b3 = _F32_ZERO
            for i in range(n):
                ci = c[i]
                si = s[i]
                dci = dc[i]
                dsi = ds[i]
                wi = w32[i]
                a2 += wi * ci
                a3 += wi * si
                c1 = ci * dci - si * dsi
                s1 = si * dci + ci * dsi
                b2 += wi * c1
                b3 += wi * s1
                c[i] = c1 * dci - s1 * dsi
                s[i] = s1 * dci + c1 * dsi
            cwr[k] = a2
            cwi[k] = a3
            cwr[k + 1] = b2
            cwi[k + 1] = b3
            k += 2
        while k < k1:
            a2 = a3 = _F32_ZERO
            for i in range(n):
                ci = c[i]
                si = s[i]
                a2 += w32[i] * ci
                a3 += w32[i] * si
                c[i] = ci * dc[i] - si * ds[i]
                s[i] = si * dc[i] + ci * ds[i]
            cwr[k] = a2
            cwi[k] = a3
            k += 1


_INTERP_BLOCK = 256


@njit(cache=True, fastmath=FASTMATH)
def _interp_power(cyr, cyi, cwr, cwi, tab_a, tab_b, base_b, d, m, nf, yy, out, exact):
    """Polyphase interpolation of the coarse sums and GLS power on the fine grid (see
    :func:`gls_fast`). Output ``j = p + d*s`` uses taps ``tab_a[p]`` on ``c[s + 1 …]`` (Z_y, Z_w)
    and ``tab_b[p]`` on ``cw[base_b[p] + 2s - m + 1 …]`` (Z_w at 2f). Works on blocks of
    outputs of one phase p so the inner loops are unit-stride and vectorise (Z_w is split by
    parity for the stride-2 taps; slices keep numba's negative-index checks out of the loops).
    Returns the number of ill-conditioned bins (det < DET_EXACT) listed in ``exact``."""
    taps = 2 * m
    nw = cwr.size
    h = (nw + 1) // 2 + 1
    par_r = np.zeros((2, h), dtype=np.float32)
    par_i = np.zeros((2, h), dtype=np.float32)
    for i in range(nw):
        par_r[i & 1, i >> 1] = cwr[i]
        par_i[i & 1, i >> 1] = cwi[i]
    blk = _INTERP_BLOCK
    a0 = np.empty(blk, dtype=np.float32)
    a1 = np.empty(blk, dtype=np.float32)
    a2 = np.empty(blk, dtype=np.float32)
    a3 = np.empty(blk, dtype=np.float32)
    b0 = np.empty(blk, dtype=np.float32)
    b1 = np.empty(blk, dtype=np.float32)
    n_exact = 0
    for p in range(d):
        ns_p = (nf - p + d - 1) // d
        for s0 in range(0, ns_p, blk):
            sb = min(blk, ns_p - s0)
            a0[:] = _F32_ZERO
            a1[:] = _F32_ZERO
            a2[:] = _F32_ZERO
            a3[:] = _F32_ZERO
            b0[:] = _F32_ZERO
            b1[:] = _F32_ZERO
            for k in range(taps):
                ta = tab_a[p, k]
                lo = s0 + 1 + k
                x0 = cyr[lo : lo + sb]
                x1 = cyi[lo : lo + sb]
                x2 = cwr[lo : lo + sb]
                x3 = cwi[lo : lo + sb]
                for u in range(sb):
                    a0[u] += ta * x0[u]
                    a1[u] += ta * x1[u]
                    a2[u] += ta * x2[u]
                    a3[u] += ta * x3[u]
                tb = tab_b[p, k]
                bi = base_b[p] + 2 * s0 - m + 1 + k
                hb = bi >> 1
                x4 = par_r[bi & 1, hb : hb + sb]
                x5 = par_i[bi & 1, hb : hb + sb]
                for u in range(sb):
                    b0[u] += tb * x4[u]
                    b1[u] += tb * x5[u]
            for u in range(sb):
                j = p + d * (s0 + u)
                c = np.float64(a2[u])
                sn = np.float64(a3[u])
                cc_raw = 0.5 * (1.0 + np.float64(b0[u]))
                cs_raw = 0.5 * np.float64(b1[u])
                cc = cc_raw - c * c
                ss = (1.0 - cc_raw) - sn * sn
                cs = cs_raw - c * sn
                if cc * ss - cs * cs < DET_EXACT:  # ill-conditioned: errors amplified by 1/det
                    if n_exact < exact.size:
                        exact[n_exact] = j
                    n_exact += 1
                out[j] = gls_from_sums(
                    np.float64(a0[u]), np.float64(a1[u]), c, sn, cc_raw, cs_raw, yy
                )
    return n_exact


@njit(cache=True, fastmath=FASTMATH)
def gls_fast(tt, wy, w, yy, f0, df, nf, out, sigma_min=SIGMA_MIN, digits=KERNEL_DIGITS):
    """GLS on ``f0 + df*k`` (k < nf) from exact sums on a decimated grid plus interpolation.

    With τ = t - t_mid, the sums Z(f) = Σ h e^{2πifτ} are band-limited (|τ| ≤ span/2), so they are
    computed exactly (trig recurrence) only every D-th grid step, with D chosen so that the coarse
    grid still oversamples them ``σ = 1/(D·df·span) >= 2`` times, and interpolated in between with
    a Kaiser-windowed sinc of half-width m (error ≲ 1e-8 of Σ|h|; the mixed-precision coarse
    pass adds ≈1e-7). Z_w(2f) comes from the same coarse Z_w, extended to 2·max_freq.
    Power errors grow like 1/det of the 2×2 normal equations, so bins with det < DET_EXACT (near
    window-function aliases) are evaluated exactly (:func:`gls_at`); elsewhere the error is
    ≲1e-5 (measured ≤ 6e-6 on the real development set). Falls back to :func:`gls_direct` when
    D < 2 or when more than nf/64 bins are ill-conditioned. Callers re-evaluate the bins near the
    maximum exactly (:func:`verify_near_max`).
    """
    n = tt.size
    span = tt.max() - tt.min()
    d = gls_decimation(span, df, sigma_min)
    if d < 2:
        gls_direct(tt, wy, w, yy, f0, df, nf, out)
        return
    sigma = 1.0 / (d * df * span)
    width = math.pi - math.pi / sigma
    m = int(math.ceil(digits / width))
    beta = m * width
    i0b = _bessel_i0(beta)
    tau = np.empty(n)
    tmid = 0.5 * (tt.max() + tt.min())
    for i in range(n):
        tau[i] = tt[i] - tmid
    q = f0 / df
    # coarse index c <-> frequency f0 + (c - m)*d*df
    ny = (nf - 1) // d + 2 * m + 2
    nw = int(math.floor((q + 2.0 * (nf - 1)) / d)) + 2 * m + 2
    cyr = np.empty(ny, dtype=np.float32)
    cyi = np.empty(ny, dtype=np.float32)
    cwr = np.empty(nw, dtype=np.float32)
    cwi = np.empty(nw, dtype=np.float32)
    _coarse_sums(tau, wy, w, f0 - m * d * df, d * df, ny, nw, cyr, cyi, cwr, cwi)
    taps = 2 * m
    tab_a = np.empty((d, taps), dtype=np.float32)
    tab_b = np.empty((d, taps), dtype=np.float32)
    base_b = np.empty(d, dtype=np.int64)
    for p in range(d):
        r = p / d
        for k in range(taps):
            tab_a[p, k] = _kaiser_sinc(r - (k - m + 1), m, beta, i0b)
        x = (q + 2.0 * p) / d + m
        nb = math.floor(x)
        base_b[p] = int(nb)
        r = x - nb
        for k in range(taps):
            tab_b[p, k] = _kaiser_sinc(r - (k - m + 1), m, beta, i0b)
    exact = np.empty(max(nf // 64, 64), dtype=np.int64)
    n_exact = _interp_power(cyr, cyi, cwr, cwi, tab_a, tab_b, base_b, d, m, nf, yy, out, exact)
    if n_exact > exact.size:  # pathological sampling: give up on the approximation
        gls_direct(tt, wy, w, yy, f0, df, nf, out)
        return
    for q in range(n_exact):
        j = exact[q]
        out[j] = gls_at(tt, wy, w, yy, f0 + df * j)


@njit(cache=True)
def verify_near_max(p, keep, tt, wy, w, yy, f0, df, pmax, tol):
    """Replace ``p[k]`` by the exact GLS power on kept bins within ``tol`` of ``pmax`` (the kept
    maximum), so the best bin is the one exhaustive evaluation would pick. Returns the count."""
    cnt = 0
    for k in range(p.size):
        if keep[k] and p[k] >= pmax - tol:
            p[k] = gls_at(tt, wy, w, yy, f0 + df * k)
            cnt += 1
    return cnt


# --------------------------------------------------------------------------------------------
# Conditional entropy and AOV: fixed-point fold-and-bin
# --------------------------------------------------------------------------------------------
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
        ph0[i] = _u64_from_frac(_frac(f0 * tt[i]))
        inc[i] = _u64_from_frac(_frac(df * tt[i]))
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


# --------------------------------------------------------------------------------------------
# periodogram statistics and isolated peaks
# --------------------------------------------------------------------------------------------
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


# --------------------------------------------------------------------------------------------
# per-curve search and the batched driver
# --------------------------------------------------------------------------------------------
@njit(cache=True)
def _store_peaks(v, keep, f0, df, sign, n_top, min_log_sep, mean, std, topf, topz):
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
