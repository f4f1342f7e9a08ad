"""Input cleaning and conventions shared by the period-search kernels (private; the public API is
in ``search.py`` and ``periodograms.py``).

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
from numba import njit

FASTMATH = {"reassoc", "contract", "nsz", "arcp"}


@njit(cache=True, inline="always")
def frac(x):
    """Fractional part ``x - floor(x)``, in [0, 1)."""
    return x - math.floor(x)


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
