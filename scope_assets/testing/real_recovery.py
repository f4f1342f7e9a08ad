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
from scope_assets.features.pipeline import features_for_light_curves
from scope_assets.lightcurves.irsa import long_table_to_raw
from scope_assets.lightcurves.raw import RawLightCurves
from scope_assets.testing.real_light_curves import RealCurve

#: labels counted as recovered: the catalogue period or a harmonic (P/2, 2P, … 5P)
RECOVERED = ("P", "P/2", "2P", "P/3", "3P", "P/4", "4P", "P/5", "5P")


def raw_light_curves(curves: Sequence[RealCurve]) -> RawLightCurves:
    """The curves as a ``generate-features`` long table would give them: ``_id`` = position + 1,
    ``hjd``, ``mag``, ``magerr`` (no filter, catflags or programid columns)."""
    lengths = [len(c.t) for c in curves]
    table = pd.DataFrame(
        {
            "_id": np.repeat(np.arange(1, len(curves) + 1, dtype=np.int64), lengths),
            "hjd": np.concatenate([c.t for c in curves]),
            "mag": np.concatenate([c.mag for c in curves]),
            "magerr": np.concatenate([c.magerr for c in curves]),
        }
    )
    return long_table_to_raw(table, source="real development set")


def with_algorithms(config: ScopeConfig, algorithms: Sequence[str]) -> ScopeConfig:
    """``config`` with its period algorithms replaced by ``algorithms``."""
    fg = config.feature_generation.model_copy(update={"period_algorithms": list(algorithms)})
    return config.model_copy(update={"feature_generation": fg})


def pipeline_features(curves: Sequence[RealCurve], config: ScopeConfig) -> pd.DataFrame:
    """The feature rows of the curves (``_id`` = position + 1; curves cleaning drops are
    absent), from the feature pipeline run with ``config``."""
    features, _ = features_for_light_curves(raw_light_curves(curves), None, config)
    return features


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
    features = pipeline_features(curves, with_algorithms(config, algorithms))
    return periods_from_features(features, len(curves), algorithms)


def recovery_summary(
    table: pd.DataFrame, algorithms: Sequence[str], by: Sequence[str] = ("source", "class")
) -> pd.DataFrame:
    """Per group of ``table`` (a ``match_table``) and per algorithm: light curves, % exact and %
    exact-or-harmonic, with an ``all`` row per source."""
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
        parts.append(pd.DataFrame(cols))
    return pd.concat(parts).sort_index()
