"""ZTF-like photometric errors, detection and quality flags.

Error model: sigma(m)^2 = 0.01^2 + 0.004 x + 0.0359 x^2 with x = 10^(0.4 (m - depth)), i.e. a
0.01 mag calibration floor, a sky-noise term and a source-noise term, calibrated so that at the
nominal r depth (20.5) sigma = 0.2 (a 5-sigma detection) and at r = 15 sigma = 0.011; about
0.03 at 18 and 0.06 at 19, like ZTF PSF photometry. Only detections are reported (as in the
data-release light curves): a point exists when the star is brighter than the exposure's depth
(with 0.1 mag jitter).

Reported errors: a point's noise follows its own exposure's depth, but ZTF data-release light
curves report ``magerr`` as one function of the measured magnitude per field, CCD quadrant and
filter (the 53 raw IRSA files of ``lcurvemaker_ztf``: log magerr about a quadratic in mag has a
median scatter of 1e-5). ``observe_data_release`` does the same: magerr is the error model at the
curve's median depth. ``observe`` by default reports each exposure's own error with 5 % lognormal
scatter (the EROS-1 and Stripe 82 simulations).

Flags (catflags): every point of a bad exposure gets 32768, the commonest real flag, and is
shifted by ~0.2 mag; single points get 256 (0.8 %) or a rarer flag 1 / 16 / 2 (0.3 %) and an
outlier shift. Overall 5-10 % of points are flagged, as in the IRSA light curves.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ERROR_FLOOR = 0.01
SKY_NOISE = 0.004
SOURCE_NOISE = 0.0359
BAD_EXPOSURE_FLAG = 32768
POINT_FLAG = 256
POINT_FLAG_FRACTION = 0.008
RARE_FLAGS = (1, 16, 2)
RARE_FLAG_FRACTION = 0.003


def ztf_mag_error(
    mag: np.ndarray | float, depth: np.ndarray | float = 20.5, error_floor: float = ERROR_FLOOR
) -> np.ndarray:
    """1-sigma magnitude error of a point of magnitude ``mag`` in an exposure of ``depth``
    (``error_floor``: the calibration floor in mag; other surveys' cadences set their own)."""
    x = 10.0 ** (0.4 * (np.asarray(mag, dtype=np.float64) - depth))
    return np.sqrt(error_floor**2 + SKY_NOISE * x + SOURCE_NOISE * x**2)


@dataclass(frozen=True)
class Observation:
    """The detected points of one light curve: ``index`` into the exposures given."""

    index: np.ndarray
    mag: np.ndarray
    magerr: np.ndarray
    catflags: np.ndarray


def observe(
    true_mag: np.ndarray,
    depth: np.ndarray,
    bad_exposure: np.ndarray,
    rng: np.random.Generator,
    error_floor: float = ERROR_FLOOR,
    reported_depth: float | None = None,
    reported_error_scatter: float = 0.05,
) -> Observation:
    """Detect, add noise and flag: ``true_mag``, ``depth`` and ``bad_exposure`` per exposure.

    The reported magerr is the error model at the measured magnitude (flagged points' shifts
    included) and ``reported_depth`` (mag; ``None``: each exposure's own depth), times lognormal
    scatter of ``reported_error_scatter`` (natural-log sigma).
    """
    detected = np.flatnonzero(true_mag < depth + rng.normal(0.0, 0.1, len(true_mag)))
    true_mag, depth = true_mag[detected], depth[detected]
    sigma = ztf_mag_error(true_mag, depth, error_floor)
    mag = true_mag + rng.normal(0.0, 1.0, len(detected)) * sigma
    scatter = (
        rng.lognormal(0.0, reported_error_scatter, len(detected)) if reported_error_scatter else 1.0
    )

    catflags = np.zeros(len(detected), dtype=np.int32)
    bad = bad_exposure[detected]
    catflags[bad] = BAD_EXPOSURE_FLAG
    mag[bad] += rng.normal(0.0, 0.2, int(bad.sum()))
    draw = rng.random(len(detected))
    point_flag = draw < POINT_FLAG_FRACTION
    rare_flag = (draw >= POINT_FLAG_FRACTION) & (draw < POINT_FLAG_FRACTION + RARE_FLAG_FRACTION)
    catflags[point_flag] |= POINT_FLAG
    catflags[rare_flag] |= rng.choice(RARE_FLAGS, size=int(rare_flag.sum()))
    outliers = point_flag | rare_flag
    mag[outliers] += rng.normal(0.0, 0.5, int(outliers.sum()))
    reported = depth if reported_depth is None else reported_depth
    magerr = ztf_mag_error(mag, reported, error_floor) * scatter
    return Observation(detected, mag, magerr, catflags)


def observe_data_release(
    true_mag: np.ndarray, depth: np.ndarray, bad_exposure: np.ndarray, rng: np.random.Generator
) -> Observation:
    """``observe`` as a ZTF data-release light curve reports it: one error-magnitude relation,
    the error model at the median depth of the curve's exposures, for all its points."""
    return observe(
        true_mag,
        depth,
        bad_exposure,
        rng,
        reported_depth=float(np.median(depth)),
        reported_error_scatter=0.0,
    )
