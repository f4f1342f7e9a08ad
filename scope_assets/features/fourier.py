"""Multi-harmonic Fourier fit at a given period (spec ``scope-features.md`` §2.2), float64.

Model ``k`` (``k = 0..5``) for a light curve with points ``(t [HJD d], m [mag], σ [mag])``::

    m(t) = a + b·(t − t_min) + Σ_{n=1..k} [A_n cos(2πn t/P) + B_n sin(2πn t/P)]

fitted by weighted least squares (weights ``σ⁻²``, ``σ`` floored at 1e-30). **Epoch:** the phase
uses absolute ``t`` (phase zero at HJD 0), as SCoPe does in both v0.9.5 and HEAD, so ``A_n``,
``B_n`` and ``f1_phi0`` do not depend on the batch or on the curve's first point. ``t/P`` is
formed in float64 and reduced to ``[0, 1)`` before the trigonometry, so the phase error at
``t ≈ 2.46e6`` is ~1e-9 cycles (SCoPe HEAD's float32 time gave up to 0.4 cycles at P = 0.3 d).

All six models share one Gram matrix: with the columns ordered ``[1, t − t_min, cos 1, sin 1,
…, cos 5, sin 5]``, model ``k`` uses the leading ``2 + 2k`` columns, so one Cholesky factor of the
column-equilibrated normal equations serves every ``k`` (nested leading blocks). A column that is
numerically dependent on the previous ones (pivot < 1e-12) makes the models that need it
unavailable. ``χ²_k`` is summed from explicit residuals. Selection: ``BIC_k = χ²_k + ln N·(2+2k)``,
the smallest wins (ties go to the smaller ``k``); ``f1_power = (χ²₀ − χ²_best)/χ²₀`` (0 when
``k = 0`` is chosen). Curves with ``N < 14`` or a non-finite / non-positive period get NaN.

Coefficient conventions for the ten harmonic columns (:data:`COEFFICIENT_CONVENTIONS`):

``legacy_ab`` (the default here)
    SCoPe v0.9.5, what the published XGB/DNN models were trained on: ``f1_amp = A1``,
    ``f1_phi0 = B1``, ``f1_relamp{j} = A_{j+1}``, ``f1_relphi{j} = B_{j+1}`` (``j = 1..4``).
``amp_phase``
    SCoPe HEAD: ``f1_amp = √(A1² + B1²)``, ``f1_phi0 = atan2(A1, B1)`` (rad),
    ``f1_relamp{n−1} = amp_n/amp_1`` and ``f1_relphi{n−1} = ((φ_n/n − φ_1)/(2π/n)) mod 1`` for
    ``n = 2..5``, ``φ_n = atan2(A_n, B_n)``. Unlike HEAD, harmonics above the selected ``k`` get
    ``relamp = relphi = 0`` (HEAD reports ``relphi = (−nφ_1/2π) mod 1 ≠ 0`` for them).

``f1_a`` is in mag, ``f1_b`` in mag/day, ``f1_BIC`` and ``f1_power`` are dimensionless, the
legacy coefficients are in mag.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numba
import numpy as np
import pandas as pd

from scope_assets.lightcurves.batch import LightCurveBatch

FOURIER_COLUMNS: tuple[str, ...] = (
    "f1_power",
    "f1_BIC",
    "f1_a",
    "f1_b",
    "f1_amp",
    "f1_phi0",
    "f1_relamp1",
    "f1_relphi1",
    "f1_relamp2",
    "f1_relphi2",
    "f1_relamp3",
    "f1_relphi3",
    "f1_relamp4",
    "f1_relphi4",
)

CoefficientConvention = Literal["legacy_ab", "amp_phase"]
COEFFICIENT_CONVENTIONS: tuple[str, ...] = ("legacy_ab", "amp_phase")
DEFAULT_CONVENTION: CoefficientConvention = "legacy_ab"

MAX_HARMONICS = 5
MIN_POINTS = 14
SIGMA_FLOOR = 1e-30
PIVOT_TOL = 1e-12
_N_COLS = 2 + 2 * MAX_HARMONICS


@dataclass(frozen=True)
class FourierFit:
    """Raw result of :func:`fit_fourier_series` for ``n`` curves (NaN / -1 where not fitted)."""

    n_harmonics: np.ndarray  # int64 (n,), selected k; -1 when not fitted
    chi2: np.ndarray  # float64 (n, 6), χ²_k; inf when model k was unavailable
    bic: np.ndarray  # float64 (n, 6)
    power: np.ndarray  # float64 (n,)
    offset: np.ndarray  # float64 (n,), a [mag]
    slope: np.ndarray  # float64 (n,), b [mag/day]
    cos_coef: np.ndarray  # float64 (n, 5), A_1..A_5 [mag]; 0 above k
    sin_coef: np.ndarray  # float64 (n, 5), B_1..B_5 [mag]; 0 above k

    @property
    def best_bic(self) -> np.ndarray:
        """BIC of the selected model per curve (NaN when not fitted)."""
        out = np.full(len(self.n_harmonics), np.nan)
        ok = self.n_harmonics >= 0
        out[ok] = self.bic[ok, self.n_harmonics[ok]]
        return out


def fit_fourier_series(batch: LightCurveBatch, periods_days: np.ndarray) -> FourierFit:
    """Fit models ``k = 0..5`` to each curve at ``periods_days[i]`` and select ``k`` by BIC."""
    periods = np.ascontiguousarray(periods_days, dtype=np.float64)
    if periods.shape != (len(batch),):
        raise ValueError(f"periods_days has shape {periods.shape}, expected ({len(batch)},)")
    n = len(batch)
    k_best = np.full(n, -1, dtype=np.int64)
    chi2 = np.full((n, MAX_HARMONICS + 1), np.inf)
    coef = np.full((n, _N_COLS), np.nan)
    if n:
        _fourier_kernel(
            *batch.kernel_arrays(),
            periods,
            k_best,
            chi2,
            coef,
        )
    fitted = k_best >= 0
    n_pts = batch.n_points.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        bic = chi2 + np.log(n_pts)[:, None] * (2.0 + 2.0 * np.arange(MAX_HARMONICS + 1))
        chi2_best = np.where(fitted, chi2[np.arange(n), np.maximum(k_best, 0)], np.nan)
        power = np.where(k_best > 0, (chi2[:, 0] - chi2_best) / chi2[:, 0], 0.0)
    bic[~fitted] = np.nan
    chi2[~fitted] = np.nan
    power[~fitted] = np.nan
    return FourierFit(
        n_harmonics=k_best,
        chi2=chi2,
        bic=bic,
        power=power,
        offset=coef[:, 0],
        slope=coef[:, 1],
        cos_coef=coef[:, 2::2],
        sin_coef=coef[:, 3::2],
    )


def fourier_features(
    batch: LightCurveBatch,
    periods_days: np.ndarray,
    *,
    coefficient_convention: CoefficientConvention = DEFAULT_CONVENTION,
) -> pd.DataFrame:
    """SCoPe's 14 ``f1_*`` features (:data:`FOURIER_COLUMNS`) per curve, float64, index ``_id``.

    ``periods_days[i]`` is the period of curve ``i`` in days; the caller appends ``_<ALG>``.
    """
    if coefficient_convention not in COEFFICIENT_CONVENTIONS:
        raise ValueError(
            f"coefficient_convention must be one of {COEFFICIENT_CONVENTIONS}, "
            f"got {coefficient_convention!r}"
        )
    fit = fit_fourier_series(batch, periods_days)
    out = np.full((len(batch), len(FOURIER_COLUMNS)), np.nan)
    out[:, 0] = fit.power
    out[:, 1] = fit.best_bic
    out[:, 2] = fit.offset
    out[:, 3] = fit.slope
    if coefficient_convention == "legacy_ab":
        out[:, 4::2] = fit.cos_coef
        out[:, 5::2] = fit.sin_coef
    else:
        out[:, 4:] = _amp_phase(fit)
    return pd.DataFrame(out, columns=list(FOURIER_COLUMNS), index=pd.Index(batch.ids, name="_id"))


def _amp_phase(fit: FourierFit) -> np.ndarray:
    """HEAD's (amp, phi0, relamp1, relphi1, …, relamp4, relphi4), zero above the selected k."""
    amp = np.hypot(fit.cos_coef, fit.sin_coef)
    phi = np.arctan2(fit.cos_coef, fit.sin_coef)
    harmonic = np.arange(2, MAX_HARMONICS + 1, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        relamp = amp[:, 1:] / amp[:, :1]
    relphi = np.mod((phi[:, 1:] / harmonic - phi[:, :1]) / (2.0 * np.pi / harmonic), 1.0)
    relphi[relphi >= 1.0] = 0.0  # np.mod of a tiny negative rounds to 1.0
    unfitted = harmonic[None, :] > fit.n_harmonics[:, None]
    relamp[unfitted] = 0.0
    relphi[unfitted] = 0.0
    out = np.empty((len(amp), 2 * MAX_HARMONICS))
    out[:, 0] = amp[:, 0]
    out[:, 1] = phi[:, 0]
    out[:, 2::2] = relamp
    out[:, 3::2] = relphi
    out[fit.n_harmonics < 0] = np.nan
    return out


@numba.njit(cache=True, error_model="numpy")
def _fourier_kernel(
    t: np.ndarray,
    mag: np.ndarray,
    magerr: np.ndarray,
    offsets: np.ndarray,
    periods: np.ndarray,
    k_best: np.ndarray,
    chi2: np.ndarray,
    coef: np.ndarray,
) -> None:
    """Fill ``k_best``, ``chi2`` (n, 6) and ``coef`` (n, 12: a, b, A1, B1, …, A5, B5)."""
    n_curves = len(offsets) - 1
    max_n = 0
    for c in range(n_curves):
        max_n = max(max_n, offsets[c + 1] - offsets[c])
    basis = np.empty((max_n, _N_COLS))
    gram = np.empty((_N_COLS, _N_COLS))
    chol = np.zeros((_N_COLS, _N_COLS))
    rhs = np.empty(_N_COLS)
    scale = np.empty(_N_COLS)
    z = np.empty(_N_COLS)
    beta = np.empty(_N_COLS)
    two_pi = 2.0 * math.pi

    for c in range(n_curves):
        lo, hi = offsets[c], offsets[c + 1]
        n = hi - lo
        period = periods[c]
        if n < MIN_POINTS or not (period > 0.0 and period < np.inf):
            continue
        tt = t[lo:hi]
        y = mag[lo:hi]
        s = np.maximum(magerr[lo:hi], SIGMA_FLOOR)
        w = 1.0 / (s * s)
        t_min = tt.min()

        # Weighted mean as reference level: the fit runs on y − y0 to limit rounding.
        sum_w = 0.0
        sum_wd = 0.0
        for i in range(n):
            sum_w += w[i]
            sum_wd += w[i] * (y[i] - y[0])
        y0 = y[0] + sum_wd / sum_w

        for i in range(n):
            cycles = tt[i] / period
            theta = two_pi * (cycles - math.floor(cycles))
            c1 = math.cos(theta)
            s1 = math.sin(theta)
            basis[i, 0] = 1.0
            basis[i, 1] = tt[i] - t_min
            cn, sn = c1, s1
            basis[i, 2] = cn
            basis[i, 3] = sn
            for h in range(2, MAX_HARMONICS + 1):
                cn, sn = cn * c1 - sn * s1, sn * c1 + cn * s1
                basis[i, 2 * h] = cn
                basis[i, 2 * h + 1] = sn

        gram[:, :] = 0.0
        rhs[:] = 0.0
        for i in range(n):
            wi = w[i]
            dy = wi * (y[i] - y0)
            for j in range(_N_COLS):
                vj = wi * basis[i, j]
                rhs[j] += dy * basis[i, j]
                for k in range(j + 1):
                    gram[j, k] += vj * basis[i, k]
        for j in range(_N_COLS):
            scale[j] = 1.0 / math.sqrt(gram[j, j]) if gram[j, j] > 0.0 else 0.0

        # Cholesky of the equilibrated Gram matrix, stopping at the first dependent column.
        n_ok = _N_COLS
        for j in range(_N_COLS):
            d = gram[j, j] * scale[j] * scale[j]
            for k in range(j):
                d -= chol[j, k] * chol[j, k]
            if not d > PIVOT_TOL:
                n_ok = j
                break
            chol[j, j] = math.sqrt(d)
            for i in range(j + 1, _N_COLS):
                acc = gram[i, j] * scale[i] * scale[j]
                for k in range(j):
                    acc -= chol[i, k] * chol[j, k]
                chol[i, j] = acc / chol[j, j]
        k_max = min((n_ok - 2) // 2, MAX_HARMONICS) if n_ok >= 2 else -1
        if k_max < 0:
            continue
        for j in range(n_ok):
            acc = rhs[j] * scale[j]
            for k in range(j):
                acc -= chol[j, k] * z[k]
            z[j] = acc / chol[j, j]

        log_n = math.log(n)
        best_bic = np.inf
        for kk in range(k_max + 1):
            p = 2 + 2 * kk
            for j in range(p - 1, -1, -1):
                acc = z[j]
                for k in range(j + 1, p):
                    acc -= chol[k, j] * beta[k]
                beta[j] = acc / chol[j, j]
            x2 = 0.0
            for i in range(n):
                model = 0.0
                for j in range(p):
                    model += basis[i, j] * beta[j] * scale[j]
                r = y[i] - y0 - model
                x2 += w[i] * r * r
            chi2[c, kk] = x2
            bic = x2 + log_n * p
            if bic < best_bic:
                best_bic = bic
                k_best[c] = kk
                coef[c, :] = 0.0
                for j in range(p):
                    coef[c, j] = beta[j] * scale[j]
        coef[c, 0] += y0
