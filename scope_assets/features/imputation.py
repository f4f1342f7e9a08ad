"""Missing-feature imputation with stored reference statistics (SCoPe's strategies).

SCoPe imputes the included ontological features in this order: ``zero`` → ``median`` of the
reference → ``mean`` of the reference → KNN (5 neighbours, nan-Euclidean) over all ``regress``
columns jointly → drop rows still missing a ``none`` feature. SCoPe recomputes the reference from
each inference batch, so a source's scores depend on its neighbours in the file. Here the
reference (medians, means and a fixed KNN sample) is built once — from a training set or a whole
field — stored as JSON, and applied row by row: imputed values never depend on the batch.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.impute import KNNImputer

from scope_assets.config import ScopeConfig
from scope_assets.errors import ScopeError


class ImputationError(ScopeError, ValueError):
    """The table to impute lacks columns the reference needs, or the reference is unusable."""


@dataclass(frozen=True)
class ImputationReference:
    """Everything needed to impute a row, independent of any other row being imputed."""

    strategies: dict[str, str]
    medians: dict[str, float]
    means: dict[str, float]
    regress_columns: list[str]
    knn_reference: list[list[float]]
    n_neighbors: int
    source: str
    n_reference_rows: int

    @cached_property
    def fingerprint(self) -> str:
        """A short hash of the reference, to record which statistics imputed a table (computed
        once: the reference holds up to thousands of k-NN rows)."""
        blob = json.dumps(asdict(self), sort_keys=True, default=float).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    def to_json(self, path: str | Path) -> Path:
        from scope_assets.io import write_json

        return write_json(asdict(self) | {"fingerprint": self.fingerprint}, path)

    @classmethod
    def from_json(cls, path: str | Path) -> ImputationReference:
        try:
            data = json.loads(Path(path).read_text())
        except FileNotFoundError:
            raise FileNotFoundError(f"imputation reference {path} does not exist") from None
        except json.JSONDecodeError as exc:
            raise ImputationError(f"imputation reference {path} is not valid JSON: {exc}") from None
        data.pop("fingerprint", None)
        try:
            return cls(**data)
        except TypeError as exc:
            raise ImputationError(f"imputation reference {path} is malformed: {exc}") from None


def feature_values(df: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Float copy of ``columns`` in which every missing value is NaN.

    The package's one rule of what is missing (imputation, asset metadata and checks): NaN or
    None, a value that is not a number, or ±inf.
    """
    values = df[columns].apply(pd.to_numeric, errors="coerce").astype("float64")
    return values.replace([np.inf, -np.inf], np.nan)


def missing_counts(df: pd.DataFrame, columns: list[str]) -> dict[str, int]:
    """Missing values per column of ``columns`` present in ``df`` (only columns with some)."""
    present = [c for c in columns if c in df.columns]
    return {c: int(n) for c, n in feature_values(df, present).isna().sum().items() if n}


def unimputable_columns(strategies: Mapping[str, str]) -> list[str]:
    """The ``none``-strategy columns: a row missing one of them cannot be imputed."""
    return [c for c, s in strategies.items() if s == "none"]


def unimputable_rows(df: pd.DataFrame, strategies: Mapping[str, str]) -> np.ndarray:
    """True for the rows of ``df`` missing a ``none``-strategy feature (imputation drops them)."""
    present = [c for c in unimputable_columns(strategies) if c in df.columns]
    return feature_values(df, present).isna().any(axis=1).to_numpy()


def _require_columns(df: pd.DataFrame, columns: list[str], what: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ImputationError(f"{what} lacks feature columns {missing}")


def build_imputation_reference(
    reference: pd.DataFrame,
    config: ScopeConfig,
    *,
    source: str = "reference table",
    max_rows: int | None = None,
    seed: int = 0,
) -> ImputationReference:
    """Reference statistics for the included ontological features of ``reference``."""
    strategies = config.impute_strategies()
    columns = list(strategies)
    _require_columns(reference, columns, source)
    values = feature_values(reference, columns)
    if values.empty:
        raise ImputationError(f"{source} has no rows to build imputation statistics from")
    medians = {c: float(values[c].median()) for c in columns if strategies[c] == "median"}
    means = {c: float(values[c].mean()) for c in columns if strategies[c] == "mean"}
    regress = [c for c in columns if strategies[c] == "regress"]
    knn_rows = values[regress].dropna(how="all")
    max_rows = max_rows or config.imputation.max_reference_rows
    if len(knn_rows) > max_rows:
        knn_rows = knn_rows.sample(n=max_rows, random_state=seed).sort_index()
    if regress and knn_rows.empty:
        raise ImputationError(f"{source} has no row with any of the regress features {regress}")
    return ImputationReference(
        strategies=strategies,
        medians={c: (v if np.isfinite(v) else 0.0) for c, v in medians.items()},
        means={c: (v if np.isfinite(v) else 0.0) for c, v in means.items()},
        regress_columns=regress,
        knn_reference=knn_rows.to_numpy().tolist(),
        n_neighbors=config.imputation.n_neighbors,
        source=source,
        n_reference_rows=len(values),
    )


def impute_features(
    df: pd.DataFrame, reference: ImputationReference
) -> tuple[pd.DataFrame, np.ndarray]:
    """Impute ``df`` with ``reference``; returns (kept rows, boolean mask of kept input rows).

    Rows still missing a feature whose strategy is ``none`` are dropped (as SCoPe does); every
    other column of ``df`` is carried along unchanged and stays aligned with its row.
    """
    columns = list(reference.strategies)
    _require_columns(df, columns, "table to impute")
    out = df.copy()
    values = feature_values(out, columns)
    for column, strategy in reference.strategies.items():
        if strategy == "zero":
            values[column] = values[column].fillna(0.0)
        elif strategy == "median":
            values[column] = values[column].fillna(reference.medians[column])
        elif strategy == "mean":
            values[column] = values[column].fillna(reference.means[column])
    regress = reference.regress_columns
    if regress and len(values):
        needs = values[regress].isna().any(axis=1).to_numpy()
        if needs.any():
            imputer = KNNImputer(n_neighbors=reference.n_neighbors, keep_empty_features=True)
            imputer.fit(np.asarray(reference.knn_reference, dtype=np.float64))
            filled = imputer.transform(values.loc[needs, regress].to_numpy())
            values.loc[needs, regress] = filled
    kept = ~unimputable_rows(df, reference.strategies)
    for column in columns:
        out[column] = values[column]
    out = out.loc[kept].reset_index(drop=True)
    out.attrs = dict(df.attrs) | {
        "features_imputed": True,
        "imputation_reference": reference.fingerprint,
    }
    return out, kept
