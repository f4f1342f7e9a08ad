"""False-alarm probabilities of the period search, N-adapted bins and the long-period grid."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import special, stats

from scope_assets.cli.features import main as generate_features
from scope_assets.features.periodsearch import GridPolicy, find_periods, frequency_grid
from scope_assets.features.periodsearch.fap import (
    aov_log_fap,
    ce_log_fap,
    log_betainc,
    log_chi2_sf,
    log_fap_of_trials,
    ls_log_fap,
    mag_bins_for,
    phase_bins_for,
)
from scope_assets.io import read_parquet
from scope_assets.lightcurves.batch import LightCurveBatch


def nightly_times(rng: np.random.Generator, n: int, days: float = 900.0) -> np.ndarray:
    """One point on each of ``n`` random nights, 0-8 h into the night (ground-based cadence)."""
    nights = np.sort(rng.choice(int(days), n, replace=False)).astype(float)
    return nights + rng.uniform(0.0, 0.35, n)


# ------------------------------------------------------------------------------------------
# closed forms
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("a", "b", "x"), [(2, 3, 0.1), (50, 4.5, 0.9), (0.5, 0.5, 0.3), (60, 9, 0.2), (3, 100, 0.02)]
)
def test_log_betainc_matches_scipy(a, b, x):
    assert log_betainc(a, b, x) == pytest.approx(math.log(special.betainc(a, b, x)), rel=1e-9)


@pytest.mark.parametrize(("x", "dof"), [(0.5, 3), (10, 3), (100, 36), (30, 36), (400, 90), (1, 1)])
def test_log_chi2_sf_matches_scipy(x, dof):
    assert log_chi2_sf(x, dof) == pytest.approx(stats.chi2.logsf(x, dof), rel=1e-9)


def test_single_frequency_faps_are_the_textbook_distributions():
    # AOV: F(r-1, N-r) with the populated bins; one trial
    for f_stat, r, n in [(2.0, 10, 120), (8.0, 10, 120), (48.0, 10, 124), (1.0, 20, 900)]:
        ref = stats.f.logsf(f_stat, r - 1, n - r)
        assert aov_log_fap(f_stat, r, n, 1.0) == pytest.approx(ref, rel=1e-9)
    # CE: chi2 of the G statistic; one trial
    assert ce_log_fap(40.0, 27, 1.0) == pytest.approx(stats.chi2.logsf(40.0, 27), rel=1e-9)
    # best of M independent trials: 1 - (1 - p)^M, also far in the tail
    for p, m in [(0.3, 1.0), (1e-4, 5e3), (1e-40, 1e6)]:
        ref = math.log(-math.expm1(m * math.log1p(-p)))
        assert log_fap_of_trials(math.log(p), m) == pytest.approx(ref, rel=1e-9)


def test_ls_fap_matches_astropy_baluev():
    from astropy.timeseries import LombScargle

    rng = np.random.default_rng(0)
    t = nightly_times(rng, 120)
    dy = rng.uniform(0.05, 0.2, 120)
    y = rng.normal(0, dy)
    ls = LombScargle(t, y, dy)
    w = dy**-2 / np.sum(dy**-2)
    t_eff = math.sqrt(4 * math.pi * (np.sum(w * t * t) - np.sum(w * t) ** 2))
    for z in (0.15, 0.2, 0.3, 0.5, 0.8):
        ref = ls.false_alarm_probability(z, maximum_frequency=48.0, method="baluev")
        assert math.exp(ls_log_fap(z, 120, 48.0, t_eff)) == pytest.approx(ref, rel=1e-5)


# ------------------------------------------------------------------------------------------
# Monte Carlo: pure noise
# ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def white_noise_faps():
    """FAP = 10**-significance of every algorithm on 1000 white-noise light curves (120 nightly
    points over 900 d, Gaussian errors as given)."""
    rng = np.random.default_rng(1)
    curves = []
    for _ in range(1000):
        err = rng.uniform(0.05, 0.2, 120)
        curves.append((nightly_times(rng, 120), 15.0 + rng.normal(0.0, err), err))
    batch = LightCurveBatch.from_curves(np.arange(len(curves)), curves)
    res = find_periods(batch, max_freq=5.0, top_n_periods=5)
    return {alg: 10.0**-r.significance for alg, r in res.items()}


def test_false_alarm_rate_of_white_noise(white_noise_faps):
    """The best LS and AOV peaks of noise have FAP < 1 % in about 1 % of the light curves and
    their FAP is roughly uniform; CE and the nested choice are never optimistic."""
    for alg in ("ELS", "EAOV"):
        fap = white_noise_faps[alg]
        assert 0.003 <= np.mean(fap < 0.01) <= 0.022, alg
        assert 0.05 <= np.mean(fap < 0.1) <= 0.14, alg
        assert 0.3 <= np.mean(fap < 0.5) <= 0.6, alg
    for alg in ("ECE", "ELS_ECE_EAOV"):
        fap = white_noise_faps[alg]
        assert np.mean(fap < 0.01) <= 0.015, alg
        assert np.mean(fap < 0.1) <= 0.12, alg


def test_signals_are_significant_and_noise_is_not():
    rng = np.random.default_rng(2)
    t = nightly_times(rng, 120)
    err = np.full(120, 0.1)
    noise = 15.0 + rng.normal(0.0, err)
    star = noise + 0.3 * np.sin(2 * np.pi * t / 0.61)
    batch = LightCurveBatch.from_curves(np.arange(2), [(t, noise, err), (t, star, err)])
    for alg, r in find_periods(batch, max_freq=5.0).items():
        assert r.significance[0] < 2.0, alg  # FAP > 1 %
        assert r.significance[1] > 10.0, alg  # FAP < 1e-10
        assert abs(r.period[1] / 0.61 - 1) < 1e-3, alg


# ------------------------------------------------------------------------------------------
# bins adapted to N, long periods
# ------------------------------------------------------------------------------------------
def test_phase_bins_adapt_to_the_number_of_points():
    assert [phase_bins_for(n) for n in (21, 60, 120, 239, 240, 1000)] == [5, 5, 10, 19, 20, 20]
    assert mag_bins_for(120, 10) == 4  # ~3 points per phase x magnitude cell
    assert mag_bins_for(600, 20) == 10  # SCoPe's 20 x 10 from about 600 points
    assert mag_bins_for(21, 5) == 3


def test_long_period_grid_reaches_the_baseline():
    span = 900.0
    scope = frequency_grid(span, remove_terrestrial=False)
    long = frequency_grid(span, remove_terrestrial=False, long_period_span=span)
    assert scope[0] == pytest.approx(2 / span) and long[0] == pytest.approx(1 / span)
    np.testing.assert_allclose(np.diff(long), 1 / (10 * span), rtol=1e-9)
    # a fixed grid baseline longer than twice the curve's span already reaches it
    fixed = frequency_grid(2500.0, remove_terrestrial=False, long_period_span=span)
    assert fixed[0] == pytest.approx(2 / 2500.0)
    policy = GridPolicy(long_periods=True, remove_terrestrial=False)
    np.testing.assert_array_equal(policy.grid_for(span), long)


def test_long_periods_find_a_mira():
    """A 600-d near-sinusoid on a 900-d light curve: beyond SCoPe's 2/T floor, found with
    long_periods (the half-year and yearly terrestrial windows do not hide it either)."""
    rng = np.random.default_rng(3)
    t = nightly_times(rng, 120)
    err = np.full(120, 0.1)
    mag = 14 + 2.0 * np.sin(2 * np.pi * t / 600.0) + rng.normal(0, err)
    batch = LightCurveBatch.from_curves(np.arange(1), [(t, mag, err)])
    kw = dict(algorithms=("ELS_ECE_EAOV", "ELS"), max_freq=5.0)
    scope = find_periods(batch, **kw)
    long = find_periods(batch, long_periods=True, **kw)
    assert scope["ELS_ECE_EAOV"].period[0] < 450.0
    assert abs(long["ELS_ECE_EAOV"].period[0] / 600.0 - 1) < 0.01
    assert abs(long["ELS"].period[0] / 600.0 - 1) < 0.05  # on the grid: steps of ~6 %


def test_generate_features_turns_long_periods_on_for_tables(tmp_path):
    rng = np.random.default_rng(4)
    t = 2458200.0 + nightly_times(rng, 120)
    table = pd.DataFrame(
        {"_id": 7, "hjd": t, "mag": 14 + np.sin(2 * np.pi * t / 600.0), "magerr": 0.05}
    )
    path = tmp_path / "lcs.parquet"
    table.to_parquet(path)
    fast = ["--max-freq", "2", "--period-algorithms", "ELS_ECE_EAOV", "--top-n-periods", "5"]
    for extra, expected in (([], True), (["--no-long-periods"], False)):
        out = tmp_path / f"features_{expected}.parquet"
        assert (
            generate_features(["--lightcurves", str(path), "--output", str(out), *fast, *extra])
            == 0
        )
        df = read_parquet(out)
        assert df.attrs["feature_generation"]["long_periods"] is expected
        assert bool(abs(df["period_ELS_ECE_EAOV"].iloc[0] / 600.0 - 1) < 0.01) is expected
