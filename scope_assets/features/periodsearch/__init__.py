"""Period finding for SCoPe features: grid, GLS / CE / AOV kernels and the nested search.

Public API::

    find_periods(batch, algorithms=("ELS", "ECE", "EAOV", "ELS_ECE_EAOV"), ...) -> {name: PeriodResult}
    frequency_grid(baseline_days, max_freq=48.0, samples_per_peak=10, remove_terrestrial=True,
                   long_period_span=None)
    GridPolicy, TERRESTRIAL_WINDOWS
    gls_power / gls_periodogram / conditional_entropy / aov_periodogram (one light curve)
    classify_period_match(found, true) -> "exact" | "harmonic" | "alias" | "miss"

Significances are -log10 false-alarm probabilities (``fap``); the nested rule and its reasons are
in the ``search`` module docstring.
"""

from .grid import TERRESTRIAL_WINDOWS, GridPolicy, frequency_grid
from .period_match import classify_period_match
from .periodograms import (
    aov_periodogram,
    ce_aov_periodograms,
    conditional_entropy,
    gls_periodogram,
    gls_power,
)
from .search import (
    ALGORITHM_ALIASES,
    DEFAULT_ALGORITHMS,
    PeriodResult,
    canonical_algorithm,
    find_periods,
    find_periods_arrays,
)

__all__ = [
    "ALGORITHM_ALIASES",
    "DEFAULT_ALGORITHMS",
    "GridPolicy",
    "PeriodResult",
    "TERRESTRIAL_WINDOWS",
    "aov_periodogram",
    "canonical_algorithm",
    "ce_aov_periodograms",
    "classify_period_match",
    "conditional_entropy",
    "find_periods",
    "find_periods_arrays",
    "frequency_grid",
    "gls_periodogram",
    "gls_power",
]
