"""GCN latency: an event appears on Fritz → its candidates' classifications are on Fritz.

Runs the automation as deployed: ``scope-emulator`` and ``dagster-daemon`` as processes on a
temporary ``DAGSTER_HOME`` (``scope_assets.testing.gcn_stack``), a simulated sky with at least
``--sources`` stars, and a GW event whose localization holds ``--sources`` Fritz candidates,
created through the emulator's control routes. Prints the seconds of each stage: sensor pickup
(the sensor ticks every 60 s), run queue and launch, every asset step, and the total from
posting the event until the run finished with the classifications on Fritz.

Target: under 5 minutes for 200 sources on 2 cores (SCoPe's cron path waits up to 2 hours for
its next tick before the cluster job even starts). Usage::

    .venv/bin/python bench/bench_gcn.py                      # 200 sources, default settings
    .venv/bin/python bench/bench_gcn.py --sources 50 --fast  # the tests' small period grid
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

LIGHT_CURVES_PER_STAR = 2.3
"""The simulator's light curves per star (filters, fields); sizes the simulated sky."""


def _stars_for(sources: int, root: Path, fast: bool, seed: int):
    from scope_assets.testing.gcn_sky import simulated_sky

    n = int(sources * LIGHT_CURVES_PER_STAR) + 20
    sky = simulated_sky(root, n, seed=seed)
    if len(sky.stars) < sources:
        raise SystemExit(f"the simulated sky has {len(sky.stars)} stars < {sources}")
    if not fast:
        sky.config.write_text("")
    return sky


def _step_seconds(instance, run_id: str) -> dict[str, float]:
    import dagster as dg

    starts, seconds = {}, {}
    records = instance.get_records_for_run(
        run_id, of_type={dg.DagsterEventType.STEP_START, dg.DagsterEventType.STEP_SUCCESS}
    ).records
    for record in records:
        entry = record.event_log_entry
        step = entry.step_key
        if entry.dagster_event.event_type == dg.DagsterEventType.STEP_START:
            starts[step] = entry.timestamp
        else:
            seconds[step] = entry.timestamp - starts.get(step, entry.timestamp)
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=int, default=200)
    parser.add_argument("--fast", action="store_true", help="the tests' small period grid")
    parser.add_argument("--phot", action="store_true", help="post light curves as comments")
    parser.add_argument("--timeout", type=float, default=1200.0)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args(argv)

    import dagster as dg

    from scope_assets.gcn.automation import EVENT_TAG
    from scope_assets.testing.gcn_sky import post_candidates, post_event, recent_dateobs
    from scope_assets.testing.gcn_stack import start_gcn_stack, wait_for

    with tempfile.TemporaryDirectory(prefix="bench_gcn_") as tmp:
        root = Path(tmp)
        sky = _stars_for(args.sources, root / "sky", args.fast, args.seed)
        stars = sky.stars.sort_values("ra").head(args.sources)
        with start_gcn_stack(
            root / "stack", sky.archive, sky.config, post_phot_as_comment=args.phot
        ) as stack:
            instance = stack.instance()
            time.sleep(15)  # let the daemon start and tick once on an empty Fritz
            key = recent_dateobs(1)
            posted = time.time()
            post_event(stack.fritz_url, key, ["GW"], stars)
            post_candidates(stack.fritz_url, key, stars, "ZTF26bench")
            filters = dg.RunsFilter(job_name="gcn_event_job", tags={EVENT_TAG: key})

            def finished():
                runs = instance.get_run_records(filters=filters)
                return runs and runs[0].dagster_run.is_finished and runs[0]

            record = wait_for(finished, args.timeout, "the GCN run", 1.0)
            done = time.time()
            run = record.dagster_run
            if run.status != dg.DagsterRunStatus.SUCCESS:
                print(stack.log("daemon")[-3000:])
                raise SystemExit(f"run {run.run_id} ended {run.status}")
            steps = _step_seconds(instance, run.run_id)
            created = record.create_timestamp.timestamp()
            started = record.start_time or created
    print(
        f"GCN event with {args.sources} Fritz sources ({'fast' if args.fast else 'default'} "
        f"feature settings), 2-core machine:"
    )
    print(f"  {'sensor pickup (event posted → run created)':<46} {created - posted:7.1f} s")
    print(f"  {'run queue + launch (created → started)':<46} {started - created:7.1f} s")
    for step, seconds in steps.items():
        print(f"  {step:<46} {seconds:7.1f} s")
    print(f"  {'total: event posted → classifications on Fritz':<46} {done - posted:7.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
