"""GCN automation: a sensor for new events, a schedule for events that gained sources, and a
sensor that names the event of a failed run. State lives in Dagster: the sensor's cursor, the
``gcn_events`` partitions and the run keys (``<dateobs>:<hash of source ids>``).

- ``gcn_event_sensor`` (every :data:`SENSOR_INTERVAL_S` = 30 s): lists Fritz GCN events, adds a
  partition for each new event whose tags are configured (``GcnResource.tag_groups``) and
  requests the GCN job for it when it has sources. Fritz down (5xx, timeout) skips the tick with
  the reason and leaves the cursor, so the next tick catches up.
- ``gcn_rescan`` (every 2 h, as SCoPe's cron job): for events younger than ``days_range``,
  requests a run only when the event's sources changed since a run was requested for them.
- Runs carry the tag ``gcn/event``; a deployment limits them to one per event with
  ``tag_concurrency_limits`` and launches queued runs within 1 s (see :data:`RUN_QUEUE_YAML`).
  ``gcn_run_failure_sensor`` logs the event of every failed run.
- The job runs its steps in the run's own process (``in_process_executor``): the code,
  TensorFlow and the cached numba kernels are loaded once per run, not once per step (a step
  subprocess costs ~3 s, on a path of 6 steps, and bought only XGB and DNN side by side). The
  period search still uses every core (numba threads). Latency figures: ``bench/bench_gcn.py``.
"""

import datetime as dt

import dagster as dg

from resources.fritz import FritzResource
from resources.gcn import GcnResource
from scope_assets.defs.gcn_assets import GCN_ASSETS, gcn_events
from scope_assets.gcn.automation import (
    EVENT_TAG,
    SOURCES_TAG,
    EventSources,
    event_sources,
    is_recent,
    select_new_events,
)

RESCAN_CRON = "0 */2 * * *"
SENSOR_INTERVAL_S = 30
"""Seconds between sensor ticks: the mean wait for a new event is half of it. A tick is one Fritz
request (plus one per new event), so 30 s costs Fritz nothing noticeable."""
RUN_KEY_TAG = "dagster/run_key"
ACTIVE_OR_DONE = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.SUCCESS,
]
RUN_QUEUE_YAML = f"""\
concurrency:
  runs:
    tag_concurrency_limits:
      - key: "{EVENT_TAG}"
        value:
          applyLimitPerUniqueValue: true
        limit: 1
run_coordinator:
  module: dagster.core.run_coordinator
  class: QueuedRunCoordinator
  config:
    dequeue_interval_seconds: 1
"""
"""The ``dagster.yaml`` block that keeps one run per GCN event at a time and launches a queued
run within a second (Dagster's default looks every 5 s)."""

gcn_job = dg.define_asset_job(
    "gcn_event_job",
    selection=GCN_ASSETS,
    executor_def=dg.in_process_executor,
    description="Sources → light curves → features → XGB/DNN → merged scores → Fritz, for one "
    "GCN event.",
)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def event_run_request(sources: EventSources) -> dg.RunRequest:
    return dg.RunRequest(
        partition_key=sources.key,
        run_key=sources.run_key,
        tags={EVENT_TAG: sources.key, SOURCES_TAG: sources.fingerprint},
    )


def _fritz_down(context, exc: Exception) -> dg.SkipReason:
    reason = f"Fritz unavailable ({exc}); nothing changed, the next tick catches up"
    context.log.warning(reason)
    return dg.SkipReason(reason)


@dg.sensor(
    job=gcn_job,
    minimum_interval_seconds=SENSOR_INTERVAL_S,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="New GCN events with configured tags → a gcn_events partition and a run.",
)
def gcn_event_sensor(
    context: dg.SensorEvaluationContext, fritz: FritzResource, gcn: GcnResource
) -> dg.SensorResult | dg.SkipReason:
    from scope_assets.fritz.fritz_transport import FritzError

    known = set(context.instance.get_dynamic_partitions(gcn_events.name))
    since = _utcnow() - dt.timedelta(days=gcn.lookback_days)
    try:
        with fritz.get_client() as client:
            events = list(client.iter_gcn_events({"startDate": since.isoformat()}))
            selection = select_new_events(events, context.cursor, known, gcn.tag_groups)
            found = [
                event_sources(client, c.key, gcn.days_range, gcn.source_group_ids)
                for c in selection.chosen
            ]
    except FritzError as exc:
        return _fritz_down(context, exc)
    for key, tags in selection.untagged:
        context.log.info(f"GCN event {key} skipped: tags {list(tags)} are not configured")
    keys = [c.key for c in selection.chosen]
    requests = [event_run_request(s) for s in found if s.n_sources]
    return dg.SensorResult(
        run_requests=requests,
        dynamic_partitions_requests=[gcn_events.build_add_request(keys)] if keys else [],
        cursor=selection.cursor,
        skip_reason=None if requests else f"no new tagged GCN event with sources ({len(keys)} new)",
    )


def already_requested(instance: dg.DagsterInstance, run_key: str) -> bool:
    """A run with this key is queued, running or succeeded (a failed one may be retried)."""
    filters = dg.RunsFilter(tags={RUN_KEY_TAG: run_key}, statuses=ACTIVE_OR_DONE)
    return bool(instance.get_run_records(filters=filters, limit=1))


def build_gcn_rescan(cron_schedule: str = RESCAN_CRON) -> dg.ScheduleDefinition:
    """The rescan schedule (another cron for tests)."""

    @dg.schedule(
        name="gcn_rescan",
        job=gcn_job,
        cron_schedule=cron_schedule,
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="Events younger than days_range whose sources changed → a new run.",
    )
    def gcn_rescan(
        context: dg.ScheduleEvaluationContext, fritz: FritzResource, gcn: GcnResource
    ) -> list[dg.RunRequest] | dg.SkipReason:
        from scope_assets.fritz.fritz_transport import FritzError

        when = context.scheduled_execution_time
        now = when.astimezone(dt.UTC).replace(tzinfo=None) if when else _utcnow()
        keys = [
            k
            for k in context.instance.get_dynamic_partitions(gcn_events.name)
            if is_recent(k, now, gcn.days_range)
        ]
        try:
            with fritz.get_client() as client:
                found = [
                    event_sources(client, k, gcn.days_range, gcn.source_group_ids) for k in keys
                ]
        except FritzError as exc:
            return _fritz_down(context, exc)
        todo = [
            s for s in found if s.n_sources and not already_requested(context.instance, s.run_key)
        ]
        if not todo:
            return dg.SkipReason(f"none of {len(keys)} recent GCN events gained sources")
        return [event_run_request(s) for s in todo]

    return gcn_rescan


gcn_rescan = build_gcn_rescan()


@dg.run_failure_sensor(
    monitored_jobs=[gcn_job],
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Logs which GCN event a failed run was for.",
)
def gcn_run_failure_sensor(context: dg.RunFailureSensorContext) -> None:
    run = context.dagster_run
    event = run.tags.get(EVENT_TAG, "(unknown event)")
    message = context.failure_event.message or "no message"
    context.log.error(f"GCN event {event}: run {run.run_id} failed: {message}")


GCN_SENSORS = [gcn_event_sensor, gcn_run_failure_sensor]
GCN_SCHEDULES = [gcn_rescan]
GCN_JOBS = [gcn_job]
