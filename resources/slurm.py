"""SLURM as a Dagster resource: launch a command as a batch job through Dagster Pipes.

The launcher writes the batch script, ``sbatch``es it, follows the job with ``scontrol``
(forwarding its stdout/stderr lines to the run's log), streams the job's Pipes messages (logs,
materialization metadata, asset-check results) into the run through a message file on the
shared filesystem, turns a final state other than COMPLETED into a ``dg.Failure`` quoting the
stderr tail, and ``scancel``s the job when the run is terminated or the launcher fails.
dagster-shell, the old way to do this, is retired upstream and does not install with the
pinned Dagster; Pipes is its supported successor.
"""

from __future__ import annotations

import os
import re
import shlex
import sys
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import dagster as dg

from scope_assets.config import data_root
from scope_assets.hpc import cluster
from scope_assets.hpc.batch_script import BatchSettings, write_batch_script
from scope_assets.hpc.remote_call import prepare_call, read_pickle, result_path, write_pickle

Context = dg.AssetExecutionContext | dg.OpExecutionContext
T = TypeVar("T")


class SlurmResource(dg.ConfigurableResource):
    """Where and how big the SLURM jobs are; empty strings keep the cluster's defaults.

    ``work_dir`` must be on a filesystem the Dagster process and the compute nodes share: each
    launch gets a private directory there with the batch script, the job's stdout/stderr and
    the Pipes context and message files (default ``<data root>/slurm``).
    """

    partition: str = ""
    account: str = ""
    time: str = ""
    memory: str = ""
    cpus: int = 1
    extra_sbatch: list[str] = []
    python_env: str = ""
    work_dir: str = ""
    poll_interval_s: float = 5.0
    stderr_tail_lines: int = 20

    def new_launch_dir(self, context: Context, label: str) -> Path:
        """A fresh owner-only directory for one job, under the run's directory."""
        root = Path(self.work_dir) if self.work_dir else data_root() / "slurm"
        path = root / context.run.run_id[:8] / f"{label}-{uuid.uuid4().hex[:8]}"
        path.mkdir(parents=True, mode=0o700)
        return path

    def batch_settings(self, job_name: str, launch_dir: Path) -> BatchSettings:
        return BatchSettings(
            job_name=job_name,
            partition=self.partition,
            account=self.account,
            time=self.time,
            memory=self.memory,
            cpus=self.cpus,
            output=str(launch_dir / "stdout.log"),
            error=str(launch_dir / "stderr.log"),
            workdir=os.getcwd(),
            extra_sbatch=tuple(self.extra_sbatch),
            python_env=self.python_env,
        )

    def python(self) -> str:
        """The job's interpreter: the activated environment's, else this process's own."""
        return "python" if self.python_env else sys.executable

    def run(
        self,
        *,
        context: Context,
        command: Sequence[str],
        extras: Mapping[str, Any] | None = None,
        launch_dir: Path | None = None,
    ) -> dg.PipesClientCompletedInvocation:
        """Run ``command`` as a SLURM job in a Pipes session; fails the step if the job fails."""
        job_name = _job_name(context)
        launch_dir = launch_dir or self.new_launch_dir(context, job_name)
        with dg.open_pipes_session(
            context=context,
            context_injector=dg.PipesFileContextInjector(str(launch_dir / "context.json")),
            message_reader=dg.PipesFileMessageReader(str(launch_dir / "messages.jsonl")),
            extras=dict(extras or {}),
        ) as session:
            settings = self.batch_settings(job_name, launch_dir)
            script = write_batch_script(
                launch_dir / "job.sh",
                settings,
                [shlex.join(command)],
                session.get_bootstrap_env_vars(),
            )
            started = time.monotonic()
            job_id = cluster.submit(script)
            context.log.info(f"submitted SLURM job {job_id}: {script}")
            status = self._follow(context, job_id, launch_dir, session)
            metadata = {
                "slurm_job_id": job_id,
                "slurm_state": status.state,
                "slurm_wall_seconds": round(time.monotonic() - started, 3),
                "batch_script": dg.MetadataValue.path(str(script)),
                "slurm_stderr": dg.MetadataValue.path(settings.error),
            }
            self._raise_unless_completed(status, Path(settings.error), metadata)
        return dg.PipesClientCompletedInvocation(session, metadata=metadata)

    def call(
        self,
        context: dg.AssetExecutionContext,
        function: Callable[..., T],
        *args: Any,
        **kwargs: Any,
    ) -> T:
        """``function(*args, **kwargs)`` run in a SLURM job; returns its return value.

        The job's metadata (job id, node, seconds) joins the asset's materialization.
        ``progress``/``log`` callbacks stay here; the job reports through Pipes instead.
        """
        call = prepare_call(function, args, kwargs)
        launch_dir = self.new_launch_dir(context, _job_name(context))
        call_path = write_pickle(call, launch_dir / "call.pkl")
        command = [self.python(), "-m", "scope_assets.hpc.pipes_job", str(call_path)]
        invocation = self.run(context=context, command=command, launch_dir=launch_dir)
        context.add_asset_metadata(invocation.get_materialize_result().metadata)
        return read_pickle(result_path(call_path))

    def _follow(
        self, context: Context, job_id: str, launch_dir: Path, session: dg.PipesSession
    ) -> cluster.JobStatus:
        """Poll the job to its end, forwarding its output; scancel it if anything interrupts.

        Once the job has closed its Pipes session it is about to exit, so polling turns quick.
        """
        outputs = {
            name: cluster.LineFollower(launch_dir / f"{name}.log") for name in ("stdout", "stderr")
        }
        seen: list[str] = []

        def forward(final: bool = False) -> None:
            for name, follower in outputs.items():
                for line in follower.new_lines(final=final):
                    context.log.info(f"[SLURM job {job_id} {name}] {line}")

        def on_poll(status: cluster.JobStatus) -> None:
            if not seen or seen[-1] != status.state:
                seen.append(status.state)
                context.log.info(f"SLURM job {job_id}: {status.state}")
            forward()

        finished = False
        try:
            status = cluster.wait_for_job(
                job_id, self.poll_interval_s, on_poll, lambda s: _nap(s, session)
            )
            finished = True
        finally:
            if not finished:
                cluster.cancel(job_id)
                context.log.warning(f"cancelled SLURM job {job_id} (the step was interrupted)")
        forward(final=True)
        return status

    def _raise_unless_completed(
        self, status: cluster.JobStatus, stderr: Path, metadata: dict[str, Any]
    ) -> None:
        try:
            cluster.raise_unless_completed(status, stderr, self.stderr_tail_lines)
        except cluster.SlurmJobFailed as exc:
            raise dg.Failure(
                description=str(exc),
                metadata=metadata
                | {
                    "slurm_exit_code": status.exit_code,
                    "stderr_tail": dg.MetadataValue.md(_code_block(exc.stderr_tail)),
                },
            ) from exc


def _job_name(context: Context) -> str:
    """``<asset or op>-<partition>``, restricted to characters safe in file and job names."""
    if context.has_assets_def and len(context.assets_def.keys) == 1:
        name = context.asset_key.to_user_string()
    else:
        name = context.op.name
    if context.has_partition_key:
        name += f"-{context.partition_key}"
    return re.sub(r"[^\w.-]+", "_", name)


def _nap(seconds: float, session: dg.PipesSession, step_s: float = 0.05) -> None:
    """Sleep ``seconds``, cut short once the job has sent its Pipes closed message."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(step_s)
        if session.message_handler.received_closed_message:
            return


def _code_block(lines: list[str]) -> str:
    return "```\n" + "\n".join(lines) + "\n```"
