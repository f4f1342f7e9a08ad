"""Shared bits of the tests marked ``slurm`` (they use the cluster of scripts/slurm-up.sh)."""

import time

import pytest

from scope_assets.hpc.cluster import job_status, queued_jobs, sbatch_available

NO_SBATCH = "sbatch is not on PATH: start the one-node cluster with scripts/slurm-up.sh"


def needs_slurm(test):
    """Mark ``test`` ``slurm`` and skip it where the SLURM client is absent."""
    return pytest.mark.slurm(pytest.mark.skipif(not sbatch_available(), reason=NO_SBATCH)(test))


def wait_until(predicate, timeout_s: float = 30.0, every_s: float = 0.1):
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every_s)
    raise AssertionError(f"condition not met within {timeout_s} s")


def final_state(job_id: str, timeout_s: float = 30.0) -> str:
    """The job's state once it has ended."""
    status = wait_until(lambda: (s := job_status(job_id)) and s.finished and s, timeout_s)
    return status.state


def running_job_ids(name_prefix: str) -> list[str]:
    return [j.job_id for j in queued_jobs(name_prefix) if j.state == "RUNNING"]
