"""SCoPe's Fritz tools with SCoPe's command names and flags.

- ``scope-upload-classification``  post scores to Fritz (idempotent, resumable, batched)
- ``scope-download-classification``  labelled Fritz sources → SCoPe's training-set files
- ``scope-manage-annotation``  post / update / delete annotations
- ``scope-taxonomy-map``  write a taxonomy mapper generated from the config's class table
- ``scope-post-taxonomy``  post a tdtax taxonomy YAML

Connection: ``FRITZ_URL`` and ``FRITZ_TOKEN`` from the environment, or the ``fritz:`` section
of a SCoPe ``config.yaml`` given with ``--config-path``; never a token on the command line.
Exit status: 0 success, 1 some rows failed (the summary and the result file say which), 2 bad
input or setup (nothing was sent).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from scope_assets.cli.error_exit import cli_main, report_error
from scope_assets.fritz.fritz_client import FritzClient
from scope_assets.fritz.fritz_settings import FritzSettingsError, fritz_client_from_settings
from scope_assets.fritz.fritz_transport import FritzError

SETUP_ERRORS = (ValueError, OSError)
"""Bad input, mapper, config or file problems (UploadInputError, MapperError, … are ValueErrors)."""


def add_connection_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config-path", help="SCoPe config.yaml whose fritz: section to use (else FRITZ_URL/TOKEN)"
    )
    parser.add_argument(
        "--rate-limit", type=float, default=4.0, help="requests per second (0: no limit)"
    )


def fritz_client(args: argparse.Namespace) -> FritzClient:
    return fritz_client_from_settings(
        args.config_path, rate_limit_per_s=args.rate_limit or None, rate_limit_burst=5
    )


def fail(prog: str, exc: BaseException) -> int:
    """``error: <prog>: <exc>`` (secrets redacted); the bad-input exit code."""
    return report_error(f"{prog}: {exc}")


def setup_logging() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")


# --------------------------------------------------------------------------- upload


def upload_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="scope-upload-classification", description="Upload classifications to Fritz."
    )
    p.add_argument("--file", required=True, help="table (.parquet, .h5, .csv) of scores")
    p.add_argument("--group-ids", type=int, nargs="+", required=True, help="Fritz group ids")
    p.add_argument("--classification", nargs="+", help="score columns, or 'read' (all mapped)")
    p.add_argument("--taxonomy-map", help="mapper JSON (path, or a shipped name)")
    p.add_argument("--comment", help="a comment to post on every source")
    p.add_argument("--start", type=int, help="first row (zero-based)")
    p.add_argument("--stop", type=int, help="last row (inclusive)")
    p.add_argument("--classification-origin", default="SCoPe")
    p.add_argument("--skip-phot", action="store_true", help="no photometry upload")
    p.add_argument("--post-survey-id", action="store_true", help="annotate the survey_id column")
    p.add_argument("--survey-id-origin", default="SCoPe_xmatch")
    p.add_argument("--p-threshold", type=float, default=0.0, help="post classes with p >= this")
    p.add_argument("--match-ids", action="store_true", help="match sources by survey_id first")
    p.add_argument("--use-existing-obj-id", action="store_true", help="obj_id column names sources")
    p.add_argument("--post-upvote", action="store_true", help="upvote the new classifications")
    p.add_argument("--check-labelled-box", action="store_true", help="mark sources labelled")
    p.add_argument("--write-obj-id", action="store_true", help="write the input with obj_id")
    p.add_argument("--result-dir", default="fritzUpload")
    p.add_argument("--result-filetag", default="fritzUpload")
    p.add_argument("--result-format", default="parquet", help="parquet, h5 or csv")
    p.add_argument("--replace-classifications", action="store_true")
    p.add_argument("--radius-arcsec", type=float, default=2.0, help="source match radius")
    p.add_argument("--no-ml", action="store_true", help="classifications not marked ML")
    p.add_argument("--post-phot-as-comment", action="store_true", help="time-series plot comment")
    p.add_argument("--post-phasefolded-phot", action="store_true", help="phase-folded plot too")
    p.add_argument("--phot-dirname", default="phot_plots", help="where plots are saved")
    p.add_argument("--instrument-name", default="ZTF")
    p.add_argument("--parallel", type=int, default=4, help="sources worked on at once")
    p.add_argument("--batch-size", type=int, default=100, help="classifications per request")
    p.add_argument("--sky-source", choices=["archive", "kowalski"], default="archive")
    p.add_argument("--archive-dir", type=Path, help="local archive (default <data root>/archive)")
    add_connection_flags(p)
    return p


def upload_options(args: argparse.Namespace):
    from scope_assets.fritz.upload_plan import UploadOptions

    names = set(UploadOptions.__dataclass_fields__) - {"group_ids", "classification"}
    return UploadOptions(
        group_ids=tuple(args.group_ids),
        classification=tuple(args.classification) if args.classification else None,
        **{name: getattr(args, name) for name in names},
    )


def sky_source(kind: str, archive_dir: Path | None):
    """The sky source photometry comes from: the local archive or Kowalski (KOWALSKI_* env)."""
    if kind == "kowalski":
        from scope_assets.kowalski.client import KowalskiClient
        from scope_assets.kowalski.kowalski_sky import KowalskiSkySource

        return KowalskiSkySource(KowalskiClient.from_env())
    from scope_assets.config import data_root
    from scope_assets.lightcurves.archive import LocalArchive
    from scope_assets.lightcurves.sky_source import ArchiveSkySource

    return ArchiveSkySource(LocalArchive(archive_dir or data_root() / "archive"))


@cli_main
def upload_main(argv: Sequence[str] | None = None) -> int:
    from tqdm import tqdm

    from scope_assets.config import load_config
    from scope_assets.fritz.classification_upload import prepare_upload, upload_classifications
    from scope_assets.io import read_table
    from scope_assets.kowalski.client import KowalskiError

    prog = "scope-upload-classification"
    args = upload_parser().parse_args(argv)
    setup_logging()
    try:
        options = upload_options(args)
        config = load_config()
        prepared = prepare_upload(read_table(args.file), Path(args.file), options, config)
        client = fritz_client(args)
        sky = sky_source(args.sky_source, args.archive_dir) if options.needs_light_curves else None
    except (FritzSettingsError, *SETUP_ERRORS) as exc:
        return fail(prog, exc)
    with client, tqdm(total=len(prepared.plan.rows), desc="upload", unit="row") as bar:
        try:
            summary = upload_classifications(
                client, prepared, options, config, sky=sky, progress=bar.update
            )
        except (FritzError, KowalskiError, *SETUP_ERRORS) as exc:
            return fail(prog, exc)
    print(summary.describe())
    if not summary.ok:
        print(f"{prog}: some rows failed; see {summary.result_path}", file=sys.stderr)
        return 1
    return 0


# --------------------------------------------------------------------------- download


def download_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="scope-download-classification",
        description="Download classified sources from Fritz (and merge them with features).",
    )
    p.add_argument("--file", default="parse", help="'parse' (page through --group-ids) or a table")
    p.add_argument("--group-ids", type=int, nargs="+", default=[], help="Fritz group ids")
    p.add_argument("--start", type=int, help="first page (parse mode)")
    p.add_argument("--merge-features", action="store_true", help="join features from Kowalski")
    p.add_argument("--features-catalog", default="ZTF_source_features_DR16")
    p.add_argument("--features-limit", type=int, default=1000, help="positions/ids per query")
    p.add_argument("--taxonomy-map", default="golden_dataset_mapper.json")
    p.add_argument("--output-dir", default="fritzDownload")
    p.add_argument("--output-filename", default="merged_classifications_features")
    p.add_argument("--output-format", choices=["parquet", "h5", "csv"], default="parquet")
    p.add_argument("--get-ztf-filters", action="store_true", help="add the filter of each ztf_id")
    p.add_argument("--impute-missing-features", action="store_true")
    p.add_argument("--update-training-set", action="store_true", help="append to --training-set")
    p.add_argument("--updated-training-set-prefix", default="updated_AL")
    p.add_argument("--min-vote-diff", type=int, default=1, help="net votes a label needs (update)")
    p.add_argument("--training-set", help="training set to update (default: the project's)")
    p.add_argument("--parallel", type=int, default=4, help="sources fetched at once")
    add_connection_flags(p)
    return p


@cli_main
def download_main(argv: Sequence[str] | None = None) -> int:
    from tqdm import tqdm

    from scope_assets.config import data_root, load_config
    from scope_assets.fritz.classification_download import DownloadOptions
    from scope_assets.fritz.download_merge import download_classifications
    from scope_assets.kowalski.client import KowalskiClient, KowalskiError
    from scope_assets.ml.training.training_set import training_set_path

    prog = "scope-download-classification"
    args = download_parser().parse_args(argv)
    setup_logging()
    fields = set(DownloadOptions.__dataclass_fields__) - {"group_ids", "training_set"}
    options = DownloadOptions(
        group_ids=tuple(args.group_ids),
        training_set=args.training_set or str(training_set_path(data_root() / "training")),
        **{name: getattr(args, name) for name in fields},
    )
    try:
        kowalski = KowalskiClient.from_env() if options.merge_features else None
        with fritz_client(args) as client, tqdm(desc="download", unit="source") as bar:
            result = download_classifications(client, options, load_config(), kowalski, bar.update)
    except (FritzError, KowalskiError, FritzSettingsError, *SETUP_ERRORS) as exc:
        return fail(prog, exc)
    print(f"{len(result.sources)} sources in {result.sources_path}")
    if result.merge is not None:
        print(f"{len(result.merge.merged)} rows with features in {result.merge.merged_path}")
        if result.merge.training_set_path is not None:
            print(f"updated training set: {result.merge.training_set_path}")
    return 0


# --------------------------------------------------------------------------- annotations


@cli_main
def manage_annotation_main(argv: Sequence[str] | None = None) -> int:
    from scope_assets.fritz.annotation_tool import (
        ACTIONS,
        annotation_targets,
        manage_annotations,
    )

    prog = "scope-manage-annotation"
    p = argparse.ArgumentParser(prog=prog, description="Post, update or delete annotations.")
    p.add_argument("--action", choices=ACTIONS, required=True)
    p.add_argument("--source", required=True, help="an obj_id, or a table with obj_id (+ <key>)")
    p.add_argument("--group-ids", type=int, nargs="+", help="groups of a new annotation")
    p.add_argument("--origin", required=True, help="annotation origin")
    p.add_argument("--key", required=True, help="key in the annotation's data")
    p.add_argument("--value", help="value (else the table's <key> column)")
    p.add_argument("--parallel", type=int, default=4, help="sources worked on at once")
    add_connection_flags(p)
    args = p.parse_args(argv)
    setup_logging()
    try:
        targets = annotation_targets(args.source, args.key, args.value, args.action)
        with fritz_client(args) as client:
            outcomes = manage_annotations(
                client, args.action, targets, args.origin, args.key, args.group_ids, args.parallel
            )
    except (FritzError, FritzSettingsError, *SETUP_ERRORS) as exc:
        return fail(prog, exc)
    counts = outcomes["status"].value_counts().to_dict()
    print(", ".join(f"{n} {status}" for status, n in sorted(counts.items())))
    failed = outcomes[outcomes["status"] == "failed"]
    for row in failed.itertuples():
        print(f"{prog}: {row.obj_id}: {row.detail}", file=sys.stderr)
    return 1 if len(failed) else 0


# --------------------------------------------------------------------------- taxonomy


@cli_main
def taxonomy_map_main(argv: Sequence[str] | None = None) -> int:
    from scope_assets.config import load_config
    from scope_assets.fritz.taxonomy_mappers import MAPPER_FILES, build_mapper, write_mapper

    p = argparse.ArgumentParser(
        prog="scope-taxonomy-map", description="Write a taxonomy mapper from the config's classes."
    )
    p.add_argument("--kind", choices=list(MAPPER_FILES), required=True)
    p.add_argument("--output", type=Path, help="file to write (default: SCoPe's file name)")
    args = p.parse_args(argv)
    try:
        mapper = build_mapper(load_config(), args.kind)
        path = write_mapper(mapper, args.output or Path(MAPPER_FILES[args.kind]))
    except SETUP_ERRORS as exc:
        return fail("scope-taxonomy-map", exc)
    print(f"{len(mapper)} entries in {path}")
    return 0


@cli_main
def post_taxonomy_main(argv: Sequence[str] | None = None) -> int:
    from scope_assets.fritz.taxonomy_post import post_taxonomy, read_hierarchy

    prog = "scope-post-taxonomy"
    p = argparse.ArgumentParser(prog=prog, description="Post a tdtax taxonomy YAML to Fritz.")
    p.add_argument("--taxonomy", required=True, type=Path, help="tdtax YAML file")
    p.add_argument("--name", required=True)
    p.add_argument("--version", required=True)
    p.add_argument("--provenance", required=True, help="where the taxonomy comes from (URL)")
    p.add_argument("--group-ids", type=int, nargs="+", help="groups (default: all of yours)")
    add_connection_flags(p)
    args = p.parse_args(argv)
    setup_logging()
    try:
        hierarchy = read_hierarchy(args.taxonomy)
        with fritz_client(args) as client:
            taxonomy_id, posted = post_taxonomy(
                client, hierarchy, args.name, args.version, args.provenance, args.group_ids
            )
    except (FritzError, FritzSettingsError, *SETUP_ERRORS) as exc:
        return fail(prog, exc)
    print(
        f"taxonomy {args.name} {args.version}: id {taxonomy_id}"
        + ("" if posted else " (already on Fritz)")
    )
    return 0
