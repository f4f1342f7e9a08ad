"""``get-quad-ids`` and ``get-features``: SCoPe's Kowalski download tools, with SCoPe's flags.

Both write SCoPe's layout under ``--output-dir`` (default: the current directory; see
``scope_assets.kowalski.downloads``), keep every page, and resume where a previous run stopped.

Connection settings come from the environment: ``KOWALSKI_URL`` (or ``KOWALSKI_PROTOCOL``,
``KOWALSKI_HOST``, ``KOWALSKI_PORT``), ``KOWALSKI_TOKEN`` (or ``KOWALSKI_USERNAME`` and
``KOWALSKI_PASSWORD``), and optionally ``KOWALSKI_TIMEOUT`` (seconds, default 300).
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TypeVar

import pandas as pd
from tqdm import tqdm

from scope_assets.cli.error_exit import cli_main, report_error
from scope_assets.errors import UsageError
from scope_assets.io import DataLayout
from scope_assets.kowalski.client import KowalskiClient, KowalskiError
from scope_assets.kowalski.downloads import (
    FeaturesRequest,
    QuadIdsRequest,
    download_features,
    download_quad_ids,
)
from scope_assets.kowalski.kowalski_sky import FEATURES_CATALOG

T = TypeVar("T")


def tqdm_track(items: Sequence[T], description: str) -> Iterable[T]:
    return tqdm(items, desc=description, unit="step")


def _range(values: Sequence[int], name: str) -> range:
    low, high = values
    if low > high:
        raise UsageError(f"{name}: first value {low} is above last value {high}")
    return range(low, high + 1)


def quads_of(args: argparse.Namespace) -> list[tuple[int, int]]:
    """Quadrants to process: --ccd/--quad alone (get-quad-ids without --multi-quads or
    --whole-field), else every pair of --ccd-range × --quad-range."""
    if hasattr(args, "ccd") and not (args.multi_quads or args.whole_field):
        return [(args.ccd, args.quad)]
    ccds = _range(args.ccd_range, "--ccd-range")
    quads = _range(args.quad_range, "--quad-range")
    return [(c, q) for c in ccds for q in quads]


def _common_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--field", type=int, required=True, help="ZTF field")
    parser.add_argument(
        "--ccd-range", type=int, nargs=2, default=[1, 16], metavar=("FIRST", "LAST")
    )
    parser.add_argument(
        "--quad-range", type=int, nargs=2, default=[1, 4], metavar=("FIRST", "LAST")
    )
    parser.add_argument(
        "--whole-field", action="store_true", help="one ids/features file for the field"
    )
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=Path.cwd(),
        help="root of ids/ and features/ (default: cwd)",
    )


def quad_ids_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="get-quad-ids", description="Light-curve ids of a ZTF field from Kowalski."
    )
    _common_flags(parser)
    parser.add_argument(
        "--catalog",
        default=FEATURES_CATALOG,
        help=f"Kowalski catalogue (default {FEATURES_CATALOG})",
    )
    parser.add_argument("--ccd", type=int, default=1, help="single ccd (without --multi-quads)")
    parser.add_argument(
        "--quad", type=int, default=1, help="single quadrant (without --multi-quads)"
    )
    parser.add_argument("--minobs", type=int, default=20, help="minimum points (nobs / n)")
    parser.add_argument(
        "--skip", type=int, default=0, help="ids to skip at the start of each quadrant"
    )
    parser.add_argument(
        "--limit", type=int, default=10_000, help="page size of each Kowalski query"
    )
    parser.add_argument(
        "--multi-quads", action="store_true", help="every quadrant of the ccd/quad ranges"
    )
    return parser


def features_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="get-features", description="Features of downloaded ids from Kowalski."
    )
    _common_flags(parser)
    parser.add_argument("--features-catalog", default=FEATURES_CATALOG)
    parser.add_argument("--limit-per-query", type=int, default=1000, help="ids per Kowalski query")
    parser.add_argument("--max-sources", type=int, default=100_000, help="rows per output file")
    parser.add_argument("--impute-missing-features", action="store_true")
    parser.add_argument(
        "--imputation-reference", type=Path, help="reference JSON (default: self-impute)"
    )
    parser.add_argument(
        "--write-csv", action="store_true", help="also write CSV next to each Parquet file"
    )
    parser.add_argument("--restart", action="store_true", help="download again even if files exist")
    return parser


def impute_downloaded_features(frame: pd.DataFrame, reference_path: Path | None) -> pd.DataFrame:
    """SCoPe's ``--impute-missing-features``: impute with a stored reference, or self-impute."""
    from scope_assets.config import load_config
    from scope_assets.features.imputation import (
        ImputationReference,
        build_imputation_reference,
        impute_features,
    )

    if reference_path is not None:
        reference = ImputationReference.from_json(reference_path)
    else:
        reference = build_imputation_reference(frame, load_config(), source="downloaded features")
    imputed, _ = impute_features(frame, reference)
    return imputed


def _client() -> KowalskiClient:
    return KowalskiClient.from_env()


@cli_main
def get_quad_ids_main(argv: Sequence[str] | None = None) -> int:
    args = quad_ids_parser().parse_args(argv)
    try:
        request = QuadIdsRequest(
            catalog=args.catalog,
            field=args.field,
            quads=quads_of(args),
            min_nobs=args.minobs,
            skip=args.skip,
            page_size=args.limit,
            whole_field=args.whole_field,
        )
        meta = download_quad_ids(_client(), args.output_dir, request, tqdm_track)
    except (KowalskiError, ValueError, OSError) as exc:
        return report_error(f"get-quad-ids: {exc}")
    print(
        f"{meta['total']} ids of field {args.field} in {DataLayout(args.output_dir).ids_dir(args.field)}"
    )
    return 0


@cli_main
def get_features_main(argv: Sequence[str] | None = None) -> int:
    args = features_parser().parse_args(argv)
    impute = None
    if args.impute_missing_features:

        def impute(frame: pd.DataFrame) -> pd.DataFrame:
            return impute_downloaded_features(frame, args.imputation_reference)

    try:
        request = FeaturesRequest(
            catalog=args.features_catalog,
            field=args.field,
            quads=quads_of(args),
            whole_field=args.whole_field,
            limit_per_query=args.limit_per_query,
            max_sources=args.max_sources,
            write_csv=args.write_csv,
            restart=args.restart,
            imputation_reference=args.imputation_reference,
        )
        meta = download_features(_client(), args.output_dir, request, impute, tqdm_track)
    except (KowalskiError, ValueError, OSError) as exc:
        return report_error(f"get-features: {exc}")
    print(
        f"{meta['total']} feature rows of field {args.field} in {args.output_dir / 'features' / f'field_{args.field}'}"
    )
    return 0
