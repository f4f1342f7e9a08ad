"""Which Fritz source each input row belongs to.

Rows are matched on the sky against the target groups' sources read in advance (no request);
only the rest are looked up on Fritz (SCoPe's cone search, or ``GET /api/sources/<obj_id>``
with ``--use-existing-obj-id``), in parallel. Rows with no source on Fritz are grouped by
position (a star's g, r and i light curves become one new source) and named after their first
row. A row whose lookup fails (Fritz gave no answer after retries) is reported, not guessed.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from scope_assets.fritz.fritz_client import FritzClient
from scope_assets.fritz.fritz_snapshot import (
    FritzSource,
    SourceIndex,
    choose_source,
    source_by_id,
    sources_near,
)
from scope_assets.fritz.fritz_transport import FritzError
from scope_assets.fritz.upload_actions import SourceUnit, cluster_new_rows, new_unit
from scope_assets.fritz.upload_plan import RowPlan, UploadOptions


def _resolve_locally(
    index: SourceIndex, row: RowPlan, options: UploadOptions
) -> FritzSource | None:
    if row.obj_id is not None:
        return index.get(row.obj_id)
    return choose_source(
        index.near(row.ra, row.dec, options.radius_arcsec),
        row.survey_id,
        options.match_ids,
        options.survey_id_origin,
    )


def _look_up(
    client: FritzClient, row: RowPlan, options: UploadOptions
) -> FritzSource | None | FritzError:
    """The row's source on Fritz (None: not there; the error when Fritz could not say)."""
    try:
        return _ask_fritz(client, row, options)
    except FritzError as exc:
        return exc


def _ask_fritz(client: FritzClient, row: RowPlan, options: UploadOptions) -> FritzSource | None:
    if row.obj_id is not None:
        return source_by_id(client, row.obj_id)
    return choose_source(
        sources_near(client, row.ra, row.dec, options.radius_arcsec),
        row.survey_id,
        options.match_ids,
        options.survey_id_origin,
    )


def resolve_units(
    client: FritzClient,
    index: SourceIndex,
    rows: list[RowPlan],
    options: UploadOptions,
    pool: ThreadPoolExecutor,
) -> tuple[list[SourceUnit], dict[int, str]]:
    """(one unit per Fritz source the rows belong to, row → why it could not be matched).

    Rows are matched against the prefetched group sources first; the others are looked up on
    Fritz in parallel; rows still without a source are grouped into new sources.
    """
    units: dict[str, SourceUnit] = {}
    failures: dict[int, str] = {}

    def attach(source: FritzSource, row: RowPlan) -> None:
        unit = units.setdefault(
            source.obj_id, SourceUnit(source.obj_id, source.ra, source.dec, [], source)
        )
        unit.rows.append(row)

    lookups = []
    for row in rows:
        local = _resolve_locally(index, row, options)
        if local is None:
            lookups.append(row)
        else:
            attach(local, row)
    new_rows = []
    for row, found in zip(
        lookups, pool.map(lambda r: _look_up(client, r, options), lookups), strict=True
    ):
        if isinstance(found, FritzError):
            failures[row.row] = f"could not look the source up: {found.message}"
        elif found is None:
            new_rows.append(row)
        else:
            attach(found, row)
    named: dict[str, list[RowPlan]] = {}
    for row in (r for r in new_rows if r.obj_id is not None):
        named.setdefault(row.obj_id, []).append(row)
    groups = list(named.values()) + cluster_new_rows(
        [r for r in new_rows if r.obj_id is None], options.radius_arcsec
    )
    for group in groups:
        unit = new_unit(group)
        if unit.obj_id in units:
            units[unit.obj_id].rows.extend(group)
        else:
            units[unit.obj_id] = unit
    for unit in units.values():
        unit.rows.sort(key=lambda r: r.row)
    return sorted(units.values(), key=lambda u: u.first_row), failures
