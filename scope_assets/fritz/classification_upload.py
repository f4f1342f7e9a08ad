"""``scope-upload-classification``: post a table of scores to Fritz, idempotently and resumably.

The steps, and what each costs in requests:

1. Check the input (no request; :mod:`scope_assets.fritz.upload_plan`) and the mapper's
   columns against the config.
2. Read, never write: the token's user, its groups (unknown ``--group-ids`` stop the run
   here), the taxonomies (the mapper is validated against them), the instrument.
3. Read the target groups' sources, 500 per request, and match rows to them on the sky;
   rows without a match get SCoPe's cone search (in parallel).
4. Work out per source what must change (:mod:`scope_assets.fritz.upload_actions`), then run
   the sources in parallel (``options.parallel`` threads, under the client's rate limit):
   create the source or add it to missing groups, photometry and plots, annotations,
   updates and deletions; new classifications go out in batches
   (:mod:`scope_assets.fritz.classification_batches`), each source's last.
5. Remove duplicate copies a retried request may have left, write the result file.

Because a source's classifications are posted after everything else about it, a source whose
classifications are all on Fritz is complete, and a rerun (after a crash, or of the same file)
sends nothing for it. The function never raises for a failing row: it is reported in the
result file and the summary, and the other rows go on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from scope_assets.config import ScopeConfig
from scope_assets.fritz.classification_batches import (
    ClassificationPoster,
    remove_duplicates,
    run_start_marker,
)
from scope_assets.fritz.fritz_client import FritzClient
from scope_assets.fritz.fritz_snapshot import (
    check_groups,
    my_user_id,
    prefetch_sources,
)
from scope_assets.fritz.fritz_transport import FritzError
from scope_assets.fritz.photometry_upload import LightCurveLookup, Photometry
from scope_assets.fritz.row_matching import resolve_units
from scope_assets.fritz.taxonomy_mappers import (
    TaxonomyMapper,
    known_columns,
    load_mapper,
    validate_mapper,
)
from scope_assets.fritz.unit_execution import UnitContext, execute_unit
from scope_assets.fritz.upload_actions import (
    SourceUnit,
    UnitActions,
    plan_unit_actions,
)
from scope_assets.fritz.upload_plan import (
    UploadInputError,
    UploadOptions,
    UploadPlan,
    build_upload_plan,
)
from scope_assets.fritz.upload_results import (
    UploadResults,
    UploadSummary,
    result_paths,
    summarize,
)
from scope_assets.io import write_table
from scope_assets.lightcurves.sky_source import SkySource

logger = logging.getLogger(__name__)
Progress = Callable[[int], None]


@dataclass
class PreparedUpload:
    """An upload checked against the input and the config, before any request."""

    plan: UploadPlan
    mapper: TaxonomyMapper | None
    input_path: Path
    result_path: Path
    obj_id_path: Path
    table: pd.DataFrame = field(repr=False)


def prepare_upload(
    table: pd.DataFrame, input_path: Path, options: UploadOptions, config: ScopeConfig
) -> PreparedUpload:
    """Every check that needs no request; raises UploadInputError/MapperError naming the problem."""
    mapper = load_mapper(options.taxonomy_map) if options.taxonomy_map else None
    if mapper is not None:
        unknown = [c for c in mapper.columns if c not in known_columns(config)]
        if unknown:
            raise UploadInputError(f"{mapper.source}: entries {unknown}: unknown column")
    plan = build_upload_plan(table, options, mapper, str(input_path))
    result_path, obj_id_path = result_paths(
        input_path, Path(options.result_dir), options.result_filetag, options.result_format
    )
    return PreparedUpload(plan, mapper, input_path, result_path, obj_id_path, table)


def _photometry(
    units: list[tuple[SourceUnit, UnitActions]],
    sky: SkySource | None,
    options: UploadOptions,
    config: ScopeConfig,
) -> dict[str, Photometry]:
    """Photometry of the sources that get new content (read once per field)."""
    if not options.needs_light_curves or sky is None:
        return {}
    targets = [
        (unit.obj_id, field, unit.ra, unit.dec)
        for unit, actions in units
        if actions.new_content
        and (field := next((r.ztf_field for r in unit.rows if r.ztf_field is not None), None))
        is not None
    ]
    lookup = LightCurveLookup(
        sky, options.radius_arcsec, config.feature_generation.max_timestamp_hjd
    )
    return lookup.photometry(targets)


def _connect(
    client: FritzClient, prepared: PreparedUpload, options: UploadOptions
) -> tuple[int, int | None]:
    """(user id, instrument id): reads only; stops the run on an unknown group or mapper entry."""
    user_id = my_user_id(client)
    check_groups(client, options.group_ids)
    if prepared.mapper is not None:
        validate_mapper(prepared.mapper, client.get_taxonomies())
    instrument_id = None if options.skip_phot else client.instrument_id(options.instrument_name)
    return user_id, instrument_id


def _write_obj_ids(prepared: PreparedUpload, results: UploadResults) -> Path:
    table = prepared.table.copy()
    obj_ids = table["obj_id"].astype(object).tolist() if "obj_id" in table else [""] * len(table)
    for _, result in results.frame().iterrows():
        if result["obj_id"]:
            obj_ids[int(result["row"])] = result["obj_id"]
    table["obj_id"] = obj_ids
    return write_table(table, prepared.obj_id_path)


def upload_classifications(
    client: FritzClient,
    prepared: PreparedUpload,
    options: UploadOptions,
    config: ScopeConfig,
    *,
    sky: SkySource | None = None,
    progress: Progress | None = None,
) -> UploadSummary:
    """Run a prepared upload (see the module docstring); returns counts and the result path."""
    if options.needs_light_curves and sky is None:
        raise UploadInputError("photometry needs a sky source (or use --skip-phot)")
    since = run_start_marker()
    user_id, instrument_id = _connect(client, prepared, options)
    index = prefetch_sources(client, options.group_ids)
    rows = prepared.plan.rows
    results = UploadResults(
        [r.row for r in rows],
        prepared.result_path.with_name(prepared.result_path.name + ".journal.jsonl"),
    )
    with ThreadPoolExecutor(max_workers=max(1, options.parallel)) as pool:
        units, unmatched = resolve_units(client, index, rows, options, pool)
        for row, why in unmatched.items():
            results.count(row, "failed", note=why)
        if progress is not None and unmatched:
            progress(len(unmatched))
        planned = [(u, plan_unit_actions(u, user_id, options)) for u in units]
        photometry = _photometry(planned, sky, options, config)
        poster = ClassificationPoster(
            client,
            user_id,
            options.classification_origin,
            results,
            options.batch_size,
            on_settled=results.settle,
        )
        context = UnitContext(client, options, results, poster, photometry, instrument_id)

        def run(item: tuple[SourceUnit, UnitActions]) -> None:
            execute_unit(context, *item)
            if progress is not None:
                progress(len(item[0].rows))

        list(pool.map(run, planned))
        poster.flush()
    removed, check_error = 0, None
    try:
        removed = remove_duplicates(
            client, user_id, options.classification_origin, since, poster.posted, results
        )
    except FritzError as exc:
        check_error = exc.message
        logger.warning("duplicate check failed: %s", exc)
    attrs = {"input": str(prepared.input_path), "group_ids": list(options.group_ids)}
    result_path = results.write(prepared.result_path, attrs)
    obj_id_path = _write_obj_ids(prepared, results) if options.write_obj_id else None
    return summarize(
        results, context.sources_created, removed, result_path, obj_id_path, check_error
    )
