"""ZTF-like observing cadence for one field.

Every star of a field is observed at the field's exposures, so the cadence is drawn once per
field: nights from 2018-03 to 2023-01 (hmjd 58190-59975, a few weeks past the DR16 end
HJD 2459951.5), seen only while the field is up at night (about 8 months a year around
opposition, then a gap), minus runs of bad-weather nights (mean run ~3 nights), and not every
clear night. A scheduled night has 0-3 visits in g and in r and occasionally i, at random times
within the part of the night the field is up (so some revisits are < 30 min apart). Programs:
g/r visits are public (1) 55 %, partnership (2) 35 %, Caltech (3) 10 %; i visits are 2 or 3.
Each exposure has its own depth (5-sigma limiting magnitude; weather moves it by ~0.3 mag) and
a few exposures are bad as a whole (flagged 32768 on every point, as in real ZTF data).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scope_assets.sim.classes import SURVEY_END_HMJD, SURVEY_START_HMJD
from scope_assets.sim.ztf_photometry import ERROR_FLOOR

VERNAL_EQUINOX_2018_MJD = 58197.67  # 2018-03-20 16:15 UT: the Sun is at RA 0
SUN_RA_DEG_PER_DAY = 360.0 / 365.25
LOCAL_MIDNIGHT_UT_DAYS = 0.33  # Palomar local midnight, 07:55 UT, as a fraction of a day
MAX_HOUR_ANGLE_DAYS = 0.18  # observe within 4.3 h of transit
MIN_WINDOW_DAYS = 0.04  # a night needs an hour of visibility to be scheduled
NOMINAL_DEPTH = {1: 20.7, 2: 20.5, 3: 20.1}  # 5-sigma limiting mag per filter
CLRCOEFF_MEAN = {1: -0.06, 2: 0.09, 3: -0.03}
VISITS_PER_NIGHT_P = {
    1: [0.15, 0.40, 0.35, 0.10],
    2: [0.10, 0.40, 0.38, 0.12],
    3: [0.88, 0.08, 0.04],
}
PROGRAM_P = {1: [0.55, 0.35, 0.10], 2: [0.55, 0.35, 0.10], 3: [0.0, 0.8, 0.2]}
WEATHER_GOOD_TO_BAD = 0.12
WEATHER_BAD_TO_GOOD = 0.35
SCHEDULED_FRACTION = 0.8
BAD_EXPOSURE_FRACTION = 0.05


@dataclass(frozen=True)
class Cadence:
    """The exposures of one field, sorted by time (one entry per exposure and filter)."""

    hmjd: np.ndarray  # float64, HJD - 2400000.5
    filterid: np.ndarray  # int8, 1 g, 2 r, 3 i
    programid: np.ndarray  # int8
    depth: np.ndarray  # float64, 5-sigma limiting magnitude
    bad: np.ndarray  # bool, whole exposure flagged
    clrcoeff: np.ndarray  # float32, colour coefficient of the exposure's calibration
    error_floor: float = ERROR_FLOOR  # mag, calibration floor of the survey's errors

    def band(self, filterid: int) -> np.ndarray:
        """Indices of the exposures in one filter."""
        return np.flatnonzero(self.filterid == filterid)


def field_centre(field: int) -> tuple[float, float]:
    """Synthetic pointing (RA, Dec in deg) of a field: not the real ZTF grid.

    Field 296 is put at (105, +5): opposition in early January, so its last season runs past
    the DR16 end. Other fields step 7.4 deg in RA along the same declination.
    """
    return (105.0 + 7.4 * (field - 296)) % 360.0, 5.0


def days_from_opposition(mjd: np.ndarray, ra_deg: float) -> np.ndarray:
    """Signed days from the nearest date the Sun is opposite ``ra_deg`` (-182.6..182.6)."""
    opposition = VERNAL_EQUINOX_2018_MJD + ((ra_deg + 180.0) % 360.0) / SUN_RA_DEG_PER_DAY
    year = 365.25
    return np.mod(mjd - opposition + year / 2, year) - year / 2


def visibility_windows(nights: np.ndarray, ra_deg: float) -> tuple[np.ndarray, np.ndarray]:
    """(start, end) hmjd of the part of each night the field is up (end <= start: not up)."""
    midnight = nights + LOCAL_MIDNIGHT_UT_DAYS
    from_opposition = days_from_opposition(midnight, ra_deg)
    # Nights are ~11 h in December and ~8 h in June.
    day_of_year = np.mod(midnight - VERNAL_EQUINOX_2018_MJD + 79.0, 365.25)
    half_night = 0.165 + 0.03 * np.cos(2.0 * np.pi * (day_of_year - 355.0) / 365.25)
    transit = midnight - from_opposition / 365.25
    start = np.maximum(midnight - half_night, transit - MAX_HOUR_ANGLE_DAYS)
    end = np.minimum(midnight + half_night, transit + MAX_HOUR_ANGLE_DAYS)
    return start, end


def clear_nights(rng: np.random.Generator, n_nights: int) -> np.ndarray:
    """Two-state Markov weather: runs of bad nights of a few days, ~25 % of nights lost."""
    switches = rng.random(n_nights)
    clear = np.empty(n_nights, dtype=bool)
    state = True
    for i in range(n_nights):
        state = switches[i] >= WEATHER_GOOD_TO_BAD if state else switches[i] < WEATHER_BAD_TO_GOOD
        clear[i] = state
    return clear


def ztf_cadence(
    rng: np.random.Generator,
    ra_deg: float,
    start: float = SURVEY_START_HMJD,
    end: float = SURVEY_END_HMJD,
) -> Cadence:
    """Draw the exposures of a field at right ascension ``ra_deg`` between two hmjd."""
    nights = np.arange(np.floor(start), np.floor(end), dtype=np.float64)
    window_start, window_end = visibility_windows(nights, ra_deg)
    scheduled = (
        (window_end - window_start > MIN_WINDOW_DAYS)
        & clear_nights(rng, len(nights))
        & (rng.random(len(nights)) < SCHEDULED_FRACTION)
    )
    night_depth_offset = rng.normal(0.0, 0.3, len(nights))
    parts = []
    for filterid, visit_p in VISITS_PER_NIGHT_P.items():
        visits = np.where(scheduled, rng.choice(len(visit_p), size=len(nights), p=visit_p), 0)
        night = np.repeat(np.arange(len(nights)), visits)
        n = len(night)
        depth_offset = night_depth_offset[night] + rng.normal(0.0, 0.15, n)
        parts.append(
            {
                "hmjd": window_start[night]
                + rng.random(n) * (window_end[night] - window_start[night]),
                "filterid": np.full(n, filterid, dtype=np.int8),
                "programid": rng.choice([1, 2, 3], size=n, p=PROGRAM_P[filterid]).astype(np.int8),
                "depth": NOMINAL_DEPTH[filterid] + depth_offset,
                "bad": rng.random(n) < BAD_EXPOSURE_FRACTION + 0.25 * (depth_offset < -0.6),
                "clrcoeff": rng.normal(CLRCOEFF_MEAN[filterid], 0.02, n).astype(np.float32),
            }
        )
    merged = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
    order = np.argsort(merged["hmjd"], kind="stable")
    return Cadence(**{key: values[order] for key, values in merged.items()})
