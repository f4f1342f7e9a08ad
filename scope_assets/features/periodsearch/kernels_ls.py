"""Exact generalised Lomb-Scargle (Zechmeister & Kürster 2009), astropy "standard" normalisation.

Weights, the power from weighted sums, the power at one frequency and the exhaustive
trig-recurrence periodogram; the fast approximation built on them is in ``kernels_ls_fast.py``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from .kernels_shared import FASTMATH, frac

TWO_PI = 2.0 * math.pi
#: Exact cos/sin re-seeding period of the trigonometric recurrences (grid steps).
RESEED = 256


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
        a = TWO_PI * frac(f * tt[i])
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
        a = TWO_PI * frac(df * tt[i])
        dc[i] = math.cos(a)
        ds[i] = math.sin(a)
    for k in range(nf):
        if k % RESEED == 0:
            f = f0 + df * k
            for i in range(n):
                a = TWO_PI * frac(f * tt[i])
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
