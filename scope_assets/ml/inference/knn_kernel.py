"""Nan-aware k-nearest-neighbour imputation against a fixed reference, compiled (numba).

For each receiver row, in parallel over rows: scikit-learn's nan-Euclidean distance to every
reference row (``sqrt(sum of squared differences over coordinates both have / their count *
columns)``, NaN when they share none, computed in that operation order), then per donor group
(columns that share their donors) the ``k`` nearest donors with a finite distance and their
uniform average in each missing column of the group (the group's reference mean when no donor
has a finite distance).

The only choice this leaves open is which donors are taken when several lie exactly at the
``k``-th distance and not all fit: scikit-learn's ``argpartition`` then picks an arbitrary subset.
When those donors differ in their values, the row is not imputed here but reported in
``ambiguous``; the caller imputes it exactly as scikit-learn does. Everything else equals :mod:`.matrix_imputer`'s scikit-learn path.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from scope_assets.numba_cache import install_package_locators

install_package_locators()


@njit(cache=True)
def _distances(x, ref_values, ref_present, squares, counts, dist) -> None:
    """Nan-Euclidean distances of ``x`` to every reference row, into ``dist``.

    ``ref_values``/``ref_present``: the reference by column (NaN → 0, present → 1.0), so that
    the loop over reference rows is contiguous; the coordinates are summed in column order, as
    scikit-learn does, a missing one adding exactly 0.
    """
    n_cols = x.shape[0]
    squares[:] = 0.0
    counts[:] = 0.0
    for c in range(n_cols):
        if np.isnan(x[c]):
            continue
        values, present = ref_values[c], ref_present[c]
        for j in range(dist.shape[0]):
            diff = x[c] - values[j]
            squares[j] += present[j] * (diff * diff)
            counts[j] += present[j]
    for j in range(dist.shape[0]):
        dist[j] = np.sqrt(squares[j] / counts[j] * n_cols) if counts[j] > 0 else np.nan


@njit(cache=True)
def _nearest(dist, donors, k, best_dist, best_donor) -> int:
    """The ``k`` smallest finite distances among ``donors``, sorted into ``best_*``; returns how
    many were found."""
    found = 0
    for d_index in range(donors.shape[0]):
        d = dist[donors[d_index]]
        if np.isnan(d) or (found == k and d >= best_dist[k - 1]):
            continue
        slot = found if found < k else k - 1
        while slot > 0 and best_dist[slot - 1] > d:
            best_dist[slot] = best_dist[slot - 1]
            best_donor[slot] = best_donor[slot - 1]
            slot -= 1
        best_dist[slot] = d
        best_donor[slot] = d_index
        if found < k:
            found += 1
    return found


@njit(cache=True)
def _tie_matters(dist, donors, values, n_cols, best_dist, best_donor, k) -> bool:
    """Whether the choice among donors exactly at the ``k``-th distance changes the average:
    more of them than slots left, with different values."""
    kth = best_dist[k - 1]
    in_best = 0
    for slot in range(k):
        in_best += best_dist[slot] == kth
    at_kth = 0
    differ = False
    first = best_donor[k - 1]
    for d_index in range(donors.shape[0]):
        if dist[donors[d_index]] != kth:
            continue
        at_kth += 1
        for c in range(n_cols):
            differ = differ or values[d_index * n_cols + c] != values[first * n_cols + c]
    return differ and at_kth > in_best


@njit(cache=True, parallel=True)
def knn_impute(
    X,
    ref_values,
    ref_present,
    group_columns,
    group_column_start,
    group_donors,
    group_donor_start,
    donor_values,
    donor_value_start,
    col_mean,
    k,
):
    """Impute the NaNs of ``X`` (rows × reference columns) in place; returns the ``ambiguous``
    row mask (rows left for the caller, see the module docstring). The reference comes by
    column, as :func:`_distances` takes it.

    Group ``g``: columns ``group_columns[group_column_start[g]:group_column_start[g + 1]]``,
    donors (reference rows) ``group_donors[group_donor_start[g]:…]``, their values in those
    columns ``donor_values[donor_value_start[g]:…]`` (row-major, donors × columns).
    """
    n_rows = X.shape[0]
    n_ref = ref_values.shape[1]
    n_groups = group_column_start.shape[0] - 1
    ambiguous = np.zeros(n_rows, dtype=np.bool_)
    for i in prange(n_rows):
        x = X[i].copy()
        x_missing = np.isnan(x)
        dist = np.empty(n_ref)
        _distances(x, ref_values, ref_present, np.empty(n_ref), np.empty(n_ref), dist)
        best_dist = np.empty(k)
        best_donor = np.empty(k, dtype=np.int64)
        for g in range(n_groups):
            cols = group_columns[group_column_start[g] : group_column_start[g + 1]]
            needed = False
            for c in cols:
                needed = needed or x_missing[c]
            if not needed:
                continue
            donors = group_donors[group_donor_start[g] : group_donor_start[g + 1]]
            k_group = min(k, donors.shape[0])
            found = _nearest(dist, donors, k_group, best_dist, best_donor)
            values = donor_values[donor_value_start[g] : donor_value_start[g + 1]]
            if found == k_group and _tie_matters(
                dist, donors, values, cols.shape[0], best_dist, best_donor, k_group
            ):
                ambiguous[i] = True
                break
            for local in range(cols.shape[0]):
                c = cols[local]
                if not x_missing[c]:
                    continue
                if found == 0:
                    X[i, c] = col_mean[c]
                    continue
                total = 0.0
                for slot in range(found):
                    total += values[best_donor[slot] * cols.shape[0] + local]
                X[i, c] = total / found
    return ambiguous
