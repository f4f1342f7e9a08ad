"""Backfills and runs started through the Dagster instance, with no webserver or daemon running.

``scope-demo`` starts its work the way a user does in the UI: a backfill of the
``field_pipeline`` job over the demo fields (a ``PartitionBackfill`` in the instance, listed in
the UI's Backfills tab with its runs) and a run of the ``reports`` job. Instead of waiting for
``dagster-daemon``, it does the daemon's part itself: the daemon's backfill logic submits the
runs, and the instance opened here executes each submitted run at once, in this process
(``SyncInMemoryRunLauncher``). The ``dagster.yaml`` of the instance is left as it is, so
``dagster dev`` on the same ``DAGSTER_HOME`` queues and launches runs as usual.

The code location is the project's ``workspace.yaml`` entry, loaded in this process under
the same location name, so ``dagster dev`` shows these runs under its jobs.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import yaml
from dagster._cli.job import _create_run
from dagster._core.execution.backfill import BulkActionStatus, PartitionBackfill
from dagster._core.instance.ref import InstanceRef
from dagster._core.remote_origin import InProcessCodeLocationOrigin
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
from dagster._core.utils import make_new_backfill_id
from dagster._core.workspace.context import WorkspaceProcessContext
from dagster._core.workspace.load_target import InProcessWorkspaceLoadTarget
from dagster._daemon.backfill import execute_backfill_iteration_with_instigation_logger
from dagster._time import get_current_timestamp

PROJECT_ROOT = Path(__file__).resolve().parents[2]
WORKSPACE_FILE = PROJECT_ROOT / "workspace.yaml"
IN_PROCESS_RUNS = {
    "run_coordinator": {
        "module": "dagster._core.run_coordinator",
        "class": "DefaultRunCoordinator",
    },
    "run_launcher": {
        "module": "dagster._core.launcher.sync_in_memory_run_launcher",
        "class": "SyncInMemoryRunLauncher",
    },
}
MAX_ITERATIONS = 20
"""Passes of the backfill logic (each submits every run it can; runs finish within it)."""
log = logging.getLogger(__name__)


def in_process_instance(home: Path) -> dg.DagsterInstance:
    """The instance at ``home``, executing every submitted run in this process."""
    ref = InstanceRef.from_dir(str(home), overrides=IN_PROCESS_RUNS)
    return dg.DagsterInstance.from_ref(ref)


def code_location_origin(workspace_file: Path = WORKSPACE_FILE) -> InProcessCodeLocationOrigin:
    """The ``python_file`` code location of ``workspace.yaml``, to be loaded in this process."""
    entry = yaml.safe_load(workspace_file.read_text())["load_from"][0]["python_file"]
    target = LoadableTargetOrigin(
        executable_path=sys.executable,
        python_file=str(workspace_file.parent / entry["relative_path"]),
        working_directory=str(workspace_file.parent),
    )
    return InProcessCodeLocationOrigin(target, location_name=entry["location_name"])


@contextmanager
def workspace(instance: dg.DagsterInstance) -> Iterator[WorkspaceProcessContext]:
    origin = code_location_origin()
    with WorkspaceProcessContext(instance, InProcessWorkspaceLoadTarget(origin)) as context:
        yield context


def _repository(context: WorkspaceProcessContext):
    request = context.create_request_context()
    location = request.get_code_location(code_location_origin().location_name)
    (repository,) = location.get_repositories().values()
    return location, repository


def run_backfill(
    context: WorkspaceProcessContext, job_name: str, partition_keys: Sequence[str], title: str
) -> PartitionBackfill:
    """Backfill ``job_name`` over ``partition_keys`` as the daemon would; returns it finished."""
    instance = context.instance
    _, repository = _repository(context)
    partition_set = next(p for p in repository.get_partition_sets() if p.job_name == job_name)
    backfill = PartitionBackfill(
        backfill_id=make_new_backfill_id(),
        status=BulkActionStatus.REQUESTED,
        from_failure=False,
        tags={},
        backfill_timestamp=get_current_timestamp(),
        title=title,
        partition_set_origin=partition_set.get_remote_origin(),
        partition_names=list(partition_keys),
    )
    instance.add_backfill(backfill)
    for _ in range(MAX_ITERATIONS):
        for error in execute_backfill_iteration_with_instigation_logger(
            backfill, log, context, instance
        ):
            if error is not None:
                log.error(error.to_string())
        backfill = instance.get_backfill(backfill.backfill_id)
        if backfill.status != BulkActionStatus.REQUESTED:
            return backfill
        time.sleep(1.0)
    raise RuntimeError(
        f"backfill {backfill.backfill_id} still running after {MAX_ITERATIONS} passes"
    )


def run_job(context: WorkspaceProcessContext, job_name: str) -> dg.DagsterRun:
    """Launch ``job_name`` as ``dagster job launch`` does; returns the finished run."""
    instance = context.instance
    location, repository = _repository(context)
    job = repository.get_full_job(job_name)
    run = _create_run(instance, location, repository, job, {}, {}, None, None)
    instance.submit_run(run.run_id, context.create_request_context())
    return instance.get_run_by_id(run.run_id)


def backfill_runs(instance: dg.DagsterInstance, backfill_id: str) -> list[dg.DagsterRun]:
    """The runs of a backfill, oldest first."""
    runs = instance.get_runs(dg.RunsFilter(tags=dg.DagsterRun.tags_for_backfill_id(backfill_id)))
    return sorted(runs, key=lambda run: run.tags.get("dagster/partition", ""))


def latest_materialization(
    instance: dg.DagsterInstance, asset: str, partition: str | None = None
) -> dg.AssetMaterialization | None:
    """The latest materialization of ``asset`` (of one partition if given), or None."""
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(
            asset_key=dg.AssetKey(asset), asset_partitions=[partition] if partition else None
        ),
        limit=1,
        ascending=False,
    ).records
    return records[0].asset_materialization if records else None
