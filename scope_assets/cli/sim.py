"""``scope-sim``: write simulated ZTF fields to a local archive, or add them to one."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from tqdm import tqdm

from scope_assets.cli.error_exit import cli_main, report_error
from scope_assets.config import data_root
from scope_assets.io import DataLayout
from scope_assets.sim import DEMO_N_SOURCES, add_field, simulate_field
from scope_assets.sim.archive_writer import archive_fields


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scope-sim",
        description="Simulate ZTF fields (light curves with known classes, Gaia/AllWISE/PS1 "
        "rows, alerts, truth table) into a local archive; fields not in the archive are added "
        "beside the ones there.",
    )
    parser.add_argument(
        "--archive",
        type=Path,
        default=None,
        help="archive directory (default: $SCOPE_DATA_DIR/archive or ./data/archive)",
    )
    parser.add_argument(
        "--fields",
        "--field",
        type=int,
        nargs="+",
        default=[296],
        help="ZTF field numbers to simulate (default 296)",
    )
    parser.add_argument(
        "--n-sources",
        type=int,
        default=DEMO_N_SOURCES,
        help=f"number of light curves per field; each star has g, r and sometimes i "
        f"(default {DEMO_N_SOURCES})",
    )
    parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    replace = parser.add_mutually_exclusive_group()
    replace.add_argument(
        "--overwrite", action="store_true", help="replace the whole archive at that path"
    )
    replace.add_argument(
        "--overwrite-field",
        action="store_true",
        help="replace the given fields if the archive holds them (the other fields stay)",
    )
    return parser


def _refused(archive: Path, args: argparse.Namespace) -> str | None:
    """Why the request cannot run before anything is simulated (None when it can)."""
    if args.overwrite or args.overwrite_field:
        return None
    present = sorted(set(args.fields) & set(archive_fields(archive)))
    if not present:
        return None
    return (
        f"field(s) {present} already in archive {archive}; pass --overwrite-field to replace "
        f"them (or --overwrite to replace the whole archive)"
    )


def _simulate(archive: Path, field: int, first: bool, args: argparse.Namespace) -> None:
    with tqdm(total=args.n_sources, desc=f"field {field}", unit="lc", delay=0.5) as bar:
        if first and args.overwrite:
            simulate_field(archive, field, args.n_sources, args.seed, True, bar.update)
        else:
            add_field(archive, field, args.n_sources, args.seed, args.overwrite_field, bar.update)


@cli_main
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    archive = args.archive or DataLayout(data_root()).archive_dir
    fields = list(dict.fromkeys(args.fields))
    try:
        reason = _refused(archive, args)
        if reason:
            raise FileExistsError(reason)
        for i, field in enumerate(fields):
            started = time.perf_counter()
            _simulate(archive, field, i == 0, args)
            elapsed = time.perf_counter() - started
            print(
                f"wrote field {field} ({args.n_sources} light curves) to {archive} "
                f"in {elapsed:.1f} s"
            )
    except (FileExistsError, ValueError) as exc:
        return report_error(str(exc))
    print(f"archive {archive} holds fields {archive_fields(archive)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
