"""Point-level cleaning: each cut with its count, sorting, cadence thinning, curve drops."""

from __future__ import annotations

import numpy as np
import pytest

from scope_assets.lightcurves.batch import LightCurveBatch
from scope_assets.lightcurves.cleaning import (
    COUNT_KEYS,
    clean_light_curves,
    is_time_sorted,
    sort_by_time,
)

T0 = 2458500.0  # HJD inside DR16


def _batch(*curves: tuple) -> LightCurveBatch:
    return LightCurveBatch.from_curves(np.arange(len(curves)) + 100, list(curves))


def _curve(t, mag=None, magerr=None):
    t = np.asarray(t, dtype=np.float64)
    mag = np.full(len(t), 15.0) if mag is None else np.asarray(mag, dtype=np.float64)
    magerr = np.full(len(t), 0.02) if magerr is None else np.asarray(magerr, dtype=np.float64)
    return t, mag, magerr


def _clean(batch, catflags=None, programid=None, **kw):
    kw.setdefault("min_n_points", 1)
    n = len(batch.t)
    catflags = np.zeros(n, dtype=np.int64) if catflags is None else np.asarray(catflags)
    programid = np.ones(n, dtype=np.int64) if programid is None else np.asarray(programid)
    return clean_light_curves(batch, catflags, programid, **kw)


def _expected_counts(**nonzero: int) -> dict[str, int]:
    counts = dict.fromkeys(COUNT_KEYS, 0)
    counts.update(nonzero)
    return counts


def test_cadence_thinning_scope_example():
    # SCoPe's RemoveHighCadence case: 30 min = 0.020833 d keeps 0, 0.025 and 0.05.
    t = T0 + np.array([0.0, 0.001, 0.002, 0.025, 0.05])
    res = _clean(_batch(_curve(t)))
    np.testing.assert_array_equal(res.batch.t, t[[0, 3, 4]])
    np.testing.assert_array_equal(res.source_index, [0, 3, 4])
    assert res.counts == _expected_counts(points_cadence=2, curves_cadence=1)


def test_cadence_is_measured_from_last_kept_point():
    # 0.015 d steps: 0.015 < 0.0208 is dropped, 0.03 - 0 kept, 0.045 - 0.03 dropped, 0.06 kept.
    batch = _batch(_curve(T0 + np.array([0.0, 0.015, 0.03, 0.045, 0.06])))
    res = _clean(batch)
    np.testing.assert_allclose(res.batch.t - T0, [0.0, 0.03, 0.06], atol=1e-9)


def test_zero_cadence_keeps_every_distinct_time():
    batch = _batch(_curve(T0 + np.array([0.0, 0.0, 0.001, 0.002])))
    res = _clean(batch, min_cadence_minutes=0.0)
    np.testing.assert_allclose(res.batch.t - T0, [0.0, 0.001, 0.002], atol=1e-9)
    assert res.counts == _expected_counts(points_duplicate_time=1, curves_duplicate_time=1)


def test_sorts_by_time_and_carries_mag_and_err():
    t = T0 + np.array([3.0, 1.0, 2.0, 0.0])
    mag = np.array([13.0, 11.0, 12.0, 10.0])
    err = np.array([0.3, 0.1, 0.2, 0.05])
    res = _clean(_batch((t, mag, err)))
    np.testing.assert_array_equal(res.batch.t - T0, [0.0, 1.0, 2.0, 3.0])
    np.testing.assert_array_equal(res.batch.mag, [10.0, 11.0, 12.0, 13.0])
    np.testing.assert_array_equal(res.batch.magerr, [0.05, 0.1, 0.2, 0.3])
    np.testing.assert_array_equal(res.source_index, [3, 1, 2, 0])


def test_equal_times_keep_smallest_error_then_smallest_mag():
    t = T0 + np.array([1.0, 0.0, 1.0, 0.0, 1.0])
    mag = np.array([1.0, 2.0, 3.0, 4.0, 0.5])
    err = np.array([0.02, 0.05, 0.01, 0.03, 0.01])
    res = _clean(_batch((t, mag, err)), min_cadence_minutes=0.0)
    np.testing.assert_array_equal(res.batch.mag, [4.0, 0.5])
    np.testing.assert_array_equal(res.source_index, [3, 4])


def test_result_is_independent_of_row_order():
    rng = np.random.default_rng(3)
    curves = []
    for _ in range(20):
        n = int(rng.integers(5, 80))
        t = T0 + np.round(rng.uniform(0, 30, n), 1)  # many exact duplicate times
        curves.append((t, rng.normal(15, 0.3, n), rng.choice([0.01, 0.02, 0.03], n)))
    shuffled = [tuple(a[p] for a in c) for c in curves for p in [rng.permutation(len(c[0]))]]
    for cadence in (0.0, 30.0):
        first = _clean(_batch(*curves), min_cadence_minutes=cadence)
        second = _clean(_batch(*shuffled), min_cadence_minutes=cadence)
        for name in ("t", "mag", "magerr"):
            np.testing.assert_array_equal(getattr(first.batch, name), getattr(second.batch, name))
        np.testing.assert_array_equal(first.batch.offsets, second.batch.offsets)
        assert first.counts == second.counts
        assert first.counts["points_duplicate_time"] > 0


@pytest.mark.parametrize(
    ("mag", "err", "reason"),
    [
        (1e30, 0.02, "mag_nonphysical"),
        (99.0, 0.02, "mag_nonphysical"),
        (-1e30, 0.02, "mag_nonphysical"),
        (15.0, 1e-30, "magerr_nonphysical"),
        (15.0, 1e30, "magerr_nonphysical"),
        (15.0, 0.0, "error_not_positive"),
        (15.0, -0.02, "error_not_positive"),
    ],
)
def test_nonphysical_values_are_dropped_with_their_reason(mag, err, reason):
    good = _curve(T0 + np.arange(3.0))
    bad_mag = np.array([15.0, mag, mag])
    bad_err = np.array([0.02, err, err])
    all_bad = (T0 + np.arange(2.0), np.full(2, mag), np.full(2, err))
    res = _clean(_batch(good, (T0 + np.arange(3.0), bad_mag, bad_err), all_bad))
    np.testing.assert_array_equal(res.kept, [True, True, False])
    np.testing.assert_array_equal(res.batch.n_points, [3, 1])
    expected = {f"points_{reason}": 4, f"curves_{reason}": 2, "curves_empty": 1}
    assert res.counts == _expected_counts(**expected)


def test_catflags_cut():
    batch = _batch(_curve(T0 + np.arange(6.0)))
    res = _clean(batch, catflags=[0, 1, 0, 32768, 0, -1])
    np.testing.assert_array_equal(res.batch.t - T0, [0.0, 2.0, 4.0])
    assert res.counts == _expected_counts(points_flagged=3, curves_flagged=1)


def test_nonfinite_and_nonpositive_errors_cut():
    t = T0 + np.arange(8.0)
    t[0] = np.nan
    mag = np.full(8, 15.0)
    mag[1] = np.inf
    mag[2] = np.nan
    err = np.full(8, 0.02)
    err[3] = 0.0
    err[4] = -0.1
    err[5] = np.nan
    res = _clean(_batch((t, mag, err)))
    np.testing.assert_array_equal(res.batch.t - T0, [6.0, 7.0])
    assert res.counts == _expected_counts(
        points_nonfinite=4,
        curves_nonfinite=1,
        points_error_not_positive=2,
        curves_error_not_positive=1,
    )


def test_programid_cut_per_point():
    batch = _batch(_curve(T0 + np.arange(5.0)))
    res = _clean(batch, programid=[1, 2, 3, 0, 4])
    np.testing.assert_array_equal(res.batch.t - T0, [0.0, 1.0, 2.0])
    assert res.counts == _expected_counts(points_programid=2, curves_programid=1)
    res = _clean(batch, programid=[1, 2, 3, 0, 4], programids=(1,))
    np.testing.assert_array_equal(res.batch.t - T0, [0.0])
    res = _clean(batch, programid=[1, 2, 3, 0, 4], programids=None)
    assert len(res.batch.t) == 5


def test_max_hjd_cut_per_point_and_disable():
    t = np.array([2459950.0, 2459951.5, 2459951.5 + 1e-6, 2460100.0])
    batch = _batch(_curve(t))
    res = _clean(batch, min_cadence_minutes=0.0)  # default max_hjd 2459951.5 (end of DR16) kept
    np.testing.assert_array_equal(res.batch.t, t[:2])
    assert res.counts == _expected_counts(points_after_max_hjd=2, curves_after_max_hjd=1)
    res = _clean(batch, max_hjd=None, min_cadence_minutes=0.0)
    np.testing.assert_array_equal(res.batch.t, t)


def test_none_arrays_skip_their_cuts():
    batch = _batch(_curve(T0 + np.arange(3.0)))
    res = clean_light_curves(batch, None, None, min_n_points=1)
    assert len(res.batch.t) == 3


def test_first_failing_reason_counts_a_point_once():
    t = T0 + np.arange(4.0)
    mag = np.array([np.nan, np.nan, 15.0, 15.0])
    res = _clean(_batch(_curve(t, mag)), catflags=[1, 0, 0, 0], programid=[1, 9, 9, 1])
    assert res.counts == _expected_counts(
        points_flagged=1,
        points_nonfinite=1,
        points_programid=1,
        curves_flagged=1,
        curves_nonfinite=1,
        curves_programid=1,
    )
    np.testing.assert_array_equal(res.batch.t - T0, [3.0])


def test_min_points_drops_short_curves_with_counts():
    t49 = T0 + np.arange(49.0)
    t50 = T0 + np.arange(50.0)
    t51 = T0 + np.arange(51.0)
    batch = _batch(_curve(t49), _curve(t50), _curve(t51))
    flags = np.zeros(150, dtype=np.int64)
    flags[99] = 1  # one flagged point takes the 51-point curve to 50
    res = _clean(batch, catflags=flags, min_n_points=50)
    np.testing.assert_array_equal(res.kept, [False, True, True])
    np.testing.assert_array_equal(res.batch.ids, [101, 102])
    np.testing.assert_array_equal(res.batch.n_points, [50, 50])
    assert res.counts == _expected_counts(
        points_flagged=1, curves_flagged=1, points_short_curve=49, curves_too_few_points=1
    )
    assert res.n_dropped_curves == 1


def test_empty_and_all_flagged_curves():
    empty = _curve(np.zeros(0))
    flagged = _curve(T0 + np.arange(3.0))
    good = _curve(T0 + np.arange(2.0))
    batch = _batch(empty, flagged, good)
    res = _clean(batch, catflags=[1, 1, 1, 0, 0])
    np.testing.assert_array_equal(res.kept, [False, False, True])
    assert res.counts == _expected_counts(points_flagged=3, curves_flagged=1, curves_empty=2)
    np.testing.assert_array_equal(res.batch.offsets, [0, 2])


def test_everything_dropped_and_empty_batch():
    batch = _batch(_curve(T0 + np.arange(3.0)))
    res = _clean(batch, catflags=[1, 1, 1])
    assert len(res.batch) == 0 and len(res.batch.t) == 0
    np.testing.assert_array_equal(res.batch.offsets, [0])
    res = _clean(LightCurveBatch.from_curves(np.zeros(0, dtype=np.int64), []))
    assert len(res.batch) == 0 and res.kept.shape == (0,)


def test_validation_errors():
    batch = _batch(_curve(T0 + np.arange(3.0)))
    with pytest.raises(ValueError, match="catflags has 2 values"):
        clean_light_curves(batch, np.zeros(2), np.ones(3))
    with pytest.raises(ValueError, match="programid has 4 values"):
        clean_light_curves(batch, np.zeros(3), np.ones(4))
    with pytest.raises(ValueError, match="min_cadence_minutes"):
        clean_light_curves(batch, None, None, min_cadence_minutes=-1.0)


def _reference_clean(batch, catflags, programid, cadence_days, min_n, max_hjd, programids):
    """Plain per-curve, per-point Python implementation of the same rules."""
    out = []
    for i in range(len(batch)):
        a, b = batch.offsets[i], batch.offsets[i + 1]
        pts = []
        for p in range(a, b):
            t, m, e = batch.t[p], batch.mag[p], batch.magerr[p]
            if catflags[p] != 0 or not (np.isfinite(t) and np.isfinite(m) and np.isfinite(e)):
                continue
            if e <= 0 or programid[p] not in programids or t > max_hjd:
                continue
            pts.append((t, e, m, p))
        pts.sort(key=lambda x: x[:3])  # stable
        kept = []
        for t, _, _, p in pts:
            if kept and t == kept[-1][0]:
                continue  # the same time as a better point (smaller error, then mag)
            if not kept or t - kept[-1][0] >= cadence_days:
                kept.append((t, p))
        if len(kept) >= min_n:
            out.append((i, [p for _, p in kept]))
    return out


def test_random_batch_matches_plain_python_reference():
    rng = np.random.default_rng(7)
    curves, n_tot = [], 0
    for _ in range(60):
        n = int(rng.integers(0, 120))
        t = 2459900.0 + rng.uniform(0, 80, n)
        t[rng.random(n) < 0.1] = 2459901.0  # exact duplicate times
        t[rng.random(n) < 0.05] = 2459970.0  # after max_hjd
        mag = rng.normal(15, 0.1, n)
        mag[rng.random(n) < 0.02] = np.nan
        err = rng.uniform(-0.005, 0.05, n)
        curves.append((t, mag, err))
        n_tot += n
    batch = _batch(*curves)
    catflags = np.where(rng.random(n_tot) < 0.1, 4, 0)
    programid = rng.integers(0, 5, n_tot)
    res = clean_light_curves(
        batch, catflags, programid, min_cadence_minutes=30.0, min_n_points=20, max_hjd=2459960.0
    )
    ref = _reference_clean(batch, catflags, programid, 30.0 / 1440.0, 20, 2459960.0, (1, 2, 3))
    assert [i for i, _ in ref] == list(np.flatnonzero(res.kept))
    np.testing.assert_array_equal(res.source_index, np.concatenate([p for _, p in ref]))
    np.testing.assert_array_equal(res.batch.t, batch.t[res.source_index])
    assert is_time_sorted(res.batch)
    n_dropped_points = sum(v for k, v in res.counts.items() if k.startswith("points_"))
    assert n_dropped_points + len(res.batch.t) == n_tot
    assert res.counts["curves_empty"] + res.counts["curves_too_few_points"] + len(res.batch) == len(
        batch
    )


def test_is_time_sorted_and_sort_by_time():
    batch = _batch(_curve([5.0, 6.0]), _curve([1.0, 3.0, 2.0]))
    assert not is_time_sorted(batch)
    fixed = sort_by_time(batch)
    np.testing.assert_array_equal(fixed.t, [5.0, 6.0, 1.0, 2.0, 3.0])
    assert is_time_sorted(fixed)
    assert is_time_sorted(_batch(_curve([5.0, 6.0]), _curve([1.0, 2.0])))
