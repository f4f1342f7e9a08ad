"""The ML console scripts: run-inference, combine-preds, scope-eval, assemble-training-stats."""

import importlib
import json
import shutil
import tomllib
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from scope_assets.cli.inference_tools import combine_preds_main, eval_main, run_inference_main
from scope_assets.cli.training_tools import assemble_training_stats_main, train_main
from scope_assets.config import load_config
from scope_assets.io import DataLayout, read_parquet
from scope_assets.ml.inference.prediction_writing import DEFAULT_BATCH_SIZE
from scope_assets.ml.training.demo_models import train_options
from scope_assets.ml.training.training_set import TRAINING_N_SOURCES
from scope_assets.testing.quick_models import shared_tiny_models
from scope_assets.testing.synthetic_features import synthetic_features_table, synthetic_truth

CONFIG = load_config(environ={})


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    models = shared_tiny_models(tmp_path_factory.getbasetemp(), CONFIG)
    data = tmp_path_factory.mktemp("cli_data")
    layout = DataLayout(data)
    truth = synthetic_truth(250, seed=41)
    table = synthetic_features_table(truth, CONFIG, seed=42, missing_xmatch=0.2)
    path = layout.imputed_features_file(296)
    path.parent.mkdir(parents=True)
    pq.write_table(table, path)
    layout.archive_dir.mkdir(parents=True)
    truth.to_parquet(layout.archive_dir / "truth.parquet")
    return {"models": models, "data": data, "layout": layout}


def test_run_inference_combine_and_eval(setup, capsys):
    common = ["--data-dir", str(setup["data"]), "--models-dir", str(setup["models"])]
    for algorithm in ("xgb", "dnn"):
        argv = ["--field", "296", "--algorithm", algorithm, "--whole-field", "--batch-size", "100"]
        assert run_inference_main(argv + common) == 0
    layout = setup["layout"]
    assert layout.preds_file("xgb", 296).exists() and layout.preds_file("dnn", 296).exists()
    assert combine_preds_main(["--data-dir", str(setup["data"])]) == 0
    combined = read_parquet(layout.combined_file(296))
    assert {"vnv_dnn", "vnv_xgb", "rrab_dnn", "rrab_xgb"} <= set(combined.columns)
    capsys.readouterr()
    assert eval_main(["--field", "296"] + common) == 0
    out = capsys.readouterr().out
    assert "ROC AUC" in out and "rrab" in out and "vnv" in out
    lines = [line.split() for line in out.splitlines()[2:]]
    table = pd.DataFrame(lines, columns=["tag", "alg", "n", "pos", "auc", "recall", "prec"])
    assert len(table) == 4 and (table[table["alg"] == "xgb"]["auc"].astype(float) > 0.8).all()


def test_run_inference_quadrant_and_errors(setup, capsys):
    layout = setup["layout"]
    quad_file = layout.features_file(296, 3, 2)
    quad_file.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(layout.imputed_features_file(296), quad_file)
    common = ["--data-dir", str(setup["data"]), "--models-dir", str(setup["models"])]
    argv = ["--field", "296", "--algorithm", "xgb", "--ccd", "3", "--quad", "2", "--write-csv"]
    assert run_inference_main(argv + common) == 0
    out_dir = layout.preds_dir("xgb", 296)
    assert (out_dir / "ccd_03_quad_2.parquet").exists() and (out_dir / "ccd_03_quad_2.csv").exists()
    assert (out_dir / "ccd_03_quad_2_flagged.json").exists()
    capsys.readouterr()
    assert run_inference_main(["--field", "296", "--group-name", "nope"] + common) == 2
    assert "nope" in capsys.readouterr().err
    assert run_inference_main(["--field", "999"] + common) == 2
    assert "field_999" in capsys.readouterr().err


def test_assemble_training_stats(setup, tmp_path):
    argv = ["--models-dir", str(setup["models"]), "--data-dir", str(tmp_path), "--algorithm", "xgb"]
    assert assemble_training_stats_main(argv) == 0
    files = sorted(p.name.split(".")[0] for p in (tmp_path / "xgb_stats").glob("*_stats.json"))
    assert files == ["rrab", "vnv"]
    stats = json.loads(next((tmp_path / "xgb_stats").glob("rrab.*")).read_text())
    assert set(stats) >= {"accuracy", "precision", "recall", "f1_score", "roc_auc"}
    assert len(list((tmp_path / "xgb_feature_importance").glob("*_impvars.json"))) == 2


def _help(main, capsys) -> str:
    with pytest.raises(SystemExit):
        main(["--help"])
    return " ".join(capsys.readouterr().out.split())


def test_help_states_the_real_defaults(capsys):
    dnn = train_options(CONFIG).dnn  # what scope-train uses when a flag is not given
    text = _help(train_main, capsys)
    for expected in (
        f"DNN epochs (default {dnn.epochs})",
        f"DNN batch size (default {dnn.batch_size})",
        f"DNN learning rate (default {dnn.learning_rate:g})",
        f"DNN early-stopping patience (default {dnn.patience})",
        f"(default: the config's training.seed, {CONFIG.training.seed})",
        f"training sky (default {TRAINING_N_SOURCES})",
    ):
        assert expected in text
    text = _help(run_inference_main, capsys)
    assert f"output row group (default: {DEFAULT_BATCH_SIZE})" in text


def test_console_scripts_point_at_the_cli_functions():
    pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
    scripts = tomllib.loads(pyproject.read_text())["project"]["scripts"]
    commands = ["scope-train", "assemble-training-stats", "run-inference"]
    commands += ["create-inference-script", "combine-preds", "scope-eval"]
    for command in commands:
        module, function = scripts[command].split(":")
        assert callable(getattr(importlib.import_module(module), function)), command
