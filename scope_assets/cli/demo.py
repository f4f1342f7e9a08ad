"""``scope-demo``: the platform on the embedded default (simulated sky + local archive).

1. Builds the demo sky where it is missing: field 296 (400 light curves; the model evaluation
   uses it) and two small fields, 297 and 298, added beside it.
2. Records the committed demo models in the Dagster instance (``<data>/dagster_home``) as
   materializations of ``xgb_models``/``dnn_models`` (data version: manifest fingerprint).
3. Backfills the ``field_pipeline`` job over the fields, as the UI's "Launch backfill" does:
   ``dagster dev`` afterwards lists the backfill and its runs in the Backfills tab.
4. Runs the ``reports`` job: training statistics and feature importance of the committed models
   (nothing is retrained) and DNN vs XGB over every field.
5. Prints one line per field and where the outputs are (paths relative to the data root).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from scope_assets.cli.error_exit import cli_main

DAGSTER_YAML = "telemetry:\n  enabled: false\n"
DEMO_SKY = {296: 400, 297: 60, 298: 60}
"""Light curves per demo field: a few minutes of SCoPe-grid period search on 2 cores."""
SMALL_FIELD = 60
SUMMARY_ASSETS = ("light_curves", "features", "combined_predictions")


def _dagster_home(root: Path) -> Path:
    home = Path(os.environ.get("DAGSTER_HOME") or root / "dagster_home").resolve()
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").exists():
        (home / "dagster.yaml").write_text(DAGSTER_YAML)
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def _build_sky(archive: Path, sizes: dict[int, int]) -> None:
    """Simulate the fields the archive does not hold yet."""
    from tqdm import tqdm

    from scope_assets.sim import add_field
    from scope_assets.sim.archive_writer import archive_fields

    for field, n_sources in sizes.items():
        if field in archive_fields(archive):
            continue
        print(f"Simulating field {field} ({n_sources} light curves) into {archive} ...")
        with tqdm(total=n_sources, desc=f"field {field}", unit="lc") as bar:
            add_field(archive, field, n_sources=n_sources, progress=bar.update)


def _field_line(instance, run) -> str:
    from scope_assets.defs.launching import latest_materialization

    field = run.tags.get("dagster/partition", "?")
    rows = []
    for asset in SUMMARY_ASSETS:
        event = latest_materialization(instance, asset, field)
        rows.append(event.metadata["dagster/row_count"].value if event else "-")
    comparison = latest_materialization(instance, "dnn_xgb_comparison", field)
    agreement = "-"
    if comparison:
        by_class = comparison.metadata["agreement_by_class"].value
        agreement = f"{sum(by_class.values()) / max(len(by_class), 1):.2f}"
    cells = [field, run.run_id[:8], run.status.value, *map(str, rows), agreement]
    return "  " + "".join(f"{c:<14}" for c in cells)


def _print_paths(instance, assets: list[str], partition: str | None) -> None:
    import dagster as dg

    from scope_assets.defs.launching import latest_materialization

    for asset in assets:
        event = latest_materialization(instance, asset, partition)
        for name, value in event.metadata.items() if event else []:
            if isinstance(value, dg.PathMetadataValue):
                print(f"  {asset:<24} {name:<26} {value.value}")


def _run_demo(home: Path, root: Path, fields: list[int]) -> int:
    from resources.storage import StorageResource
    from scope_assets.defs.definitions import FIELD_PIPELINE_ASSETS, REPORTS
    from scope_assets.defs.launching import (
        backfill_runs,
        in_process_instance,
        run_backfill,
        run_job,
        workspace,
    )
    from scope_assets.defs.model_lineage import record_models

    instance = in_process_instance(home)
    reported = record_models(instance, StorageResource().models_root())
    print(f"Recorded {len(reported)} committed models in the instance {home}")
    keys = [str(f) for f in fields]
    with workspace(instance) as context:
        print(f"Backfilling field_pipeline over fields {', '.join(keys)} ...")
        title = f"scope-demo: fields {', '.join(keys)}"
        backfill = run_backfill(context, "field_pipeline", keys, title)
        print("Running the reports job ...")
        reports = run_job(context, "reports")
    runs = backfill_runs(instance, backfill.backfill_id)
    header = ["field", "run", "status", "light curves", "features", "scored", "agreement"]
    print(f"\nBackfill {backfill.backfill_id} ({title}): {backfill.status.value}")
    print("  " + "".join(f"{h:<14}" for h in header))
    for run in runs:
        print(_field_line(instance, run))
    print(f"Reports run {reports.run_id[:8]}: {reports.status.value}")
    print(f"\nOutputs of field {keys[0]} (paths relative to the data root {root}):")
    _print_paths(instance, [a.key.to_user_string() for a in FIELD_PIPELINE_ASSETS], keys[0])
    print("Reports:")
    _print_paths(instance, [a.key.to_user_string() for a in REPORTS], None)
    print(
        f"\nBrowse the runs: DAGSTER_HOME={home} .venv/bin/dagster dev -w workspace.yaml "
        f"(Backfills tab: {backfill.backfill_id})"
    )
    failed = [r for r in runs if not r.is_success] + ([] if reports.is_success else [reports])
    if failed or len(runs) != len(keys):
        print("Some runs failed; see the log above.", file=sys.stderr)
        return 1
    return 0


@cli_main
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scope-demo", description=__doc__)
    parser.add_argument("--data-dir", help="data root (default $SCOPE_DATA_DIR or ./data)")
    parser.add_argument(
        "--fields", type=int, nargs="+", default=list(DEMO_SKY), help="fields (default 296-298)"
    )
    parser.add_argument(
        "--n-sources", type=int, default=None, help="light curves of each field to simulate"
    )
    args = parser.parse_args(argv)

    from scope_assets.config import data_root
    from scope_assets.io import DataLayout

    root = data_root(args.data_dir)
    os.environ["SCOPE_DATA_DIR"] = str(root)
    home = _dagster_home(root)
    sizes = {f: args.n_sources or DEMO_SKY.get(f, SMALL_FIELD) for f in args.fields}
    _build_sky(DataLayout(root).archive_dir, sizes)
    return _run_demo(home, root, list(sizes))


if __name__ == "__main__":
    raise SystemExit(main())
