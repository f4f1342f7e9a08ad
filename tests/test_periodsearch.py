"""Period search: grid, GLS/CE/AOV kernels against references, period recovery on ZTF-like sims."""

from __future__ import annotations

import math

import numpy as np
import pytest

from scope_assets.features.periodsearch import (
    TERRESTRIAL_WINDOWS,
    GridPolicy,
    ce_aov_periodograms,
    classify_period_match,
    find_periods,
    frequency_grid,
    gls_periodogram,
    gls_power,
)
from scope_assets.features.periodsearch.period_match import match_label
from scope_assets.lightcurves.batch import LightCurveBatch

HJD0 = 2458200.5


def within_half_peak_width(found: float, period: float, t: np.ndarray) -> bool:
    """``|f - f_true| <= 0.5 / T``: the found frequency lies inside the true peak (width 1/T of a
    baseline ``T``), far tighter than a relative period tolerance for short periods."""
    return bool(abs(1.0 / found - 1.0 / period) <= 0.5 / (np.nanmax(t) - np.nanmin(t)))


# ------------------------------------------------------------------------------------------
# ZTF-like simulations: nightly-ish sampling over ~3 yr with seasonal gaps
# ------------------------------------------------------------------------------------------
def ztf_times(rng: np.random.Generator, n: int, years: float = 3.0) -> np.ndarray:
    """HJD of ``n`` points: random nights inside an 8-month observing season each year, a
    random time of night (about 4-9 h after the night starts), 1-3 visits on a night 30-60 min
    apart."""
    nights = np.arange(int(365.25 * years))
    nights = nights[(nights % 365) < 240]
    t = []
    while len(t) < n:
        night = rng.choice(nights)
        t0 = night + rng.uniform(0.15, 0.35)
        for k in range(rng.integers(1, 4)):
            t.append(t0 + k * rng.uniform(0.021, 0.042))
    return np.sort(np.array(t[:n])) + HJD0


def rrlyrae(phase: np.ndarray) -> np.ndarray:
    """RRab-like sawtooth, 0.8 mag: fast rise over 15 % of the cycle, slow linear decline."""
    rise = phase < 0.15
    return np.where(rise, 0.8 * (1 - phase / 0.15), 0.8 * (phase - 0.15) / 0.85) - 0.4


def eclipsing(phase: np.ndarray) -> np.ndarray:
    """Detached-ish binary: Gaussian primary (0.6 mag) and secondary (0.3 mag) eclipses."""
    d1 = (phase + 0.5) % 1.0 - 0.5
    d2 = phase - 0.5
    return 0.6 * np.exp(-0.5 * (d1 / 0.04) ** 2) + 0.3 * np.exp(-0.5 * (d2 / 0.04) ** 2)


def simulate(kind: str, seed: int, n: int = 400, years: float = 3.0):
    rng = np.random.default_rng(seed)
    t = ztf_times(rng, n, years)
    period = {"rrl": 0.5537, "dsct": 0.0813, "ecl": 0.7311, "sine": 1.731}[kind]
    phase = ((t - HJD0) / period + rng.uniform()) % 1.0
    if kind == "rrl":
        signal = rrlyrae(phase)
    elif kind == "dsct":
        signal = 0.15 * np.sin(2 * np.pi * phase) + 0.05 * np.sin(4 * np.pi * phase + 1)
    elif kind == "ecl":
        signal = eclipsing(phase)
    else:
        signal = 0.2 * np.sin(2 * np.pi * phase)
    err = rng.uniform(0.015, 0.05, n)
    mag = 16.0 + signal + rng.normal(0.0, err)
    return t, mag, err, period


def batch_of(curves) -> LightCurveBatch:
    return LightCurveBatch.from_curves(np.arange(len(curves)), [c[:3] for c in curves])


# ------------------------------------------------------------------------------------------
# grid
# ------------------------------------------------------------------------------------------
def test_grid_size_and_edges():
    T = 1757.0
    f = frequency_grid(T, remove_terrestrial=False)
    f_min, df = 2.0 / T, 1.0 / (10 * T)
    assert len(f) == math.ceil((48.0 - f_min) / df)
    assert f[0] == f_min
    np.testing.assert_allclose(np.diff(f), df, rtol=1e-9)
    assert f[-1] < 48.0 <= f[-1] + df + 1e-12
    assert 840_000 < len(f) < 845_000  # SCoPe DR16: about 843k


def test_grid_terrestrial_windows():
    T = 1757.0
    full = frequency_grid(T, remove_terrestrial=False)
    kept = frequency_grid(T)
    inside = np.zeros(len(full), bool)
    for lo, hi in TERRESTRIAL_WINDOWS:
        inside |= (full >= lo) & (full <= hi)
    np.testing.assert_array_equal(kept, full[~inside])
    for lo, hi in TERRESTRIAL_WINDOWS:
        assert not np.any((kept >= lo) & (kept <= hi))
    removed = 1 - len(kept) / len(full)
    assert 0.005 < removed < 0.015  # "about 1 % of the grid"
    # bins right next to a window edge are kept
    assert np.any((kept > 1.05) & (kept < 1.05 + 2 / (10 * T)))


def test_grid_empty_and_policy():
    assert len(frequency_grid(0.01, max_freq=48)) == 0  # f_min = 200 > max_freq
    pol = GridPolicy()
    assert len(pol.grid_for(100.0)) == len(frequency_grid(100.0))
    fixed = GridPolicy(baseline_days=1000.0)
    np.testing.assert_array_equal(fixed.grid_for(100.0), fixed.grid_for(900.0))
    with pytest.raises(ValueError):
        GridPolicy(baseline_days=-1.0)


# ------------------------------------------------------------------------------------------
# kernels against references
# ------------------------------------------------------------------------------------------
def test_gls_matches_astropy():
    from astropy.timeseries import LombScargle

    t, mag, err, _ = simulate("sine", 3, n=300)
    freqs = np.array([0.0123, 0.5777, 1.731**-1, 3.3, 17.0, 47.9])
    # astropy gets t - t[0]: with absolute HJD (2.46e6 d) its own phases are off by ~1e-8 rad at
    # 48 c/d; the power does not depend on the time origin.
    ls = LombScargle(t - t[0], mag, err)
    ref = ls.power(freqs, method="cython")
    np.testing.assert_allclose(gls_power(t, mag, err, freqs), ref, rtol=1e-8)
    # the trig-recurrence periodogram agrees at every grid point (uniform grid, 2e5 steps)
    f0, df, nf = 0.01, 1.7e-4, 200_000
    p = gls_periodogram(t, mag, err, f0, df, nf)
    k = np.array([0, 1, 255, 256, 257, 77_777, nf - 1])
    ref = ls.power(f0 + df * k, method="cython")
    np.testing.assert_allclose(p[k], ref, rtol=1e-8)


@pytest.mark.parametrize("kind", ["rrl", "dsct", "sine"])
def test_fast_gls_matches_direct(kind):
    """Decimated sums + band-limited interpolation vs the exhaustive recurrence, full SCoPe grid."""
    t, mag, err, _ = simulate(kind, 5, n=300)
    grid = frequency_grid(t.max() - t.min(), remove_terrestrial=False)
    f0, df, nf = grid[0], grid[1] - grid[0], len(grid)
    fast = gls_periodogram(t, mag, err, f0, df, nf, method="fast")
    direct = gls_periodogram(t, mag, err, f0, df, nf, method="direct")
    assert np.max(np.abs(fast - direct)) < 2e-6  # VERIFY_TOL (1e-4) has a 50x margin
    assert np.argmax(fast) == np.argmax(direct)


def _ref_ce_aov(t, mag, freqs):
    """Straightforward numpy conditional entropy and AOV (20 phase, 10 mag bins)."""
    tt = t - t.min()
    u = 5e-4 + 0.999 * (mag - mag.min()) / (mag.max() - mag.min())
    mbin = np.floor(u * 10).astype(int)
    n = len(t)
    ce, aov = [], []
    for f in freqs:
        pbin = np.floor(np.mod(f * tt, 1.0) * 20).astype(int)
        h = np.zeros((20, 10))
        np.add.at(h, (pbin, mbin), 1)
        p_ij = h / n
        p_j = p_ij.sum(axis=1, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.where(p_ij > 0, p_ij * np.log(p_j / p_ij), 0.0)
        ce.append(terms.sum())
        between = within = 0.0
        for b in range(20):
            yb = mag[pbin == b]
            if len(yb):
                between += len(yb) * (yb.mean() - mag.mean()) ** 2
                within += ((yb - yb.mean()) ** 2).sum()
        aov.append((n - 20) / 19 * between / within)
    return np.array(ce), np.array(aov)


@pytest.mark.parametrize("seed", [0, 1])
def test_ce_aov_match_reference(seed):
    rng = np.random.default_rng(seed)
    n = 157
    t = np.sort(rng.uniform(0, 900, n)) + HJD0
    mag = rng.normal(15, 0.3, n) + 0.3 * np.sin(2 * np.pi * t / 0.37)
    f0, df, nf = 0.003, 1.1e-4, 30_000
    ce, aov = ce_aov_periodograms(t, mag, f0, df, nf)
    k = np.r_[0:40, 12_345:12_400, nf - 40 : nf]
    rce, raov = _ref_ce_aov(t, mag, f0 + df * k)
    np.testing.assert_allclose(ce[k], rce, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(aov[k], raov, rtol=1e-10)
    # the best CE/AOV bins near the true frequency agree too
    k = np.arange(int((1 / 0.37 - f0) / df) - 30, int((1 / 0.37 - f0) / df) + 30)
    rce, raov = _ref_ce_aov(t, mag, f0 + df * k)
    np.testing.assert_allclose(ce[k], rce, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(aov[k], raov, rtol=1e-10)


# ------------------------------------------------------------------------------------------
# recovery on simulations (one batch, all algorithms)
# ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sim_results():
    curves = [simulate(k, s) for k, s in (("rrl", 11), ("dsct", 12), ("ecl", 13), ("rrl", 14))]
    res = find_periods(batch_of(curves), top_n_periods=20)
    return curves, res


def test_recovers_rr_lyrae_and_delta_scuti(sim_results):
    curves, res = sim_results
    for i in (0, 1, 3):
        p_true = curves[i][3]
        for alg in ("ELS", "ECE", "EAOV", "ELS_ECE_EAOV"):
            found = res[alg].period[i]
            assert within_half_peak_width(found, p_true, curves[i][0]), (alg, i, found)
            assert res[alg].significance[i] > 5
        assert np.all(res[alg].pdot == 0)


def test_eclipsing_binary_p_and_p_half(sim_results):
    """Unequal eclipses: LS (sinusoid) finds P/2; CE, AOV and the nested search find P."""
    curves, res = sim_results
    t, p_true = curves[2][0], curves[2][3]
    assert within_half_peak_width(res["ELS"].period[2], p_true / 2, t)
    for alg in ("ECE", "EAOV", "ELS_ECE_EAOV"):
        assert within_half_peak_width(res[alg].period[2], p_true, t), alg


def test_top_periods_are_isolated(sim_results):
    _, res = sim_results
    for alg in ("ELS", "ECE", "EAOV", "ELS_ECE_EAOV"):
        top = res[alg].top_periods[0]
        top = top[np.isfinite(top)]
        assert len(top) >= 10
        assert top[0] == res[alg].period[0]
        d = np.abs(np.log(top[:, None]) - np.log(top[None, :]))
        assert np.all(d[~np.eye(len(top), dtype=bool)] >= 1e-3)
        z = res[alg].top_significances[0, : len(top)]
        if alg != "ELS_ECE_EAOV":
            assert np.all(np.diff(z) <= 1e-12)  # best first


def test_fast_and_direct_ls_same_period(sim_results):
    """find_periods' fast LS (with exact re-evaluation near the maximum) picks the same bin as the
    exhaustive evaluation, also with a fixed grid much longer (D large) or shorter (no
    decimation possible) than the light curve."""
    curves, res = sim_results
    direct = find_periods(
        batch_of(curves), algorithms=("ELS",), ls_method="direct", top_n_periods=20
    )
    np.testing.assert_array_equal(res["ELS"].period, direct["ELS"].period)
    np.testing.assert_array_equal(res["ELS"].top_periods, direct["ELS"].top_periods)
    np.testing.assert_allclose(res["ELS"].significance, direct["ELS"].significance, rtol=1e-6)
    for baseline in (300.0, 6000.0):
        kw = dict(algorithms=("ELS",), baseline_days=baseline, max_freq=20.0)
        a = find_periods(batch_of(curves), ls_method="fast", **kw)["ELS"]
        b = find_periods(batch_of(curves), ls_method="direct", **kw)["ELS"]
        np.testing.assert_array_equal(a.period, b.period)


def test_independent_of_batch_composition():
    short = simulate("rrl", 21, n=300, years=2.0)
    long = simulate("sine", 22, n=500, years=6.0)
    alone = find_periods(batch_of([short]), algorithms=("ELS", "ELS_ECE_EAOV"), n_threads=1)
    mixed = find_periods(batch_of([long, short, long]), algorithms=("ELS", "ELS_ECE_EAOV"))
    for alg in ("ELS", "ELS_ECE_EAOV"):
        assert alone[alg].period[0] == mixed[alg].period[1]
        assert alone[alg].significance[0] == mixed[alg].significance[1]
        np.testing.assert_array_equal(alone[alg].top_periods[0], mixed[alg].top_periods[1])
    assert alone["ELS"].n_frequencies[0] < mixed["ELS"].n_frequencies[0]
    # a fixed grid from configuration gives every curve the same grid
    fixed = find_periods(batch_of([long, short]), algorithms=("LS",), baseline_days=2500.0)
    assert (
        fixed["LS"].n_frequencies[0]
        == fixed["LS"].n_frequencies[1]
        == len(frequency_grid(2500.0, remove_terrestrial=False))
    )
    assert classify_period_match(fixed["LS"].period[1], short[3]) == "exact"


def test_nan_and_short_curves():
    t, mag, err, p = simulate("rrl", 31, n=300)
    bad_t, bad_m, bad_e = t.copy(), mag.copy(), err.copy()
    bad_m[::7] = np.nan
    bad_e[1::11] = 0.0
    bad_t[2::13] = np.nan
    good = np.isfinite(bad_t) & np.isfinite(bad_m) & (bad_e > 0)
    curves = [
        (t[:3], mag[:3], err[:3]),  # 3 points
        (np.full(50, np.nan), mag[:50], err[:50]),  # all NaN times
        (bad_t, bad_m, bad_e),
        (bad_t[good], bad_m[good], bad_e[good]),
        (t[:10], np.full(10, 16.0), err[:10]),  # constant
        (np.zeros(0), np.zeros(0), np.zeros(0)),  # empty
        (t[:12], mag[:12], err[:12]),  # 12 points: LS/CE yes, AOV (needs > 20) no
    ]
    batch = LightCurveBatch.from_curves(np.arange(len(curves)), curves)
    res = find_periods(batch, algorithms=("LS", "CE", "AOV", "LS_CE_AOV"), max_freq=10.0)
    for alg, r in res.items():
        assert np.all(np.isnan(r.period[[0, 1, 4, 5]])), alg
        assert np.all(np.isnan(r.significance[[0, 1, 4, 5]])), alg
        assert r.period[2] == r.period[3]
        assert r.significance[2] == r.significance[3]
        assert within_half_peak_width(r.period[2], p, t), alg
    assert np.isfinite(res["LS"].period[6]) and np.isfinite(res["CE"].period[6])
    assert np.isnan(res["AOV"].period[6]) and np.isnan(res["LS_CE_AOV"].period[6])
    empty = find_periods(LightCurveBatch.from_curves(np.zeros(0), []), algorithms=("LS",))
    assert empty["LS"].period.shape == (0,)


def test_algorithm_names():
    t, mag, err, _ = simulate("sine", 41, n=200)
    res = find_periods(batch_of([(t, mag, err)]), algorithms=("LS", "ELS"), max_freq=5.0)
    assert set(res) == {"LS", "ELS"} and res["LS"].algorithm == "ELS"
    assert res["LS"].period[0] == res["ELS"].period[0]
    with pytest.raises(ValueError):
        find_periods(batch_of([(t, mag, err)]), algorithms=("BLS",))


def test_classify_period_match():
    assert classify_period_match(1.001, 1.0) == "exact"
    assert classify_period_match(0.5, 1.0) == "harmonic"
    assert classify_period_match(2.0, 1.0) == "harmonic"
    assert classify_period_match(1.0 / (1.0 / 0.3 + 1.0), 0.3) == "alias"
    assert classify_period_match(0.77, 1.0) == "miss"
    assert classify_period_match(math.nan, 1.0) == "miss"
    assert match_label(0.5, 1.0) == "P/2"
