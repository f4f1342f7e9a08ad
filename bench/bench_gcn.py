"""GCN latency: an event appears on Fritz → its candidates' classifications are on Fritz.

Runs the automation as deployed: ``scope-emulator`` and ``dagster-daemon`` as processes on a
temporary ``DAGSTER_HOME`` (``scope_assets.testing.gcn_stack``), a simulated sky with at least
``--sources`` stars, and a GW event whose localization holds ``--sources`` Fritz candidates,
created through the emulator's control routes. Prints the seconds of each stage: sensor pickup,
run queue and launch, every asset step, the time inside the run but outside the steps, and the
total from posting the event until the run finished with the classifications on Fritz.

The event is posted as soon as the sensor's first tick has finished, so the pickup here is the
worst case, about one sensor interval (30 s: 34 s measured with `--sources 5 --fast`; an event at
a random moment waits half the interval). The runs in the table below were measured with the
event posted after a fixed 15 s wait (~10 s after that tick: pickup ~22 s).
Before the stack starts, two light curves are cleaned and featurized as the run does, so that
numba's cache holds the run's compiled kernels, as in a deployment that has run once;
``--cold-kernels`` starts from an empty cache instead (a fresh install's first run compiles them,
~30 s on 2 cores).

Target: under 5 minutes for 200 sources on 2 cores (SCoPe's cron path waits up to 2 hours for
its next tick before the cluster job even starts). Usage::

    .venv/bin/python bench/bench_gcn.py                      # 200 sources, default settings
    .venv/bin/python bench/bench_gcn.py --sources 50 --fast  # the tests' small period grid

Measured (``bench/bench_gcn.py --sources 200``: 433 light curves of ~700 points over 1757 d,
843,000 trial frequencies each with SCoPe's default grid; 2-core VM shared with a model training
and other tests, "load" = mean 1-minute load average during the run; seconds):

=============================  =====  ======  ======  ========  =========  =======  =====
code                           load   pickup  launch  features  DNN, XGB   outside  total
=============================  =====  ======  ======  ========  =========  =======  =====
before, numba cache cold       4.3    46.9    7.4     336.4     10.7, 7.8  ~19      422.6
before, warm                   5.6    49.2    6.8     307.7     10.9, 4.3  19       397.1
before, warm                   3.2    51.9    6.5     221.9     11.7, 8.7  ~19      312.8
before, warm                   5.4    52.3    6.8     253.9     9.6, 2.9   ~18      342.7
before, warm                   3.4    52.6    7.1     222.9     9.7, 2.9   16       309.8
before, warm                   2.2    52.2    6.6     224.9     12.1, 3.1  17       316.0
after, warm                    2.8    21.8    6.4     181.3     5.2, 0.7   0.1      218.6
after, warm                    6.4    22.2    6.7     242.9     6.1, 0.5   0.4      282.0
after, warm                    3.8    22.4    7.1     251.0     6.3, 0.4   0.3      290.5
after, warm, 1 s run queue     3.0    22.7    2.6     246.0     5.1, 0.1   0.1      278.8
after, cold, 1 s run queue     2.5    22.7    2.6     218.0     8.7, 0.4   0.2      256.5
after, warm, 1 s run queue     1.3    23.0    2.6     142.6     5.4, 0.2   0.1      176.2
=============================  =====  ======  ======  ========  =========  =======  =====

Before: 60 s sensor, one subprocess per step (DNN and XGB side by side), 5 s run queue. After:
30 s sensor, the steps in the run's process, the run queue looked at every second. The other
steps take ~2 s together. The features are the period search (~0.6 CPU-s per light curve, both
cores through numba threads), whose wall time follows the load. Features, scores and posts are
bit-identical before and after (warm cache; a cold run's freshly compiled kernels picked another
near-equal CE minimum for 1 of the 433 light curves, before and after alike).
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


def _warm_kernels(sky, workdir: Path) -> float:
    """Clean and featurize two of the sky's light curves as the GCN run does (features from the
    cleaned file: read-only arrays, their own numba specializations), so that numba's cache
    holds the run's compiled kernels, as in a deployment that has run once; seconds."""
    import pandas as pd

    from scope_assets.config.scope_yaml import load_any_config
    from scope_assets.gcn.specific_ids import clean_specific_ids, cleaned_specific_ids_features
    from scope_assets.lightcurves.archive import LocalArchive
    from scope_assets.lightcurves.sky_source import ArchiveSkySource
    from scope_assets.testing.gcn_sky import FIELD

    start = time.perf_counter()
    archive = LocalArchive(sky.archive)
    ids = pd.DataFrame({"ztf_id": archive.source_ids(FIELD)["_id"].head(2), "fritz_name": None})
    source, config = ArchiveSkySource(archive), load_any_config(str(sky.config))[0]
    workdir.mkdir(parents=True, exist_ok=True)
    cleaned = workdir / "light_curves.parquet"
    clean_specific_ids(ids, source, config, cleaned)
    cleaned_specific_ids_features(ids, cleaned, source, config, workdir / "features.parquet")
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
    from scope_assets.testing.gcn_stack import start_gcn_stack, ticked_since, wait_for

    with tempfile.TemporaryDirectory(prefix="bench_gcn_") as tmp:
        root = Path(tmp)
        sky = _stars_for(args.sources, root / "sky", args.fast, args.seed)
        stars = sky.stars.sort_values("ra").head(args.sources)
        if args.cold_kernels:
            os.environ["NUMBA_CACHE_DIR"] = str(root / "numba_cache")
            warm = None
        else:
            warm = _warm_kernels(sky, root / "warm_up")
        with start_gcn_stack(
            root / "stack", sky.archive, sky.config, post_phot_as_comment=args.phot
        ) as stack:
            instance = stack.instance()
            wait_for(  # the daemon is up and its sensor has ticked once on an empty Fritz
                lambda: ticked_since(instance, "gcn_event_sensor", 0.0),
                args.timeout,
                "the first sensor tick",
                1.0,
            )
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
