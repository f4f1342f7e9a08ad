"""End-to-end feature generation throughput and peak memory on a simulated field.

Simulates a field (default 2,000 light curves), then runs the field pipeline's cleaning and
feature steps (SCoPe's grid: 48 c/d, 10 samples per peak, terrestrial removal, all four period
algorithms, Fourier, dm-dt, cross-matches) with all cores, and prints light curves per second
and the peak resident memory of the process.

    .venv/bin/python bench/bench_field_features.py [--n-light-curves 2000]
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path

from scope_assets.config import load_config
from scope_assets.features import field_steps as field_pipeline
from scope_assets.io import DataLayout
from scope_assets.lightcurves.archive import LocalArchive
from scope_assets.lightcurves.sky_source import ArchiveSkySource
from scope_assets.sim import simulate_field


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n-light-curves", type=int, default=2000)
    args = parser.parse_args()
    config = load_config()
    with tempfile.TemporaryDirectory() as tmp:
        layout = DataLayout(Path(tmp))
        simulate_field(layout.archive_dir, field=296, n_sources=args.n_light_curves, seed=1)
        sky = ArchiveSkySource(LocalArchive(layout.archive_dir))
        start = time.perf_counter()
        field_pipeline.fetch_quad_ids(sky, 296, layout)
        summary = field_pipeline.clean_field_light_curves(sky, 296, layout, config)
        cleaned = time.perf_counter()
        written = field_pipeline.compute_field_features(sky, 296, layout, config)
        done = time.perf_counter()
    n = summary.curves_kept
    peak_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(
        f"cores: {os.cpu_count()}  light curves: {summary.curves_in} in, {n} kept, "
        f"{sum(written.values())} feature rows"
    )
    print(
        f"cleaning: {cleaned - start:.1f} s; features: {done - cleaned:.1f} s "
        f"({n / (done - cleaned):.2f} light curves/s)"
    )
    print(f"peak memory: {peak_gib:.2f} GiB")


if __name__ == "__main__":
    main()
