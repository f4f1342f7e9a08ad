"""Dagster assets run as SLURM jobs through Dagster Pipes, on the real one-node cluster."""

import os
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import dagster as dg
import pandas as pd
import pyarrow.parquet as pq
import pytest
from slurm_support import final_state, needs_slurm, running_job_ids, wait_until

from resources.execution import ExecutionResource
from resources.slurm import SlurmResource
from scope_assets.config import load_config
from scope_assets.hpc import cluster
from scope_assets.hpc.steps import predict_field_with_group
from scope_assets.io import DataLayout, read_parquet
from scope_assets.ml.model_files.models_root import REPOSITORY_MODELS_DIR
from scope_assets.testing.synthetic_features import synthetic_features_table, synthetic_truth

CONFIG = load_config(environ={})
REPO = Path(__file__).resolve().parents[1]
PIPES_PAYLOAD = """
import time
from dagster_pipes import open_dagster_pipes
with open_dagster_pipes() as pipes:
    pipes.log.info(f"hello from the job, extra n={pipes.get_extra('n')}")
    print("a plain stdout line", flush=True)
    time.sleep(pipes.get_extra("sleep_s"))
    if pipes.get_extra("check"):
        pipes.report_asset_check(check_name="rows_positive", passed=True, metadata={"rows": 42})
    pipes.report_asset_materialization(metadata={"rows": 42, "written_by": "the job"})
"""
fields = dg.StaticPartitionsDefinition(["1", "2", "3"])


def _payload(sleep_s: float = 0.0, check: bool = False) -> dict:
    extras = {"n": 7, "sleep_s": sleep_s, "check": check}
    return {"command": [sys.executable, "-c", PIPES_PAYLOAD], "extras": extras}


@dg.asset(check_specs=[dg.AssetCheckSpec("rows_positive", asset="tiny")])
def tiny(context: dg.AssetExecutionContext, slurm: SlurmResource):
    return slurm.run(context=context, **_payload(check=True)).get_materialize_result()


@dg.asset(partitions_def=fields)
def fanout(context: dg.AssetExecutionContext, slurm: SlurmResource):
    return slurm.run(context=context, **_payload(sleep_s=2.0)).get_materialize_result()


@dg.asset
def too_slow(context: dg.AssetExecutionContext, slurm: SlurmResource):
    return slurm.run(context=context, command=["sleep", "300"]).get_materialize_result()


@dg.asset(partitions_def=dg.StaticPartitionsDefinition(["297", "298"]))
def xgb_scores(
    context: dg.AssetExecutionContext, execution: ExecutionResource, data: dg.ResourceParam[str]
):
    """What the patched ``xgb_predictions`` does: the domain call through the switch."""
    scored = execution.call(
        context,
        predict_field_with_group,
        DataLayout(data),
        int(context.partition_key),
        "xgb",
        REPOSITORY_MODELS_DIR,
        "demo",
        CONFIG,
        batch_size=100_000,
        flag_ids=True,
        write_csv=False,
        log=context.log.info,
    )
    return dg.MaterializeResult(metadata={"columns": scored.score_columns})


def _slurm_settings(tmp_path: Path, **settings) -> dict:
    return {"work_dir": str(tmp_path / "slurm"), "memory": "300M"} | settings


def _slurm(tmp_path: Path, **settings) -> SlurmResource:
    return SlurmResource(**_slurm_settings(tmp_path, **settings))


def _messages(instance: dg.DagsterInstance, result) -> list[str]:
    return [entry.user_message for entry in instance.all_logs(result.run_id)]


def _failure(result, node: str):
    failures = [e for e in result.all_events if e.is_step_failure and e.step_key == node]
    return failures[0].step_failure_data.user_failure_data


@pytest.fixture(scope="module")
def time_limit_run(tmp_path_factory):
    """``too_slow`` with a 1-minute limit, materialized in the background while others run."""
    slurm = _slurm(tmp_path_factory.mktemp("timeout"), time="0:01")
    outcome = {}

    def materialize():
        outcome["result"] = dg.materialize(
            [too_slow], resources={"slurm": slurm}, raise_on_error=False
        )

    thread = threading.Thread(target=materialize, daemon=True)
    thread.start()
    yield thread, outcome
    for job_id in running_job_ids("too_slow"):  # the session stopped before the time limit
        cluster.cancel(job_id)
    thread.join(timeout=30)


@needs_slurm
def test_job_logs_metadata_and_check_reach_the_run(tmp_path):
    with dg.instance_for_test() as instance:
        result = dg.materialize([tiny], resources={"slurm": _slurm(tmp_path)}, instance=instance)
        messages = _messages(instance, result)
    assert result.success
    metadata = result.asset_materializations_for_node("tiny")[0].metadata
    job_id = metadata["slurm_job_id"].value
    assert metadata["rows"].value == 42 and metadata["written_by"].value == "the job"
    assert metadata["slurm_state"].value == "COMPLETED"
    assert Path(metadata["batch_script"].value).read_text().startswith("#!/bin/bash")
    assert "hello from the job, extra n=7" in messages
    assert f"[SLURM job {job_id} stdout] a plain stdout line" in messages
    assert f"submitted SLURM job {job_id}" in " ".join(messages)
    (check,) = result.get_asset_check_evaluations()
    assert check.check_name == "rows_positive" and check.passed
    assert check.metadata["rows"].value == 42


@needs_slurm
def test_backfill_of_three_fields_runs_at_most_two_jobs_at_once(tmp_path):
    slurm = _slurm(tmp_path)
    results, most_running, stop = {}, [0], threading.Event()

    def materialize(key: str):
        results[key] = dg.materialize([fanout], partition_key=key, resources={"slurm": slurm})

    def watch():
        while not stop.is_set():
            most_running[0] = max(most_running[0], len(running_job_ids("fanout-")))
            stop.wait(0.1)

    watcher = threading.Thread(target=watch)
    runs = [
        threading.Thread(target=materialize, args=(key,)) for key in fields.get_partition_keys()
    ]
    for thread in [watcher, *runs]:
        thread.start()
    for thread in runs:
        thread.join(timeout=60)
    stop.set()
    watcher.join()
    assert all(results[key].success for key in fields.get_partition_keys())
    job_ids = {
        results[k].asset_materializations_for_node("fanout")[0].metadata["slurm_job_id"].value
        for k in results
    }
    assert len(job_ids) == 3
    assert most_running[0] == 2  # 2 CPUs, 1 CPU per job: the cluster caps the concurrency


@needs_slurm
def test_time_limit_job_started(time_limit_run):
    thread, _ = time_limit_run
    assert wait_until(lambda: running_job_ids("too_slow"), timeout_s=30)


@pytest.fixture(scope="module")
def scored_field(tmp_path_factory):
    data = tmp_path_factory.mktemp("scores") / "data"
    path = DataLayout(data).imputed_features_file(297)
    path.parent.mkdir(parents=True)
    truth = synthetic_truth(400, field=297, seed=5)
    pq.write_table(synthetic_features_table(truth, CONFIG, seed=6, missing_xmatch=0.2), path)
    return data


@needs_slurm
def test_predictions_through_slurm_equal_in_process(scored_field, tmp_path):
    layout = DataLayout(scored_field)
    outputs = {}
    with dg.instance_for_test() as instance:
        for mode in ("in_process", "slurm"):
            execution = ExecutionResource(mode=mode, **_slurm_settings(tmp_path, memory="1G"))
            resources = {"execution": execution, "data": str(scored_field)}
            result = dg.materialize(
                [xgb_scores], partition_key="297", resources=resources, instance=instance
            )
            assert result.success
            preds_dir = layout.preds_dir("xgb", 297)
            outputs[mode] = {
                "frame": read_parquet(layout.preds_file("xgb", 297)),
                "flagged": (preds_dir / "field_297_flagged.json").read_text(),
                "meta": (preds_dir / "meta.json").read_text(),
                "metadata": result.asset_materializations_for_node("xgb_scores")[0].metadata,
                "messages": _messages(instance, result),
            }
    local, remote = outputs["in_process"], outputs["slurm"]
    pd.testing.assert_frame_equal(local["frame"], remote["frame"])
    assert len(remote["frame"]) == 400
    assert (local["flagged"], local["meta"]) == (remote["flagged"], remote["meta"])
    assert local["metadata"]["columns"] == remote["metadata"]["columns"]
    job_metadata = remote["metadata"]
    assert job_metadata["job_function"].value.endswith("predict_field_with_group")
    assert job_metadata["slurm_node"].value == "localhost"
    assert job_metadata["slurm_job_id"].value.isdigit()
    assert "slurm_job_id" not in local["metadata"]
    models_line = "9 xgb models: ['vnv', 'ea', 'fla', 'ceph', 'dscu', 'mir', 'rrab', 'rrc', 'wuma']"
    assert models_line in remote["messages"]


@needs_slurm
def test_bad_input_fails_the_asset_with_job_id_state_and_stderr_tail(scored_field, tmp_path):
    execution = ExecutionResource(mode="slurm", **_slurm_settings(tmp_path, memory="1G"))
    resources = {"execution": execution, "data": str(scored_field)}
    result = dg.materialize(
        [xgb_scores], partition_key="298", resources=resources, raise_on_error=False
    )
    assert not result.success
    failure = _failure(result, "xgb_scores")
    job_id = failure.metadata["slurm_job_id"].value
    assert f"SLURM job {job_id} ended FAILED (exit code 1:0" in failure.description
    assert "FileNotFoundError: feature file " in failure.description
    assert "field_298" in failure.metadata["stderr_tail"].value
    assert final_state(job_id) == "FAILED"


@needs_slurm
def test_terminating_the_run_cancels_the_job(tmp_path):
    script = tmp_path / "run.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import dagster as dg
            from resources.slurm import SlurmResource

            @dg.asset
            def sleeper(context, slurm: SlurmResource):
                return slurm.run(context=context, command=["sleep", "300"]).get_materialize_result()

            slurm = SlurmResource(work_dir={str(tmp_path / "slurm")!r}, memory="100M")
            dg.materialize([sleeper], resources={{"slurm": slurm}})
            """
        )
    )
    env = os.environ | {"PYTHONPATH": str(REPO)}
    run = subprocess.Popen([sys.executable, str(script)], cwd=REPO, env=env, stderr=subprocess.PIPE)
    try:
        (job_id,) = wait_until(lambda: running_job_ids("sleeper"), timeout_s=60)
        run.send_signal(signal.SIGTERM)
        _, stderr = run.communicate(timeout=30)
    finally:
        run.kill()
    assert run.returncode != 0
    assert final_state(job_id) == "CANCELLED"
    assert f"cancelled SLURM job {job_id}" in stderr.decode()


@needs_slurm
def test_time_limit_fails_the_asset_with_timeout(time_limit_run):
    thread, outcome = time_limit_run
    thread.join(timeout=150)
    result = outcome["result"]
    assert not result.success
    failure = _failure(result, "too_slow")
    job_id = failure.metadata["slurm_job_id"].value
    assert f"SLURM job {job_id} ended TIMEOUT" in failure.description
    assert "DUE TO TIME LIMIT" in failure.description
    assert cluster.job_status(job_id).state == "TIMEOUT"
