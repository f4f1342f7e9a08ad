"""``scope-demo`` operates through the instance: one backfill of field_pipeline over every field,
field_pipeline and reports runs, committed models recorded, small relative metadata."""

from __future__ import annotations

import base64
import re

import dagster as dg
from conftest_operate import TINY_FIELDS
from dagster._core.execution.backfill import BulkActionStatus
from dagster._serdes import serialize_value

from resources.storage import StorageResource
from scope_assets.defs.definitions import build_definitions
from scope_assets.defs.launching import latest_materialization
from scope_assets.defs.metadata import THUMBNAIL_MAX_BYTES
from scope_assets.defs.versions import manifest_fingerprints
from scope_assets.lightcurves.archive import LocalArchive
from scope_assets.ml.training.labels import DEMO_GROUP, DEMO_TAGS

FIELD_RUN_MAX_EVENT_BYTES = 300_000
"""Event-log bytes of one field run (0.6 MB with inline full-size plots, ~0.2 MB now)."""


def test_one_backfill_of_field_pipeline_over_every_field(tiny_demo):
    instance = tiny_demo.instance()
    (backfill,) = instance.get_backfills()
    assert backfill.status == BulkActionStatus.COMPLETED_SUCCESS
    assert list(backfill.partition_names) == list(TINY_FIELDS)
    assert backfill.partition_set_origin.partition_set_name == "field_pipeline_partition_set"
    runs = instance.get_runs(dg.RunsFilter(tags={"dagster/backfill": backfill.backfill_id}))
    assert sorted(r.tags["dagster/partition"] for r in runs) == sorted(TINY_FIELDS)
    assert {r.job_name for r in runs} == {"field_pipeline"} and all(r.is_success for r in runs)
    (reports,) = instance.get_runs(dg.RunsFilter(job_name="reports"))
    assert reports.is_success
    assert LocalArchive(tiny_demo.root / "archive").fields() == [int(f) for f in TINY_FIELDS]


def test_summary_lists_every_field(tiny_demo):
    out = tiny_demo.output
    assert "COMPLETED_SUCCESS" in out
    for field in TINY_FIELDS:
        assert re.search(rf"^  {field}\s+\w{{8}}\s+SUCCESS\s+\d+", out, re.MULTILINE), out
    assert "Backfills tab" in out


def test_committed_models_are_recorded_with_their_manifest_fingerprint(tiny_demo):
    instance = tiny_demo.instance()
    models_root = StorageResource().models_root()
    for algorithm in ("xgb", "dnn"):
        fingerprints = manifest_fingerprints(models_root, algorithm, DEMO_GROUP)
        assert set(fingerprints) == set(DEMO_TAGS)
        for tag, fingerprint in fingerprints.items():
            event = latest_materialization(instance, f"{algorithm}_models", tag)
            assert event.tags["dagster/data_version"] == fingerprint


def test_metadata_paths_are_relative_to_the_data_root(tiny_demo):
    instance = tiny_demo.instance()
    for asset in ("quad_ids", "light_curves", "features", "imputed_features"):
        path = latest_materialization(instance, asset, TINY_FIELDS[0]).metadata["path"].value
        assert not path.startswith("/") and (tiny_demo.root / path).exists(), path
    meta = latest_materialization(instance, "dnn_xgb_comparison", TINY_FIELDS[1]).metadata
    assert (tiny_demo.root / meta["dnn_xgb_histograms_png"].value).is_file()
    meta = latest_materialization(instance, "training_stats").metadata
    assert (tiny_demo.root / meta["stats_csv"].value).is_file()


def test_plots_are_small_thumbnails_beside_the_full_image(tiny_demo):
    meta = latest_materialization(
        tiny_demo.instance(), "dnn_xgb_comparison", TINY_FIELDS[0]
    ).metadata
    for name in ("dnn_xgb_histograms", "dnn_xgb_heatmaps"):
        markdown = meta[f"{name}_preview"].value
        encoded = re.search(r"data:image/png;base64,([A-Za-z0-9+/=]+)", markdown).group(1)
        thumbnail = base64.b64decode(encoded)
        full = (tiny_demo.root / meta[f"{name}_png"].value).read_bytes()
        assert thumbnail[:4] == b"\x89PNG" and len(thumbnail) <= THUMBNAIL_MAX_BYTES
        assert len(thumbnail) < len(full)


def test_a_field_run_keeps_the_event_log_small(tiny_demo):
    instance = tiny_demo.instance()
    for run in instance.get_runs(dg.RunsFilter(job_name="field_pipeline")):
        size = sum(len(serialize_value(e)) for e in instance.all_logs(run.run_id))
        assert size < FIELD_RUN_MAX_EVENT_BYTES, (run.tags["dagster/partition"], size)


def test_asset_definitions_carry_owners_tags_versions_and_columns():
    graph = build_definitions().resolve_asset_graph()
    features = graph.get(dg.AssetKey("features"))
    assert features.owners == ["team:scope"] and "field" in features.tags
    assert features.code_version and features.automation_condition is None
    columns = {c.name: c for c in features.metadata["dagster/column_schema"].columns}
    assert columns["stetson_j"].description == "Stetson J variability index"
    assert "ELS_ECE_EAOV" in columns["period_ELS_ECE_EAOV"].description
    predictions = graph.get(dg.AssetKey("xgb_predictions"))
    assert predictions.tags["algorithm"] == "xgb" and predictions.automation_condition
    assert graph.get(dg.AssetKey("dnn_models")).tags["algorithm"] == "dnn"
    assert "field" not in graph.get(dg.AssetKey("training_stats")).tags
