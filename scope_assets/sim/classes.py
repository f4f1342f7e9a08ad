"""Variable-star classes of the sky simulator and their light-curve shapes.

Each class has a ``ClassSpec`` (period and amplitude ranges, colours, absolute magnitude, share
of the field) and a shape function of phase. ``draw_variability`` picks one star's parameters;
``variability_mag`` evaluates its magnitude offset (positive = fainter) at any times and band.
``simulate_light_curve`` does both in one call for code that just wants a labelled curve.

Shapes (phase 0 = maximum light for pulsators, primary minimum for eclipsing binaries):
- ``rrab``: steep rise over 10-20 % of the cycle, slow decline (smoothed sawtooth).
- ``rrc``: near-sinusoid with a weak second harmonic.
- ``dscu``: sinusoid with a weak second harmonic, small amplitude.
- ``wuma``: contact binary, continuous variation, two minima per orbit of nearly equal depth
  (so a sinusoid period search finds P/2, as for real EW stars).
- ``ea``: detached binary, flat outside narrow eclipses, a shallower secondary eclipse at phase
  0.5 or, for eccentric orbits, elsewhere. The eclipses' full width in phase is
  (R1 + R2) / (pi a) with a from Kepler's law, c P^(-2/3) for P in days and c = 0.07-0.16 (main-
  sequence pairs of 0.5-2 solar masses each): 7-16 % of P at 1 d, 1.5-3.4 % at 10 d, 0.5-1 % at
  60 d, as in the ZTF detached binaries of ``lcurvemaker_ztf`` (3.3-56 d).
- ``ceph``: classical Cepheid, sawtooth with a slower rise than RR Lyrae.
- ``mir``: Mira, large-amplitude near-sinusoid with slowly wandering mean and amplitude.
- ``fla``: flaring M dwarf, constant with random flares (instant rise, exponential decay).
- ``nonvar``: constant.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

PHASE_GRID = np.linspace(0.0, 1.0, 1024, endpoint=False)
SURVEY_START_HMJD = 58190.0
SURVEY_END_HMJD = 59975.0


@dataclass(frozen=True)
class ClassSpec:
    """What the simulator knows about one class.

    ``amplitude_range`` is the r-band peak-to-peak amplitude in mag (for ``fla`` the brightest
    flare's peak, for ``ea`` the primary eclipse depth); ``band_scale`` multiplies it in g, r, i.
    ``r_mag_range`` is the mean r magnitude, ``gr_range`` the g - r colour, ``abs_mag_g`` the
    Gaia G absolute magnitude used for parallaxes, ``share`` the fraction of a field's stars.
    """

    tag: str
    period_range: tuple[float, float] | None
    amplitude_range: tuple[float, float]
    band_scale: tuple[float, float, float]
    r_mag_range: tuple[float, float]
    gr_range: tuple[float, float]
    abs_mag_g: tuple[float, float]
    share: float

    @property
    def periodic(self) -> bool:
        return self.period_range is not None


CLASSES: dict[str, ClassSpec] = {
    spec.tag: spec
    for spec in [
        #         tag       period (d)      amplitude    band scale g/r/i   mean r        g - r        abs G         share
        ClassSpec("rrab",   (0.45, 0.8),    (0.5, 1.0),  (1.3, 1.0, 0.75),  (14.0, 19.5), (0.2, 0.5),  (0.4, 0.8),   0.09),
        ClassSpec("rrc",    (0.25, 0.42),   (0.2, 0.5),  (1.3, 1.0, 0.75),  (14.0, 19.5), (0.1, 0.3),  (0.4, 0.8),   0.07),
        ClassSpec("dscu",   (0.03, 0.2),    (0.03, 0.3), (1.3, 1.0, 0.75),  (13.0, 18.5), (0.05, 0.3), (1.5, 3.0),   0.07),
        ClassSpec("wuma",   (0.25, 0.5),    (0.2, 0.8),  (1.05, 1.0, 0.95), (14.0, 19.5), (0.3, 0.8),  (3.0, 5.5),   0.09),
        ClassSpec("ea",     (1.0, 60.0),    (0.3, 1.2),  (1.05, 1.0, 0.95), (13.5, 19.5), (0.2, 0.9),  (1.0, 5.0),   0.08),
        ClassSpec("ceph",   (2.0, 30.0),    (0.3, 1.0),  (1.4, 1.0, 0.7),   (12.5, 17.0), (0.5, 1.2),  (-5.0, -2.0), 0.06),
        ClassSpec("mir",    (150.0, 500.0), (2.0, 5.0),  (1.3, 1.0, 0.6),   (12.5, 16.5), (1.5, 2.5),  (-2.0, 0.0),  0.07),
        ClassSpec("fla",    None,           (0.3, 3.0),  (2.0, 1.0, 0.6),   (15.0, 20.0), (1.2, 1.6),  (9.0, 13.0),  0.07),
        ClassSpec("nonvar", None,           (0.0, 0.0),  (1.0, 1.0, 1.0),   (13.5, 20.3), (0.1, 1.5),  (2.0, 8.0),   0.40),
    ]
}  # fmt: skip
CLASS_TAGS = tuple(CLASSES)


@dataclass(frozen=True)
class Variability:
    """One star's variability: class, period (NaN if aperiodic), r amplitude, shape parameters.

    ``epoch`` is the hmjd of phase 0. ``flares`` (fla only) is an (n, 3) array of flare start
    hmjd, r-band peak flux ratio and e-folding decay time in days.
    """

    tag: str
    period: float
    amplitude: float
    epoch: float
    shape: dict[str, float] = field(default_factory=dict)
    flares: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))

    def band_amplitude(self, band: int) -> float:
        """Peak-to-peak amplitude (mag) in filter ``band`` (1 g, 2 r, 3 i)."""
        if self.tag == "fla":
            peak_flux = self.flares[:, 1].max(initial=0.0) * CLASSES["fla"].band_scale[band - 1]
            return float(2.5 * np.log10(1.0 + peak_flux))
        return self.amplitude * CLASSES[self.tag].band_scale[band - 1]


def draw_variability(
    tag: str,
    rng: np.random.Generator,
    t_start: float = SURVEY_START_HMJD,
    t_end: float = SURVEY_END_HMJD,
) -> Variability:
    """Draw one star of class ``tag``: period log-uniform and amplitude uniform in range."""
    spec = CLASSES[tag]
    period = np.nan
    if spec.period_range is not None:
        period = float(np.exp(rng.uniform(*np.log(spec.period_range))))
    amplitude = float(rng.uniform(*spec.amplitude_range))
    epoch = float(t_start + rng.uniform(0.0, period if np.isfinite(period) else 1.0))
    shape = _SHAPE_PARAMETERS.get(tag, lambda _: {})(rng)
    flares = _draw_flares(rng, amplitude, t_start, t_end) if tag == "fla" else np.zeros((0, 3))
    return Variability(tag, period, amplitude, epoch, shape, flares)


def variability_mag(var: Variability, t: np.ndarray, band: int = 2) -> np.ndarray:
    """Magnitude offset from the mean (positive = fainter) at hmjd ``t`` in ``band``."""
    t = np.asarray(t, dtype=np.float64)
    scale = CLASSES[var.tag].band_scale[band - 1]
    if var.tag == "nonvar":
        return np.zeros_like(t)
    if var.tag == "fla":
        return _flare_mag(var.flares, t, scale)
    phase = np.mod((t - var.epoch) / var.period, 1.0)
    template = _template(var)
    offset = np.interp(phase, PHASE_GRID, template, period=1.0) * var.amplitude * scale
    if var.tag == "mir":
        offset = offset * _mira_cycle_modulation(var, t) + _mira_mean_drift(var, t)
    return offset


def simulate_light_curve(
    tag: str,
    t: np.ndarray,
    rng: np.random.Generator,
    period: float | None = None,
    amplitude: float | None = None,
    band: int = 2,
) -> tuple[np.ndarray, Variability]:
    """Noiseless magnitude offsets of a random star of class ``tag`` at hmjd ``t``.

    ``period`` / ``amplitude`` override the drawn values. Returns the offsets and the star's
    ``Variability`` (its true period, amplitude and shape). Add a mean magnitude and noise with
    ``scope_assets.sim.ztf_photometry``.
    """
    t = np.asarray(t, dtype=np.float64)
    t_start, t_end = (float(t.min()), float(t.max())) if len(t) else (0.0, 1.0)
    var = draw_variability(tag, rng, t_start, t_end)
    overrides = {}
    if period is not None:
        if not CLASSES[tag].periodic:
            raise ValueError(f"class {tag!r} is aperiodic: it takes no period")
        overrides["period"] = float(period)
    if amplitude is not None:
        overrides["amplitude"] = float(amplitude)
    var = replace(var, **overrides)
    return variability_mag(var, t, band), var


# --------------------------------------------------------------------------- templates


def _smooth(values: np.ndarray, harmonics: int) -> np.ndarray:
    """Keep the first ``harmonics`` Fourier harmonics of a periodic template."""
    spectrum = np.fft.rfft(values)
    spectrum[harmonics + 1 :] = 0.0
    return np.fft.irfft(spectrum, n=len(values))


def _peak_to_peak_normalised(values: np.ndarray) -> np.ndarray:
    """Shift to zero mean and scale to unit peak-to-peak."""
    values = values - values.mean()
    return values / np.ptp(values)


def _sawtooth(rise: float, harmonics: int) -> np.ndarray:
    """Pulsator template in mag: brightest at phase 0, steep rise over the last ``rise``."""
    phase = PHASE_GRID
    mag = np.where(phase < 1.0 - rise, phase / (1.0 - rise), (1.0 - phase) / rise)
    return _peak_to_peak_normalised(_smooth(mag, harmonics))


def _harmonic(second: float, second_phase: float) -> np.ndarray:
    """Near-sinusoid in mag, brightest near phase 0, with a weak second harmonic."""
    phase = 2.0 * np.pi * PHASE_GRID
    mag = -np.cos(phase) + second * np.cos(2.0 * phase + second_phase)
    return _peak_to_peak_normalised(mag)


def _contact_binary(depth_ratio: float) -> np.ndarray:
    """EW template: continuous variation, minima at 0 and 0.5 with depths 1 and depth_ratio."""
    phase = 2.0 * np.pi * PHASE_GRID
    primary = 0.5 * (1.0 + np.cos(2.0 * phase)) * (0.5 + 0.5 * np.cos(phase))
    secondary = 0.5 * (1.0 + np.cos(2.0 * phase)) * (0.5 - 0.5 * np.cos(phase))
    mag = primary + depth_ratio * secondary
    return (mag - mag.mean()) / mag.max()


def _eclipse(phase: np.ndarray, centre: float, width: float) -> np.ndarray:
    """Eclipse profile 0..1 (1 at mid-eclipse) of full ``width`` in phase."""
    distance = np.abs(np.mod(phase - centre + 0.5, 1.0) - 0.5)
    inside = np.clip(1.0 - (2.0 * distance / width) ** 2, 0.0, None)
    return np.sqrt(inside)


def _detached_binary(width: float, depth_ratio: float, secondary_phase: float) -> np.ndarray:
    """EA template in mag: flat, primary eclipse depth 1 at phase 0, secondary elsewhere."""
    mag = _eclipse(PHASE_GRID, 0.0, width) + depth_ratio * _eclipse(
        PHASE_GRID, secondary_phase, width
    )
    return mag - np.median(mag)


def _template(var: Variability) -> np.ndarray:
    s = var.shape
    if var.tag in ("rrab", "ceph"):
        return _sawtooth(s["rise"], harmonics=8)
    if var.tag in ("rrc", "dscu", "mir"):
        return _harmonic(s["second"], s["second_phase"])
    if var.tag == "wuma":
        return _contact_binary(s["depth_ratio"])
    if var.tag == "ea":
        width = s["width_at_1d"] * var.period ** (-2.0 / 3.0)
        return _detached_binary(width, s["depth_ratio"], s["secondary_phase"])
    raise ValueError(f"class {var.tag!r} has no periodic template")


def _ea_parameters(rng: np.random.Generator) -> dict[str, float]:
    eccentric = rng.random() < 0.3
    return {
        "width_at_1d": rng.uniform(0.07, 0.16),
        "depth_ratio": rng.uniform(0.05, 0.6),
        "secondary_phase": rng.uniform(0.35, 0.65) if eccentric else 0.5,
    }


_SHAPE_PARAMETERS: dict[str, Callable[[np.random.Generator], dict[str, float]]] = {
    "rrab": lambda rng: {"rise": rng.uniform(0.1, 0.2)},
    "ceph": lambda rng: {"rise": rng.uniform(0.2, 0.35)},
    "rrc": lambda rng: {"second": rng.uniform(0.05, 0.15), "second_phase": rng.uniform(0, 6.28)},
    "dscu": lambda rng: {"second": rng.uniform(0.0, 0.1), "second_phase": rng.uniform(0, 6.28)},
    "mir": lambda rng: {
        "second": rng.uniform(0.05, 0.2),
        "second_phase": rng.uniform(0, 6.28),
        "drift_mag": rng.uniform(0.1, 0.4),
        "drift_period": rng.uniform(1500.0, 4000.0),
        "drift_phase": rng.uniform(0, 6.28),
    },
    "wuma": lambda rng: {"depth_ratio": rng.uniform(0.85, 1.0)},
    "ea": _ea_parameters,
}


# --------------------------------------------------------------------------- Mira and flares


def _mira_cycle_modulation(var: Variability, t: np.ndarray) -> np.ndarray:
    """Cycle-to-cycle amplitude change of +-15 % on the drift time scale."""
    s = var.shape
    return 1.0 + 0.15 * np.sin(2.0 * np.pi * t / (0.7 * s["drift_period"]) + s["drift_phase"])


def _mira_mean_drift(var: Variability, t: np.ndarray) -> np.ndarray:
    s = var.shape
    return s["drift_mag"] * np.sin(2.0 * np.pi * t / s["drift_period"] + s["drift_phase"])


def _draw_flares(
    rng: np.random.Generator, amplitude: float, t_start: float, t_end: float
) -> np.ndarray:
    """Poisson flare times; peak flux ratios from a power law up to the star's ``amplitude``."""
    rate_per_day = rng.uniform(0.05, 0.3)
    n = rng.poisson(rate_per_day * (t_end - t_start))
    starts = np.sort(rng.uniform(t_start, t_end, n))
    max_flux = 10 ** (0.4 * amplitude) - 1.0
    peak = max_flux * rng.uniform(0.0, 1.0, n) ** 3  # mostly small flares
    if n:
        peak[rng.integers(n)] = max_flux  # the star's brightest flare reaches ``amplitude``
    decay = np.exp(rng.uniform(np.log(0.01), np.log(0.1), n))
    return np.column_stack([starts, peak, decay])


def _flare_mag(flares: np.ndarray, t: np.ndarray, band_scale: float) -> np.ndarray:
    """Magnitude offset of the summed flares (flux ratio scaled per band)."""
    flux = np.zeros_like(t)
    order = np.argsort(t)
    t_sorted = t[order]
    for start, peak, decay in flares:
        lo, hi = np.searchsorted(t_sorted, [start, start + 12.0 * decay])
        if lo < hi:
            flux[order[lo:hi]] += peak * band_scale * np.exp(-(t_sorted[lo:hi] - start) / decay)
    return -2.5 * np.log10(1.0 + flux)
