"""GCN follow-up commands.

- ``scope-download-gcn-sources``  Fritz sources of a GCN event → ZTF light-curve ids around them
  (SCoPe's ``.parquet`` + ``.json``; the input of ``generate-features --doSpecificIDs``)
- ``combine-preds --merge-dnn-xgb``  one row per Fritz source (see :func:`merge_preds_main`)

Fritz connection: ``FRITZ_URL``/``FRITZ_TOKEN`` or ``--config-path`` (as the Fritz tools); light
curves from the local archive or Kowalski (``--sky-source kowalski``, ``KOWALSKI_*``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from scope_assets.cli.fritz_tools import (
    add_connection_flags,
    fritz_client,
    setup_logging,
    sky_source,
)
from scope_assets.gcn.event_sources import (
    DEFAULT_DAYS_RANGE,
    DEFAULT_RADIUS_ARCSEC,
    DEFAULT_SAVE_FILENAME,
    dateobs_label,
)
from scope_assets.io.layout import specific_ids_field


def add_sky_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", help="data root (default $SCOPE_DATA_DIR or ./data)")
    parser.add_argument("--sky-source", choices=["archive", "kowalski"], default="archive")
    parser.add_argument("--archive-dir", type=Path, help="local archive (default <data>/archive)")


def download_gcn_sources_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scope-download-gcn-sources",
        description="Fritz sources of a GCN event and the ZTF light curves around them.",
    )
    parser.add_argument("--dateobs", required=True, help="the event's dateobs (ISO)")
    parser.add_argument("--group-ids", type=int, nargs="*", default=[], help="Fritz groups")
    parser.add_argument("--days-range", type=float, default=DEFAULT_DAYS_RANGE)
    parser.add_argument("--radius-arcsec", type=float, default=DEFAULT_RADIUS_ARCSEC)
    parser.add_argument(
        "--save-filename",
        default=DEFAULT_SAVE_FILENAME,
        help="path stem under the data root (default: %(default)s)",
    )
    add_sky_flags(parser)
    add_connection_flags(parser)
    return parser


def download_gcn_sources_main(argv: Sequence[str] | None = None) -> int:
    args = download_gcn_sources_parser().parse_args(argv)
    setup_logging()
    from scope_assets.config import data_root
    from scope_assets.fritz.fritz_transport import FritzError
    from scope_assets.gcn.event_sources import download_gcn_sources

    root = data_root(args.data_dir)
    save = Path(args.save_filename)
    try:
        sky = sky_source(args.sky_source, args.archive_dir or root / "archive")
        with fritz_client(args) as client:
            result = download_gcn_sources(
                client,
                sky,
                args.dateobs,
                group_ids=args.group_ids,
                days_range=args.days_range,
                radius_arcsec=args.radius_arcsec,
                save_filename=save if save.is_absolute() else root / save,
            )
    except (FritzError, ValueError, OSError) as exc:
        print(f"scope-download-gcn-sources: {exc}", file=sys.stderr)
        return 2
    print(
        f"{len(result.fritz_sources)} Fritz sources, {len(result.ids)} ZTF light curves "
        f"→ {result.parquet_path} (+ .json)"
    )
    print(f"features: generate-features --doSpecificIDs --fg-dataset {result.parquet_path}")
    return 0


def merge_preds_main(args: argparse.Namespace) -> int:
    """combine-preds' GCN mode: ``--dateobs D`` merges field ``<D>_specific_ids`` into
    ``merged_GCN_sources_<D>``; ``--specific-field F`` merges F into ``merged_F``."""
    from scope_assets.cli.ml_shared_options import fail, layout_arg
    from scope_assets.ml.inference.combine_predictions import CombineError
    from scope_assets.ml.inference.gcn_merge import merge_gcn_predictions

    if args.dateobs:
        label = dateobs_label(args.dateobs)
        targets = [(specific_ids_field(label), f"GCN_sources_{label}")]
    elif args.fields:
        targets = [(field, field) for field in args.fields]
    else:
        return fail("--merge-dnn-xgb needs --dateobs or --specific-field")
    layout = layout_arg(args.data_dir)
    for field, name in targets:
        try:
            result = merge_gcn_predictions(
                layout,
                field,
                name,
                combined_dirname=args.combined_preds_dirname,
                dnn_directory=args.dnn_directory,
                xgb_directory=args.xgb_directory,
                agg_method=args.agg_method,
                p_threshold=args.p_threshold,
                save=not args.doNotSave,
                write_csv_file=args.write_csv,
            )
        except CombineError as exc:
            return fail(str(exc))
        print(f"{field}: {len(result.frame)} sources → {result.path or '(not saved)'}")
    return 0
