"""What the GCN automation decides, without Dagster: which events are new and tagged, which
Fritz groups an event's scores go to, and the run key that says "these sources were scored".

- An event is *new* when Fritz created it at or after the cursor (the newest ``created_at``
  seen) and it is not yet a partition; ties at the cursor are caught by the partition check.
- Tags select events and their groups through one mapping (tag → group ids) that is only
  read: an event tagged GW and GRB goes to the union of both groups.
- The run key is ``<dateobs>:<hash of the event's Fritz source ids>``: the same sources never
  give a second run; a new source gives a new key.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from scope_assets.fritz.fritz_client import FritzClient
from scope_assets.gcn.event_sources import (
    dateobs_key,
    fritz_event_sources,
    parse_dateobs,
    sources_fingerprint,
)

DEFAULT_TAG_GROUPS: dict[str, list[int]] = {"GW": [1544], "GRB": [48], "Fermi": [48]}
"""SCoPe's cron job: GW events to group 1544, GRB/Fermi events to group 48."""
EVENT_TAG = "gcn/event"
SOURCES_TAG = "gcn/sources"


def post_group_ids(tags: Iterable[str], tag_groups: Mapping[str, Sequence[int]]) -> tuple[int, ...]:
    """The Fritz groups of an event's tags (sorted union; empty when no tag is configured)."""
    return tuple(sorted({g for tag in tags for g in tag_groups.get(tag, ())}))


@dataclass(frozen=True)
class EventChoice:
    """A new event the automation will score."""

    key: str
    tags: tuple[str, ...]
    group_ids: tuple[int, ...]


@dataclass
class EventSelection:
    chosen: list[EventChoice]
    untagged: list[tuple[str, tuple[str, ...]]]
    cursor: str | None


def _created(event: Mapping) -> dt.datetime:
    return parse_dateobs(str(event.get("created_at") or event["dateobs"]))


def select_new_events(
    events: Iterable[Mapping],
    cursor: str | None,
    known_keys: set[str],
    tag_groups: Mapping[str, Sequence[int]],
) -> EventSelection:
    """New events (created at/after ``cursor``, not in ``known_keys``) split into those whose
    tags are configured and those without; the cursor moves to the newest ``created_at``."""
    since = parse_dateobs(cursor) if cursor else None
    newest = since
    chosen, untagged = [], []
    for event in events:
        created = _created(event)
        if since is not None and created < since:
            continue
        newest = created if newest is None else max(newest, created)
        key = dateobs_key(event["dateobs"])
        if key in known_keys:
            continue
        tags = tuple(event.get("tags") or ())
        groups = post_group_ids(tags, tag_groups)
        if groups:
            chosen.append(EventChoice(key, tags, groups))
        else:
            untagged.append((key, tags))
    new_cursor = newest.isoformat() if newest is not None else cursor
    return EventSelection(chosen, untagged, new_cursor)


def run_key(key: str, fingerprint: str) -> str:
    return f"{key}:{fingerprint}"


@dataclass(frozen=True)
class EventSources:
    key: str
    n_sources: int
    fingerprint: str

    @property
    def run_key(self) -> str:
        return run_key(self.key, self.fingerprint)


def event_sources(
    client: FritzClient,
    key: str,
    days_range: float,
    group_ids: Sequence[int] = (),
) -> EventSources:
    """How many Fritz sources the event has now, and their fingerprint."""
    sources = fritz_event_sources(client, key, group_ids, days_range)
    return EventSources(key, len(sources), sources_fingerprint(sources["fritz_name"]))


def is_recent(key: str, now: dt.datetime, days_range: float) -> bool:
    """``dateobs`` within ``days_range`` days before ``now`` (naive UTC)."""
    return now - parse_dateobs(key) <= dt.timedelta(days=days_range)
