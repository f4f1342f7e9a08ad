"""Labelled light curves of simulated stars seen by another survey (EROS-1, SDSS Stripe 82).

The same classes and shapes as the ZTF sky (:mod:`scope_assets.sim.classes`), observed with a
survey's cadence, depth and error floor (:mod:`scope_assets.sim.survey_cadences`). They come as a
long table (``_id, hjd, mag, magerr``), the form ``generate-features --lightcurves`` reads, with
no cross-matches and no alerts, like a real star from one of those surveys. Points the simulator
would flag are left out: these surveys' public light curves carry no ZTF-style flags.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from scope_assets.lightcurves.ids import encode_id
from scope_assets.lightcurves.raw import HJD_OFFSET
from scope_assets.sim.classes import CLASSES, draw_variability, variability_mag
from scope_assets.sim.simulate_field import faint_heavy_magnitudes, stratified_tags
from scope_assets.sim.survey_cadences import survey_cadence
from scope_assets.sim.ztf_photometry import observe

DEPTH_MARGIN_MAG = 0.3
"""Mean magnitudes stay this far above the shallower band's nominal depth (so a star is seen on
most epochs, as the real stars of these catalogues are)."""
LMC_BLUE_MAG_RANGES = {
    "rrab": (18.9, 19.9),
    "rrc": (18.9, 19.9),
    "ceph": (15.0, 17.8),
    "ea": (16.0, 19.6),
    "wuma": (17.5, 19.8),
    "mir": (17.0, 19.3),
}
"""Blue mean magnitudes of EROS-1 stars by class: EROS-1 watched the LMC, 50 kpc away (distance
modulus 18.5, A ≈ 0.3), so an RR Lyrae (M ≈ 0.6) sits at ≈ 19.4, a 2-20 d Cepheid at 15-17.8, and
binaries and Miras fill the survey's range; ZTF's field magnitude distribution put the simulated
EROS-1 RR Lyrae 1.4 mag too bright, with errors half the real ones (0.077 vs 0.15 mag). Classes
not listed keep the field distribution."""
EROS1_CLOSE_PAIR_OFFSET_MAG = 0.2
"""σ of the zero-point offset of the second plate of a night (the close pair of epochs, ~1 h
apart), not in its error bars. The real curves show it: their close pairs differ by a median
0.26 mag for Cepheids brighter than 17 (errors 0.12, and a Cepheid does not change in an hour);
SCoPe's von Neumann ratio weights pairs by Δt⁻², so this one pair sets the feature."""
CLOSE_PAIR_DAYS = 0.1


def simulate_survey_curves(
    survey: str, n_stars: int, seed: int, field: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(long table of points, truth) for ``n_stars`` stars, each seen in two bands.

    ``_id`` values are SCoPe ids of field ``field`` (one per star and band); the truth table has
    ``_id``, ``class``, ``period_days``, ``mean_mag`` and ``filter``. Deterministic in
    (survey, n_stars, seed, field).
    """
    rng = np.random.default_rng([seed, field])
    cadence = survey_cadence(survey, rng)
    t_start, t_end = float(cadence.hmjd[0]), float(cadence.hmjd[-1])
    bands = np.unique(cadence.filterid)
    shallowest = min(float(np.median(cadence.depth[cadence.band(b)])) for b in bands)
    second_plates = {
        int(b): np.flatnonzero(np.diff(cadence.hmjd[cadence.band(b)]) < CLOSE_PAIR_DAYS) + 1
        for b in bands
    }
    points, truth = [], []
    for star, tag in enumerate(stratified_tags(rng, n_stars)):
        spec = CLASSES[tag]
        gr = rng.uniform(*spec.gr_range)
        r_low = np.array([spec.r_mag_range[0]])
        r_high = min(spec.r_mag_range[1], shallowest - DEPTH_MARGIN_MAG - gr)
        r = float(faint_heavy_magnitudes(rng, r_low, np.maximum(r_high, r_low))[0])
        if survey == "eros1" and tag in LMC_BLUE_MAG_RANGES:
            r = rng.uniform(*LMC_BLUE_MAG_RANGES[tag]) - gr
        var = draw_variability(tag, rng, t_start, t_end)
        for filterid in bands:
            exposures = cadence.band(int(filterid))
            mean_mag = r + gr if filterid == 1 else r
            offset = variability_mag(var, cadence.hmjd[exposures], int(filterid))
            seen = observe(
                mean_mag + offset,
                cadence.depth[exposures],
                cadence.bad[exposures],
                rng,
                cadence.error_floor,
            )
            if survey == "eros1":
                plates = np.isin(seen.index, second_plates[int(filterid)])
                seen.mag[plates] += rng.normal(0.0, EROS1_CLOSE_PAIR_OFFSET_MAG, plates.sum())
            clean = seen.catflags == 0
            _id = int(encode_id(field, 1 + star % 16, 1 + (star // 16) % 4, filterid, star + 1))
            points.append(
                pd.DataFrame(
                    {
                        "_id": _id,
                        "hjd": cadence.hmjd[exposures[seen.index[clean]]] + HJD_OFFSET,
                        "mag": seen.mag[clean],
                        "magerr": seen.magerr[clean],
                    }
                )
            )
            truth.append(
                {
                    "_id": _id,
                    "class": tag,
                    "period_days": var.period,
                    "mean_mag": mean_mag,
                    "filter": int(filterid),
                }
            )
    return pd.concat(points, ignore_index=True), pd.DataFrame(truth)
