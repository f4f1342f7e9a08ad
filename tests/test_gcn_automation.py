"""gcn_event_sensor and gcn_rescan evaluated with build_sensor_context/build_schedule_context
against the Fritz emulator over HTTP (no runs are launched)."""

from __future__ import annotations

import datetime as dt
import warnings

import dagster as dg
import pytest
from gcn_support import (
    GRB_GROUP,
    GW_GROUP,
    _gcn_emulator,  # noqa: F401 - fixture
    _gcn_sky,  # noqa: F401 - fixture
    fritz_resource,
)

from resources.gcn import GcnResource
from scope_assets.defs.gcn_automation import gcn_event_sensor, gcn_rescan
from scope_assets.gcn.automation import EVENT_TAG, post_group_ids, select_new_events
from scope_assets.testing.gcn_sky import post_candidates, post_event, recent_dateobs, split_sky

warnings.filterwarnings("ignore", category=dg.PreviewWarning)
PARTITIONS = "gcn_events"


@pytest.fixture
def instance():
    with dg.instance_for_test() as inst:
        yield inst


@pytest.fixture
def resources(gcn_emulator):
    return {"fritz": fritz_resource(gcn_emulator), "gcn": GcnResource()}


@pytest.fixture
def events(gcn_emulator, gcn_sky):
    """A GW event (5 candidates), a GRB event (4 candidates), an untagged event (3)."""
    west, east = split_sky(gcn_sky.stars, 5)
    url = gcn_emulator.fritz_url
    keys = {
        "gw": recent_dateobs(30),
        "grb": recent_dateobs(20),
        "other": recent_dateobs(10),
    }
    post_event(url, keys["gw"], ["GW"], west)
    post_candidates(url, keys["gw"], west, "ZTF26gw")
    post_event(url, keys["grb"], ["GRB", "Fermi"], east.head(4))
    post_candidates(url, keys["grb"], east.head(4), "ZTF26grb")
    post_event(url, keys["other"], ["Neutrino"], east.tail(3))
    return keys


def tick(instance, resources, cursor=None):
    with dg.build_sensor_context(instance=instance, cursor=cursor, resources=resources) as context:
        return gcn_event_sensor(context), context


def apply_partitions(instance, result):
    for request in result.dynamic_partitions_requests:
        instance.add_dynamic_partitions(PARTITIONS, list(request.partition_keys))


def test_sensor_adds_tagged_events_and_requests_one_run_each(instance, resources, events):
    result, _ = tick(instance, resources)
    added = [k for r in result.dynamic_partitions_requests for k in r.partition_keys]
    assert sorted(added) == sorted([events["gw"], events["grb"]])
    runs = {r.partition_key: r for r in result.run_requests}
    assert set(runs) == {events["gw"], events["grb"]}
    for key, request in runs.items():
        assert request.run_key.startswith(f"{key}:")
        assert request.tags[EVENT_TAG] == key
    assert len({r.run_key for r in result.run_requests}) == 2
    assert result.cursor is not None


def test_cursor_advances_and_the_next_tick_requests_nothing(instance, resources, events):
    first, _ = tick(instance, resources)
    apply_partitions(instance, first)
    second, _ = tick(instance, resources, first.cursor)
    assert second.run_requests == [] and second.dynamic_partitions_requests == []
    assert second.cursor == first.cursor
    assert "no new tagged GCN event" in second.skip_reason.skip_message
    # even from scratch (no cursor), known partitions are never requested twice
    again, _ = tick(instance, resources)
    assert again.run_requests == []


def test_a_later_event_moves_the_cursor(instance, resources, events, gcn_emulator, gcn_sky):
    first, _ = tick(instance, resources)
    apply_partitions(instance, first)
    later = recent_dateobs(1)
    stars = split_sky(gcn_sky.stars, 5)[0]
    post_event(gcn_emulator.fritz_url, later, ["GW"], stars)
    post_candidates(gcn_emulator.fritz_url, later, stars, "ZTF26late")
    second, _ = tick(instance, resources, first.cursor)
    assert [r.partition_key for r in second.run_requests] == [later]
    assert dt.datetime.fromisoformat(second.cursor) > dt.datetime.fromisoformat(first.cursor)


def test_untagged_events_are_skipped(instance, resources, events):
    result, _ = tick(instance, resources)
    keys = [k for r in result.dynamic_partitions_requests for k in r.partition_keys]
    assert events["other"] not in keys
    assert events["other"] not in [r.partition_key for r in result.run_requests]


def test_groups_come_from_the_configured_tags_and_are_never_mutated():
    tag_groups = {"GW": [GW_GROUP], "GRB": [GRB_GROUP], "Fermi": [GRB_GROUP]}
    snapshot = {k: list(v) for k, v in tag_groups.items()}
    assert post_group_ids(["GW"], tag_groups) == (GW_GROUP,)
    assert post_group_ids(["GRB", "Fermi"], tag_groups) == (GRB_GROUP,)
    assert post_group_ids(["GW", "GRB"], tag_groups) == (GRB_GROUP, GW_GROUP)
    assert post_group_ids(["GW"], tag_groups) == (GW_GROUP,)  # not the GW+GRB union above
    assert tag_groups == snapshot
    events = [
        {"dateobs": "2026-11-01T00:00:00", "created_at": "2026-11-01T00:01:00", "tags": ["GW"]},
        {"dateobs": "2026-11-02T00:00:00", "created_at": "2026-11-02T00:01:00", "tags": ["X"]},
    ]
    selection = select_new_events(events, None, set(), tag_groups)
    assert [c.key for c in selection.chosen] == ["2026-11-01T00:00:00"]
    assert selection.untagged == [("2026-11-02T00:00:00", ("X",))]
    assert selection.cursor == "2026-11-02T00:01:00"


@pytest.mark.parametrize(
    "fault",
    [
        {"status": 503, "count": 50},
        {"status": 500, "count": 50},
        {"status": 200, "delay_s": 1.5, "count": 50},
    ],
    ids=["503", "500", "timeout"],
)
def test_fritz_down_skips_the_tick_and_the_next_one_catches_up(
    instance, gcn_emulator, events, fault
):
    resources = {"fritz": fritz_resource(gcn_emulator, timeout_s=0.5), "gcn": GcnResource()}
    gcn_emulator.fritz.inject(path_regex="/api/gcn_event", **fault)
    down, context = tick(instance, resources, "2026-01-01T00:00:00")
    assert isinstance(down, dg.SkipReason)
    assert "Fritz unavailable" in down.skip_message
    assert context.cursor == "2026-01-01T00:00:00"
    assert instance.get_dynamic_partitions(PARTITIONS) == []
    gcn_emulator.fritz.faults.clear()
    back, _ = tick(instance, resources, "2026-01-01T00:00:00")
    assert {r.partition_key for r in back.run_requests} == {events["gw"], events["grb"]}


def test_event_without_sources_gets_a_partition_but_no_run(instance, resources, gcn_emulator):
    key = recent_dateobs(5)
    gcn_emulator.fritz_service.add_gcn_event(
        dt.datetime.fromisoformat(key), ["GW"], 0.0, -80.0, 0.1
    )
    result, _ = tick(instance, resources)
    assert [k for r in result.dynamic_partitions_requests for k in r.partition_keys] == [key]
    assert result.run_requests == []


# --------------------------------------------------------------------------- schedule


def rescan(instance, resources, when=None):
    when = when or dt.datetime.now(dt.UTC)
    with dg.build_schedule_context(
        instance=instance, scheduled_execution_time=when, resources=resources
    ) as context:
        return gcn_rescan(context)


def record_success(instance, request: dg.RunRequest) -> None:
    """A finished run of the GCN job for ``request`` (as the daemon would leave it)."""
    tags = {**request.tags, "dagster/run_key": request.run_key}
    run = dg.DagsterRun(job_name="gcn_event_job", tags=tags, status=dg.DagsterRunStatus.SUCCESS)
    instance.add_run(run)


def test_rescan_scores_only_events_that_gained_sources(
    instance, resources, events, gcn_emulator, gcn_sky
):
    instance.add_dynamic_partitions(PARTITIONS, [events["gw"], events["grb"]])
    first = rescan(instance, resources)
    assert {r.partition_key for r in first} == {events["gw"], events["grb"]}
    for request in first:
        record_success(instance, request)
    quiet = rescan(instance, resources)
    assert isinstance(quiet, dg.SkipReason)
    assert "gained sources" in quiet.skip_message
    west = split_sky(gcn_sky.stars, 7)[0]
    post_candidates(gcn_emulator.fritz_url, events["gw"], west.tail(2), "ZTF26new")
    again = rescan(instance, resources)
    assert [r.partition_key for r in again] == [events["gw"]]
    old_key = next(r.run_key for r in first if r.partition_key == events["gw"])
    assert again[0].run_key != old_key


def test_rescan_ignores_events_older_than_days_range(instance, resources, events):
    instance.add_dynamic_partitions(PARTITIONS, [events["gw"], events["grb"]])
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=7, hours=1)
    result = rescan(instance, resources, later)
    assert isinstance(result, dg.SkipReason)
    assert "none of 0 recent" in result.skip_message


def test_rescan_with_fritz_down_skips(instance, gcn_emulator, events):
    resources = {"fritz": fritz_resource(gcn_emulator), "gcn": GcnResource()}
    instance.add_dynamic_partitions(PARTITIONS, [events["gw"]])
    gcn_emulator.fritz.inject(status=502, path_regex="/api/sources", count=50)
    result = rescan(instance, resources)
    assert isinstance(result, dg.SkipReason) and "Fritz unavailable" in result.skip_message


def test_gcn_definitions_load_with_the_service_switch():
    from resources.services import service_resources
    from scope_assets.defs.definitions import default_resources
    from scope_assets.defs.gcn_assets import GCN_ASSETS
    from scope_assets.defs.gcn_automation import GCN_JOBS, GCN_SCHEDULES, GCN_SENSORS

    defs = dg.Definitions(
        assets=GCN_ASSETS,
        jobs=GCN_JOBS,
        sensors=GCN_SENSORS,
        schedules=GCN_SCHEDULES,
        resources={**default_resources(), **service_resources(), "gcn": GcnResource()},
    )
    dg.Definitions.validate_loadable(defs)
    job = defs.resolve_job_def("gcn_event_job")
    assert len(job.asset_layer.executable_asset_keys) == 7
    assert defs.resolve_schedule_def("gcn_rescan").cron_schedule == "0 */2 * * *"
