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
import os
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


def _warm_kernels(sky) -> float:
    """Featurize two of the sky's light curves with the run's settings, so numba's cache holds
    the compiled kernels before the event, as in a deployment that has run once; seconds."""
    from scope_assets.config.scope_yaml import load_any_config
    from scope_assets.features.pipeline import features_for_light_curves
    from scope_assets.lightcurves.archive import LocalArchive
    from scope_assets.lightcurves.sky_source import ArchiveSkySource
    from scope_assets.testing.gcn_sky import FIELD

    start = time.perf_counter()
    archive = LocalArchive(sky.archive)
    ids = archive.source_ids(FIELD)["_id"].head(2).tolist()
    source = ArchiveSkySource(archive)
    raw = next(source.iter_light_curves(FIELD, ids=ids))
    features_for_light_curves(raw, source, load_any_config(str(sky.config))[0])
    return time.perf_counter() - start


def _step_intervals(instance, run_id: str) -> dict[str, tuple[float, float]]:
    """(start, end) timestamps of every step of the run."""
    import dagster as dg

    starts, intervals = {}, {}
    records = instance.get_records_for_run(
        run_id, of_type={dg.DagsterEventType.STEP_START, dg.DagsterEventType.STEP_SUCCESS}
    ).records
    for record in records:
        entry = record.event_log_entry
        step = entry.step_key
        if entry.dagster_event.event_type == dg.DagsterEventType.STEP_START:
            starts[step] = entry.timestamp
        else:
            intervals[step] = (starts.get(step, entry.timestamp), entry.timestamp)
    return intervals


def _covered(intervals) -> float:
    """Seconds covered by the union of the intervals (steps may run side by side)."""
    total, end = 0.0, -float("inf")
    for lo, hi in sorted(intervals):
        total += max(0.0, hi - max(lo, end))
        end = max(end, hi)
    return total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=int, default=200)
    parser.add_argument("--fast", action="store_true", help="the tests' small period grid")
    parser.add_argument("--phot", action="store_true", help="post light curves as comments")
    parser.add_argument("--timeout", type=float, default=1200.0)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument(
        "--cold-kernels",
        action="store_true",
        help="an empty numba cache: the run compiles the kernels (a fresh install's first run)",
    )
    args = parser.parse_args(argv)

    import dagster as dg

    from scope_assets.defs.gcn_automation import SENSOR_INTERVAL_S
    from scope_assets.gcn.automation import EVENT_TAG
    from scope_assets.testing.gcn_sky import post_candidates, post_event, recent_dateobs
    from scope_assets.testing.gcn_stack import start_gcn_stack, wait_for

    with tempfile.TemporaryDirectory(prefix="bench_gcn_") as tmp:
        root = Path(tmp)
        sky = _stars_for(args.sources, root / "sky", args.fast, args.seed)
        stars = sky.stars.sort_values("ra").head(args.sources)
        if args.cold_kernels:
            os.environ["NUMBA_CACHE_DIR"] = str(root / "numba_cache")
            warm = None
        else:
            warm = _warm_kernels(sky)
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
            steps = _step_intervals(instance, run.run_id)
            created = record.create_timestamp.timestamp()
            started = record.start_time or created
            ended = record.end_time or done
    print(
        f"GCN event with {args.sources} Fritz sources ({'fast' if args.fast else 'default'} "
        f"feature settings), 2-core machine:"
    )
    kernels = "cold (compiled in the run)" if warm is None else f"warm ({warm:.1f} s before)"
    print(f"  numba kernel cache: {kernels}; sensor every {SENSOR_INTERVAL_S} s")
    print(f"  {'sensor pickup (event posted → run created)':<46} {created - posted:7.1f} s")
    print(f"  {'run queue + launch (created → started)':<46} {started - created:7.1f} s")
    for step, (lo, hi) in steps.items():
        print(f"  {step:<46} {hi - lo:7.1f} s")
    between = ended - started - _covered(steps.values())
    print(f"  {'outside steps (step launch, imports, events)':<46} {between:7.1f} s")
    print(f"  {'total: event posted → classifications on Fritz':<46} {done - posted:7.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
