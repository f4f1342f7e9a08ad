"""Job side of a SLURM step: ``python -m scope_assets.hpc.pipes_job <call.pkl>``.

Opens Dagster Pipes (context and message files on the shared filesystem, located through the
``DAGSTER_PIPES_*`` variables the batch script exports), runs the shipped domain call with
``log``/``progress`` callbacks that report through Pipes, leaves the return value beside the
call file and reports the asset materialization with the job's own metadata. An exception
fails the job (non-zero exit, traceback on stderr); the launcher turns that into a failed asset.
"""

from __future__ import annotations

import os
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path

from dagster_pipes import PipesContext, open_dagster_pipes

from scope_assets.hpc.remote_call import RemoteCall, read_pickle, result_path, write_pickle

PROGRESS_EVERY_S = 10.0


def progress_reporter(
    log: Callable[[str], None], every_s: float = PROGRESS_EVERY_S
) -> Callable[[int], None]:
    """A ``progress(n)`` callback that logs the running total at most every ``every_s``."""
    state = {"done": 0, "last": time.monotonic()}

    def progress(n: int) -> None:
        state["done"] += n
        now = time.monotonic()
        if now - state["last"] >= every_s:
            log(f"progress: {state['done']} done")
            state["last"] = now

    return progress


def job_metadata(call: RemoteCall, seconds: float) -> dict[str, object]:
    """What the job reports about itself: SLURM job id, node, function, compute seconds."""
    return {
        "slurm_job_id": os.environ.get("SLURM_JOB_ID", ""),
        "slurm_node": os.environ.get("SLURMD_NODENAME", socket.gethostname()),
        "job_function": call.name,
        "job_seconds": round(seconds, 3),
    }


def run_call(pipes: PipesContext, call_path: Path) -> None:
    """Run the call stored at ``call_path``, keep its result and report the materialization."""
    call: RemoteCall = read_pickle(call_path)
    callbacks = {"log": pipes.log.info, "progress": progress_reporter(pipes.log.info)}
    kwargs = call.kwargs | {name: callbacks[name] for name in call.callbacks}
    pipes.log.info(f"running {call.name} in SLURM job {os.environ.get('SLURM_JOB_ID', '?')}")
    started = time.perf_counter()
    value = call.function(*call.args, **kwargs)
    seconds = time.perf_counter() - started
    write_pickle(value, result_path(call_path))
    pipes.log.info(f"{call.name} finished in {seconds:.1f} s")
    if pipes.is_asset_step:
        pipes.report_asset_materialization(metadata=job_metadata(call, seconds))


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m scope_assets.hpc.pipes_job <call.pkl>", file=sys.stderr)
        return 2
    with open_dagster_pipes() as pipes:
        run_call(pipes, Path(args[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
