"""``generate-features``: SCoPe's feature set for a local light-curve table or a field.

Flags follow SCoPe's ``generate-features`` where they exist (``--period-algorithms``,
``--max-freq``, ``--samples-per-peak``, ``--min-cadence-minutes``, ``--min-n-lc-points``,
``--doRemoveTerrestrial``, ``--top-n-periods``, ``--Ncore``). One difference: terrestrial
frequency removal is on by default (SCoPe's production runs set it); ``--no-doRemoveTerrestrial``
turns it off. ``--long-periods`` (not in SCoPe; on by default for ``--lightcurves``) lets the grid
reach one cycle over each light curve's span. ``--max-timestamp-hjd`` drops later points; for
``--lightcurves`` no limit applies unless it is given (a user's own table has no data release to
match; SCoPe's 2459951.5, the end of ZTF DR16, stays the default for fields).
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import TYPE_CHECKING

from tqdm import tqdm

from scope_assets.cli.error_exit import cli_main, report_error

if TYPE_CHECKING:
    from scope_assets.features.pipeline import CleaningSummary
from scope_assets.io.layout import specific_ids_field


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="generate-features", description=__doc__)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--lightcurves",
        type=Path,
        help="long table (Parquet/CSV: _id, hjd|mjd, mag, magerr[, catflags][, filter]"
        "[, ra, dec]) or a directory of IRSA light-curve files",
    )
    source.add_argument("--field", type=int, help="a field of the configured sky source")
    source.add_argument(
        "--doSpecificIDs",
        action="store_true",
        help="the light curves listed in --fg-dataset (ztf_id[, fritz_name]), e.g. from "
        "scope-download-gcn-sources",
    )
    parser.add_argument("--fg-dataset", type=Path, help="ids file of --doSpecificIDs")
    parser.add_argument(
        "--dirname",
        default="generated_features",
        help="--doSpecificIDs output directory under the data root (default: %(default)s)",
    )
    parser.add_argument(
        "--filename",
        help="--doSpecificIDs file name before _specific_ids (default gen_features_<ids stem>)",
    )
    parser.add_argument("--output", type=Path, help="output Parquet file (--lightcurves mode)")
    parser.add_argument("--archive", type=Path, help="local archive for cross-matches/alerts")
    parser.add_argument("--data-dir", help="data root (default $SCOPE_DATA_DIR or ./data)")
    add_tuning_arguments(parser)
    return parser


def add_tuning_arguments(parser: argparse.ArgumentParser) -> None:
    """``--config`` and SCoPe's feature-generation tuning flags (also run-scope-local's)."""
    parser.add_argument("--config", help="scope.yaml with overrides")
    parser.add_argument(
        "--period-algorithms", nargs="+", choices=["ELS", "ECE", "EAOV", "ELS_ECE_EAOV"]
    )
    parser.add_argument("--max-freq", type=float, help="highest trial frequency (1/day)")
    parser.add_argument("--samples-per-peak", type=int)
    parser.add_argument("--min-cadence-minutes", type=float)
    parser.add_argument("--min-n-lc-points", type=int)
    parser.add_argument(
        "--doRemoveTerrestrial", action=argparse.BooleanOptionalAction, default=None
    )
    parser.add_argument("--top-n-periods", type=int)
    parser.add_argument(
        "--long-periods",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="grid down to one cycle over each light curve's span (default: on for --lightcurves)",
    )
    parser.add_argument(
        "--max-timestamp-hjd",
        type=float,
        help="drop points after this HJD (default: the config's 2459951.5, the end of ZTF DR16; "
        "none for --lightcurves)",
    )
    parser.add_argument("--batch-size", type=int, help="light curves per batch (memory bound)")
    parser.add_argument("--Ncore", type=int, help="threads for the period search")


def apply_ncore(n_threads: int | None) -> None:
    """``--Ncore``: threads of the period search (at most numba's maximum)."""
    if n_threads:
        import numba

        numba.set_num_threads(min(n_threads, numba.config.NUMBA_NUM_THREADS))


def config_with_flags(args: argparse.Namespace):
    from pydantic import ValidationError

    from scope_assets.config import ConfigError, load_config
    from scope_assets.features.pipeline import lightcurves_mode

    config = load_config(args.config)
    if getattr(args, "lightcurves", None):
        config = lightcurves_mode(config)
    flags = {
        "period_algorithms": args.period_algorithms,
        "max_freq": args.max_freq,
        "samples_per_peak": args.samples_per_peak,
        "min_cadence_minutes": args.min_cadence_minutes,
        "min_n_lc_points": args.min_n_lc_points,
        "remove_terrestrial": args.doRemoveTerrestrial,
        "top_n_periods": args.top_n_periods,
        "long_periods": args.long_periods,
        "max_timestamp_hjd": args.max_timestamp_hjd,
        "batch_size": args.batch_size,
    }
    updates = {k: v for k, v in flags.items() if v is not None}
    try:
        fg = config.feature_generation.model_validate(
            config.feature_generation.model_dump() | updates
        )
    except ValidationError as exc:
        problems = "; ".join(f"{e['loc'][0]}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"invalid flag value ({problems})") from None
    return config.model_copy(update={"feature_generation": fg})


def features_for_table(
    path: Path, output: Path, sky, config, scratch_root: Path
) -> tuple[CleaningSummary, int]:
    """Features of every light curve in a long table, streamed into ``output``.

    ``scratch_root`` (the data root) holds temporary copies of the input.

    Returns (cleaning summary, feature rows written).
    """
    from scope_assets.features.feature_files import FeatureFileWriter
    from scope_assets.features.long_tables import iter_long_table
    from scope_assets.features.pipeline import (
        CleaningSummary,
        declared_feature_schema,
        feature_attrs,
        features_for_light_curves,
    )
    from scope_assets.io import atomic_path
    from scope_assets.lightcurves.irsa import read_irsa

    attrs = feature_attrs(config, input=str(path))
    summary = CleaningSummary()
    if path.is_dir():
        from scope_assets.lightcurves.irsa import find_irsa_files

        batches = [read_irsa(find_irsa_files(path))]
    else:
        batches = iter_long_table(
            path, config.feature_generation.batch_size, scratch_root=scratch_root
        )
    with tqdm(desc="light curves", unit="lc") as bar, atomic_path(output) as tmp:
        with FeatureFileWriter(tmp, attrs, declared_feature_schema(config)) as writer:
            for raw in batches:
                features, cleaning = features_for_light_curves(raw, sky, config)
                summary.add(cleaning)
                if len(features):
                    writer.write(features)
                bar.update(len(raw))
    return summary, writer.rows


def _specific_ids_main(args: argparse.Namespace, root: Path, sky, config) -> int:
    """``--doSpecificIDs``: ``<dirname>/specific_ids/<filename>_specific_ids.parquet``."""
    from scope_assets.gcn.specific_ids import (
        SpecificIdsError,
        read_specific_ids,
        specific_ids_features,
    )
    from scope_assets.io import DataLayout

    if args.fg_dataset is None:
        return report_error("--doSpecificIDs needs --fg-dataset")
    layout = DataLayout(root)
    filename = args.filename or f"{layout.features_prefix}_{args.fg_dataset.stem}"
    label = re.sub(r"^.*?features_", "", filename)
    field = specific_ids_field(label)
    output = layout.specific_ids_features_file(field, args.dirname).with_name(
        f"{specific_ids_field(filename)}.parquet"
    )
    try:
        ids = read_specific_ids(args.fg_dataset)
        with tqdm(total=len(ids), desc="features", unit="lc") as bar:
            n_read, n_rows = specific_ids_features(ids, sky, config, output, bar.update)
    except (FileNotFoundError, SpecificIdsError) as exc:
        return report_error(str(exc))
    print(f"{n_rows} of {n_read} light curves passed cleaning → {output}")
    print(f"score them with: run-inference --field {field}")
    return 0


@cli_main
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from scope_assets.config import data_root

    config = config_with_flags(args)
    apply_ncore(args.Ncore)
    root = data_root(args.data_dir)
    sky = None
    if args.archive or args.field is not None or args.doSpecificIDs:
        from scope_assets.lightcurves.archive import LocalArchive
        from scope_assets.lightcurves.sky_source import ArchiveSkySource

        sky = ArchiveSkySource(LocalArchive(args.archive or root / "archive"))
    if args.doSpecificIDs:
        return _specific_ids_main(args, root, sky, config)
    if args.lightcurves:
        output = args.output or root / "generated_features" / "specific_ids" / (
            f"gen_features_{args.lightcurves.stem}_specific_ids.parquet"
        )
        try:
            summary, n_rows = features_for_table(args.lightcurves, output, sky, config, root)
        except (FileNotFoundError, ValueError) as exc:
            message = str(exc)
            named = str(args.lightcurves) in message
            return report_error(message if named else f"{args.lightcurves}: {message}")
        print(summary.describe())
        print(f"{n_rows} of {summary.curves_in} light curves passed cleaning → {output}")
        return 0
    from scope_assets.features import field_steps as field_pipeline
    from scope_assets.io import DataLayout

    layout = DataLayout(root)
    ids = field_pipeline.fetch_quad_ids(sky, args.field, layout)
    with tqdm(total=len(ids), desc="cleaning", unit="lc") as bar:
        summary = field_pipeline.clean_field_light_curves(
            sky, args.field, layout, config, bar.update
        )
    print(summary.describe())
    with tqdm(desc="features", unit="lc") as bar:
        written = field_pipeline.compute_field_features(sky, args.field, layout, config, bar.update)
    print(f"{sum(written.values())} feature rows → {layout.features_dir(args.field)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
