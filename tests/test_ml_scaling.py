"""Feature scaling: SCoPe's min_max / median_std and our log_min_max, against closed forms."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scope_assets.ml.model_files.scaling import (
    LOG_CLIP_DEX,
    FeatureStats,
    Scaler,
    ScalingError,
)

TRAINING = pd.DataFrame(
    {
        "period": [0.05, 0.5, 5.0, 500.0],  # four decades, positive: log10
        "ratio": [1.0, 2.0, 3.0, 50.0],  # positive but under two decades: linear
        "skew": [-3.0, 0.0, 1.0, 9.0],  # not positive: linear
        "flat": [2.0, 2.0, 2.0, 2.0],  # constant: left alone, as SCoPe does
    }
)
COLUMNS = list(TRAINING.columns)


def _scaler(method: str) -> Scaler:
    return Scaler.build(COLUMNS, FeatureStats.from_frame(TRAINING, COLUMNS), method)


def test_log_min_max_scales_wide_positive_features_in_log10():
    values = np.array(
        [[0.05, 1.0, -3.0, 2.0], [500.0, 50.0, 9.0, 2.0], [np.sqrt(0.05 * 500), 2.0, 0.0, 7.0]]
    )
    out = _scaler("log_min_max").transform(values)
    np.testing.assert_allclose(out[:, 0], [0.0, 1.0, 0.5])  # geometric mean → middle
    np.testing.assert_allclose(out[:, 1], (values[:, 1] - 1.0) / 49.0)
    np.testing.assert_allclose(out[:, 2], (values[:, 2] + 3.0) / 12.0)
    np.testing.assert_array_equal(out[:, 3], values[:, 3])


def test_min_max_is_unchanged_and_linear_in_every_column():
    values = TRAINING.to_numpy(dtype=float)
    out = _scaler("min_max").transform(values)
    np.testing.assert_allclose(out[:, 0], (values[:, 0] - 0.05) / 499.95)
    assert _scaler("min_max").log10 is None


def test_log_min_max_clips_below_the_training_range_and_keeps_nan():
    values = np.array([[0.0, 1.0, 0.0, 2.0], [-4.0, 1.0, 0.0, 2.0], [np.nan, 1.0, 0.0, 2.0]])
    out = _scaler("log_min_max").transform(values)
    floor = -LOG_CLIP_DEX / np.log10(500.0 / 0.05)
    np.testing.assert_allclose(out[:2, 0], [floor, floor])
    assert np.isnan(out[2, 0])
    assert np.isfinite(out[:2]).all()


def test_scalers_that_transform_differently_have_different_keys():
    assert _scaler("log_min_max").key != _scaler("min_max").key


def test_unknown_method_is_refused():
    with pytest.raises(ScalingError, match="'log'.*log_min_max"):
        _scaler("log")
