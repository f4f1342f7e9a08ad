"""The compiled KNN imputation gives the neighbours and values of the scikit-learn path, on
random data with NaNs, with exact distance ties and with rows no donor can reach."""

import numpy as np
import pytest

from scope_assets.ml.inference.knn_kernel import knn_impute
from scope_assets.ml.inference.matrix_imputer import _KnnReference


def _with_gaps(rng, values: np.ndarray, blocks: list[list[int]], rate: float) -> np.ndarray:
    """``values`` with whole column blocks (surveys) and single cells set to NaN."""
    out = values.copy()
    for block in blocks:
        out[np.ix_(rng.random(len(out)) < rate, block)] = np.nan
    out[rng.random(out.shape) < rate / 4] = np.nan
    return out


BLOCKS = [[0, 1, 2, 3], [4, 5, 6], [7, 8, 9, 10, 11, 12]]


@pytest.mark.parametrize("quantised", [False, True], ids=["continuous", "ties"])
def test_compiled_knn_equals_the_sklearn_path(quantised):
    rng = np.random.default_rng(7)
    draw = (
        (lambda shape: rng.integers(0, 3, shape).astype(float))
        if quantised
        else (lambda shape: rng.normal(size=shape))
    )
    reference = _with_gaps(rng, draw((600, 13)), BLOCKS, 0.2)
    reference[:40] = reference[40:80]  # duplicated donors: equal distances, equal values
    reference[:, 12] = np.nan  # a column no donor has
    X = _with_gaps(rng, draw((3000, 13)), BLOCKS, 0.4)
    X[:5] = np.nan  # no coordinate in common with any donor
    knn = _KnnReference(reference, 5)
    expected = knn.transform_like_sklearn(X)
    got = knn.transform(X)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=0)
    rows = np.flatnonzero(np.isnan(X[:, knn.valid]).any(axis=1))
    block = X[rows].copy()
    ambiguous = knn_impute(block, *knn.kernel_reference, *knn.kernel_groups, knn.col_mean, knn.k)
    if quantised:  # ties between donors of different values: left to the exact path
        assert 0 < ambiguous.sum() < len(rows)
    else:  # duplicated donors tie, but with equal values
        assert not ambiguous.any()
