"""SCoPe's SLURM inference workflow: two batch scripts, then one job per field.

``run-inference-slurm`` writes, under ``<data root>/<alg>_<dirname>/``:

- ``slurm/slurm.sub``: scores the field given as ``$FID`` with the group's inference script
  (the one ``create-inference-script`` writes);
- ``slurm/slurm_submission.sub``: a small job running ``run-inference-job-submission``;
- ``logs/``: the jobs' stdout/stderr (``<job name>_<job id>.out/.err``).

``run-inference-job-submission`` submits ``slurm.sub`` once per field, naming each job
``<job name>_field_<f>``. It skips fields with predictions and fields whose job is still queued
(so a rerun submits only what is missing) and keeps at most ``max_instances`` of these jobs
pending or running. Unlike SCoPe, writer and submitter agree on the directory, and no
cluster's ``module`` lines are built in.
"""

from __future__ import annotations

import re
import shlex
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from pathlib import Path

from scope_assets.hpc import cluster
from scope_assets.hpc.batch_script import BatchSettings, write_batch_script
from scope_assets.io import DataLayout


def inference_dir(root: Path, algorithm: str, dirname: str = "inference") -> Path:
    return Path(root) / f"{algorithm}_{dirname}"


def field_script_path(root: Path, algorithm: str, dirname: str = "inference") -> Path:
    """``slurm.sub``: the per-field job."""
    return inference_dir(root, algorithm, dirname) / "slurm" / "slurm.sub"


def submission_script_path(root: Path, algorithm: str, dirname: str = "inference") -> Path:
    return inference_dir(root, algorithm, dirname) / "slurm" / "slurm_submission.sub"


def _with_logs(settings: BatchSettings, logs: Path) -> BatchSettings:
    return replace(
        settings,
        output=str(logs / f"{settings.job_name}_%j.out"),
        error=str(logs / f"{settings.job_name}_%j.err"),
    )


def write_inference_slurm_scripts(
    root: Path,
    algorithm: str,
    field_job: BatchSettings,
    submission_job: BatchSettings,
    inference_script: Path,
    submission_command: Sequence[str],
    dirname: str = "inference",
) -> tuple[Path, Path]:
    """Write ``slurm.sub`` and ``slurm_submission.sub``; returns their paths."""
    logs = inference_dir(root, algorithm, dirname) / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    field_commands = [
        ': "${FID:?no field: submit with sbatch --export=ALL,FID=<field> slurm.sub}"',
        f'{shlex.quote(str(inference_script))} "$FID"',
    ]
    field_sub = write_batch_script(
        field_script_path(root, algorithm, dirname), _with_logs(field_job, logs), field_commands
    )
    submission_sub = write_batch_script(
        submission_script_path(root, algorithm, dirname),
        _with_logs(submission_job, logs),
        [shlex.join(submission_command)],
    )
    return field_sub, submission_sub


def read_field_list(path: Path) -> list[int]:
    """Field numbers from a text file: separated by spaces, commas or lines; ``#`` comments."""
    text = "\n".join(line.split("#", 1)[0] for line in Path(path).read_text().splitlines())
    tokens = [t for t in re.split(r"[\s,]+", text) if t]
    bad = [t for t in tokens if not t.isdigit()]
    if bad:
        raise ValueError(f"{path}: not field numbers: {bad[:5]}")
    return [int(t) for t in tokens]


def fields_to_run(fields: Iterable[int], exclude: Iterable[int] = ()) -> list[int]:
    """``fields`` in their order, without repeats and without ``exclude``."""
    excluded = set(exclude)
    return [f for f in dict.fromkeys(fields) if f not in excluded]


def has_predictions(layout: DataLayout, algorithm: str, field: int) -> bool:
    """Whether ``preds_<alg>/field_<f>/`` holds a Parquet file (SCoPe's "done" test)."""
    return any(layout.preds_dir(algorithm, field).glob("*.parquet"))


def job_base_name(field_script: Path) -> str:
    """The ``--job-name`` that ``slurm.sub`` declares."""
    match = re.search(r"^#SBATCH --job-name=(\S+)", Path(field_script).read_text(), re.M)
    if not match:
        raise ValueError(f"{field_script} declares no #SBATCH --job-name")
    return match.group(1)


def field_job_prefix(base: str) -> str:
    """What the names of the per-field jobs start with."""
    return f"{base}_field_"


def field_job_name(base: str, field: int) -> str:
    return f"{field_job_prefix(base)}{field}"


def submit_field_jobs(
    fields: Sequence[int],
    field_script: Path,
    layout: DataLayout,
    algorithm: str,
    *,
    max_instances: int,
    wait_s: float,
    log: Callable[[str], None] = print,
    sleep: Callable[[float], None] = time.sleep,
) -> list[tuple[int, str]]:
    """Submit ``field_script`` for every field still to do; returns (field, job id) pairs."""
    if max_instances < 1:
        raise ValueError(f"max_instances must be >= 1, got {max_instances}")
    base = job_base_name(field_script)
    prefix = field_job_prefix(base)
    queued = {job.name for job in cluster.queued_jobs(prefix)}
    done = [f for f in fields if has_predictions(layout, algorithm, f)]
    waiting = [f for f in fields if f not in done and field_job_name(base, f) in queued]
    todo = [f for f in fields if f not in done and f not in waiting]
    log(
        f"{len(todo)} of {len(fields)} fields to submit ({len(done)} have predictions, "
        f"{len(waiting)} already queued)"
    )
    submitted: list[tuple[int, str]] = []
    while todo:
        free = max(0, max_instances - len(cluster.queued_jobs(prefix)))
        for field in todo[:free]:
            job_id = cluster.submit(
                field_script,
                [f"--job-name={field_job_name(base, field)}", f"--export=ALL,FID={field}"],
            )
            log(f"field {field}: submitted job {job_id}")
            submitted.append((field, job_id))
        todo = todo[free:]
        if todo:
            log(f"{len(todo)} fields wait for a free slot; next check in {wait_s:g} s")
            sleep(wait_s)
    return submitted
