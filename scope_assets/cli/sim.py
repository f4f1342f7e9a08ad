"""``scope-sim``: write a simulated ZTF field to a local archive."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from tqdm import tqdm

from scope_assets.cli.error_exit import cli_main, report_error
from scope_assets.config import data_root
from scope_assets.io import DataLayout
from scope_assets.sim import DEMO_N_SOURCES, simulate_field


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scope-sim",
        description="Simulate a ZTF field (light curves with known classes, Gaia/AllWISE/PS1 "
        "rows, alerts, truth table) into a local archive.",
    )
    parser.add_argument(
        "--archive",
        type=Path,
        default=None,
        help="archive directory (default: $SCOPE_DATA_DIR/archive or ./data/archive)",
    )
    parser.add_argument("--field", type=int, default=296, help="ZTF field number (default 296)")
    parser.add_argument(
        "--n-sources",
        type=int,
        default=DEMO_N_SOURCES,
        help=f"number of light curves; each star has g, r and sometimes i "
        f"(default {DEMO_N_SOURCES})",
    )
    parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    parser.add_argument(
        "--overwrite", action="store_true", help="replace an existing archive at that path"
    )
    return parser


@cli_main
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    archive = args.archive or DataLayout(data_root()).archive_dir
    started = time.perf_counter()
    try:
        with tqdm(total=args.n_sources, desc="simulating", unit="lc", delay=0.5) as bar:
            path = simulate_field(
                archive,
                field=args.field,
                n_sources=args.n_sources,
                seed=args.seed,
                overwrite=args.overwrite,
                progress=bar.update,
            )
    except (FileExistsError, ValueError) as exc:
        return report_error(str(exc))
    elapsed = time.perf_counter() - started
    print(f"wrote field {args.field} ({args.n_sources} light curves) to {path} in {elapsed:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
