"""dm-dt histograms against numpy.histogram2d over all pairs, and a hand-counted example."""

from __future__ import annotations

import numpy as np
import pytest

from scope_assets.features.dmdt import DM_EDGES, DT_EDGES_DAYS, dmdt_histograms
from scope_assets.lightcurves.batch import LightCurveBatch

T0 = 2459000.0


def _batch(curves) -> LightCurveBatch:
    curves = [(np.asarray(t, float), np.asarray(m, float), np.ones(len(t))) for t, m in curves]
    return LightCurveBatch.from_curves(np.arange(len(curves)), curves)


def _reference(t, m, dm_edges=DM_EDGES, dt_edges=DT_EDGES_DAYS):
    i, j = np.triu_indices(len(t), k=1)
    hist, _, _ = np.histogram2d(m[j] - m[i], t[j] - t[i], bins=[dm_edges, dt_edges])
    norm = np.sqrt(np.sum(hist**2))
    return hist / norm if norm > 0 else hist


def test_edges():
    pos = [0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.25, 1.5, 2, 2.5, 3, 4.5, 8]
    np.testing.assert_array_equal(DM_EDGES, sorted([-x for x in pos] + [0.0] + pos))
    expected_dt = [0, 0.02759, 0.04, 0.08, 0.12, 0.3, 0.75, 1, 1.5, 2.5, 3.5, 4.5, 5.5, 7, 10]
    expected_dt += [20, 30, 45, 60, 90, 120, 180, 240, 360, 500, 650, 2000]
    np.testing.assert_array_equal(DT_EDGES_DAYS, expected_dt)
    assert len(DM_EDGES) == len(DT_EDGES_DAYS) == 27
    assert DM_EDGES.dtype == DT_EDGES_DAYS.dtype == np.float64


def test_hand_computed_example():
    # Exactly representable values; pairs (i<j): Δt, Δm -> (dm bin, dt bin)
    # (0,1): 0.03, +0.125 -> dm [0.1,0.2) = 15,   dt [0.02759,0.04) = 1
    # (0,2): 1.0,  -0.5   -> dm [-0.5,-0.3) = 8,  dt [1,1.5) = 7
    # (0,3): 10.0,  0.0   -> dm [0,0.05) = 13,    dt [10,20) = 14
    # (1,2): 0.97, -0.625 -> dm [-0.75,-0.5) = 7, dt [0.75,1) = 6
    # (1,3): 9.97, -0.125 -> dm [-0.2,-0.1) = 10, dt [7,10) = 13
    # (2,3): 9.0,  +0.5   -> dm [0.5,0.75) = 18,  dt [7,10) = 13
    t = T0 + np.array([0.0, 0.03, 1.0, 10.0])
    m = np.array([15.0, 15.125, 14.5, 15.0])
    got = dmdt_histograms(_batch([(t, m)]))[0]
    want = np.zeros((26, 26))
    for row, col in [(15, 1), (8, 7), (13, 14), (7, 6), (10, 13), (18, 13)]:
        want[row, col] += 1
    want /= np.sqrt(6.0)
    np.testing.assert_allclose(got, want, rtol=1e-6)
    np.testing.assert_allclose(got, _reference(t, m), rtol=1e-6)


def test_bin_edges_follow_numpy_semantics():
    # Pairs: (0,1) Δt 0, Δm 0.5 -> on an inner edge, goes up: [18, 0]
    #        (0,2) Δt 1, Δm -8 -> first dm edge, in: [0, 7]
    #        (0,3) Δt 2000, Δm 8 and (1,3) Δt 2000, Δm 7.5 -> closed last bins: [25, 25] x2
    #        (3,4) Δt 0.5, Δm 0.5 -> [18, 5]
    #        (0,4), (1,4) Δt 2000.5; (1,2) Δm -8.5; (2,3), (2,4) Δm 16, 16.5 -> dropped
    t = np.array([0.0, 0.0, 1.0, 2000.0, 2000.5])
    m = np.array([0.0, 0.5, -8.0, 8.0, 8.5])
    got = dmdt_histograms(_batch([(t, m)]))[0]
    np.testing.assert_allclose(got, _reference(t, m), rtol=1e-6)
    counts = np.rint(got * np.sqrt(1 + 1 + 4 + 1)).astype(int)
    want = np.zeros((26, 26), dtype=int)
    want[18, 0] = want[0, 7] = want[18, 5] = 1
    want[25, 25] = 2
    np.testing.assert_array_equal(counts, want)


def test_random_curves_match_histogram2d():
    rng = np.random.default_rng(21)
    curves = []
    for n in (2, 3, 17, 150, 400):
        t = np.sort(
            T0 + np.concatenate([rng.uniform(0, 5, n // 2), rng.uniform(0, 2500, n - n // 2)])
        )
        t[1] = t[0]  # a Δt = 0 pair
        m = 15 + rng.normal(0, 1.5, n)
        curves.append((t, m))
    hists = dmdt_histograms(_batch(curves))
    assert hists.shape == (5, 26, 26) and hists.dtype == np.float32
    for h, (t, m) in zip(hists, curves, strict=True):
        np.testing.assert_allclose(h, _reference(t, m), rtol=1e-6, atol=1e-7)
        assert np.sqrt(np.sum(h.astype(np.float64) ** 2)) == pytest.approx(1.0, abs=1e-6)


def test_empty_single_point_and_out_of_range_give_zeros():
    curves = [
        (np.zeros(0), np.zeros(0)),
        (np.array([T0]), np.array([15.0])),
        (T0 + np.array([0.0, 3000.0]), np.array([15.0, 15.0])),  # Δt beyond 2000 d
        (T0 + np.array([0.0, 1.0]), np.array([10.0, 20.0])),  # Δm beyond 8 mag
    ]
    hists = dmdt_histograms(_batch(curves))
    assert hists.shape == (4, 26, 26)
    assert not hists.any()


def test_custom_edges():
    rng = np.random.default_rng(22)
    t = np.sort(T0 + rng.uniform(0, 100, 80))
    m = rng.normal(0, 1, 80)
    dm_edges = np.linspace(-2, 2, 11)
    dt_edges = np.array([0.5, 1.0, 10.0, 50.0])  # first edge above 0: small Δt dropped
    got = dmdt_histograms(_batch([(t, m)]), dm_edges=dm_edges, dt_edges=dt_edges)
    assert got.shape == (1, 10, 3)
    np.testing.assert_allclose(got[0], _reference(t, m, dm_edges, dt_edges), rtol=1e-6)


def test_validation():
    with pytest.raises(ValueError, match="sorted by time"):
        dmdt_histograms(_batch([(np.array([2.0, 1.0]), np.array([1.0, 2.0]))]))
    ok = _batch([(np.array([1.0, 2.0]), np.array([1.0, 2.0]))])
    with pytest.raises(ValueError, match="strictly increasing"):
        dmdt_histograms(ok, dm_edges=np.array([0.0, 1.0, 1.0]))
    with pytest.raises(ValueError, match="at least 2 edges"):
        dmdt_histograms(ok, dt_edges=np.array([0.0]))
    assert dmdt_histograms(_batch([])).shape == (0, 26, 26)
