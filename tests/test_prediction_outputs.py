"""Prediction outputs as one set: published together, stale companions removed, a locked output
directory, leftovers of killed runs removed, and duplicate ``_id`` rows refused."""

import json
import os
import uuid

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from scope_assets.config import load_config
from scope_assets.io import DataLayout, read_parquet, write_parquet
from scope_assets.io.run_files import OutputBusyError, locked_directory
from scope_assets.ml.inference.combine_predictions import CombineError, combine_field_predictions
from scope_assets.ml.inference.field_inference import predict_field
from scope_assets.ml.model_errors import InputError
from scope_assets.ml.model_files.project_layout import load_models
from scope_assets.testing.quick_models import shared_tiny_models
from scope_assets.testing.synthetic_features import synthetic_features_table, synthetic_truth

CONFIG = load_config(environ={})
DEAD_PID = 2**22 + 12345  # above Linux's default pid_max (4194304): never a live process


@pytest.fixture(scope="module")
def models_root(tmp_path_factory):
    return shared_tiny_models(tmp_path_factory.getbasetemp(), CONFIG)


@pytest.fixture(scope="module")
def features(tmp_path_factory):
    table = synthetic_features_table(synthetic_truth(120, seed=3), CONFIG, seed=4)
    path = tmp_path_factory.mktemp("features") / "features.parquet"
    pq.write_table(table, path)
    return path


@pytest.fixture
def layout(tmp_path, features):
    layout = DataLayout(tmp_path / "data")
    target = layout.imputed_features_file(296)
    target.parent.mkdir(parents=True)
    target.write_bytes(features.read_bytes())
    return layout


def _listing(directory):
    return sorted(p.name for p in directory.iterdir())


def _leftovers(root):
    return [p for p in root.rglob("*") if p.name.endswith(".tmp") or ".staging-" in p.name]


def test_a_smaller_run_replaces_the_whole_set(layout, models_root):
    both = load_models(models_root, "xgb", "demo", config=CONFIG)
    predict_field(layout, 296, "xgb", both, CONFIG, write_csv=True)
    out_dir = layout.preds_dir("xgb", 296)
    assert {"field_296.csv", "field_296_flagged.json"} <= set(_listing(out_dir))
    one = load_models(models_root, "xgb", "demo", tags=["vnv"], config=CONFIG)
    predict_field(layout, 296, "xgb", one, CONFIG, flag_ids=False)
    assert [p for p in _listing(out_dir) if not p.startswith(".")] == [
        "field_296.parquet",
        "meta.json",
    ]
    assert [c for c in read_parquet(layout.preds_file("xgb", 296)).columns if "_xgb" in c] == [
        "vnv_xgb"
    ]
    meta = json.loads(layout.preds_meta_file("xgb", 296).read_text())
    assert meta["xgb_models"] == [str(one[0].path)]
    assert _leftovers(layout.root) == []


def test_a_failed_run_leaves_the_previous_set_untouched(layout, models_root, monkeypatch):
    models = load_models(models_root, "xgb", "demo", config=CONFIG)
    predict_field(layout, 296, "xgb", models, CONFIG, write_csv=True)
    out_dir = layout.preds_dir("xgb", 296)
    before = {name: (out_dir / name).read_bytes() for name in _listing(out_dir)}

    def broken_csv(*args):
        raise OSError("disk full")

    monkeypatch.setattr("scope_assets.ml.inference.field_inference.write_csv_copy", broken_csv)
    one = load_models(models_root, "xgb", "demo", tags=["vnv"], config=CONFIG)
    with pytest.raises(OSError, match="disk full"):
        predict_field(layout, 296, "xgb", one, CONFIG, write_csv=True)
    assert {name: (out_dir / name).read_bytes() for name in _listing(out_dir)} == before
    assert _leftovers(layout.root) == []


def test_a_locked_output_directory_is_refused_clearly(layout, models_root):
    models = load_models(models_root, "xgb", "demo", config=CONFIG)
    out_dir = layout.preds_dir("xgb", 296)
    with locked_directory(out_dir):
        with pytest.raises(OutputBusyError, match=f"{out_dir} is being written by process"):
            predict_field(layout, 296, "xgb", models, CONFIG)
    assert not layout.preds_file("xgb", 296).exists()
    predict_field(layout, 296, "xgb", models, CONFIG)  # released
    assert layout.preds_file("xgb", 296).exists()


def test_leftovers_of_a_killed_run_are_removed_and_a_live_runs_are_kept(layout, models_root):
    out_dir = layout.preds_dir("xgb", 296)
    out_dir.mkdir(parents=True)
    dead = [
        out_dir / f".field_296.parquet.{DEAD_PID}-{uuid.uuid4().hex}.tmp",
        out_dir / f".staging-{DEAD_PID}-{uuid.uuid4().hex}",
    ]
    live = out_dir / f".meta.json.{os.getppid()}-{uuid.uuid4().hex}.tmp"
    dead[0].write_bytes(b"half a file")
    dead[1].mkdir()
    (dead[1] / "0-field_296.parquet").write_bytes(b"half a file")
    live.write_text("{}")
    models = load_models(models_root, "xgb", "demo", config=CONFIG)
    predict_field(layout, 296, "xgb", models, CONFIG)
    assert not any(p.exists() for p in dead)
    assert live.exists()


def test_duplicate_ids_are_refused_by_inference(layout, models_root):
    path = layout.imputed_features_file(296)
    table = pq.read_table(path)
    doubled = pa.concat_tables([table, table.slice(10, 3)])
    pq.write_table(doubled, path)
    repeated = table.column("_id").to_pylist()[10:13]
    models = load_models(models_root, "xgb", "demo", config=CONFIG)
    with pytest.raises(InputError, match=r"3 _id values appear more than once") as error:
        predict_field(layout, 296, "xgb", models, CONFIG, batch_size=50)
    assert str(sorted(repeated)[:1])[1:-1] in str(error.value) and str(path) in str(error.value)
    assert not layout.preds_dir("xgb", 296).exists() or _listing(layout.preds_dir("xgb", 296)) == [
        ".scope-write.lock"
    ]


def test_duplicate_ids_are_refused_by_combine_preds(layout, models_root):
    for algorithm in ("xgb", "dnn"):
        models = load_models(models_root, algorithm, "demo", config=CONFIG)
        predict_field(layout, 296, algorithm, models, CONFIG)
    xgb_path = layout.preds_file("xgb", 296)
    xgb = read_parquet(xgb_path)
    write_parquet(pd.concat([xgb, xgb.iloc[[4]]], ignore_index=True), xgb_path)
    with pytest.raises(CombineError, match=rf"{xgb_path}: 1 _id values appear more than once"):
        combine_field_predictions(layout, 296)
    assert not layout.combined_file(296).exists()
