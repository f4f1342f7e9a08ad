"""Observing cadences of the other surveys whose real stars the classifiers are judged on.

The demo classifiers are scored on real RR Lyrae and eclipsing binaries from EROS-1 and SDSS
Stripe 82 as well as ZTF (``make eval-real``). A classifier trained on ZTF cadence alone learns
what ~400 points over five years look like; these cadences give the training sky the sparse and
the deep cases too. Each returns a :class:`~scope_assets.sim.cadence.Cadence` (filter 1 stands for
the bluer band, 2 for the redder one; both are taken at the same time, as both surveys did):

* ``eros1_cadence``: EROS-1 LMC photographic plates, 1990-10 to 1994-03 (HJD 2448180-2449080):
  about 120 nights in runs of consecutive nights within the LMC's season, one ~220-day gap, one
  epoch per night near the LMC's transit (so consecutive nights sample almost the same phase of a
  0.5-day pulsator, which the real curves' von Neumann ratios show) and, on one night, a second
  epoch an hour later (the close pair dominates the 1/Δt²-weighted von Neumann ratio); depth ~20.3 (blue) / ~19.9 (red) with a 0.07 mag calibration floor. Measured on
  the 2,912 development-set stars: 98-124 points, 888-894 days, median error 0.13 mag at ~19 mag.
* ``stripe82_cadence``: SDSS Stripe 82 imaging, 1998-09 to 2007-11: a few nights each autumn in
  1998-2004, then the supernova survey's dense autumns of 2005-2007 (about 40 nights each); depth
  ~22.5 (g) / ~22.2 (r), 0.015 mag floor. Typically 60-200 epochs, as for Sesar et al.'s RR Lyrae.
"""

from __future__ import annotations

import numpy as np

from scope_assets.sim.cadence import Cadence, days_from_opposition

LMC_RA_DEG = 80.9
STRIPE82_RA_DEG = 0.0
LA_SILLA_MIDNIGHT_UT_DAYS = 0.2  # local midnight at La Silla (70.7 deg W), as a fraction of a day
APACHE_POINT_MIDNIGHT_UT_DAYS = 0.29  # local midnight at Apache Point (105.8 deg W)
HALF_NIGHT_DAYS = 0.15
TRANSIT_JITTER_DAYS = 0.02

EROS1_START_HMJD = 48180.0
EROS1_END_HMJD = 49080.0
EROS1_SEASON_HALF_DAYS = 120.0
EROS1_RUN_STOP_P = 0.3  # an observing run ends after a night with this probability
EROS1_RUN_START_P = 0.075  # a new run starts on a visible night with this probability
EROS1_SECOND_EPOCHS = 1  # nights with a second epoch an hour later (the real curves have one)
EROS1_SECOND_EPOCH_DAYS = (0.03, 0.05)
EROS1_DEPTH = {1: 20.3, 2: 19.9}
EROS1_ERROR_FLOOR = 0.07

STRIPE82_FIRST_YEAR = 1998
STRIPE82_DENSE_FROM_YEAR = 2005
STRIPE82_LAST_YEAR = 2007
STRIPE82_SPARSE_NIGHTS = (2, 12)  # nights per autumn before the supernova survey
STRIPE82_DENSE_NIGHT_P = 0.45  # chance a night of a dense autumn (Sep-Nov) is observed
STRIPE82_DEPTH = {1: 22.5, 2: 22.2}
STRIPE82_ERROR_FLOOR = 0.015
MJD_1998_SEP_1 = 51057.0
DAYS_PER_YEAR = 365.25
AUTUMN_DAYS = 91

SURVEY_NAMES = ("ztf", "eros1", "sdss_stripe82")


def near_transit_times(
    rng: np.random.Generator, nights: np.ndarray, ra_deg: float, midnight_ut_days: float
) -> np.ndarray:
    """hmjd of one epoch per night, taken near the field's meridian transit (kept inside the
    night), so consecutive nights sample almost the same sidereal time, as the real surveys did."""
    midnight = nights + midnight_ut_days
    transit = midnight - days_from_opposition(midnight, ra_deg) / DAYS_PER_YEAR
    inside = np.clip(transit, midnight - HALF_NIGHT_DAYS, midnight + HALF_NIGHT_DAYS)
    return inside + rng.normal(0.0, TRANSIT_JITTER_DAYS, len(nights))


def _simultaneous_bands(
    rng: np.random.Generator, hmjd: np.ndarray, depth: dict[int, float], error_floor: float
) -> Cadence:
    """One exposure per band at each time; a night's depth moves both bands together."""
    night_offset = rng.normal(0.0, 0.3, len(hmjd))
    bands = sorted(depth)
    n = len(hmjd)
    return Cadence(
        hmjd=np.repeat(hmjd, len(bands)),
        filterid=np.tile(np.array(bands, dtype=np.int8), n),
        programid=np.ones(n * len(bands), dtype=np.int8),
        depth=np.concatenate(
            [[depth[b] + night_offset[i] + rng.normal(0.0, 0.1) for b in bands] for i in range(n)]
        ),
        bad=np.zeros(n * len(bands), dtype=bool),
        clrcoeff=np.zeros(n * len(bands), dtype=np.float32),
        error_floor=error_floor,
    )


def eros1_cadence(rng: np.random.Generator) -> Cadence:
    """EROS-1 LMC epochs: runs of consecutive nights inside the LMC season (see module doc)."""
    nights = np.arange(EROS1_START_HMJD, EROS1_END_HMJD)
    visible = np.abs(days_from_opposition(nights, LMC_RA_DEG)) < EROS1_SEASON_HALF_DAYS
    observed = np.zeros(len(nights), dtype=bool)
    running = True
    draws = rng.random(len(nights))
    for i in range(len(nights)):
        running = (
            draws[i] >= EROS1_RUN_STOP_P if running else draws[i] < EROS1_RUN_START_P
        ) and visible[i]
        observed[i] = running
    times = near_transit_times(rng, nights[observed], LMC_RA_DEG, LA_SILLA_MIDNIGHT_UT_DAYS)
    second = rng.choice(times, EROS1_SECOND_EPOCHS, replace=False)
    times = np.sort(
        np.concatenate([times, second + rng.uniform(*EROS1_SECOND_EPOCH_DAYS, len(second))])
    )
    return _simultaneous_bands(rng, times, EROS1_DEPTH, EROS1_ERROR_FLOOR)


def stripe82_cadence(rng: np.random.Generator) -> Cadence:
    """SDSS Stripe 82 epochs: sparse autumns, then the dense supernova-survey autumns."""
    times = []
    for year in range(STRIPE82_FIRST_YEAR, STRIPE82_LAST_YEAR + 1):
        autumn = MJD_1998_SEP_1 + round((year - STRIPE82_FIRST_YEAR) * DAYS_PER_YEAR)
        nights = autumn + np.arange(AUTUMN_DAYS, dtype=np.float64)
        if year >= STRIPE82_DENSE_FROM_YEAR:
            chosen = nights[rng.random(AUTUMN_DAYS) < STRIPE82_DENSE_NIGHT_P]
        else:
            chosen = rng.choice(nights, rng.integers(*STRIPE82_SPARSE_NIGHTS), replace=False)
        times.append(
            near_transit_times(rng, np.sort(chosen), STRIPE82_RA_DEG, APACHE_POINT_MIDNIGHT_UT_DAYS)
        )
    return _simultaneous_bands(rng, np.concatenate(times), STRIPE82_DEPTH, STRIPE82_ERROR_FLOOR)


def survey_cadence(survey: str, rng: np.random.Generator) -> Cadence:
    """The cadence of a non-ZTF survey by name (``eros1`` or ``sdss_stripe82``)."""
    makers = {"eros1": eros1_cadence, "sdss_stripe82": stripe82_cadence}
    if survey not in makers:
        raise ValueError(f"no simulated cadence for survey {survey!r}; known: {sorted(makers)}")
    return makers[survey](rng)
