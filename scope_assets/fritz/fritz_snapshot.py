"""What is already on Fritz, read in as few requests as possible.

An upload first reads the sources of its target groups page by page (500 per request) with
their classifications and annotations; rows are matched against that snapshot locally (a
KD-tree on the sky), so a re-upload costs a handful of requests however long the file is. Only
rows with no match in the groups fall back to SCoPe's per-row cone search, which also finds
sources saved to other groups.

Which existing source a row belongs to follows SCoPe: with ``--match-ids`` a source whose
``survey_id_origin`` annotation holds the row's survey id; otherwise the most recently created
``ZTFJ…`` source within the radius; otherwise none (a new source is created).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.spatial import cKDTree

from scope_assets.errors import ScopeError
from scope_assets.fritz.fritz_client import FritzClient
from scope_assets.fritz.source_names import NAME_PREFIX

PROFILE_ENDPOINT = "/api/internal/profile"


class FritzSetupError(ScopeError, ValueError):
    """The upload cannot start: an unknown group, taxonomy or instrument (nothing was posted)."""


@dataclass
class FritzSource:
    """A Fritz source as the upload needs it."""

    obj_id: str
    ra: float
    dec: float
    created_at: str = ""
    group_ids: set[int] = field(default_factory=set)
    annotations: list[dict[str, Any]] = field(default_factory=list)
    classifications: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FritzSource:
        return cls(
            obj_id=str(data["id"]),
            ra=float(data["ra"]),
            dec=float(data["dec"]),
            created_at=str(data.get("created_at") or ""),
            group_ids={int(g["id"]) for g in data.get("groups") or [] if not g.get("requested")},
            annotations=list(data.get("annotations") or []),
            classifications=list(data.get("classifications") or []),
        )

    def annotation(self, origin: str) -> dict[str, Any] | None:
        return next((a for a in self.annotations if a.get("origin") == origin), None)

    def holds_survey_id(self, origin: str, survey_id: str) -> bool:
        found = self.annotation(origin)
        values = (found or {}).get("data") or {}
        return survey_id in {str(v) for v in values.values()}


def unit_vectors(ra: np.ndarray, dec: np.ndarray) -> np.ndarray:
    ra_r, dec_r = np.radians(ra), np.radians(dec)
    return np.column_stack(
        [np.cos(dec_r) * np.cos(ra_r), np.cos(dec_r) * np.sin(ra_r), np.sin(dec_r)]
    )


def chord(radius_arcsec: float) -> float:
    """Chord length on the unit sphere of an angular radius."""
    return 2.0 * math.sin(math.radians(radius_arcsec / 3600.0) / 2.0)


class SourceIndex:
    """Sources by id and by position."""

    def __init__(self, sources: Iterable[FritzSource] = ()) -> None:
        self.by_id = {s.obj_id: s for s in sources}
        self._order = list(self.by_id.values())
        self._tree = (
            cKDTree(
                unit_vectors(
                    np.array([s.ra for s in self._order]), np.array([s.dec for s in self._order])
                )
            )
            if self._order
            else None
        )

    def __len__(self) -> int:
        return len(self.by_id)

    def get(self, obj_id: str) -> FritzSource | None:
        return self.by_id.get(obj_id)

    def near(self, ra: float, dec: float, radius_arcsec: float) -> list[FritzSource]:
        if self._tree is None:
            return []
        point = unit_vectors(np.array([ra]), np.array([dec]))[0]
        return [self._order[i] for i in self._tree.query_ball_point(point, chord(radius_arcsec))]


def choose_source(
    candidates: Sequence[FritzSource],
    survey_id: str | None,
    match_ids: bool,
    survey_id_origin: str,
) -> FritzSource | None:
    """SCoPe's choice among the sources near a row (see the module docstring)."""
    if match_ids and survey_id is not None:
        for source in candidates:
            if source.holds_survey_id(survey_id_origin, survey_id):
                return source
    named = [s for s in candidates if s.obj_id.startswith(NAME_PREFIX)]
    return max(named, key=lambda s: (s.created_at, s.obj_id)) if named else None


def my_user_id(client: FritzClient) -> int:
    """The id of the token's user (classifications it may update are the ones it wrote)."""
    return int(client.get(PROFILE_ENDPOINT)["id"])


def check_groups(client: FritzClient, group_ids: Sequence[int]) -> None:
    """FritzSetupError naming every group id the token's user is not a member of."""
    groups = client.get_groups()
    mine = {int(g["id"]) for g in groups.get("user_groups") or []}
    unknown = [g for g in group_ids if g not in mine]
    if unknown:
        raise FritzSetupError(
            f"--group-ids {unknown}: not a Fritz group of this token's user "
            f"(member of {sorted(mine)})"
        )


def prefetch_sources(client: FritzClient, group_ids: Sequence[int]) -> SourceIndex:
    """Every source saved to any of ``group_ids``, with classifications and annotations."""
    return SourceIndex(
        FritzSource.from_json(s) for s in client.iter_sources({"group_ids": list(group_ids)})
    )


def sources_near(
    client: FritzClient, ra: float, dec: float, radius_arcsec: float
) -> list[FritzSource]:
    """SCoPe's cone search: every visible source within ``radius_arcsec``."""
    return [FritzSource.from_json(s) for s in client.sources_near(ra, dec, radius_arcsec)]


def source_by_id(client: FritzClient, obj_id: str) -> FritzSource | None:
    data = client.get_source(obj_id)
    return FritzSource.from_json(data) if data else None


def mine(
    classifications: Iterable[Mapping[str, Any]], user_id: int, origin: str
) -> list[dict[str, Any]]:
    """The classifications ``user_id`` posted with ``origin``, oldest first."""
    return sorted(
        (
            dict(c)
            for c in classifications
            if c.get("author_id") == user_id and c.get("origin") == origin
        ),
        key=lambda c: int(c["id"]),
    )


def same_probability(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(float(a), float(b), rel_tol=0.0, abs_tol=1e-9)
