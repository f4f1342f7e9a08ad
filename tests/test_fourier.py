"""Fourier features against a plain weighted least-squares fit (numpy lstsq) per model k."""

from __future__ import annotations

import numpy as np
import pytest

from scope_assets.features.fourier import (
    FOURIER_COLUMNS,
    fit_fourier_series,
    fourier_features,
)
from scope_assets.lightcurves.batch import LightCurveBatch

EXPECTED_COLUMNS = ["f1_power", "f1_BIC", "f1_a", "f1_b", "f1_amp", "f1_phi0"] + [
    f"f1_rel{q}{j}" for j in range(1, 5) for q in ("amp", "phi")
]
HJD0 = 2460000.0  # a multiple of P = 0.3 d (and 0.5 d): shifting t by it leaves the phase alone


def lstsq_oracle(t, y, e, period):
    """Every model k = 0..5 by weighted lstsq; returns (k_best, chi2 list, bic list, coef)."""
    s = np.maximum(e, 1e-30)
    sw = 1.0 / s
    n = len(t)
    phase = 2 * np.pi * t / period  # absolute t, as SCoPe
    chi2, bic, coefs = [], [], []
    for k in range(6):
        cols = [np.ones(n), t - t.min()]
        for h in range(1, k + 1):
            cols += [np.cos(h * phase), np.sin(h * phase)]
        x = np.column_stack(cols)
        beta = np.linalg.lstsq(x * sw[:, None], y * sw, rcond=None)[0]
        c2 = np.sum(((y - x @ beta) * sw) ** 2)
        chi2.append(c2)
        bic.append(c2 + np.log(n) * (2 + 2 * k))
        coefs.append(np.concatenate([beta, np.zeros(10 - 2 * k)]))
    k_best = int(np.argmin(bic))
    return k_best, chi2, bic, coefs[k_best]


def _signal(t, period, a_cos, b_sin, level=15.0, slope=0.0):
    phase = 2 * np.pi * t / period
    y = level + slope * (t - t.min())
    for h, (a, b) in enumerate(zip(a_cos, b_sin, strict=True), start=1):
        y = y + a * np.cos(h * phase) + b * np.sin(h * phase)
    return y


def _batch(curves) -> LightCurveBatch:
    return LightCurveBatch.from_curves(np.arange(len(curves)), curves)


A_TRUE = [0.30, 0.10, -0.05]
B_TRUE = [0.20, -0.06, 0.03]


def _periodic_curve(rng, n=400, period=0.3, t0=HJD0, noise=0.01):
    t = np.sort(t0 + rng.uniform(0.0, 700.0, n))
    e = rng.uniform(0.5, 1.5, n) * noise
    y = _signal(t, period, A_TRUE, B_TRUE, slope=2e-5) + rng.normal(0.0, 1.0, n) * e
    return t, y, e


def test_columns():
    assert list(FOURIER_COLUMNS) == EXPECTED_COLUMNS


def test_recovers_known_three_harmonic_signal():
    rng = np.random.default_rng(11)
    t, y, e = _periodic_curve(rng)
    fit = fit_fourier_series(_batch([(t, y, e)]), np.array([0.3]))
    assert fit.n_harmonics[0] == 3
    np.testing.assert_allclose(fit.cos_coef[0], A_TRUE + [0, 0], atol=3e-3)
    np.testing.assert_allclose(fit.sin_coef[0], B_TRUE + [0, 0], atol=3e-3)
    assert fit.cos_coef[0, 3:].tolist() == [0.0, 0.0]  # harmonics above k are exactly 0
    assert fit.offset[0] == pytest.approx(15.0, abs=3e-3)
    assert fit.slope[0] == pytest.approx(2e-5, abs=5e-6)
    assert fit.power[0] > 0.99


@pytest.mark.parametrize("t0", [0.0, HJD0])
def test_matches_lstsq_oracle(t0):
    rng = np.random.default_rng(12)
    curves, periods = [], []
    for i, period in enumerate([0.3, 0.5, 1.7, 13.1, 0.0731, 251.0, 0.81]):
        n = [14, 15, 40, 150, 600, 300, 500][i]
        t = np.sort(t0 + rng.uniform(0.0, 1000.0, n))
        e = rng.uniform(0.01, 0.05, n)
        amp = [0.0, 0.02, 0.2, 0.5, 0.1, 1.0, 0.3][i]
        a_cos, b_sin = [amp, amp / 3], [amp / 2, 0.0]
        if i == 6:  # five strong harmonics
            a_cos, b_sin = [amp, amp / 2, amp / 3, amp / 4, amp / 5], [0.1, 0.1, 0.1, 0.1, 0.1]
        y = _signal(t, period, a_cos, b_sin) + rng.normal(0, 1, n) * e
        curves.append((t, y, e))
        periods.append(period)
    batch = _batch(curves)
    fit = fit_fourier_series(batch, np.array(periods))
    assert sorted(set(fit.n_harmonics)) == [0, 1, 2, 5]
    legacy = fourier_features(batch, np.array(periods), coefficient_convention="legacy_ab")
    # At HJD ~2.46e6 the oracle's own phases 2πnt/P carry ~1e-8 rad of rounding.
    rtol = 1e-9 if t0 == 0.0 else 1e-6
    for i, (t, y, e) in enumerate(curves):
        k, chi2, bic, coef = lstsq_oracle(t, y, e, periods[i])
        assert fit.n_harmonics[i] == k
        np.testing.assert_allclose(fit.chi2[i], chi2, rtol=rtol)
        np.testing.assert_allclose(fit.bic[i], bic, rtol=rtol)
        row = legacy.iloc[i]
        want_power = (chi2[0] - chi2[k]) / chi2[0]
        assert row["f1_power"] == pytest.approx(want_power, rel=rtol, abs=1e-12)
        assert row["f1_BIC"] == pytest.approx(bic[k], rel=rtol)
        # legacy_ab: a, b, then A1, B1, A2, B2, ... A5, B5 in the f1_amp .. f1_relphi4 slots.
        scale = np.max(np.abs(coef[2:])) + 1e-3
        np.testing.assert_allclose(row.iloc[2:4], coef[:2], rtol=rtol * 10, atol=rtol * scale)
        np.testing.assert_allclose(row.iloc[4:], coef[2:], rtol=rtol * 10, atol=rtol * scale)


def test_amp_phase_convention():
    rng = np.random.default_rng(13)
    t, y, e = _periodic_curve(rng)
    batch = _batch([(t, y, e)])
    raw = fourier_features(batch, np.array([0.3]), coefficient_convention="legacy_ab").iloc[0]
    row = fourier_features(batch, np.array([0.3]), coefficient_convention="amp_phase").iloc[0]
    a = raw[["f1_amp", "f1_relamp1", "f1_relamp2", "f1_relamp3", "f1_relamp4"]].to_numpy()
    b = raw[["f1_phi0", "f1_relphi1", "f1_relphi2", "f1_relphi3", "f1_relphi4"]].to_numpy()
    amp = np.sqrt(a**2 + b**2)
    phi = np.arctan2(a, b)
    assert row["f1_amp"] == pytest.approx(amp[0], rel=1e-12)
    assert row["f1_phi0"] == pytest.approx(phi[0], rel=1e-12)
    for n in (2, 3):  # fitted harmonics (k = 3)
        assert row[f"f1_relamp{n - 1}"] == pytest.approx(amp[n - 1] / amp[0], rel=1e-12)
        want = ((phi[n - 1] / n - phi[0]) / (2 * np.pi / n)) % 1.0
        assert row[f"f1_relphi{n - 1}"] == pytest.approx(want, rel=1e-12)
    for n in (4, 5):  # not fitted: 0, not HEAD's (-nφ1/2π) mod 1
        assert row[f"f1_relamp{n - 1}"] == 0.0 and row[f"f1_relphi{n - 1}"] == 0.0
    for col in ("f1_power", "f1_BIC", "f1_a", "f1_b"):
        assert row[col] == raw[col]
    # Truth: amp_1 = |(A1, B1)|, relamp1 = |(A2, B2)| / amp_1.
    assert row["f1_amp"] == pytest.approx(np.hypot(0.30, 0.20), abs=3e-3)
    assert row["f1_relamp1"] == pytest.approx(np.hypot(0.10, 0.06) / np.hypot(0.30, 0.20), abs=1e-2)


def test_constant_curve_has_no_power():
    rng = np.random.default_rng(14)
    t = np.sort(HJD0 + rng.uniform(0, 300, 200))
    e = np.full(200, 0.02)
    curves = [(t, np.full(200, 15.0), e), (t, 15.0 + rng.normal(0, 0.02, 200), e)]
    for conv in ("legacy_ab", "amp_phase"):
        df = fourier_features(_batch(curves), np.array([0.37, 0.37]), coefficient_convention=conv)
        assert (df["f1_power"] < 0.01).all()
        assert df["f1_a"].iloc[0] == pytest.approx(15.0, abs=1e-12)
        assert df["f1_b"].iloc[0] == pytest.approx(0.0, abs=1e-14)
        assert (df.iloc[0, 4:] == 0.0).all()
    fit = fit_fourier_series(_batch(curves), np.array([0.37, 0.37]))
    assert fit.n_harmonics[0] == 0 and fit.power[0] == 0.0


@pytest.mark.parametrize("convention", ["legacy_ab", "amp_phase"])
def test_absolute_hjd_phase_is_exact_in_float64(convention):
    # SCoPe HEAD's float32 HJD bug: a P = 0.3 d signal at t ~ 2.46e6 must fit exactly as the
    # same curve with t - 2460000 (2460000 = 8.2e6 P, so the phase is the same).
    rng = np.random.default_rng(15)
    t, y, e = _periodic_curve(rng, t0=HJD0)
    batch = _batch([(t, y, e), (t - HJD0, y, e)])
    df = fourier_features(batch, np.array([0.3, 0.3]), coefficient_convention=convention)
    np.testing.assert_allclose(df.iloc[0], df.iloc[1], rtol=1e-7, atol=1e-9)
    assert df["f1_power"].iloc[0] > 0.99
    # The check is sensitive: time rounded to float32 (0.25 d steps) destroys the fit.
    t32 = t.astype(np.float32).astype(np.float64)
    bad = fourier_features(_batch([(t32, y, e)]), np.array([0.3]))
    assert bad["f1_power"].iloc[0] < 0.5


def test_nan_rows():
    rng = np.random.default_rng(16)
    t, y, e = _periodic_curve(rng, n=100)
    curves = [(t, y, e)] * 4 + [(t[:13], y[:13], e[:13]), (t[:14], y[:14], e[:14])]
    periods = np.array([np.nan, 0.0, -1.0, np.inf, 0.3, 0.3])
    df = fourier_features(_batch(curves), periods)
    assert df.iloc[:5].isna().all().all()
    assert df.iloc[5].notna().all()
    fit = fit_fourier_series(_batch(curves), periods)
    assert (fit.n_harmonics[:5] == -1).all()


def test_degenerate_columns_fall_back_to_fewer_harmonics():
    # Every point at the same phase: the harmonic columns are constant (collinear with the
    # offset), so only k = 0 can be fitted.
    t = HJD0 + np.arange(30) * 2.0
    y = 15.0 + 0.01 * np.sin(np.arange(30))
    fit = fit_fourier_series(_batch([(t, y, np.full(30, 0.01))]), np.array([1.0]))
    assert fit.n_harmonics[0] == 0
    assert np.isinf(fit.chi2[0, 1:]).all()


def test_validation():
    batch = _batch([(np.arange(20.0), np.ones(20), np.ones(20))])
    with pytest.raises(ValueError, match="periods_days has shape"):
        fourier_features(batch, np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="coefficient_convention"):
        fourier_features(batch, np.array([1.0]), coefficient_convention="ab")
    empty = fourier_features(_batch([]), np.zeros(0))
    assert empty.shape == (0, 14)
