"""Vectorised application of a stored imputation reference (inference hot path).

Same semantics as :func:`scope_assets.features.imputation.impute_features` — zero → reference
median → reference mean → KNN (scikit-learn ``KNNImputer``: nan-Euclidean distances, the
``n_neighbors`` nearest donors that have the column, uniform weights, the reference mean when no
donor has a defined distance, empty reference columns → 0) → drop rows still missing a ``none``
feature — on a float matrix instead of a DataFrame, and with the KNN step grouped by donor set
(a survey's columns are missing together) and compiled: :mod:`.knn_kernel` computes the
distances and picks the neighbours row by row in parallel. Rows where donors tie exactly at the
``k``-th distance go through scikit-learn's own distance and ``argpartition`` (in cache-sized
chunks), so every row gets the neighbours scikit-learn's path gives it. The test suite checks
equality with ``impute_features`` and with the scikit-learn path.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics.pairwise import nan_euclidean_distances

from scope_assets.ml.inference.knn_kernel import knn_impute

CHUNK_ROWS = 2048


class _KnnReference:
    """Donor groups and column means of a KNN reference (built once per reference)."""

    def __init__(self, reference: np.ndarray, n_neighbors: int):
        self.ref = np.asarray(reference, dtype=np.float64)
        self.k = int(n_neighbors)
        mask = np.isnan(self.ref)
        self.valid = ~mask.all(axis=0) if len(self.ref) else np.zeros(self.ref.shape[1], bool)
        with np.errstate(all="ignore"):
            counts = (~mask).sum(axis=0)
            sums = np.where(mask, 0.0, self.ref).sum(axis=0)
            self.col_mean = np.where(counts > 0, sums / np.maximum(counts, 1), 0.0)
        groups: dict[bytes, list[int]] = {}
        for col in np.flatnonzero(self.valid):
            groups.setdefault((~mask[:, col]).tobytes(), []).append(int(col))
        self.groups = []
        for cols in groups.values():
            donors = np.flatnonzero(~mask[:, cols[0]])
            self.groups.append((np.array(cols), donors, self.ref[np.ix_(donors, cols)]))
        self.kernel_reference = (
            np.ascontiguousarray(np.where(mask, 0.0, self.ref).T),
            np.ascontiguousarray((~mask).T, dtype=np.float64),
        )
        self.kernel_groups = _flattened(self.groups)

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Impute the NaNs of ``X`` (rows × reference columns); returns a new array."""
        original = np.ascontiguousarray(X, dtype=np.float64)
        X = original.copy()
        rows = np.flatnonzero(np.isnan(X[:, self.valid]).any(axis=1))
        if len(rows) and self.groups:
            block = X[rows]
            ambiguous = knn_impute(
                block, *self.kernel_reference, *self.kernel_groups, self.col_mean, self.k
            )
            X[rows] = block
            tied = rows[ambiguous]
            X[tied] = self.transform_like_sklearn(original[tied])
        if len(rows) and (~self.valid).any():
            X[np.ix_(rows, np.flatnonzero(~self.valid))] = 0.0  # keep_empty_features=True
        return X

    def transform_like_sklearn(self, X: np.ndarray) -> np.ndarray:
        """:meth:`transform` through scikit-learn's ``nan_euclidean_distances`` and
        ``argpartition`` (the rows whose neighbours tie; the reference of the tests)."""
        X = np.array(X, dtype=np.float64, copy=True)
        missing = np.isnan(X)
        rows = np.flatnonzero(missing[:, self.valid].any(axis=1))
        for start in range(0, len(rows), CHUNK_ROWS):
            chunk = rows[start : start + CHUNK_ROWS]
            dist = nan_euclidean_distances(X[chunk], self.ref)
            chunk_missing = missing[chunk]
            for cols, donors, donor_values in self.groups:
                need = chunk_missing[:, cols].any(axis=1)
                if not need.any():
                    continue
                d = dist[np.ix_(need, donors)]
                k = min(self.k, len(donors))
                idx = np.argpartition(d, k - 1, axis=1)[:, :k]
                dd = np.take_along_axis(d, idx, axis=1)
                weight = (~np.isnan(dd)).astype(np.float64)
                total = weight.sum(axis=1)
                values = donor_values[idx]  # (receivers, k, columns)
                with np.errstate(all="ignore"):
                    avg = np.multiply(values, weight[:, :, None]).sum(axis=1) / total[:, None]
                no_donor = total == 0
                avg[no_donor] = self.col_mean[cols]
                target_rows = chunk[need]
                block = X[np.ix_(target_rows, cols)]
                fill = chunk_missing[np.ix_(need, cols)]
                block[fill] = avg[fill]
                X[np.ix_(target_rows, cols)] = block
        if len(rows) and (~self.valid).any():
            X[np.ix_(rows, np.flatnonzero(~self.valid))] = 0.0  # keep_empty_features=True
        return X


def _flattened(groups: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> tuple:
    """Donor groups as flat arrays with start offsets, as :func:`knn_impute` takes them."""

    def starts(parts: list[np.ndarray]) -> np.ndarray:
        return np.concatenate([[0], np.cumsum([len(p) for p in parts])]).astype(np.int64)

    columns = [cols.astype(np.int64) for cols, _, _ in groups]
    donors = [d.astype(np.int64) for _, d, _ in groups]
    values = [np.ascontiguousarray(v, dtype=np.float64).reshape(-1) for _, _, v in groups]
    return (
        np.concatenate(columns),
        starts(columns),
        np.concatenate(donors),
        starts(donors),
        np.concatenate(values),
        starts(values),
    )


class MatrixImputer:
    """A stored :class:`~scope_assets.features.imputation.ImputationReference`, applied to
    float matrices whose columns are ``columns`` (a superset of the reference's)."""

    def __init__(self, reference, columns: list[str]):
        self.reference = reference
        strategies = reference.strategies
        missing = [c for c in strategies if c not in columns]
        if missing:
            raise ValueError(f"matrix lacks the reference's columns {missing}")
        index = {c: i for i, c in enumerate(columns)}
        self.zero = [index[c] for c, s in strategies.items() if s == "zero"]
        self.median = [
            (index[c], reference.medians[c]) for c, s in strategies.items() if s == "median"
        ]
        self.mean = [(index[c], reference.means[c]) for c, s in strategies.items() if s == "mean"]
        self.regress = [index[c] for c in reference.regress_columns]
        self.none = [index[c] for c, s in strategies.items() if s == "none"]
        self.all = [index[c] for c in strategies]
        self.knn = (
            _KnnReference(
                np.asarray(reference.knn_reference, dtype=np.float64), reference.n_neighbors
            )
            if self.regress
            else None
        )

    def transform(self, matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(imputed copy of ``matrix``, mask of rows kept). ``matrix`` must hold NaN for missing
        values (±inf included)."""
        out = np.array(matrix, dtype=np.float64, copy=True)
        sub = out[:, self.all]
        out[:, self.all] = np.where(np.isfinite(sub), sub, np.nan)
        if self.zero:
            block = out[:, self.zero]
            block[np.isnan(block)] = 0.0
            out[:, self.zero] = block
        for col, value in self.median + self.mean:
            column = out[:, col]
            column[np.isnan(column)] = value
        if self.knn is not None and len(out):
            block = out[:, self.regress]
            needs = np.isnan(block).any(axis=1)
            if needs.any():
                out[np.ix_(np.flatnonzero(needs), self.regress)] = self.knn.transform(block[needs])
        kept = ~np.isnan(out[:, self.none]).any(axis=1) if self.none else np.ones(len(out), bool)
        return out, kept
