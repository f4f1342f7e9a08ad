"""Issue 16, SCoPe parity: SCoPe's own command lines, run in SCoPe's own working directory with
SCoPe's models and config, give SCoPe's predictions.

Fixture: ``../shared/data/scope-anchor`` (see its README): a SCoPe 0.9.5 working directory with
its config, training set, XGB and DNN models for pnp, vnv and the ontological rrlyr, a
10,000-row feature file and the predictions SCoPe itself wrote. The two ``run-inference``
command lines of its ``run_golden.sh`` run here, as SCoPe spells them, in a copy of it.

Every 2-decimal score of a row without missing model inputs must equal SCoPe's. Rows with
missing inputs may differ: SCoPe imputes per batch (KNN refit on the batch), this project from
a fixed reference, so those differences are only reported (printed).
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from scope_assets.testing import shared_path


def run_inference_entry_point():
    """The ``run-inference`` console script's main function (the one line to change if it moves)."""
    from scope_assets.cli.inference_tools import run_inference_main

    return run_inference_main


ANCHOR = shared_path("data", "scope-anchor")
pytestmark = pytest.mark.skipif(
    not ANCHOR.exists(), reason=f"SCoPe parity fixture absent: {ANCHOR}"
)
FIELD = 297
FEATURE_FILE = Path("features") / f"field_{FIELD}" / f"field_{FIELD}_iter_0.parquet"
NEEDED = [  # what SCoPe's run-inference reads in its working directory
    Path("config.yaml"),
    Path("models_xgb"),
    Path("models_dnn"),
    FEATURE_FILE,
    Path("tools") / "fritzDownload" / "merged_classifications_features.parquet",
]


def golden_command_lines() -> dict[str, list[str]]:
    """algorithm → arguments of each ``run-inference`` line of ``run_golden.sh``."""
    lines = (ANCHOR / "run_golden.sh").read_text().splitlines()
    commands = [shlex.split(line)[1:] for line in lines if line.startswith("run-inference ")]
    by_algorithm = {("xgb" if "--xgb-model" in argv else "dnn"): argv for argv in commands}
    assert sorted(by_algorithm) == ["dnn", "xgb"], commands
    return {alg: argv + ["--config-path", "config.yaml"] for alg, argv in by_algorithm.items()}


@pytest.fixture(scope="module")
def golden() -> dict:
    return json.loads((ANCHOR / "golden" / f"field_{FIELD}_stages_xgb.json").read_text())


@pytest.fixture(scope="module")
def scope_workdir(tmp_path_factory) -> Path:
    """A writable copy of what SCoPe's run-inference reads (never written into /work/shared)."""
    workdir = tmp_path_factory.mktemp("scope-anchor")
    for relative in NEEDED:
        source = ANCHOR / relative
        files = [source] if source.is_file() else sorted(source.rglob("*"))
        for path in (p for p in files if p.is_file()):  # contents only, not read-only modes
            target = workdir / path.relative_to(ANCHOR)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
    return workdir


@pytest.fixture
def in_scope_workdir(scope_workdir, monkeypatch) -> Path:
    """cwd = the copy, and no environment that would point this project elsewhere."""
    monkeypatch.chdir(scope_workdir)
    for name in ("SCOPE_DATA_DIR", "SCOPE_CONFIG", "SCOPE_MODELS_DIR"):
        monkeypatch.delenv(name, raising=False)
    for name in [n for n in os.environ if n.startswith("SCOPE__")]:
        monkeypatch.delenv(name)
    return scope_workdir


def rows_missing_inputs(golden: dict, tag: str) -> np.ndarray:
    """Boolean per feature-file row: does it miss (NaN/±inf) any input of class ``tag``?"""
    columns = golden["inputs_per_class"][tag]
    values = pd.read_parquet(ANCHOR / FEATURE_FILE, columns=["_id", *columns])[columns]
    return ~np.isfinite(values.to_numpy(np.float64)).all(axis=1)


def compare_scores(ours: pd.DataFrame, scope: pd.DataFrame, column: str, missing: pd.Series):
    """(rows, complete rows differing, imputed rows, imputed rows differing, max |diff|)."""
    both = scope[["_id", column]].merge(ours[["_id", column]], on="_id", suffixes=("_s", "_o"))
    theirs = both[f"{column}_s"].to_numpy(np.float32)
    mine = both[f"{column}_o"].to_numpy(np.float64).astype(np.float32)
    differs = ~((theirs == mine) | (np.isnan(theirs) & np.isnan(mine)))
    imputed = missing.reindex(both["_id"]).to_numpy()
    diff = np.abs(theirs.astype(np.float64) - mine.astype(np.float64))[imputed & differs]
    return (
        len(both),
        int((differs & ~imputed).sum()),
        int(imputed.sum()),
        int((differs & imputed).sum()),
        float(diff.max()) if diff.size else 0.0,
    )


def column_types(table) -> list[tuple[str, str]]:
    return [(f.name, str(f.type)) for f in table.schema]


@pytest.mark.parametrize("algorithm", ["xgb", "dnn"])
def test_scope_command_lines_reproduce_scope_predictions(algorithm, golden, in_scope_workdir):
    preds = Path(f"preds_{algorithm}") / f"field_{FIELD}" / f"field_{FIELD}.parquet"
    argv = golden_command_lines()[algorithm]
    try:
        status = run_inference_entry_point()(argv)
    except SystemExit as exc:  # argparse rejected the command line
        status = exc.code
    assert status == 0, f"run-inference {shlex.join(argv)} failed (exit status {status})"
    assert (in_scope_workdir / preds).exists(), f"no predictions where SCoPe writes them: {preds}"

    ours_table, scope_table = pq.read_table(in_scope_workdir / preds), pq.read_table(ANCHOR / preds)
    ours, scope = ours_table.to_pandas(), scope_table.to_pandas()
    ids = pd.read_parquet(ANCHOR / FEATURE_FILE, columns=["_id"])["_id"]
    problems = []
    for tag in golden["tags"]:
        column = f"{tag}_{algorithm}"
        if column not in ours.columns:
            problems.append(f"{column}: missing from our predictions")
            continue
        missing = pd.Series(rows_missing_inputs(golden, tag), index=ids)
        rows, complete_diff, imputed, imputed_diff, largest = compare_scores(
            ours, scope, column, missing
        )
        print(
            f"{column}: {rows} rows compared; complete rows differing {complete_diff} of "
            f"{rows - imputed}; rows with imputed inputs differing {imputed_diff} of {imputed} "
            f"(max |diff| {largest:.2f})"
        )
        if complete_diff:
            problems.append(f"{column}: {complete_diff} rows without missing inputs differ")
    if column_types(ours_table) != column_types(scope_table):
        problems.append(
            f"columns/dtypes {column_types(ours_table)} != SCoPe's {column_types(scope_table)}"
        )
    if ours["_id"].tolist() != scope["_id"].tolist():
        problems.append(f"rows/order differ: {len(ours)} rows vs SCoPe's {len(scope)}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("algorithm", ["xgb", "dnn"])
def test_prediction_asset_scores_a_scope_model_group_like_the_cli(
    algorithm, scope_workdir, in_scope_workdir, tmp_path
):
    """The Dagster prediction asset, its models root at SCoPe's working directory
    (``models_<alg>/anchor/``) and its config SCoPe's ``config.yaml``, writes the file that
    ``run-inference --group-name anchor`` writes there."""
    import dagster as dg

    from resources.execution import ExecutionResource
    from resources.storage import StorageResource
    from scope_assets.defs.ml_assets import dnn_predictions, xgb_predictions
    from scope_assets.io import DataLayout

    asset_layout = DataLayout(tmp_path / "asset")
    asset_input = asset_layout.imputed_features_file(FIELD)
    asset_input.parent.mkdir(parents=True)
    shutil.copyfile(ANCHOR / FEATURE_FILE, asset_input)
    storage = StorageResource(
        data_dir=str(asset_layout.root),
        models_dir=str(scope_workdir),
        config_path=str(scope_workdir / "config.yaml"),
    )
    asset = {"xgb": xgb_predictions, "dnn": dnn_predictions}[algorithm]
    result = dg.materialize(
        [asset],
        partition_key=str(FIELD),
        resources={"storage": storage, "execution": ExecutionResource()},
        run_config={"ops": {asset.key.path[-1]: {"config": {"group": "anchor"}}}},
        instance=dg.DagsterInstance.ephemeral(),
    )
    assert result.success

    cli_layout = DataLayout(tmp_path / "cli")
    argv = ["--group-name", "anchor", "--algorithm", algorithm, "--field", str(FIELD)]
    argv += ["--data-dir", str(cli_layout.root), "--feature-directory", "features"]
    assert run_inference_entry_point()(argv) == 0
    ours = pq.read_table(asset_layout.preds_file(algorithm, FIELD))
    cli = pq.read_table(cli_layout.preds_file(algorithm, FIELD))
    scores = sorted(ours.schema.names[-3:])
    assert scores == sorted(f"{t}_{algorithm}" for t in ("pnp", "vnv", "rrlyr"))
    assert ours.replace_schema_metadata().equals(cli.replace_schema_metadata())


def test_the_docs_create_inference_script_example_scores_a_field(
    golden, in_scope_workdir, tmp_path
):
    """SCoPe's documented command line writes a script; the script, run by bash with
    ``run-inference`` on PATH (this checkout's entry point), scores field 297 as SCoPe did."""
    import subprocess
    import sys

    from scope_assets.cli.inference_tools import create_inference_script_main

    script = in_scope_workdir / "get_all_preds_dnn.sh"
    argv = ["--filename", script.name, "--group-name", "anchor", "--algorithm", "dnn"]
    argv += ["--scale-features", "min_max", "--feature-directory", "features"]
    assert create_inference_script_main([*argv, "--period-suffix", "ELS_ECE_EAOV"]) == 0
    assert "--period-suffix ELS_ECE_EAOV" in script.read_text()

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    wrapper = bin_dir / "run-inference"  # what the console script does, for this checkout
    wrapper.write_text(
        f"#!/bin/sh\nexec {shlex.quote(sys.executable)} -c 'import sys; from "
        "scope_assets.cli.inference_tools import run_inference_main as main; "
        'sys.exit(main(sys.argv[1:]))\' "$@"\n'
    )
    wrapper.chmod(0o755)
    repo = Path(__file__).resolve().parents[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCOPE")}
    env |= {"PATH": f"{bin_dir}{os.pathsep}{env['PATH']}", "PYTHONPATH": str(repo)}
    done = subprocess.run(
        ["bash", script.name, str(FIELD)], cwd=in_scope_workdir, env=env, capture_output=True
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]

    preds = Path("preds_dnn") / f"field_{FIELD}" / f"field_{FIELD}.parquet"
    ours, scope = pd.read_parquet(in_scope_workdir / preds), pd.read_parquet(ANCHOR / preds)
    ids = pd.read_parquet(ANCHOR / FEATURE_FILE, columns=["_id"])["_id"]
    for tag in golden["tags"]:
        missing = pd.Series(rows_missing_inputs(golden, tag), index=ids)
        rows, complete_diff, *_ = compare_scores(ours, scope, f"{tag}_dnn", missing)
        assert (rows, complete_diff) == (len(scope), 0), tag


def test_feature_stats_from_scope_config_and_no_metadata(in_scope_workdir, tmp_path):
    """``--feature-stats config`` scales with the feature_stats of SCoPe's config.yaml (no
    training set read), ``--no-write-metadata`` leaves meta.json out."""
    argv = golden_command_lines()["xgb"]
    argv = [a for a in argv if a not in ("--xgb-model",)]
    model = next(a for a in argv if "/vnv/" in a)
    start = argv.index("--paths-models")
    argv = argv[:start] + argv[argv.index("--scale-features") :]
    argv += ["--paths-models", model, "--model-class-names", "vnv", "--algorithm", "xgb"]
    argv += ["--feature-stats", "config", "--no-write-metadata", "--data-dir", str(tmp_path)]
    assert run_inference_entry_point()(argv) == 0
    preds = tmp_path / "preds_xgb" / f"field_{FIELD}"
    assert (preds / f"field_{FIELD}.parquet").exists()
    assert not (preds / "meta.json").exists()
    scores = pq.read_table(preds / f"field_{FIELD}.parquet", columns=["vnv_xgb"]).column(0)
    assert scores.type == "float" and scores.null_count == 0
