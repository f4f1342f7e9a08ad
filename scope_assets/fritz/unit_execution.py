"""Carry out one source's actions on Fritz, in the order that makes reruns safe.

Order: the source (create, or add to missing groups), photometry, plot and text comments,
annotations, then classification deletions and updates, and last the new classifications
(queued for a batch). If anything before the classifications fails, none of them is sent and
every row of the source is reported failed with Fritz's message; a rerun starts it again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from scope_assets.fritz.classification_batches import ClassificationPoster, PendingClassification
from scope_assets.fritz.fritz_client import FritzClient
from scope_assets.fritz.fritz_transport import FritzError
from scope_assets.fritz.photometry_upload import Photometry, attachment, render_plot
from scope_assets.fritz.upload_actions import SOURCE_ORIGIN, ClassItem, SourceUnit, UnitActions
from scope_assets.fritz.upload_plan import UploadOptions
from scope_assets.fritz.upload_results import UploadResults

MAX_PHOTOMETRY_ROWS = 10_000


@dataclass
class UnitContext:
    """What every source's work shares."""

    client: FritzClient
    options: UploadOptions
    results: UploadResults
    poster: ClassificationPoster
    photometry: dict[str, Photometry]
    instrument_id: int | None
    sources_created: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def created_one(self) -> None:
        with self._lock:
            self.sources_created += 1


def classification_payload(item: ClassItem, obj_id: str, options: UploadOptions) -> dict:
    """The ``POST /api/classification`` item SCoPe sends."""
    return {
        "obj_id": obj_id,
        "classification": item.planned.fritz_label,
        "taxonomy_id": item.planned.taxonomy_id,
        "probability": item.planned.probability,
        "origin": options.classification_origin,
        "group_ids": list(options.group_ids),
        "vote": options.post_upvote,
        "label": options.check_labelled_box,
        "ml": not options.no_ml,
    }


def _unit_period(unit: SourceUnit) -> float | None:
    return next((r.period for r in unit.rows if r.period is not None), None)


def _put_photometry(ctx: UnitContext, unit: SourceUnit, phot: Photometry | None) -> None:
    radius = ctx.options.radius_arcsec
    if phot is None or not len(phot):
        ctx.results.note(unit.first_row, f'no light curves within {radius:g}" on the sky source')
        return
    payload = phot.payload(unit.obj_id, ctx.instrument_id, ctx.options.group_ids)
    for start in range(0, len(phot), MAX_PHOTOMETRY_ROWS):
        part = {
            k: v[start : start + MAX_PHOTOMETRY_ROWS]
            if isinstance(v, list) and k != "group_ids"
            else v
            for k, v in payload.items()
        }
        ctx.client.put_photometry(part)
    ctx.results.note(unit.first_row, f"{len(phot)} photometry points")


def _wanted_comments(
    ctx: UnitContext, unit: SourceUnit, phot: Photometry | None, labels: list[str]
) -> list[tuple[str, Callable[[], bytes] | None, str]]:
    """(text, PNG renderer or None, attachment name) of every comment the source should have."""
    options, obj_id = ctx.options, unit.obj_id
    wanted: list[tuple[str, Callable[[], bytes] | None, str]] = []
    if options.comment:
        wanted.append((options.comment, None, ""))
    if not options.post_phot_as_comment:
        return wanted
    if phot is None or not len(phot):
        ctx.results.note(unit.first_row, "no photometry to plot")
        return wanted
    prefix = f"ZTF source within {options.radius_arcsec:g} arcsec of {obj_id}"
    title = f"{obj_id}\n({', '.join(labels)})"
    wanted.append((f"{prefix}: time series", lambda: render_plot(phot, title), f"{obj_id}.png"))
    period = _unit_period(unit)
    if options.post_phasefolded_phot and period is not None:
        wanted.append(
            (
                f"{prefix}: phase-folded",
                lambda: render_plot(phot, f"{title} P = {period:.6g} d", period),
                f"{obj_id}_phasefold.png",
            )
        )
    elif options.post_phasefolded_phot:
        ctx.results.note(unit.first_row, "no period: no phase-folded plot")
    return wanted


def _post_comments(
    ctx: UnitContext, unit: SourceUnit, phot: Photometry | None, labels: list[str]
) -> None:
    wanted = _wanted_comments(ctx, unit, phot, labels)
    if not wanted:
        return
    existing = {c.get("text") for c in ctx.client.get_comments(unit.obj_id)}
    for text, render, name in wanted:
        if text in existing:
            continue
        file = None
        if render is not None:
            png = render()
            plot_path = Path(ctx.options.phot_dirname) / name
            plot_path.parent.mkdir(parents=True, exist_ok=True)
            plot_path.write_bytes(png)
            file = attachment(png, name)
        ctx.client.post_comment(unit.obj_id, text, file, ctx.options.group_ids)


def _prepare_source(ctx: UnitContext, unit: SourceUnit, actions: UnitActions) -> None:
    """Everything about the source that must be on Fritz before its classifications."""
    client, options, obj_id = ctx.client, ctx.options, unit.obj_id
    if actions.create:
        client.post_source(obj_id, unit.ra, unit.dec, options.group_ids, origin=SOURCE_ORIGIN)
        ctx.created_one()
        ctx.results.note(unit.first_row, "source created")
    if actions.add_groups:
        client.save_to_groups(obj_id, actions.add_groups)
        ctx.results.note(unit.first_row, f"added to groups {actions.add_groups}")
    if actions.new_content:
        phot = ctx.photometry.get(obj_id)
        if not options.skip_phot:
            _put_photometry(ctx, unit, phot)
        labels = [i.planned.fritz_label for i in actions.post + actions.unchanged]
        _post_comments(ctx, unit, phot, labels)
    for a in actions.annotations:
        if a.annotation_id is None:
            client.post_annotation(obj_id, a.origin, a.data, options.group_ids)
        else:
            client.put_annotation(obj_id, a.annotation_id, a.data, a.origin)


def _note_rows(ctx: UnitContext, unit: SourceUnit, actions: UnitActions) -> None:
    touched = {i.row for i in actions.post + actions.unchanged} | {i.row for _, i in actions.update}
    for row in unit.rows:
        ctx.results.set_obj_id(row.row, unit.obj_id)
        if row.row in actions.duplicate_of:
            ctx.results.note(row.row, f"same source as row {actions.duplicate_of[row.row]}")
        elif row.row not in touched and ctx.options.classification:
            threshold = ctx.options.p_threshold
            ctx.results.note(row.row, f"nothing to post: no class >= {threshold:g}")


def _change_classifications(ctx: UnitContext, actions: UnitActions) -> None:
    for cid, row, why in actions.delete:
        try:
            ctx.client.delete_classification(cid)
            ctx.results.count(row, "deleted", note=f"deleted {why} classification {cid}")
        except FritzError as exc:
            ctx.results.count(row, "failed", note=f"delete {cid}: {exc.message}")
    for cid, item in actions.update:
        try:
            ctx.client.put(f"/api/classification/{cid}", {"probability": item.planned.probability})
            ctx.results.count(item.row, "updated")
        except FritzError as exc:
            ctx.results.count(item.row, "failed", note=f"{item.planned.fritz_label}: {exc.message}")
    for item in actions.unchanged:
        ctx.results.count(item.row, "unchanged", note="unchanged on Fritz")


def execute_unit(ctx: UnitContext, unit: SourceUnit, actions: UnitActions) -> None:
    """Send one source's actions; failures are recorded per row, never raised."""
    rows = [r.row for r in unit.rows]
    _note_rows(ctx, unit, actions)
    if actions.is_noop:
        _change_classifications(ctx, actions)
        ctx.results.settle(rows)
        return
    try:
        _prepare_source(ctx, unit, actions)
    except FritzError as exc:
        items = actions.post + [i for _, i in actions.update] + actions.unchanged
        for row in {i.row for i in items} or {unit.first_row}:
            ctx.results.count(row, "failed", note=exc.message)
        ctx.results.settle(rows)
        return
    _change_classifications(ctx, actions)
    pending = [
        PendingClassification(
            i.row, unit.obj_id, i.planned, classification_payload(i, unit.obj_id, ctx.options)
        )
        for i in actions.post
    ]
    if pending:
        ctx.poster.add(pending)
    else:
        ctx.results.settle(rows)
