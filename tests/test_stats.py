"""The 22 basic statistics against plain numpy/scipy formulae written out here."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.stats

from scope_assets.features.stats import BASIC_STATS_COLUMNS, basic_stats
from scope_assets.lightcurves.batch import LightCurveBatch

EXPECTED_COLUMNS = ["n", "median", "wmean", "chi2red", "roms", "wstd", "norm_peak_to_peak_amp"]
EXPECTED_COLUMNS += ["norm_excess_var", "median_abs_dev", "iqr", "i60r", "i70r", "i80r", "i90r"]
EXPECTED_COLUMNS += ["skew", "smallkurt", "inv_vonneumannratio", "welch_i", "stetson_j"]
EXPECTED_COLUMNS += ["stetson_k", "ad", "sw"]


def _anderson_statistic(x: np.ndarray) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return float(scipy.stats.anderson(x, dist="norm", method="interpolate").statistic)
        except TypeError:  # scipy < 1.17 has no ``method``
            return float(scipy.stats.anderson(x, dist="norm").statistic)


def oracle(t: np.ndarray, m: np.ndarray, e: np.ndarray) -> dict[str, float]:
    """Spec §2.1, one formula per line."""
    n = len(m)
    s = np.maximum(e, 1e-30)
    w = 1.0 / s**2
    mu = np.sum(w * m) / np.sum(w)
    med = np.median(m)
    sw2 = np.sum(w * (m - mu) ** 2) / np.sum(w)
    z = (m - mu) / s
    dt = np.diff(t)
    ok = dt != 0
    v = 1.0 / dt[ok] ** 2
    eta = np.sum(v * np.diff(m)[ok] ** 2) / (np.sum(v) * sw2)
    d = np.sqrt(n / (n - 1)) * (m - mu) / s
    p = d[:-1] * d[1:]
    pct = lambda q: np.percentile(m, q)  # noqa: E731  (linear interpolation)
    return {
        "n": n,
        "median": med,
        "wmean": mu,
        "chi2red": np.sum(w * (m - mu) ** 2) / (n - 1),
        "roms": np.sum(np.abs(m - med) / s) / (n - 1),
        "wstd": np.sqrt(sw2),
        "norm_peak_to_peak_amp": (np.max(m - s) - np.min(m + s)) / (np.max(m - s) + np.min(m + s)),
        "norm_excess_var": np.sum((m - mu) ** 2 - s**2) / (n * mu**2),
        "median_abs_dev": np.median(np.abs(m - med)),
        "iqr": pct(75) - pct(25),
        "i60r": pct(80) - pct(20),
        "i70r": pct(85) - pct(15),
        "i80r": pct(90) - pct(10),
        "i90r": pct(95) - pct(5),
        "skew": n / ((n - 1) * (n - 2)) * np.sum(z**3),
        "smallkurt": n * (n + 1) / ((n - 1) * (n - 2) * (n - 3)) * np.sum(z**4)
        - 3 * (n - 1) ** 2 / ((n - 2) * (n - 3)),
        "inv_vonneumannratio": 1.0 / eta,
        "welch_i": np.sum(p),
        "stetson_j": np.sum(np.sign(p) * np.sqrt(np.abs(p))),
        "stetson_k": (np.sum(np.abs(d)) / n) / np.sqrt(np.sum(d**2) / n),
        "ad": _anderson_statistic(m / s),
        "sw": scipy.stats.shapiro(m / s).statistic if n <= 5000 else np.nan,
    }


def _random_curve(rng: np.random.Generator, n: int, kind: str):
    t = np.sort(2458300.0 + rng.uniform(0.0, 900.0, n))
    if n > 6:
        t[3] = t[2]  # a Δt = 0 pair (skipped by the von Neumann sums only)
    e = rng.uniform(0.01, 0.08, n)
    if kind == "gauss":
        m = 16.0 + rng.normal(0.0, 0.05, n)
    elif kind == "periodic":
        m = 14.0 + 0.4 * np.sin(2 * np.pi * t / 0.61) + rng.normal(0.0, 0.02, n)
    else:  # skewed, flaring
        m = 17.0 - rng.exponential(0.2, n)
    return t, m, e


def _batch(curves) -> LightCurveBatch:
    return LightCurveBatch.from_curves(np.arange(len(curves)), curves)


def test_columns_order_dtype_and_index():
    assert list(BASIC_STATS_COLUMNS) == EXPECTED_COLUMNS
    rng = np.random.default_rng(0)
    batch = _batch([_random_curve(rng, 30, "gauss"), _random_curve(rng, 40, "gauss")])
    df = basic_stats(batch)
    assert list(df.columns) == EXPECTED_COLUMNS
    assert all(dt == np.float64 for dt in df.dtypes)
    assert df.index.name == "_id" and list(df.index) == [0, 1]


@pytest.mark.parametrize("kind", ["gauss", "periodic", "skewed"])
def test_all_statistics_match_independent_formulae(kind):
    rng = np.random.default_rng({"gauss": 1, "periodic": 2, "skewed": 3}[kind])
    sizes = [4, 5, 6, 7, 11, 12, 13, 60, 257, 800]
    curves = [_random_curve(rng, n, kind) for n in sizes]
    df = basic_stats(_batch(curves))
    for i, (t, m, e) in enumerate(curves):
        want = oracle(t, m, e)
        for col in EXPECTED_COLUMNS:
            got = df[col].iloc[i]
            scale = max(abs(want[col]), 1e-300)
            assert abs(got - want[col]) <= 1e-10 * scale + 1e-13, (
                kind,
                len(t),
                col,
                got,
                want[col],
            )


def test_fewer_than_four_points_gives_all_nan_rows():
    rng = np.random.default_rng(4)
    curves = [_random_curve(rng, n, "gauss") for n in (0, 1, 2, 3, 4)]
    df = basic_stats(_batch(curves))
    assert df.iloc[:4].isna().all().all()
    assert df.iloc[4].notna().all()
    assert df["n"].iloc[4] == 4


def test_constant_curve():
    n = 50
    t = 2458000.0 + np.arange(n) * 0.7
    row = basic_stats(_batch([(t, np.full(n, 15.3), np.full(n, 0.02))])).iloc[0]
    assert row["n"] == n
    assert row["median"] == 15.3 and row["wmean"] == 15.3
    for col in ("chi2red", "roms", "wstd", "median_abs_dev", "iqr", "i90r", "skew"):
        assert row[col] == 0.0, col
    for col in ("welch_i", "stetson_j"):
        assert row[col] == 0.0, col
    assert row["smallkurt"] == pytest.approx(-3 * (n - 1) ** 2 / ((n - 2) * (n - 3)))
    assert row["norm_excess_var"] == pytest.approx(-(0.02**2) / 15.3**2)
    assert row["norm_peak_to_peak_amp"] == pytest.approx(-0.04 / 30.6)
    # 0/0 cases are NaN (von Neumann, Stetson K, Anderson-Darling); scipy's W is 1 for zero range.
    assert np.isnan(row["inv_vonneumannratio"])
    assert np.isnan(row["stetson_k"])
    assert np.isnan(row["ad"])
    assert row["sw"] == 1.0


def test_sigma_floor():
    rng = np.random.default_rng(5)
    t, m, e = _random_curve(rng, 40, "gauss")
    e[7] = 0.0
    row = basic_stats(_batch([(t, m, e)])).iloc[0]
    want = oracle(t, m, e)  # the oracle floors σ at 1e-30 too
    assert row["wmean"] == pytest.approx(m[7], rel=1e-12)
    for col in ("median", "wmean", "chi2red", "wstd", "skew", "iqr"):
        assert row[col] == pytest.approx(want[col], rel=1e-9), col


def test_shapiro_wilk_nan_above_5000_points():
    rng = np.random.default_rng(6)
    t, m, e = _random_curve(rng, 5001, "gauss")
    row = basic_stats(_batch([(t, m, e), (t[:5000], m[:5000], e[:5000])]))
    assert np.isnan(row["sw"].iloc[0])
    assert row["sw"].iloc[1] == pytest.approx(scipy.stats.shapiro(m[:5000] / e[:5000])[0], 1e-10)
    assert row["ad"].iloc[0] == pytest.approx(_anderson_statistic(m / e), rel=1e-9)


def test_all_pairs_at_equal_time_gives_nan_von_neumann():
    t = np.full(6, 2458000.0)
    m = np.array([1.0, 2.0, 1.5, 1.2, 1.9, 1.1])
    row = basic_stats(_batch([(t, m, np.full(6, 0.1))])).iloc[0]
    assert np.isnan(row["inv_vonneumannratio"])
    assert np.isfinite(row["welch_i"])


def test_empty_batch_and_unsorted_input():
    df = basic_stats(_batch([]))
    assert df.shape == (0, 22) and list(df.columns) == EXPECTED_COLUMNS
    assert isinstance(df, pd.DataFrame)
    bad = _batch([(np.array([3.0, 1.0, 2.0, 4.0]), np.ones(4), np.ones(4))])
    with pytest.raises(ValueError, match="sorted by time"):
        basic_stats(bad)
