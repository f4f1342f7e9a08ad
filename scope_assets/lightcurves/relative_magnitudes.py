"""Relative (median-subtracted) magnitudes put at a typical star's zero point before features.

Published light curves are sometimes differential: each curve's magnitudes minus their own median
(the ZTF labelling-guide curves, curves merged over several ZTF fields). Seven SCoPe features depend
on the magnitude level: ``median`` and ``wmean`` (mag), ``norm_peak_to_peak_amp`` and
``norm_excess_var`` (normalised by the level), ``ad`` and ``sw`` (normality tests of m/σ) and the
Fourier offset ``f1_a``; every other feature uses magnitude differences only. At a level of 0 mag
the first four lie far outside anything the classifiers learned from (stars of 12-22 mag), and
the DNN called every such star a Mira.

A curve whose median magnitude lies within :data:`RELATIVE_MEDIAN_LIMIT_MAG` of zero cannot be
survey photometry of a star this tool classifies (ZTF saturates near 12.5 mag, EROS-1 and SDSS
Stripe 82 near 13-14 mag), so it is taken as relative and ``zero_point_mag`` is added to it. The
level features then take a typical star's values, as imputing them from a training median would,
and the other features do not change. SCoPe computes every feature at the level it is given.
"""

from __future__ import annotations

import numpy as np

from scope_assets.lightcurves.batch import LightCurveBatch

RELATIVE_MEDIAN_LIMIT_MAG = 5.0
"""A curve whose median magnitude is within this of 0 mag holds relative magnitudes."""


def relative_magnitude_curves(batch: LightCurveBatch) -> np.ndarray:
    """Per curve of ``batch`` (bool, shape (n,)): its median magnitude lies within
    ±:data:`RELATIVE_MEDIAN_LIMIT_MAG` of zero. Curves without points are not relative.

    One ``np.median`` per curve: 19 ms per 1,000 curves of 50-600 points, faster than one sort
    of the whole batch (45 ms), and nothing beside the features' seconds per curve."""
    relative = np.zeros(len(batch), dtype=bool)
    n_points = batch.n_points
    for i in np.flatnonzero(n_points > 0):
        _, mag, _ = batch.curve(int(i))
        relative[i] = abs(float(np.median(mag))) < RELATIVE_MEDIAN_LIMIT_MAG
    return relative


def with_zero_point(
    batch: LightCurveBatch, curves: np.ndarray, zero_point_mag: float
) -> LightCurveBatch:
    """``batch`` with ``zero_point_mag`` added to the magnitudes of the curves where ``curves``
    (bool, shape (n,)) is true; errors and times unchanged."""
    shift = np.repeat(np.where(curves, zero_point_mag, 0.0), batch.n_points)
    return LightCurveBatch(
        ids=batch.ids, offsets=batch.offsets, t=batch.t, mag=batch.mag + shift, magerr=batch.magerr
    )
