"""Posting classifications in batches without losing or duplicating any.

``POST /api/classification`` with many items commits them one by one: when item *k* fails the
earlier ones stay and their ids are not returned, and a request that timed out may still have
been committed. So when a batch does not come back whole, the sources in it are re-read (after
a grace period when no answer came, as the request may still be committing) and only what is
still missing is posted again, one item at a time, so a bad item fails alone
(its row is reported with Fritz's message) and the others get through.

After the upload, :func:`remove_duplicates` lists the classifications created since the run
started and deletes any extra copy of ours (a retried request that had in fact gone through).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from scope_assets.fritz.fritz_client import FritzClient
from scope_assets.fritz.fritz_snapshot import mine, same_probability
from scope_assets.fritz.fritz_transport import FritzError
from scope_assets.fritz.upload_plan import PlannedClass
from scope_assets.fritz.upload_results import UploadResults

logger = logging.getLogger(__name__)
CLASSIFICATION_ENDPOINT = "/api/classification"
MAX_GRACE_S = 60.0
"""Longest wait before re-reading after a batch that got no answer (it may still commit)."""
Key = tuple[str, str, int]


@dataclass(frozen=True)
class PendingClassification:
    """A classification to post for ``row`` on source ``obj_id``."""

    row: int
    obj_id: str
    planned: PlannedClass
    payload: dict[str, Any]

    @property
    def key(self) -> Key:
        return (self.obj_id, self.planned.fritz_label, self.planned.taxonomy_id)

    def is_in(self, classifications: Iterable[Mapping[str, Any]]) -> bool:
        return any(
            c["classification"] == self.planned.fritz_label
            and int(c["taxonomy_id"]) == self.planned.taxonomy_id
            and same_probability(c.get("probability"), self.planned.probability)
            for c in classifications
        )


def permanent(error: FritzError) -> bool:
    """A 4xx other than 429: sending the same thing again cannot help."""
    return error.status is not None and 400 <= error.status < 500 and error.status != 429


class ClassificationPoster:
    """Collects classifications from worker threads and posts them ``batch_size`` at a time."""

    def __init__(
        self,
        client: FritzClient,
        user_id: int,
        origin: str,
        results: UploadResults,
        batch_size: int = 100,
        max_rounds: int = 3,
        pause_s: float = 1.0,
        on_settled: Callable[[list[int]], None] | None = None,
    ) -> None:
        self.client = client
        self.user_id = user_id
        self.origin = origin
        self.results = results
        self.batch_size = max(1, batch_size)
        self.max_rounds = max_rounds
        self.pause_s = pause_s
        self.on_settled = on_settled
        self.posted: list[PendingClassification] = []
        self._queue: list[PendingClassification] = []
        self._lock = threading.Lock()

    def add(self, items: list[PendingClassification]) -> None:
        """Queue one source's items (they always travel in the same batch)."""
        with self._lock:
            self._queue += items
            batch = self._take() if len(self._queue) >= self.batch_size else []
        if batch:
            self._post(batch)

    def flush(self) -> None:
        with self._lock:
            batch = self._take()
        if batch:
            self._post(batch)

    def _take(self) -> list[PendingClassification]:
        batch, self._queue = self._queue, []
        return batch

    def _record(self, item: PendingClassification) -> None:
        self.results.count(item.row, "posted")
        with self._lock:
            self.posted.append(item)

    def _fail(self, item: PendingClassification, why: str) -> None:
        self.results.count(item.row, "failed", note=f"{item.planned.fritz_label}: {why}")

    def _post(self, batch: list[PendingClassification]) -> None:
        try:
            ids = self.client.post_classifications([i.payload for i in batch])
        except FritzError as exc:
            logger.warning("classification batch of %d failed (%s); re-checking", len(batch), exc)
            if exc.status is None:  # no answer: Fritz may still be committing it
                time.sleep(min(2 * self.client.timeout_s, MAX_GRACE_S))
            ids = []
        if len(ids) == len(batch):
            for item in batch:
                self._record(item)
        else:
            by_source: dict[str, list[PendingClassification]] = {}
            for item in batch:
                by_source.setdefault(item.obj_id, []).append(item)
            for obj_id, items in by_source.items():
                self._settle(obj_id, items)
        if self.on_settled is not None:
            self.on_settled(sorted({i.row for i in batch}))

    def _present(self, obj_id: str) -> list[dict[str, Any]]:
        return mine(self.client.get_classifications(obj_id), self.user_id, self.origin)

    def _settle(self, obj_id: str, items: list[PendingClassification]) -> None:
        """Re-read the source, post what is missing one by one; up to ``max_rounds`` times."""
        last = "no answer"
        for round_ in range(self.max_rounds):
            if round_:
                time.sleep(self.pause_s * round_)
            try:
                present = self._present(obj_id)
            except FritzError as exc:
                last = exc.message
                continue
            for item in [i for i in items if i.is_in(present)]:
                self._record(item)
                items.remove(item)
            for item in list(items):
                try:
                    self.client.post(CLASSIFICATION_ENDPOINT, item.payload)
                except FritzError as exc:
                    last = exc.message
                    if permanent(exc):
                        self._fail(item, exc.message)
                        items.remove(item)
                    continue
                self._record(item)
                items.remove(item)
            if not items:
                return
        for item in items:
            self._fail(item, f"not confirmed after {self.max_rounds} attempts ({last})")


def run_start_marker(margin: timedelta = timedelta(minutes=10)) -> str:
    """A ``startDate`` safely before now (naive UTC, as Fritz compares), allowing clock skew."""
    return (datetime.now(UTC) - margin).replace(tzinfo=None).isoformat(timespec="seconds")


def remove_duplicates(
    client: FritzClient,
    user_id: int,
    origin: str,
    since: str,
    posted: Iterable[PendingClassification],
    results: UploadResults,
) -> int:
    """Delete extra copies of what this run posted; report posted items Fritz does not have."""
    posted = list(posted)
    wanted = {item.key: item for item in posted}
    found: dict[Key, list[dict[str, Any]]] = {}
    for _, page in client.paginate(
        CLASSIFICATION_ENDPOINT, "classifications", {"startDate": since}
    ):
        for c in mine(page, user_id, origin):
            key = (c["obj_id"], c["classification"], int(c["taxonomy_id"]))
            if key in wanted:
                found.setdefault(key, []).append(c)
    removed = 0
    for key, item in wanted.items():
        copies = sorted(found.get(key, []), key=lambda c: int(c["id"]))
        if not copies:
            results.count(
                item.row, "failed", note=f"{item.planned.fritz_label}: not on Fritz after posting"
            )
            results.count(item.row, "posted", n=-1)
            continue
        keep = next((c for c in copies if item.is_in([c])), copies[0])
        for extra in copies:
            if extra is not keep:
                client.delete_classification(int(extra["id"]))
                removed += 1
    return removed
