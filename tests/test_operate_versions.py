"""Code versions and model lineage in the instance: a changed constant in the feature code marks
``features`` and what each field computes after it stale; a retrained model marks the
predictions made with the old one stale."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
from conftest_operate import PROJECT_ROOT, TINY_FIELDS
from dagster._core.definitions.data_version import DATA_VERSION_TAG, CachingStaleStatusResolver
from dagster._core.instance.ref import InstanceRef

from scope_assets.defs.definitions import build_definitions

AFTER_FEATURES = [
    "features",
    "imputed_features",
    "xgb_predictions",
    "dnn_predictions",
    "combined_predictions",
    "dnn_xgb_comparison",
]
BEFORE_FEATURES = ["quad_ids", "light_curves"]

STALENESS = """
import json, sys
import dagster as dg
from dagster._core.instance.ref import InstanceRef
from definitions import defs
sys.path.insert(0, sys.argv[2])
from test_operate_versions import stale_statuses

instance = dg.DagsterInstance.from_ref(InstanceRef.from_dir(sys.argv[1]))
print(json.dumps(stale_statuses(instance, defs, sys.argv[3:])))
"""


def stale_statuses(instance, defs: dg.Definitions, fields: list[str]) -> dict[str, dict]:
    """``{asset: {field: status}}`` of every field-partitioned asset, as the UI computes it."""
    from dagster._core.asset_graph_view.asset_graph_view import AssetGraphView, TemporalContext
    from dagster._time import get_current_datetime

    graph = defs.resolve_asset_graph()
    view = AssetGraphView(
        temporal_context=TemporalContext(effective_dt=get_current_datetime(), last_event_id=None),
        instance=instance,
        asset_graph=graph,
    )
    resolver = CachingStaleStatusResolver(instance, graph, view)
    return {
        key.to_user_string(): {f: resolver.get_status(key, f).value for f in fields}
        for key in graph.get_all_asset_keys()
        if "field" in graph.get(key).tags
    }


def _copy_project(target: Path) -> Path:
    for name in ("scope_assets", "resources"):
        shutil.copytree(PROJECT_ROOT / name, target / name, ignore=shutil.ignore_patterns("__py*"))
    for name in ("definitions.py", "workspace.yaml"):
        shutil.copy(PROJECT_ROOT / name, target / name)
    (target / "models").symlink_to(PROJECT_ROOT / "models")
    return target


def _statuses_with_code_at(project: Path, tiny_demo) -> dict[str, dict]:
    env = tiny_demo.env | {"PYTHONPATH": str(project)}
    command = [sys.executable, "-c", STALENESS, str(tiny_demo.home), str(Path(__file__).parent)]
    done = subprocess.run(
        command + list(TINY_FIELDS), cwd=project, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_changed_feature_constant_marks_features_and_downstream_stale(tiny_demo, tmp_path):
    project = _copy_project(tmp_path / "project")
    assert all(
        status == "FRESH"
        for per_field in _statuses_with_code_at(project, tiny_demo).values()
        for status in per_field.values()
    )
    stats = project / "scope_assets" / "features" / "stats.py"
    source, n = re.subn(
        r"^MIN_POINTS = \d+$", "MIN_POINTS = 5", stats.read_text(), count=1, flags=re.M
    )
    assert n == 1
    stats.write_text(source)

    statuses = _statuses_with_code_at(project, tiny_demo)
    for asset in AFTER_FEATURES:
        assert statuses[asset] == {f: "STALE" for f in TINY_FIELDS}, asset
    for asset in BEFORE_FEATURES:
        assert statuses[asset] == {f: "FRESH" for f in TINY_FIELDS}, asset


def test_a_retrained_model_marks_its_predictions_stale(tiny_demo, tmp_path, monkeypatch):
    home = tmp_path / "dagster_home"
    shutil.copytree(tiny_demo.home, home)
    instance = dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home)))
    monkeypatch.setenv("SCOPE_CONFIG", tiny_demo.env["SCOPE_CONFIG"])  # the config is versioned
    defs = build_definitions()
    assert stale_statuses(instance, defs, list(TINY_FIELDS))["xgb_predictions"] == {
        f: "FRESH" for f in TINY_FIELDS
    }
    instance.report_runless_asset_event(
        dg.AssetMaterialization(
            asset_key="xgb_models", partition="ceph", tags={DATA_VERSION_TAG: "retrained"}
        )
    )
    statuses = stale_statuses(instance, defs, list(TINY_FIELDS))
    assert statuses["xgb_predictions"] == {f: "STALE" for f in TINY_FIELDS}
    assert statuses["dnn_predictions"] == {f: "FRESH" for f in TINY_FIELDS}
