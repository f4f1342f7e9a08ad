"""Fast generalised Lomb-Scargle: exact sums on a decimated grid plus band-limited interpolation.

The float32 coarse pass (:func:`_coarse_sums`) is unrolled by hand over pairs of frequencies;
its "both sums" / "Σw only" stretches call steps inlined with a constant flag, so numba
vectorises each variant of the inner loop; keep it so.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from .kernels_ls import RESEED, TWO_PI, gls_at, gls_direct, gls_from_sums
from .kernels_shared import FASTMATH, frac

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


@njit(inline="always", fastmath=FASTMATH)
def _pair_step(c, s, dc, ds, wy32, w32, with_y):
    """Sums at two consecutive frequencies (Σwy ones only ``with_y``, a constant after inlining
    so numba vectorises each variant); advances ``c``, ``s`` by two steps."""
    a0 = a1 = a2 = a3 = _F32_ZERO
    b0 = b1 = b2 = b3 = _F32_ZERO
    for i in range(c.size):
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
        if with_y:
            wyi = wy32[i]
            a0 += wyi * ci
            a1 += wyi * si
            b0 += wyi * c1
            b1 += wyi * s1
        c[i] = c1 * dci - s1 * dsi
        s[i] = s1 * dci + c1 * dsi
    return a0, a1, a2, a3, b0, b1, b2, b3


@njit(inline="always", fastmath=FASTMATH)
def _single_step(c, s, dc, ds, wy32, w32, with_y):
    """Sums at one frequency (Σwy only ``with_y``); advances ``c``, ``s`` by one step."""
    a0 = a1 = a2 = a3 = _F32_ZERO
    for i in range(c.size):
        ci = c[i]
        si = s[i]
        if with_y:
            a0 += wy32[i] * ci
            a1 += wy32[i] * si
        a2 += w32[i] * ci
        a3 += w32[i] * si
        c[i] = ci * dc[i] - si * ds[i]
        s[i] = si * dc[i] + ci * ds[i]
    return a0, a1, a2, a3


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
        a = TWO_PI * frac(dg * tau[i])
        dc[i] = np.float32(math.cos(a))
        ds[i] = np.float32(math.sin(a))
        a = TWO_PI * frac(F32_RUN * dg * tau[i])
        bc[i] = math.cos(a)
        bs[i] = math.sin(a)
    for k0 in range(0, nw, F32_RUN):
        if k0 % (16 * RESEED) == 0:
            g = g0 + dg * k0
            for i in range(n):
                a = TWO_PI * frac(g * tau[i])
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
            cyr[k], cyi[k], cwr[k], cwi[k], cyr[k + 1], cyi[k + 1], cwr[k + 1], cwi[k + 1] = (
                _pair_step(c, s, dc, ds, wy32, w32, True)
            )
            k += 2
        while k < k1 and k < ny:  # at most one single step, both sums
            cyr[k], cyi[k], cwr[k], cwi[k] = _single_step(c, s, dc, ds, wy32, w32, True)
            k += 1
        while k + 1 < k1:  # pairs, Σw only
            _, _, cwr[k], cwi[k], _, _, cwr[k + 1], cwi[k + 1] = _pair_step(
                c, s, dc, ds, wy32, w32, False
            )
            k += 2
        while k < k1:
            _, _, cwr[k], cwi[k] = _single_step(c, s, dc, ds, wy32, w32, False)
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
