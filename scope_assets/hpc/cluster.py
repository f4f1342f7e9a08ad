"""Talking to SLURM through its commands: ``sbatch``, ``scontrol``, ``squeue``, ``scancel``.

A job is followed by polling ``scontrol show job`` (not ``sbatch --wait``, whose own poll
interval adds seconds per job); the first polls are quick and the interval grows to a ceiling,
so short jobs return fast and long ones cost the controller little.
"""

from __future__ import annotations

import getpass
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

ACTIVE_STATES = frozenset(
    "PENDING CONFIGURING RUNNING COMPLETING SUSPENDED REQUEUED REQUEUE_FED REQUEUE_HOLD "
    "RESIZING SIGNALING STAGE_OUT STOPPED RESV_DEL_HOLD".split()
)
"""States of a job that has not ended; every other state is final."""
SUCCESS_STATE = "COMPLETED"
COMMAND_TIMEOUT_S = 60.0


class SlurmError(RuntimeError):
    """A SLURM command failed or a job cannot be followed; the message quotes SLURM."""


class SlurmJobFailed(SlurmError):
    """A job ended in a state other than COMPLETED."""

    def __init__(self, status: JobStatus, stderr_path: Path | None, stderr_tail: list[str]):
        self.status = status
        self.stderr_path = stderr_path
        self.stderr_tail = stderr_tail
        where = f" (stderr {stderr_path})" if stderr_path else ""
        tail = "\n".join(stderr_tail) if stderr_tail else "(stderr is empty)"
        super().__init__(
            f"SLURM job {status.job_id} ended {status.state} (exit code {status.exit_code}, "
            f"reason {status.reason}){where}; last lines of stderr:\n{tail}"
        )


@dataclass(frozen=True)
class JobStatus:
    job_id: str
    state: str
    exit_code: str = ""
    reason: str = ""

    @property
    def finished(self) -> bool:
        return self.state not in ACTIVE_STATES

    @property
    def succeeded(self) -> bool:
        return self.state == SUCCESS_STATE


@dataclass(frozen=True)
class QueuedJob:
    job_id: str
    name: str
    state: str


def sbatch_available() -> bool:
    """Whether the SLURM client commands are on ``PATH``."""
    return shutil.which("sbatch") is not None


def _run(args: Sequence[str], check: bool = True) -> subprocess.CompletedProcess[str]:
    try:
        done = subprocess.run(
            list(args), capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S, check=False
        )
    except FileNotFoundError:
        raise SlurmError(f"{args[0]} is not installed (no SLURM client on PATH)") from None
    except subprocess.TimeoutExpired:
        raise SlurmError(
            f"{' '.join(args)} did not answer within {COMMAND_TIMEOUT_S:.0f} s"
        ) from None
    if check and done.returncode != 0:
        raise SlurmError(
            f"{' '.join(args)} failed with exit code {done.returncode}: {done.stderr.strip()}"
        )
    return done


def submit(script: Path, sbatch_args: Sequence[str] = ()) -> str:
    """``sbatch --parsable [args] script``; returns the job id."""
    done = _run(["sbatch", "--parsable", *sbatch_args, str(script)])
    job_id = done.stdout.strip().split(";")[0]
    if not job_id.isdigit():
        raise SlurmError(f"sbatch gave no job id for {script}: {done.stdout!r} {done.stderr!r}")
    return job_id


def _field(text: str, key: str) -> str:
    match = re.search(rf"(?:^|\s){key}=(\S*)", text)
    return match.group(1) if match else ""


def job_status(job_id: str) -> JobStatus | None:
    """The job's state from ``scontrol show job``; None once SLURM no longer knows the job."""
    done = _run(["scontrol", "show", "job", "--oneliner", job_id], check=False)
    if done.returncode != 0:
        if "Invalid job id" in done.stderr:
            return None
        raise SlurmError(f"scontrol show job {job_id} failed: {done.stderr.strip()}")
    return JobStatus(
        job_id=job_id,
        state=_field(done.stdout, "JobState"),
        exit_code=_field(done.stdout, "ExitCode"),
        reason=_field(done.stdout, "Reason"),
    )


def poll_intervals(ceiling_s: float, first_s: float = 0.1, growth: float = 1.5):
    """Waits between polls: ``first_s`` growing by ``growth`` up to ``ceiling_s``."""
    interval = first_s
    while True:
        yield min(interval, ceiling_s)
        interval *= growth


def wait_for_job(
    job_id: str,
    poll_ceiling_s: float = 5.0,
    on_poll: Callable[[JobStatus], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> JobStatus:
    """Poll until the job reaches a final state; ``on_poll`` sees every status read."""
    for interval in poll_intervals(poll_ceiling_s):
        status = job_status(job_id)
        if status is None:
            raise SlurmError(
                f"SLURM job {job_id} is unknown to scontrol (purged after MinJobAge, or the "
                "controller restarted); its final state cannot be read"
            )
        if on_poll:
            on_poll(status)
        if status.finished:
            return status
        sleep(interval)
    raise AssertionError("unreachable")


def cancel(job_id: str) -> None:
    """``scancel`` the job (a no-op for a job that has already ended)."""
    _run(["scancel", job_id])


def queued_jobs(name_prefix: str = "", user: str | None = None) -> list[QueuedJob]:
    """The user's pending and running jobs, optionally only those named ``name_prefix*``."""
    done = _run(["squeue", "--noheader", "--user", user or getpass.getuser(), "--format=%i|%j|%T"])
    jobs = [QueuedJob(*line.split("|", 2)) for line in done.stdout.splitlines() if line.strip()]
    return [job for job in jobs if job.name.startswith(name_prefix)]


def tail_lines(path: Path | None, n: int = 20) -> list[str]:
    """The last ``n`` lines of a text file ([] when it does not exist)."""
    if path is None or not path.is_file():
        return []
    with path.open("rb") as handle:
        handle.seek(0, 2)
        handle.seek(max(0, handle.tell() - 256 * n))
        text = handle.read().decode("utf-8", errors="replace")
    return text.splitlines()[-n:]


def raise_unless_completed(
    status: JobStatus, stderr_path: Path | None = None, tail: int = 20
) -> None:
    """Raise :class:`SlurmJobFailed` (with the stderr tail) unless the job COMPLETED."""
    if not status.succeeded:
        raise SlurmJobFailed(status, stderr_path, tail_lines(stderr_path, tail))


class LineFollower:
    """The complete lines a growing text file gained since the last call (a job's stdout)."""

    def __init__(self, path: Path):
        self.path = path
        self._offset = 0
        self._partial = b""

    def new_lines(self, final: bool = False) -> list[str]:
        """New complete lines; ``final`` also returns a last line without a newline."""
        if not self.path.is_file():
            return []
        with self.path.open("rb") as handle:
            handle.seek(self._offset)
            data = handle.read()
        self._offset += len(data)
        data = self._partial + data
        *lines, self._partial = data.split(b"\n")
        if final and self._partial:
            lines.append(self._partial)
            self._partial = b""
        return [line.decode("utf-8", errors="replace") for line in lines]
