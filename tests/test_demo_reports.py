"""The demo's training reports: computed from the committed models in ``models/`` (no training
set, no retraining), written in SCoPe's layout."""

import json
from pathlib import Path

import dagster as dg

from resources.storage import StorageResource
from scope_assets.analysis.importance import read_importance_directory
from scope_assets.defs.report_assets import feature_importance, training_stats
from scope_assets.io import read_csv
from scope_assets.ml.training.labels import DEMO_TAGS

MODELS = Path(__file__).resolve().parents[1] / "models"


def _metadata(result, name: str) -> dict:
    events = result.get_asset_materialization_events()
    return next(e for e in events if e.asset_key.to_user_string() == name).materialization.metadata


def test_demo_training_reports_from_the_committed_models(tmp_path):
    stale = tmp_path / "xgb_feature_importance" / "ceph_impvars.json"
    stale.parent.mkdir()
    stale.write_text(json.dumps({"stale_feature": 1e9}))  # an earlier run's untimed file
    result = dg.materialize(
        [training_stats, feature_importance],
        resources={"storage": StorageResource(data_dir=str(tmp_path))},
        instance=dg.DagsterInstance.ephemeral(),
    )
    assert result.success

    meta = _metadata(result, "training_stats")
    for key in ("label_distribution_png", "recall_precision_png"):
        assert (tmp_path / meta[key].value).read_bytes()[:4] == b"\x89PNG"
    assert meta["label_counts_source"].value.endswith("manifests")
    assert meta["label_counts"].value["Cepheid"] > 0 and len(meta["label_counts"].value) == 9
    stats = read_csv(tmp_path / meta["stats_csv"].value)
    assert stats.attrs["group"] == "demo" and len(stats) == 2 * len(DEMO_TAGS) * 3

    meta = _metadata(result, "feature_importance")
    assert meta["n_classifiers"].value == len(DEMO_TAGS)
    assert meta["importance_dir"].value == "xgb_feature_importance"
    importance_dir = tmp_path / "xgb_feature_importance"
    names = {Path(p).name for p in meta["importance_files"].value}
    assert {n.split(".")[0] for n in names} == set(DEMO_TAGS)
    assert all(n.count(".") == 2 and n.endswith("_impvars.json") for n in names)
    ceph = next((MODELS / "xgb" / "demo" / "ceph").glob("*_plots/test/*_impvars.json"))
    assert read_importance_directory(importance_dir)["ceph"] == json.loads(ceph.read_text())
    top = read_csv(tmp_path / meta["top_features_csv"].value)
    assert top.attrs["top_n"] == 3 and "stale_feature" not in set(top["feature"])
    assert top["n_classifiers"].sum() == 3 * len(DEMO_TAGS)
