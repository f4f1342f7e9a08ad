"""Period recovery on the real development set through the feature pipeline itself.

``pipeline_periods`` feeds real light curves to ``features_for_light_curves``, the function behind
``generate-features --lightcurves`` (cleaning included: curves it drops count as not recovered),
and ``recovery_summary`` counts exact and harmonic matches per set and class. Used by
``bench/eval_real.py`` (``make eval-real``) and ``tests/test_period_real.py``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from scope_assets.config import ScopeConfig
from scope_assets.ml.training.catalogue_curves import RealCurve
from scope_assets.ml.training.eros1_training_rows import real_curve_features

#: labels counted as recovered: the catalogue period or a harmonic (P/2, 2P, … 5P)
RECOVERED = ("P", "P/2", "2P", "P/3", "3P", "P/4", "4P", "P/5", "5P")


def with_algorithms(config: ScopeConfig, algorithms: Sequence[str]) -> ScopeConfig:
    """``config`` with its period algorithms replaced by ``algorithms``."""
    fg = config.feature_generation.model_copy(update={"period_algorithms": list(algorithms)})
    return config.model_copy(update={"feature_generation": fg})


def periods_from_features(
    features: pd.DataFrame, n_curves: int, algorithms: Sequence[str]
) -> dict[str, np.ndarray]:
    """Period of each of ``n_curves`` curves (days; NaN where no feature row) per algorithm."""
    row = features["_id"].to_numpy(dtype=np.int64) - 1
    out = {}
    for alg in algorithms:
        periods = np.full(n_curves, np.nan)
        periods[row] = features[f"period_{alg}"].to_numpy(dtype=np.float64)
        out[alg] = periods
    return out


def pipeline_periods(
    curves: Sequence[RealCurve],
    config: ScopeConfig,
    algorithms: Sequence[str] = ("ELS_ECE_EAOV", "ELS"),
) -> dict[str, np.ndarray]:
    """Period of each curve (days; NaN when cleaning dropped it) for each of ``algorithms``, from
    the feature pipeline run with ``config`` (its period algorithms replaced by ``algorithms``)."""
    features = real_curve_features(curves, with_algorithms(config, algorithms))
    return periods_from_features(features, len(curves), algorithms)


def recovery_summary(
    table: pd.DataFrame, algorithms: Sequence[str], by: Sequence[str] = ("source", "class")
) -> pd.DataFrame:
    """Per group of ``table`` (a ``match_table``) and per algorithm: light curves, % exact, %
    exact-or-harmonic (within 1 %) and, where the table has it, % exact-or-harmonic within the
    peak's width (:func:`~scope_assets.testing.real_light_curves.resolved_match_label`), with an
    ``all`` row per source."""
    groups = [table.groupby(list(by))]
    if len(by) > 1:
        overall = table.assign(**{by[-1]: "all"})
        groups.append(overall.groupby(list(by)))
    parts = []
    for grouped in groups:
        cols = {"n": grouped.size()}
        for alg in algorithms:
            cols[f"{alg} exact %"] = grouped[alg].apply(lambda s: 100 * (s == "P").mean())
            cols[f"{alg} P or harmonic %"] = grouped[alg].apply(
                lambda s: 100 * s.isin(RECOVERED).mean()
            )
            if f"{alg}_resolved" in table.columns:
                cols[f"{alg} within 1/2T %"] = grouped[f"{alg}_resolved"].apply(
                    lambda s: 100 * s.isin(RECOVERED).mean()
                )
        parts.append(pd.DataFrame(cols))
    return pd.concat(parts).sort_index()
