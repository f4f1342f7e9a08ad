"""Quality checks of a field's feature table, as plain functions that the asset checks call.

Each check takes the little it needs (column names, a few columns, a count) and returns a
:class:`CheckReport`: the problems it found (none when it passes) and the numbers behind them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from scope_assets.config import ScopeConfig
from scope_assets.features.imputation import missing_counts, unimputable_columns, unimputable_rows
from scope_assets.features.pipeline import IDENTITY_COLUMNS

MAX_UNIMPUTABLE_FRACTION = 0.05
"""Above this fraction of rows missing a ``none``-strategy feature, the field looks broken."""


@dataclass(frozen=True)
class CheckReport:
    """What a check found: ``problems`` (empty when it passes) and the ``facts`` it measured."""

    problems: list[str]
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return not self.problems


def unimputable_missing(features: pd.DataFrame, config: ScopeConfig) -> dict[str, int]:
    """Per ``none``-strategy column, how many rows miss it (imputation will drop those rows)."""
    return missing_counts(features, unimputable_columns(config.impute_strategies()))


def check_feature_columns(columns: Sequence[str], config: ScopeConfig) -> CheckReport:
    """Every model input column (the ontological features) and every identity column exists."""
    present = set(columns)
    expected = [*IDENTITY_COLUMNS, "dmdt", *config.feature_columns("ontological")]
    missing = [c for c in expected if c not in present]
    problems = [f"missing columns: {', '.join(missing)}"] if missing else []
    return CheckReport(problems, {"missing_columns": missing, "n_columns": len(columns)})


def check_unimputable_missing(features: pd.DataFrame, config: ScopeConfig) -> CheckReport:
    """At most 5 % of the rows miss a ``none``-strategy feature (NaN, non-numeric or ±inf)."""
    rows_to_drop = int(unimputable_rows(features, config.impute_strategies()).sum())
    fraction = rows_to_drop / max(len(features), 1)
    problems = []
    if fraction > MAX_UNIMPUTABLE_FRACTION:
        problems.append(
            f"{rows_to_drop} of {len(features)} rows ({fraction:.1%}) miss a feature that cannot "
            f"be imputed (more than {MAX_UNIMPUTABLE_FRACTION:.0%}); imputation drops them"
        )
    facts = {
        "rows_to_drop": rows_to_drop,
        "fraction": float(fraction),
        "per_column": unimputable_missing(features, config),
    }
    return CheckReport(problems, facts)


def check_one_row_per_light_curve(ids: pd.Series, n_light_curves: int) -> CheckReport:
    """One feature row per cleaned light curve, and no ``_id`` twice."""
    duplicates = int(ids.duplicated().sum())
    problems = []
    if len(ids) != n_light_curves:
        problems.append(f"{len(ids)} feature rows for {n_light_curves} light curves")
    if duplicates:
        problems.append(f"{duplicates} duplicated _id")
    facts = {"feature_rows": len(ids), "light_curves": n_light_curves, "duplicate_ids": duplicates}
    return CheckReport(problems, facts)
