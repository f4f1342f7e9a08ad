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


def run_scope_local_parser() -> argparse.ArgumentParser:
    from scope_assets.cli.features import add_tuning_arguments
    from scope_assets.ml.backends.registry import ALGORITHMS
    from scope_assets.ml.training.labels import DEMO_GROUP

    parser = argparse.ArgumentParser(
        prog="run-scope-local",
        description="Features and scores for the sources of a table (ZTF ids or ra/dec, plus "
        "an object id), in directories named by a UTC timestamp (printed).",
    )
    parser.add_argument("--path-dataset", type=Path, required=True, help="CSV/HDF5/Parquet")
    parser.add_argument("--cone-radius-arcsec", type=float, default=2.0)
    parser.add_argument(
        "--save-sources-filepath",
        default="sources.parquet",
        help="ids table (ztf_id, fritz_name) under the data root (default: %(default)s)",
    )
    parser.add_argument("--algorithms", nargs="+", choices=list(ALGORITHMS), default=["dnn", "xgb"])
    parser.add_argument(
        "--group-names", nargs="+", help=f"model group per algorithm (default: {DEMO_GROUP})"
    )
    parser.add_argument("--dirname", default="generated_features", help="features directory stem")
    parser.add_argument("--filename", default="gen_features", help="features file stem")
    parser.add_argument("--models-dir", help="models root (default $SCOPE_MODELS_DIR or models/)")
    parser.add_argument("--write-csv", action="store_true")
    add_sky_flags(parser)
    add_tuning_arguments(parser)
    return parser


def _score_local(layout, field: str, feature_dir: str, args, config) -> list[str]:
    """Every (algorithm, group) on the features file; returns one line per output."""
    from scope_assets.ml.inference.field_inference import predict_field
    from scope_assets.ml.model_files.either_layout import group_model_paths, load_model_paths
    from scope_assets.ml.model_files.models_root import resolve_models_root
    from scope_assets.ml.training.labels import DEMO_GROUP

    groups = args.group_names or [DEMO_GROUP] * len(args.algorithms)
    if len(groups) != len(args.algorithms):
        raise ValueError("--group-names needs one group per --algorithms entry")
    lines = []
    for algorithm, group in zip(args.algorithms, groups, strict=True):
        paths, tags = group_model_paths(
            resolve_models_root(args.models_dir), algorithm, group, config
        )
        models = load_model_paths(paths, tags, algorithm, config)
        result = predict_field(
            layout,
            field,
            algorithm,
            models,
            config,
            feature_directory=feature_dir,
            write_csv=args.write_csv,
        )
        lines.append(f"{algorithm} ({group}): {result.rows_out} rows → {result.path}")
    return lines


def run_scope_local_main(argv: Sequence[str] | None = None) -> int:
    """SCoPe's ``run-scope-local``: ids → features → scores, no checkpoint, no upload."""
    import datetime as dt

    from tqdm import tqdm

    from scope_assets.cli.features import apply_ncore, config_with_flags
    from scope_assets.config import ConfigError, data_root
    from scope_assets.gcn.dataset_sources import dataset_ids, read_dataset_sources
    from scope_assets.gcn.specific_ids import specific_ids_features
    from scope_assets.io import DataLayout, write_table
    from scope_assets.ml.model_errors import InputError, ModelError

    args = run_scope_local_parser().parse_args(argv)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H-%M-%S")
    print(f"run-scope-local: timestamp {stamp}")
    try:
        config = config_with_flags(args)
        apply_ncore(args.Ncore)
        layout = DataLayout(data_root(args.data_dir))
        sky = sky_source(args.sky_source, args.archive_dir or layout.archive_dir)
        ids = dataset_ids(read_dataset_sources(args.path_dataset), sky, args.cone_radius_arcsec)
        sources_path = write_table(ids, layout.root / args.save_sources_filepath)
        print(f"{len(ids)} light curves of the table's sources → {sources_path}")
        field, feature_dir = specific_ids_field(stamp), f"{args.dirname}_{stamp}"
        output = layout.specific_ids_features_file(field, feature_dir, args.filename)
        with tqdm(total=len(ids), desc="features", unit="lc") as bar:
            n_read, n_rows = specific_ids_features(ids, sky, config, output, bar.update)
        print(f"{n_rows} of {n_read} light curves passed cleaning → {output}")
        lines = _score_local(layout, field, feature_dir, args, config)
    except (ConfigError, InputError, ModelError, ValueError, OSError) as exc:
        print(f"run-scope-local: {exc}", file=sys.stderr)
        return 2
    print("\n".join(lines))
    print(f"run-scope-local: done; outputs carry the timestamp {stamp}")
    return 0
