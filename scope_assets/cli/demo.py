"""``scope-demo``: the main job on the embedded default (simulated sky + local archive).

Builds the simulated sky if it is absent, materializes every field-pipeline asset for the demo
field in a persistent Dagster instance (``<data>/dagster_home``, so ``dagster dev`` shows the
runs afterwards), then the training reports of the committed demo models (label distribution,
recall/precision, feature importance: read from ``models/``, nothing is retrained), and prints
where the outputs are.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from scope_assets.cli.error_exit import cli_main

DAGSTER_YAML = "telemetry:\n  enabled: false\n"
DEMO_LIGHT_CURVES = 400
"""Light curves in the demo sky: a few minutes of SCoPe-grid period search on 2 cores."""


def _dagster_home(root: Path) -> Path:
    home = Path(os.environ.get("DAGSTER_HOME") or root / "dagster_home").resolve()
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").exists():
        (home / "dagster.yaml").write_text(DAGSTER_YAML)
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def _print_paths(result) -> None:
    """Every file path in the run's materialization metadata, one line each."""
    import dagster as dg

    for event in result.get_asset_materialization_events():
        key = event.asset_key.to_user_string()
        for name, value in event.materialization.metadata.items():
            if isinstance(value, dg.PathMetadataValue):
                print(f"  {key:<24} {name:<26} {value.value}")


@cli_main
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scope-demo", description=__doc__)
    parser.add_argument("--data-dir", help="data root (default $SCOPE_DATA_DIR or ./data)")
    parser.add_argument("--field", type=int, default=None, help="field (default: the demo field)")
    parser.add_argument("--n-sources", type=int, default=None, help="light curves to simulate")
    args = parser.parse_args(argv)

    from scope_assets.config import data_root

    root = data_root(args.data_dir)
    os.environ["SCOPE_DATA_DIR"] = str(root)
    home = _dagster_home(root)

    import dagster as dg
    from tqdm import tqdm

    from scope_assets.defs.definitions import (
        DEMO_ASSETS,
        DEMO_CHECKS,
        DEMO_TRAINING_REPORTS,
        default_resources,
    )
    from scope_assets.defs.partitions import DEMO_FIELD
    from scope_assets.io import DataLayout
    from scope_assets.sim import simulate_field

    field = args.field or DEMO_FIELD
    layout = DataLayout(root)
    if not (layout.archive_dir / "manifest.json").exists():
        n_sources = args.n_sources or DEMO_LIGHT_CURVES
        print(f"Simulating field {field} ({n_sources} light curves) into {layout.archive_dir} ...")
        with tqdm(total=n_sources, desc="simulating", unit="lc") as bar:
            simulate_field(
                layout.archive_dir, field=field, n_sources=n_sources, progress=bar.update
            )
    print(f"Materializing field {field} (Dagster instance {home}) ...")
    instance = dg.DagsterInstance.get()
    field_run = dg.materialize(
        [*DEMO_ASSETS, *DEMO_CHECKS],
        partition_key=str(field),
        resources=default_resources(),
        instance=instance,
    )
    if not field_run.success:
        print("The demo run failed; see the log above.", file=sys.stderr)
        return 1
    print("Materializing the training reports of the committed demo models ...")
    reports_run = dg.materialize(
        DEMO_TRAINING_REPORTS, resources=default_resources(), instance=instance
    )
    if not reports_run.success:
        print("The training-report run failed; see the log above.", file=sys.stderr)
        return 1
    print("\nOutputs:")
    for result in (field_run, reports_run):
        _print_paths(result)
    print(f"\nBrowse the runs: DAGSTER_HOME={home} .venv/bin/dagster dev -w workspace.yaml")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
