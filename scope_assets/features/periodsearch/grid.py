"""SCoPe's trial-frequency grid (cycles/day) and its terrestrial-alias windows.

The grid is uniform in frequency: ``f_i = f_min + df * i`` for ``i < n`` with ``f_min = 2 / T``,
``df = 1 / (samples_per_peak * T)`` and ``n = ceil((max_freq - f_min) / df)``, where ``T`` (days) is
the baseline the grid is built for. Unlike SCoPe (which takes ``T`` as the longest baseline of the
whole run, so a light curve's period depends on its batch-mates; spec §6.8) ``T`` here is either the
light curve's own baseline or a fixed value from configuration, never a property of the batch.

Long periods: ``f_min = 2 / T`` cannot see a period longer than half the baseline (a Mira of 300 d
on a 900-d light curve, a long-period Cepheid). With ``long_periods`` the lower end follows the
light curve's own span ``S`` instead: ``f_min = min(2 / T, 1 / S)``, periods up to one full cycle
over the observations (the step ``df`` is unchanged).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit

#: SCoPe's terrestrial windows (cycles/day, closed intervals) removed by ``--doRemoveTerrestrial``.
TERRESTRIAL_WINDOWS: np.ndarray = np.array(
    [
        [0.0025, 0.003],  # 1 yr
        [0.00125, 0.0015],  # 2 yr
        [0.000833, 0.001],  # 3 yr
        [0.000625, 0.00075],  # 4 yr
        [0.0005, 0.0006],  # 5 yr
        [0.005, 0.006],  # 1/2 yr
        [0.03, 0.04],  # lunar
        [3.95, 4.05],  # 0.25 d
        [2.95, 3.05],  # 1/3 d
        [1.95, 2.05],  # 1/2 d
        [0.95, 1.05],  # 1 d, incl. sidereal
        [0.48, 0.52],  # 2 d
        [0.32, 0.34],  # 3 d
    ],
    dtype=np.float64,
)
TERRESTRIAL_WINDOWS.setflags(write=False)


@njit(cache=True)
def grid_params(
    baseline_days: float,
    max_freq: float,
    samples_per_peak: float,
    long_period_span: float = math.inf,
):
    """``(f_min, df, n)`` of the uniform grid for a baseline in days; ``n = 0`` if it is empty.

    A finite ``long_period_span`` (days, the light curve's own span) lowers ``f_min`` to
    ``min(2 / baseline, 1 / span)`` (see the module doc).
    """
    if not (baseline_days > 0.0) or not math.isfinite(baseline_days):
        return math.nan, math.nan, 0
    f_min = 2.0 / baseline_days
    if long_period_span > 0.0 and math.isfinite(long_period_span):
        f_min = min(f_min, 1.0 / long_period_span)
    df = 1.0 / (samples_per_peak * baseline_days)
    if not (max_freq > f_min):
        return f_min, df, 0
    return f_min, df, int(math.ceil((max_freq - f_min) / df))


@njit(cache=True)
def terrestrial_keep(f_min: float, df: float, n: int, windows: np.ndarray) -> np.ndarray:
    """uint8 mask over ``f_min + df * i`` (``i < n``): 0 inside any closed window, else 1.

    Frequencies are formed exactly as in :func:`frequency_grid`, so both always agree.
    """
    keep = np.ones(n, dtype=np.uint8)
    for w in range(windows.shape[0]):
        lo_f = windows[w, 0]
        hi_f = windows[w, 1]
        lo = max(int(math.floor((lo_f - f_min) / df)) - 2, 0)
        hi = min(int(math.ceil((hi_f - f_min) / df)) + 2, n - 1)
        for i in range(lo, hi + 1):
            f = f_min + df * i
            if f >= lo_f and f <= hi_f:
                keep[i] = 0
    return keep


def frequency_grid(
    baseline_days: float,
    *,
    max_freq: float = 48.0,
    samples_per_peak: float = 10,
    remove_terrestrial: bool = True,
    long_period_span: float | None = None,
) -> np.ndarray:
    """SCoPe's trial frequencies (cycles/day, float64, ascending) for a baseline in days.

    ``remove_terrestrial`` drops the closed :data:`TERRESTRIAL_WINDOWS`. The kernels evaluate the full
    uniform grid and mask these bins, which gives the same values on the kept frequencies.
    ``long_period_span`` (days): the light curve's span when long periods are searched.
    """
    if samples_per_peak <= 0 or max_freq <= 0:
        raise ValueError("samples_per_peak and max_freq must be positive")
    span = math.inf if long_period_span is None else float(long_period_span)
    f_min, df, n = grid_params(float(baseline_days), float(max_freq), float(samples_per_peak), span)
    freqs = f_min + df * np.arange(n, dtype=np.float64)
    if remove_terrestrial and n:
        freqs = freqs[terrestrial_keep(f_min, df, n, TERRESTRIAL_WINDOWS).astype(bool)]
    return freqs


@dataclass(frozen=True)
class GridPolicy:
    """How the grid is chosen for each light curve.

    ``baseline_days=None`` (default): each light curve gets the grid of its own baseline
    ``t_max - t_min``. A number: every light curve gets the grid of that fixed baseline (e.g. the
    survey's length from configuration, SCoPe DR16 ≈ 1757 d). Either way a light curve's grid never
    depends on the other light curves of its batch. ``long_periods``: the lower end also reaches
    one cycle over the light curve's own span (module doc).
    """

    max_freq: float = 48.0
    samples_per_peak: float = 10
    remove_terrestrial: bool = True
    baseline_days: float | None = None
    long_periods: bool = False

    def __post_init__(self) -> None:
        if self.max_freq <= 0 or self.samples_per_peak <= 0:
            raise ValueError("max_freq and samples_per_peak must be positive")
        if self.baseline_days is not None and not self.baseline_days > 0:
            raise ValueError("baseline_days must be positive or None")

    def baseline_for(self, curve_baseline_days: float) -> float:
        """Baseline (days) the grid of a light curve spanning ``curve_baseline_days`` is built for."""
        return curve_baseline_days if self.baseline_days is None else float(self.baseline_days)

    def grid_for(self, curve_baseline_days: float) -> np.ndarray:
        """Kept trial frequencies (cycles/day) of a light curve spanning ``curve_baseline_days``."""
        return frequency_grid(
            self.baseline_for(curve_baseline_days),
            max_freq=self.max_freq,
            samples_per_peak=self.samples_per_peak,
            remove_terrestrial=self.remove_terrestrial,
            long_period_span=curve_baseline_days if self.long_periods else None,
        )
