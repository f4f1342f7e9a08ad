"""The sky simulator: deterministic synthetic ZTF fields with known variable-star classes.

``simulate_field`` writes a new archive (light curves, cross-match catalogues, alerts,
truth), ``add_field`` adds a field to one; the pieces are reusable for labelled training curves: ``ztf_cadence`` (observing
times), ``simulate_light_curve`` / ``draw_variability`` + ``variability_mag`` (class shapes),
``observe_data_release`` / ``observe`` / ``ztf_mag_error`` (detection, noise, flags; errors as a
data release reports them, or per exposure). A labelled, observed r-band curve::

    rng = np.random.default_rng(0)
    cadence = ztf_cadence(rng, ra_deg=105.0)
    r = cadence.band(2)
    offset, var = simulate_light_curve("rrab", cadence.hmjd[r], rng)  # var.period: the label
    seen = observe_data_release(17.0 + offset, cadence.depth[r], cadence.bad[r], rng)
    t = cadence.hmjd[r][seen.index] + 2400000.5  # HJD; seen.mag, seen.magerr, seen.catflags
"""

from scope_assets.sim.cadence import Cadence, field_centre, ztf_cadence
from scope_assets.sim.classes import (
    CLASS_TAGS,
    CLASSES,
    ClassSpec,
    Variability,
    draw_variability,
    simulate_light_curve,
    variability_mag,
)
from scope_assets.sim.simulate_field import DEMO_N_SOURCES, add_field, simulate_field
from scope_assets.sim.ztf_photometry import (
    Observation,
    observe,
    observe_data_release,
    ztf_mag_error,
)

__all__ = [
    "CLASSES",
    "CLASS_TAGS",
    "DEMO_N_SOURCES",
    "Cadence",
    "ClassSpec",
    "Observation",
    "Variability",
    "add_field",
    "draw_variability",
    "field_centre",
    "observe",
    "observe_data_release",
    "simulate_field",
    "simulate_light_curve",
    "variability_mag",
    "ztf_cadence",
    "ztf_mag_error",
]
