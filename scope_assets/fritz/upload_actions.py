"""Per source: what must change on Fritz so it shows what the file says (pure, no requests).

Rows are gathered into one :class:`SourceUnit` per Fritz source (a star's g and r light curves
land on the same source). For each class the highest score among the source's rows decides, as
SCoPe's ``select-fritz-sample`` takes the maximum per source (SCoPe's upload posted the first
row's score and skipped the label for later rows, so the result depended on row order).

A classification is *ours* when the token's user posted it with our origin. Against ours:

- same label and probability → unchanged (nothing is sent: uploads are idempotent);
- same label, another probability → updated in place (``PUT``), whatever the threshold, so
  Fritz always shows the latest score; with ``--replace-classifications`` it is deleted and
  posted again instead (if the new score passes the threshold);
- a label not on Fritz → posted when the score passes the threshold (``>=``);
- our labels the file does not score → kept, or deleted with ``--replace-classifications``;
- two of ours with the same label (a duplicate) → the extra one is deleted.

A row with no score to post and no source on Fritz creates nothing (SCoPe would create an
unclassified source for it); without ``--classification`` every row gets its source.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.spatial import cKDTree

from scope_assets.fritz.fritz_snapshot import (
    FritzSource,
    chord,
    mine,
    same_probability,
    unit_vectors,
)
from scope_assets.fritz.source_names import radec_to_iau_name
from scope_assets.fritz.upload_plan import PlannedClass, RowPlan, UploadOptions

PERIOD_ORIGIN = "uploadedperiod"
SOURCE_ORIGIN = "Fritz"
ClassKey = tuple[str, int]


@dataclass
class SourceUnit:
    """The rows that belong to one Fritz source (existing, or to be created as ``obj_id``)."""

    obj_id: str
    ra: float
    dec: float
    rows: list[RowPlan]
    existing: FritzSource | None = None

    @property
    def first_row(self) -> int:
        return self.rows[0].row


@dataclass(frozen=True)
class ClassItem:
    """A class score of a row, destined for a source."""

    row: int
    planned: PlannedClass

    @property
    def key(self) -> ClassKey:
        return (self.planned.fritz_label, self.planned.taxonomy_id)


@dataclass(frozen=True)
class AnnotationAction:
    origin: str
    data: dict[str, Any]
    annotation_id: int | None = None
    """None: post a new annotation; else replace the data of this one."""


@dataclass
class UnitActions:
    create: bool = False
    add_groups: list[int] = field(default_factory=list)
    post: list[ClassItem] = field(default_factory=list)
    update: list[tuple[int, ClassItem]] = field(default_factory=list)
    delete: list[tuple[int, int, str]] = field(default_factory=list)
    """(classification id, row it is reported on, why)."""
    unchanged: list[ClassItem] = field(default_factory=list)
    annotations: list[AnnotationAction] = field(default_factory=list)
    duplicate_of: dict[int, int] = field(default_factory=dict)
    """row → the first row of the same source (for every row after the first)."""

    @property
    def new_content(self) -> bool:
        """Whether the source gets something new (then photometry, plots and comments too)."""
        return self.create or bool(self.add_groups) or bool(self.post)

    @property
    def is_noop(self) -> bool:
        return not (self.new_content or self.update or self.delete or self.annotations)


def cluster_new_rows(rows: Sequence[RowPlan], radius_arcsec: float) -> list[list[RowPlan]]:
    """Rows within ``radius_arcsec`` of an earlier row join its group (file order)."""
    if not rows:
        return []
    tree = cKDTree(unit_vectors(np.array([r.ra for r in rows]), np.array([r.dec for r in rows])))
    owner = list(range(len(rows)))
    for i, neighbours in enumerate(tree.query_ball_point(tree.data, chord(radius_arcsec))):
        earlier = [j for j in neighbours if j < i]
        if earlier:
            owner[i] = owner[min(earlier)]
    groups: dict[int, list[RowPlan]] = {}
    for i, row in enumerate(rows):
        groups.setdefault(owner[i], []).append(row)
    return list(groups.values())


def new_unit(rows: list[RowPlan]) -> SourceUnit:
    """A source to create, named after its first row's position (SCoPe's ``ZTFJ…`` name)."""
    first = rows[0]
    name = first.obj_id or radec_to_iau_name(first.ra, first.dec)
    return SourceUnit(obj_id=name, ra=first.ra, dec=first.dec, rows=list(rows))


def merged_classes(unit: SourceUnit, actions: UnitActions) -> dict[ClassKey, ClassItem]:
    """The highest score per class among the unit's rows (the earliest row on a tie).

    Rows after the first are noted as sharing the source, whether or not a score of theirs won.
    """
    merged: dict[ClassKey, ClassItem] = {}
    for row in unit.rows:
        if row.row != unit.first_row:
            actions.duplicate_of[row.row] = unit.first_row
        for planned in row.classes:
            item = ClassItem(row.row, planned)
            best = merged.get(item.key)
            if best is None or planned.probability > best.planned.probability:
                merged[item.key] = item
    return merged


def _classification_actions(
    unit: SourceUnit, user_id: int, options: UploadOptions, actions: UnitActions
) -> None:
    existing = unit.existing.classifications if unit.existing else []
    ours: dict[ClassKey, list[dict[str, Any]]] = {}
    for c in mine(existing, user_id, options.classification_origin):
        ours.setdefault((c["classification"], int(c["taxonomy_id"])), []).append(c)
    for key, item in merged_classes(unit, actions).items():
        matches = ours.pop(key, [])
        keep = next(
            (c for c in matches if same_probability(c["probability"], item.planned.probability)),
            matches[0] if matches else None,
        )
        for extra in matches:
            if extra is not keep:
                actions.delete.append((int(extra["id"]), item.row, "duplicate"))
        if keep is None:
            if options.should_post(item.planned.probability):
                actions.post.append(item)
        elif same_probability(keep["probability"], item.planned.probability):
            actions.unchanged.append(item)
        elif options.replace_classifications:
            actions.delete.append((int(keep["id"]), item.row, "replaced"))
            if options.should_post(item.planned.probability):
                actions.post.append(item)
        else:
            actions.update.append((int(keep["id"]), item))
    for leftovers in ours.values():
        if options.replace_classifications:
            actions.delete += [(int(c["id"]), unit.first_row, "replaced") for c in leftovers]
        else:
            actions.delete += [(int(c["id"]), unit.first_row, "duplicate") for c in leftovers[1:]]


def _period_action(unit: SourceUnit, user_id: int) -> AnnotationAction | None:
    period = next((r.period for r in unit.rows if r.period is not None), None)
    if period is None:
        return None
    found = unit.existing.annotation(PERIOD_ORIGIN) if unit.existing else None
    if found is None:
        return AnnotationAction(PERIOD_ORIGIN, {"period": period})
    if found.get("author_id") == user_id and not same_probability(
        (found.get("data") or {}).get("period"), period
    ):
        return AnnotationAction(PERIOD_ORIGIN, {**found["data"], "period": period}, found["id"])
    return None


def _survey_id_action(unit: SourceUnit, user_id: int, origin: str) -> AnnotationAction | None:
    wanted = list(dict.fromkeys(r.survey_id for r in unit.rows if r.survey_id is not None))
    found = unit.existing.annotation(origin) if unit.existing else None
    data = dict((found or {}).get("data") or {})
    new = [s for s in wanted if s not in {str(v) for v in data.values()}]
    if not new or (found is not None and found.get("author_id") != user_id):
        return None
    for survey_id in new:
        data["survey_id" if not data else f"survey_id_{len(data) + 1}"] = survey_id
    return AnnotationAction(origin, data, found["id"] if found else None)


def plan_unit_actions(unit: SourceUnit, user_id: int, options: UploadOptions) -> UnitActions:
    """Everything to send for ``unit`` (see the module docstring)."""
    actions = UnitActions(create=unit.existing is None)
    _classification_actions(unit, user_id, options, actions)
    if actions.create and options.classification and not actions.post:
        return UnitActions(duplicate_of=actions.duplicate_of)  # nothing worth a new source
    have = unit.existing.group_ids if unit.existing else set(options.group_ids)
    actions.add_groups = [g for g in options.group_ids if g not in have]
    period = _period_action(unit, user_id)
    survey = (
        _survey_id_action(unit, user_id, options.survey_id_origin)
        if options.post_survey_id
        else None
    )
    actions.annotations = [a for a in (period, survey) if a is not None]
    return actions
