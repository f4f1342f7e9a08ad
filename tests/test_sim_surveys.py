"""Other surveys' cadences in the simulator (EROS-1, SDSS Stripe 82) and their labelled curves."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scope_assets.lightcurves.ids import decode_id, is_scope_id
from scope_assets.sim.survey_cadences import (
    EROS1_ERROR_FLOOR,
    eros1_cadence,
    stripe82_cadence,
    survey_cadence,
)
from scope_assets.sim.survey_curves import (
    CLOSE_PAIR_DAYS,
    LMC_BLUE_MAG_RANGES,
    simulate_survey_curves,
)
from scope_assets.sim.ztf_photometry import ztf_mag_error


@pytest.mark.parametrize("seed", range(5))
def test_eros1_cadence_looks_like_the_real_eros1_curves(seed):
    cadence = eros1_cadence(np.random.default_rng(seed))
    blue, red = cadence.band(1), cadence.band(2)
    np.testing.assert_array_equal(cadence.hmjd[blue], cadence.hmjd[red])  # simultaneous bands
    gaps = np.diff(cadence.hmjd[blue])
    assert (gaps < 0.5).sum() <= 5 and gaps.min() > 0.02  # one epoch a night, a few close pairs
    assert 85 <= len(blue) <= 150  # the development set: 98-124 points
    span = cadence.hmjd[blue][-1] - cadence.hmjd[blue][0]
    assert 800 <= span <= 900  # the development set: 888-894 days
    assert gaps.max() > 100  # the LMC season gap
    assert cadence.error_floor == EROS1_ERROR_FLOOR


@pytest.mark.parametrize("seed", range(5))
def test_stripe82_cadence_has_sparse_then_dense_autumns(seed):
    cadence = stripe82_cadence(np.random.default_rng(seed))
    t = cadence.hmjd[cadence.band(1)]
    assert 60 <= len(t) <= 250
    assert t[-1] - t[0] > 3000
    years = np.floor((t - 51057.0) / 365.25).astype(int)
    per_year = np.bincount(years, minlength=10)
    assert per_year[:7].max() <= 12 and per_year[7:].min() >= 25


def test_unknown_survey_is_named():
    with pytest.raises(ValueError, match="'hipparcos'.*eros1"):
        survey_cadence("hipparcos", np.random.default_rng(0))


def test_survey_curves_are_labelled_deterministic_scope_ids():
    points, truth = simulate_survey_curves("eros1", 60, seed=4, field=700)
    again, truth_again = simulate_survey_curves("eros1", 60, seed=4, field=700)
    pd.testing.assert_frame_equal(points, again)
    pd.testing.assert_frame_equal(truth, truth_again)
    assert len(truth) == 120 and truth["_id"].is_unique  # two bands per star
    assert is_scope_id(truth["_id"].to_numpy()).all()
    assert set(decode_id(truth["_id"].to_numpy()).field) == {700}
    assert set(points["_id"]) == set(truth["_id"])
    assert {"rrab", "ea", "nonvar"} <= set(truth["class"])
    periodic = truth["class"].isin(["rrab", "rrc", "ea", "wuma", "ceph", "mir", "dscu"])
    assert truth.loc[periodic, "period_days"].gt(0).all()
    assert truth.loc[~periodic, "period_days"].isna().all()
    # errors follow the survey's error model (floor 0.07 mag), not ZTF's 0.01
    bright = points.merge(truth, on="_id").query("`class` == 'nonvar' and mean_mag < 17")
    assert bright["magerr"].median() == pytest.approx(
        float(ztf_mag_error(bright["mean_mag"].median(), 20.3, EROS1_ERROR_FLOOR)), rel=0.15
    )
    assert (points["hjd"] > 2448180).all() and (points["hjd"] < 2449090).all()


def test_eros1_stars_sit_at_the_lmc_distance():
    _, truth = simulate_survey_curves("eros1", 180, seed=5, field=700)
    blue = truth[truth["filter"] == 1].set_index("class")["mean_mag"]
    for tag, (low, high) in LMC_BLUE_MAG_RANGES.items():
        assert blue.loc[[tag]].between(low, high).all(), tag
    assert 19.0 < blue.loc[["rrab", "rrc"]].median() < 19.8  # the real RR Lyrae: 19.40


def test_eros1_second_plate_of_a_night_carries_an_unreported_offset():
    """Nonvariable stars: at the close pair (< 0.1 d) the difference exceeds what the errors
    allow, by the offset's σ; elsewhere consecutive points scatter as their errors say."""
    points, truth = simulate_survey_curves("eros1", 400, seed=6, field=700)
    constant = truth.loc[truth["class"] == "nonvar", "_id"]
    close_z, other_z = [], []
    for _, curve in points[points["_id"].isin(constant)].groupby("_id"):
        dt, dm = np.diff(curve["hjd"].to_numpy()), np.diff(curve["mag"].to_numpy())
        scale = np.hypot(curve["magerr"].to_numpy()[1:], curve["magerr"].to_numpy()[:-1])
        close_z += list(dm[dt < CLOSE_PAIR_DAYS] / scale[dt < CLOSE_PAIR_DAYS])
        other_z += list(dm[dt >= CLOSE_PAIR_DAYS] / scale[dt >= CLOSE_PAIR_DAYS])
    assert 0.8 < np.std(other_z) < 1.2
    assert len(close_z) >= 20 and np.std(close_z) > 1.5
