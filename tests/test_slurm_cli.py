"""SCoPe's SLURM commands: run-inference-slurm and run-inference-job-submission."""

import sys
import threading
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from slurm_support import needs_slurm, wait_until

from scope_assets.cli.slurm_tools import (
    run_inference_job_submission_main,
    run_inference_slurm_main,
)
from scope_assets.config import load_config
from scope_assets.hpc import cluster
from scope_assets.hpc.inference_jobs import read_field_list
from scope_assets.io import DataLayout
from scope_assets.ml.model_files.models_root import REPOSITORY_MODELS_DIR
from scope_assets.testing.synthetic_features import synthetic_features_table, synthetic_truth

FAKE_INFERENCE = """#!/bin/bash
# stands in for get_all_preds_xgb.sh: a short job that leaves a prediction file
sleep 1
mkdir -p "$SCOPE_TEST_DATA/preds_xgb/field_$1"
touch "$SCOPE_TEST_DATA/preds_xgb/field_$1/field_$1.parquet"
"""


def _write_scripts(data: Path, main: Path, *flags: str) -> list[str]:
    argv = ["--algorithm", "xgb", "--data-dir", str(data), "--path-to-main", str(main), *flags]
    assert run_inference_slurm_main(argv) == 0
    return argv


def test_run_inference_slurm_writes_both_scripts(tmp_path, capsys):
    data = tmp_path / "data"
    _write_scripts(
        data,
        tmp_path,
        "--models-dir",
        str(REPOSITORY_MODELS_DIR),
        "--group-name",
        "demo",
        "--partition-type",
        "cpu",
        "--account",
        "abc123",
        "--cpus",
        "4",
        "--memory-GB",
        "16",
        "--time",
        "2:00:00",
        "--mail-user",
        "me@example.org",
        "--python-env-name",
        "scope-env",
        "--max-instances",
        "7",
        "--wait-time-minutes",
        "0.5",
        "--extra-sbatch=--qos=short",
    )
    generated = tmp_path / "get_all_preds_xgb.sh"
    assert "run-inference --algorithm xgb" in generated.read_text()
    slurm_dir = data / "xgb_inference" / "slurm"
    field_sub = (slurm_dir / "slurm.sub").read_text().splitlines()
    for line in [
        "#SBATCH --job-name=run_inference_xgb",
        "#SBATCH --partition=cpu",
        "#SBATCH --account=abc123",
        "#SBATCH --cpus-per-task=4",
        "#SBATCH --mem=16G",
        "#SBATCH --time=2:00:00",
        "#SBATCH --mail-user=me@example.org",
        "#SBATCH --qos=short",
        f"#SBATCH --output={data}/xgb_inference/logs/run_inference_xgb_%j.out",
        "conda activate scope-env",
        f'{generated} "$FID"',
    ]:
        assert line in field_sub, line
    assert not any(line.startswith("module") for line in field_sub)
    submission = (slurm_dir / "slurm_submission.sub").read_text().splitlines()
    assert "#SBATCH --job-name=run_inference_xgb_submit" in submission
    assert submission[-1] == (
        f"run-inference-job-submission --algorithm xgb --dirname inference --data-dir {data} "
        "--max-instances 7 --wait-time-minutes 0.5"
    )
    assert (data / "xgb_inference" / "logs").is_dir()
    assert "wrote" in capsys.readouterr().out


def test_field_list_file_and_config_exclusions(tmp_path):
    path = tmp_path / "fields.txt"
    path.write_text("# fields\n296, 297\n298 299 # tail\n")
    assert read_field_list(path) == [296, 297, 298, 299]
    config = tmp_path / "scope.yaml"
    config.write_text("inference:\n  fields_to_run: [1, 2]\n  fields_to_exclude: [297]\n")
    assert load_config(config, environ={}).inference.fields_to_exclude == [297]
    path.write_text("296 x")
    with pytest.raises(ValueError, match="not field numbers"):
        read_field_list(path)


def test_job_submission_without_slurm_sub_says_what_to_run(tmp_path, capsys):
    assert run_inference_job_submission_main(["--data-dir", str(tmp_path), "--fields", "1"]) == 1
    assert "write it with run-inference-slurm" in capsys.readouterr().err


@needs_slurm
def test_job_submission_keeps_at_most_max_instances_queued_and_reruns_submit_nothing(
    tmp_path, capsys, monkeypatch
):
    data, main = tmp_path / "data", tmp_path
    monkeypatch.setenv("SCOPE_TEST_DATA", str(data))
    script = main / "fake_preds.sh"
    script.write_text(FAKE_INFERENCE)
    script.chmod(0o755)
    _write_scripts(data, main, "--generated-script-name", script.name, "--job-name", "cli_test")
    config = tmp_path / "scope.yaml"
    config.write_text("inference:\n  fields_to_run: [101, 102, 103, 104, 105]\n")
    argv = [
        "--algorithm",
        "xgb",
        "--data-dir",
        str(data),
        "--config-path",
        str(config),
        "--fields-to-exclude",
        "105",
        "--max-instances",
        "2",
        "--wait-time-minutes",
        "0.01",
    ]
    most_queued, stop = [0], threading.Event()

    def watch():
        while not stop.is_set():
            most_queued[0] = max(most_queued[0], len(cluster.queued_jobs("cli_test_xgb_field_")))
            stop.wait(0.05)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        assert run_inference_job_submission_main(argv) == 0
        layout = DataLayout(data)
        wait_until(lambda: not cluster.queued_jobs("cli_test_xgb_field_"), timeout_s=60)
    finally:
        stop.set()
        watcher.join()
    first = capsys.readouterr().out
    assert "4 of 4 fields to submit" in first and "submitted 4 jobs" in first
    assert most_queued[0] == 2
    assert all(layout.preds_file("xgb", f).exists() for f in (101, 102, 103, 104))
    assert not layout.preds_dir("xgb", 105).exists()
    assert run_inference_job_submission_main(argv) == 0
    again = capsys.readouterr().out
    assert "0 of 4 fields to submit (4 have predictions" in again and "submitted 0 jobs" in again


@needs_slurm
def test_job_submission_skips_fields_still_queued(tmp_path, capsys, monkeypatch):
    data, main = tmp_path / "data", tmp_path
    monkeypatch.setenv("SCOPE_TEST_DATA", str(data))
    script = main / "slow_preds.sh"
    script.write_text(FAKE_INFERENCE.replace("sleep 1", "sleep 30"))
    script.chmod(0o755)
    _write_scripts(data, main, "--generated-script-name", script.name, "--job-name", "requeue")
    argv = ["--algorithm", "xgb", "--data-dir", str(data), "--fields", "7", "8"]
    try:
        assert run_inference_job_submission_main(argv) == 0
        assert run_inference_job_submission_main(argv) == 0
        out = capsys.readouterr().out
        assert "0 of 2 fields to submit (0 have predictions, 2 already queued)" in out
        assert len(cluster.queued_jobs("requeue_xgb_field_")) == 2
    finally:
        for job in cluster.queued_jobs("requeue_xgb_field_"):
            cluster.cancel(job.job_id)


@needs_slurm
def test_real_inference_script_scores_a_field_in_a_job(tmp_path):
    data = tmp_path / "data"
    config = load_config(environ={})
    path = DataLayout(data).imputed_features_file(297)
    path.parent.mkdir(parents=True)
    pq.write_table(synthetic_features_table(synthetic_truth(200, field=297, seed=8), config), path)
    _write_scripts(
        data,
        tmp_path,
        "--models-dir",
        str(REPOSITORY_MODELS_DIR),
        "--job-name",
        "real_step",
        "--python-env-name",
        sys.prefix,
    )
    argv = ["--algorithm", "xgb", "--data-dir", str(data), "--fields", "297"]
    assert run_inference_job_submission_main(argv) == 0
    wait_until(lambda: not cluster.queued_jobs("real_step_xgb_field_"), timeout_s=90)
    preds = pq.read_table(DataLayout(data).preds_file("xgb", 297))
    assert preds.num_rows == 200
    assert sum(name.endswith("_xgb") for name in preds.column_names) == 9
