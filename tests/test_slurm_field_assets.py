"""Field 297 through the real assets on SLURM equals the in-process run (the execution switch)."""

import json

import dagster as dg
import pandas as pd
from slurm_support import needs_slurm

from resources.execution import ExecutionResource
from resources.sky import SkySourceResource
from resources.storage import StorageResource
from scope_assets.defs.field_assets import FIELD_ASSETS
from scope_assets.defs.ml_assets import xgb_predictions
from scope_assets.features.field_steps import read_field_features
from scope_assets.io import DataLayout, read_parquet
from scope_assets.sim import simulate_field

FAST_CONFIG = "feature_generation:\n  max_freq: 8.0\n  samples_per_peak: 2\n  top_n_periods: 5\n"


def _materialize(root, archive, config, mode: str, work) -> dg.ExecuteInProcessResult:
    execution = ExecutionResource(mode=mode, work_dir=str(work), memory="2G")
    resources = {
        "storage": StorageResource(data_dir=str(root), config_path=str(config)),
        "sky": SkySourceResource(archive_dir=str(archive)),
        "execution": execution,
    }
    return dg.materialize(
        [*FIELD_ASSETS, xgb_predictions], partition_key="297", resources=resources
    )


@needs_slurm
def test_field_297_through_slurm_equals_in_process(tmp_path):
    archive, config = tmp_path / "archive", tmp_path / "scope.yaml"
    simulate_field(archive, field=297, n_sources=60, seed=11)
    config.write_text(FAST_CONFIG)
    results = {
        mode: _materialize(tmp_path / mode, archive, config, mode, tmp_path / "slurm")
        for mode in ("in_process", "slurm")
    }
    assert all(result.success for result in results.values())
    local, remote = DataLayout(tmp_path / "in_process"), DataLayout(tmp_path / "slurm")
    pd.testing.assert_frame_equal(read_field_features(297, local), read_field_features(297, remote))
    pd.testing.assert_frame_equal(
        read_parquet(local.preds_file("xgb", 297)), read_parquet(remote.preds_file("xgb", 297))
    )
    for path in ("flagged_file", "preds_meta_file"):
        local_json = json.loads(getattr(local, path)("xgb", 297).read_text())
        assert local_json == json.loads(getattr(remote, path)("xgb", 297).read_text())
    for asset in ("features", "xgb_predictions"):
        local_md = results["in_process"].asset_materializations_for_node(asset)[0].metadata
        remote_md = results["slurm"].asset_materializations_for_node(asset)[0].metadata
        assert set(local_md) < set(remote_md)
        assert remote_md["slurm_state"].value == "COMPLETED" and remote_md["job_seconds"].value > 0
