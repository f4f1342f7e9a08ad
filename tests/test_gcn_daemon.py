"""End to end with the real daemon: scope-emulator and dagster-daemon as processes on a temporary
DAGSTER_HOME; a GCN event with 50 candidates appears, the sensor adds its partition and a run
scores it, the candidates get their classifications; nothing more happens on later ticks; 10
new candidates make the rescan schedule score that event (and only it) again."""

from __future__ import annotations

import dagster as dg
import pytest
import requests

from scope_assets.emulator.fritz import separation_deg
from scope_assets.gcn.automation import EVENT_TAG
from scope_assets.testing.gcn_sky import (
    cone,
    post_candidates,
    post_event,
    recent_dateobs,
    simulated_sky,
)
from scope_assets.testing.gcn_stack import start_gcn_stack, ticked_since, wait_for

pytestmark = pytest.mark.slow
N_FIRST, N_MORE, N_OTHER = 50, 10, 1
RUN_TIMEOUT_S = 420
TICK_TIMEOUT_S = 180


def within(localization: tuple[float, float, float], stars) -> bool:
    ra, dec, radius = localization
    return any(
        separation_deg(r, d, ra, dec) <= radius for r, d in zip(stars.ra, stars.dec, strict=True)
    )


def runs_of(instance, key: str, statuses=None) -> list:
    filters = dg.RunsFilter(job_name="gcn_event_job", tags={EVENT_TAG: key}, statuses=statuses)
    return instance.get_run_records(filters=filters)


def successful_runs(instance, key: str) -> list:
    failed = runs_of(instance, key, [dg.DagsterRunStatus.FAILURE])
    assert not failed, f"GCN run failed for {key}"
    return runs_of(instance, key, [dg.DagsterRunStatus.SUCCESS])


def last_run_end(instance, keys: list[str]) -> float:
    """When the last run of these events finished (epoch seconds)."""
    return max(record.end_time for key in keys for record in runs_of(instance, key))


def classified(stack, names: list[str]) -> set[str]:
    """Candidates with at least one SCoPe classification on the emulator's Fritz."""
    headers = {"Authorization": f"token {stack.token}"}
    done = set()
    for name in names:
        reply = requests.get(
            f"{stack.fritz_url}/api/sources/{name}/classifications", headers=headers, timeout=5
        )
        if reply.ok and any(c["origin"] == "SCoPe" for c in reply.json()["data"]):
            done.add(name)
    return done


def scored_names(stack, key: str) -> set[str]:
    from scope_assets.defs.gcn_assets import combined_dirname, merged_name
    from scope_assets.io import read_parquet

    path = stack.data / combined_dirname(key) / f"merged_{merged_name(key)}.parquet"
    return set(read_parquet(path)["obj_id"])


def test_daemon_scores_a_new_event_once_and_rescans_new_sources(tmp_path):
    sky = simulated_sky(tmp_path / "sky", 150, seed=3)
    assert len(sky.stars) >= N_FIRST + N_MORE + N_OTHER
    ordered = sky.stars.sort_values("ra").reset_index(drop=True)
    first = ordered.iloc[:N_FIRST]
    more = ordered.iloc[N_FIRST : N_FIRST + N_MORE]
    other = ordered.iloc[-N_OTHER:]
    key, other_key = recent_dateobs(2), recent_dateobs(40)
    assert not within(cone(other), ordered.iloc[: N_FIRST + N_MORE])
    assert not within(cone(ordered.iloc[: N_FIRST + N_MORE]), other)
    with start_gcn_stack(tmp_path / "stack", sky.archive, sky.config) as stack:
        post_event(stack.fritz_url, key, ["GW"], ordered.iloc[: N_FIRST + N_MORE])
        names = post_candidates(stack.fritz_url, key, first, "ZTF26e2e")
        post_event(stack.fritz_url, other_key, ["GRB"], other)
        post_candidates(stack.fritz_url, other_key, other, "ZTF26oth")
        instance = stack.instance()
        try:
            wait_for(
                lambda: key in instance.get_dynamic_partitions("gcn_events"),
                120,
                "the sensor adds the event partition",
            )
            wait_for(lambda: successful_runs(instance, key), RUN_TIMEOUT_S, "a successful run")
            wait_for(lambda: successful_runs(instance, other_key), RUN_TIMEOUT_S, "other event")
            above = wait_for(
                lambda: classified(stack, names), 30, "classifications on the candidates"
            )
            assert scored_names(stack, key) == set(names)
            assert len(above) >= N_FIRST // 2

            # later sensor ticks (30 s) and schedule ticks (every minute here) request nothing
            done = last_run_end(instance, [key, other_key])
            for name in ("gcn_event_sensor", "gcn_rescan"):
                wait_for(
                    lambda name=name: ticked_since(instance, name, done),
                    TICK_TIMEOUT_S,
                    f"a {name} tick after the runs finished",
                )
            assert len(runs_of(instance, key)) == 1 and len(runs_of(instance, other_key)) == 1

            new_names = post_candidates(stack.fritz_url, key, more, "ZTF26new")
            wait_for(lambda: len(successful_runs(instance, key)) == 2, RUN_TIMEOUT_S, "rescan run")
            rescan = successful_runs(instance, key)[0].dagster_run
            assert rescan.tags.get("dagster/schedule_name") == "gcn_rescan"
            assert len(runs_of(instance, other_key)) == 1
            assert scored_names(stack, key) == set(names) | set(new_names)
        except (TimeoutError, AssertionError):
            print(stack.log("daemon")[-5000:])
            raise
