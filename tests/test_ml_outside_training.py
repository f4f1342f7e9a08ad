"""Inputs far outside the models' training range are counted and reported: the scores of such
rows are extrapolations (the DNN called every median-subtracted ZTF star a Mira)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from scope_assets.cli.inference_tools import run_inference_main
from scope_assets.config import load_config
from scope_assets.io import DataLayout
from scope_assets.ml.inference.field_inference import run_inference
from scope_assets.ml.model_files.project_layout import load_models
from scope_assets.ml.model_files.scaling import FeatureStats, Scaler
from scope_assets.testing.quick_models import shared_tiny_models
from scope_assets.testing.synthetic_features import synthetic_features_table, synthetic_truth

CONFIG = load_config(environ={})
MAGNITUDES = ("median", "wmean")
"""Features in magnitudes: subtracting 15 mag from them mimics median-subtracted photometry."""


def test_far_outside_is_more_than_one_training_range_beyond():
    stats = FeatureStats(
        {
            "median": {"min": 12.0, "max": 22.0, "median": 17.0, "mean": 17.0, "std": 2.0},
            "period": {"min": 0.01, "max": 1000.0, "median": 1.0, "mean": 50.0, "std": 100.0},
        }
    )
    scaler = Scaler.build(["median", "period", "unscaled"], stats, "log_min_max")
    raw = np.array(
        [
            [0.0, 1.0, 1e9],  # 1.2 ranges below the minimum
            [2.5, 1.0, 0.0],  # 0.95 ranges below: inside
            [32.5, 1.0, 0.0],  # 2.05: more than one range above the maximum
            [17.0, 1e7, 0.0],  # period 2 decades above a 5-decade range: inside in log10
            [17.0, 1e11, np.nan],  # 6 decades above: (11 + 2) / 5 = 2.6
        ]
    )
    far = scaler.far_outside(scaler.transform(raw))
    expected = [[1, 0, 0], [0, 0, 0], [1, 0, 0], [0, 0, 0], [0, 1, 0]]
    assert far.tolist() == np.array(expected, dtype=bool).tolist()
    assert not Scaler.build(["median"], stats, None).far_outside(raw[:, :1]).any()


def shifted(table: pa.Table, rows: int, mag: float) -> pa.Table:
    """``table`` with ``mag`` added to the magnitude features of its first ``rows`` rows."""
    for name in MAGNITUDES:
        values = table.column(name).to_numpy(zero_copy_only=False).copy()
        values[:rows] += mag
        table = table.set_column(table.schema.get_field_index(name), name, pa.array(values))
    return table


@pytest.fixture(scope="module")
def models_root(tmp_path_factory):
    return shared_tiny_models(tmp_path_factory.getbasetemp(), CONFIG)


@pytest.fixture(scope="module")
def field_table():
    return synthetic_features_table(synthetic_truth(120, seed=21), CONFIG, seed=22)


@pytest.mark.parametrize("algorithm", ["xgb", "dnn"])
def test_inference_counts_rows_far_outside(tmp_path, models_root, field_table, algorithm):
    models = load_models(models_root, algorithm, "demo", config=CONFIG)
    results = {}
    for name, table in (("as is", field_table), ("relative", shifted(field_table, 50, -15.0))):
        path = tmp_path / f"{name.replace(' ', '_')}.parquet"
        pq.write_table(table, path)
        results[name] = run_inference(
            models,
            [path],
            tmp_path / name.replace(" ", "_") / "field_296.parquet",
            algorithm=algorithm,
            field=296,
            config=CONFIG,
        )
    assert results["as is"].rows_outside_training == 0
    assert results["as is"].outside_training_warning() is None
    relative = results["relative"]
    kept = pc.sum(pc.is_valid(field_table.column("median")).cast(pa.int64())).as_py()
    assert relative.rows_out == kept
    assert relative.rows_outside_training == 50
    assert set(relative.features_outside_training) <= set(MAGNITUDES)
    assert relative.features_outside_training["median"] == 50
    assert "50 of" in relative.outside_training_warning()


def test_run_inference_cli_warns(tmp_path, models_root, field_table, capsys):
    layout = DataLayout(tmp_path)
    path = layout.imputed_features_file(296)
    path.parent.mkdir(parents=True)
    pq.write_table(shifted(field_table, 30, -15.0), path)
    argv = ["--data-dir", str(tmp_path), "--models-dir", str(models_root), "--field", "296"]
    assert run_inference_main([*argv, "--algorithm", "xgb"]) == 0
    err = capsys.readouterr().err
    assert "warning: 30 of" in err and "far outside the models' training range" in err
    assert "median (30)" in err
