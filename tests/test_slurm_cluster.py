"""The SLURM domain layer: batch scripts, and submit/poll/fail/cancel on the real cluster."""

from pathlib import Path

import pytest
from slurm_support import final_state, needs_slurm, wait_until

from scope_assets.hpc import cluster
from scope_assets.hpc.batch_script import BatchSettings, render_batch_script, write_batch_script

EXPECTED_OPTIONS = [
    "--job-name=features-297",
    "--partition=gpu-shared",
    "--account=abc123",
    "--time=1:00:00",
    "--mem=8G",
    "--cpus-per-task=4",
    "--gpus=1",
    "--nodes=2",
    "--mail-type=ALL",
    "--mail-user=me@example.org",
    "--qos=short",
    "--constraint=lustre",
]


def _script(tmp_path: Path, name: str, commands: list[str], **settings) -> Path:
    batch = BatchSettings(
        job_name=name,
        memory="100M",
        output=str(tmp_path / f"{name}.out"),
        error=str(tmp_path / f"{name}.err"),
        **settings,
    )
    return write_batch_script(tmp_path / f"{name}.sh", batch, commands)


def test_batch_script_has_the_requested_resources_and_no_module_lines():
    settings = BatchSettings(
        job_name="features-297",
        partition="gpu-shared",
        account="abc123",
        time="1:00:00",
        memory="8G",
        cpus=4,
        nodes=2,
        gpus=1,
        mail_user="me@example.org",
        extra_sbatch=("#SBATCH --qos=short", "--constraint=lustre"),
        python_env="/opt/envs/scope",
    )
    lines = render_batch_script(settings, ["python -m x"], {"A": "it's"}).splitlines()
    assert lines[0] == "#!/bin/bash"
    for option in EXPECTED_OPTIONS:
        assert f"#SBATCH {option}" in lines, option
    assert "export A='it'\"'\"'s'" in lines
    assert "source /opt/envs/scope/bin/activate" in lines
    assert lines[-1] == "python -m x"
    assert not any(line.startswith("module") for line in lines)
    conda = render_batch_script(BatchSettings(job_name="j", python_env="scope-env"), ["true"])
    assert "conda activate scope-env" in conda


def test_poll_intervals_grow_to_the_ceiling():
    intervals = cluster.poll_intervals(2.0)
    first = [next(intervals) for _ in range(12)]
    assert first[0] == 0.1 and first == sorted(first) and first[-1] == 2.0


def test_line_follower_returns_each_complete_line_once(tmp_path):
    path = tmp_path / "out.log"
    follower = cluster.LineFollower(path)
    assert follower.new_lines() == []
    path.write_text("one\ntw")
    assert follower.new_lines() == ["one"]
    with path.open("a") as handle:
        handle.write("o\nthree")
    assert follower.new_lines() == ["two"]
    assert follower.new_lines(final=True) == ["three"]


@needs_slurm
def test_submit_poll_complete(tmp_path):
    script = _script(tmp_path, "ok_job", ["echo hello from $SLURM_JOB_ID"])
    job_id = cluster.submit(script)
    seen = []
    status = cluster.wait_for_job(job_id, poll_ceiling_s=0.5, on_poll=seen.append)
    assert status.succeeded and status.exit_code == "0:0"
    assert seen[-1] == status and {s.job_id for s in seen} == {job_id}
    assert (tmp_path / "ok_job.out").read_text().strip() == f"hello from {job_id}"
    cluster.raise_unless_completed(status, tmp_path / "ok_job.err")


@needs_slurm
def test_failing_job_names_job_state_exit_code_and_stderr_tail(tmp_path):
    commands = [
        "for i in $(seq 1 30); do echo noise $i >&2; done",
        "echo 'bad input: x' >&2",
        "exit 3",
    ]
    script = _script(tmp_path, "bad_job", commands)
    job_id = cluster.submit(script)
    status = cluster.wait_for_job(job_id, poll_ceiling_s=0.5)
    assert status.state == "FAILED" and status.exit_code == "3:0"
    with pytest.raises(cluster.SlurmJobFailed) as failed:
        cluster.raise_unless_completed(status, tmp_path / "bad_job.err", tail=5)
    message = str(failed.value)
    assert f"SLURM job {job_id} ended FAILED (exit code 3:0" in message
    assert message.splitlines()[-1] == "bad input: x"
    assert "noise 27" in message and "noise 26" not in message


@needs_slurm
def test_cancel_ends_the_job_cancelled(tmp_path):
    script = _script(tmp_path, "long_job", ["sleep 120"])
    job_id = cluster.submit(script)
    wait_until(lambda: cluster.job_status(job_id).state == "RUNNING")
    assert job_id in {j.job_id for j in cluster.queued_jobs("long_job")}
    cluster.cancel(job_id)
    assert final_state(job_id) == "CANCELLED"
    assert job_id not in {j.job_id for j in cluster.queued_jobs("long_job")}


@needs_slurm
def test_unknown_job_has_no_status():
    assert cluster.job_status("99999999") is None
