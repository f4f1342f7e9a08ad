"""Classifications: single and batch posts (item by item), votes, labels, deletes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from scope_assets.emulator.fritz.common import (
    SITEWIDE_GROUP_ID,
    ApiError,
    User,
    in_date_range,
    parse_bool,
    parse_id_list,
    utcnow,
)
from scope_assets.emulator.fritz.state import FritzState
from scope_assets.emulator.server import Request
from scope_assets.emulator.taxonomies import iter_classes


class ClassificationsApi(FritzState):
    """Classifications: single and batch posts (item by item), votes, labels, deletes."""

    def fail_classification_batch(self, item: int, count: int = 1) -> None:
        """Make the next ``count`` batch classification posts fail at 0-based ``item``."""
        with self._lock:
            self._batch_failures.append({"item": int(item), "count": int(count)})

    def _check_classification(self, item: Mapping[str, Any], user: User) -> dict[str, Any]:
        obj_id = item.get("obj_id")
        if obj_id not in self.objs:
            raise ValueError(f"Object {obj_id} not found")
        try:
            taxonomy_id = int(item["taxonomy_id"])
        except (KeyError, TypeError, ValueError):
            raise ValueError("taxonomy_id is required") from None
        taxonomy = self.taxonomies.get(taxonomy_id)
        if taxonomy is None:
            raise ValueError(f"Cannot find a taxonomy with ID: {taxonomy_id}")
        label = item.get("classification")
        if label not in set(iter_classes(taxonomy["hierarchy"])):
            raise ValueError(
                f"That classification ({label}) is not in the allowed classes for the chosen "
                f"taxonomy (id={taxonomy_id})"
            )
        probability = item.get("probability")
        if probability is not None:
            probability = float(probability)
            if not 0.0 <= probability <= 1.0:
                raise ValueError(f"Invalid probability {probability}: must be between 0 and 1")
        requested = parse_id_list(item.get("group_ids"))
        group_ids = [SITEWIDE_GROUP_ID] if requested is None else requested
        bad = [
            g
            for g in group_ids
            if g not in self.groups or (g not in user.group_ids and not user.admin)
        ]
        if bad:
            raise ValueError(f"Cannot find one or more groups with IDs: {bad}")
        return {
            "obj_id": obj_id,
            "classification": label,
            "taxonomy_id": taxonomy_id,
            "probability": probability,
            "origin": item.get("origin"),
            "ml": parse_bool(item.get("ml"), default=False),
            "group_ids": group_ids,
        }

    def _commit_classification(self, item: Mapping[str, Any], user: User) -> int:
        checked = self._check_classification(item, user)
        now = utcnow()
        cid = self._next_id("classification")
        self.classifications[cid] = {
            "id": cid,
            **checked,
            "author_id": user.id,
            "created_at": now,
            "modified": now,
        }
        if parse_bool(item.get("vote"), default=True):
            self._set_vote(cid, user, 1)
        if parse_bool(item.get("label"), default=True):
            self._set_labels(checked["obj_id"], user, checked["group_ids"])
        return cid

    def _set_vote(self, cid: int, user: User, vote: int) -> None:
        existing = self.votes.get((cid, user.id))
        vid = existing["id"] if existing else self._next_id("vote")
        self.votes[(cid, user.id)] = {
            "id": vid,
            "classification_id": cid,
            "voter_id": user.id,
            "vote": vote,
        }

    def _set_labels(self, obj_id: str, user: User, group_ids: Iterable[int]) -> None:
        for gid in group_ids:
            key = (obj_id, user.id, gid)
            if key not in self.labels:
                self.labels[key] = {
                    "id": self._next_id("label"),
                    "obj_id": obj_id,
                    "labeller_id": user.id,
                    "group_id": gid,
                }

    def _post_classifications(self, request: Request, user: User) -> dict[str, Any]:
        body = self._body(request)
        if "classifications" not in body:
            try:
                return {"classification_id": self._commit_classification(body, user)}
            except ValueError as exc:
                raise ApiError(400, f"Error posting classification: {exc}") from None
        items = body["classifications"]
        if not isinstance(items, list):
            raise ApiError(400, "classifications must be a list")
        fail_at = self._take_batch_failure()
        ids = []
        for index, item in enumerate(items):
            try:
                if index == fail_at:
                    raise ValueError(f"injected failure at item {index}")
                ids.append(self._commit_classification(item, user))
            except ValueError as exc:
                raise ApiError(400, f"Error posting classification: {exc}") from None
        return {"classification_ids": ids}

    def _take_batch_failure(self) -> int | None:
        if not self._batch_failures:
            return None
        failure = self._batch_failures[0]
        failure["count"] -= 1
        if failure["count"] <= 0:
            self._batch_failures.pop(0)
        return failure["item"]

    def _list_classifications(self, request: Request, user: User) -> dict[str, Any]:
        rows = sorted(self._visible_classifications(user), key=lambda c: (c["created_at"], c["id"]))
        page, _, _, total = self._page(request, in_date_range(rows, "created_at", request))
        return {
            "classifications": [self._classification_dict(c, True) for c in page],
            "totalMatches": total,
        }

    def _own_classification(self, cid: str, user: User) -> dict[str, Any]:
        c = self.classifications.get(int(cid))
        if c is None or not (user.admin or c["author_id"] == user.id):
            raise ApiError(400, f"Cannot find a classification with ID: {cid}.")
        return c

    def _get_classification(self, request: Request, user: User, cid: str) -> dict[str, Any]:
        c = self.classifications.get(int(cid))
        if c is None or c not in self._visible_classifications(user, c["obj_id"]):
            raise self._not_found(f"Cannot find classification with ID: {cid}")
        return self._classification_dict(c, True)

    def _put_classification(self, request: Request, user: User, cid: str) -> dict[str, Any]:
        c = self._own_classification(cid, user)
        merged = {**c, **self._body(request)}
        try:
            checked = self._check_classification(merged, user)
        except ValueError as exc:
            raise ApiError(400, f"Error updating classification: {exc}") from None
        c.update(checked, modified=utcnow())
        return {}

    def _remove_classification(self, c: dict[str, Any], user: User, keep_label: bool) -> None:
        del self.classifications[c["id"]]
        for key in [k for k in self.votes if k[0] == c["id"]]:
            del self.votes[key]
        if not keep_label:
            for gid in c["group_ids"]:
                self.labels.pop((c["obj_id"], user.id, gid), None)

    def _delete_classification(self, request: Request, user: User, cid: str) -> dict[str, Any]:
        c = self._own_classification(cid, user)
        self._remove_classification(
            c, user, parse_bool(self._body(request).get("label"), default=True)
        )
        return {}

    def _get_source_classifications(self, request: Request, user: User, obj_id: str) -> list[dict]:
        self._visible_obj(obj_id, user)
        return [
            self._classification_dict(c, True) for c in self._visible_classifications(user, obj_id)
        ]

    def _delete_source_classifications(
        self, request: Request, user: User, obj_id: str
    ) -> dict[str, Any]:
        keep_label = parse_bool(self._body(request).get("label"), default=True)
        for c in list(self.classifications.values()):
            if c["obj_id"] == obj_id and (user.admin or c["author_id"] == user.id):
                self._remove_classification(c, user, keep_label)
        return {}

    def _post_vote(self, request: Request, user: User, cid: str) -> dict[str, Any]:
        c = self.classifications.get(int(cid))
        if c is None:
            raise self._not_found(f"Cannot find classification with ID: {cid}")
        vote = self._body(request).get("vote")
        if vote not in (1, -1):
            raise ApiError(400, "vote must be 1 or -1")
        self._set_vote(c["id"], user, vote)
        return {}

    def _delete_vote(self, request: Request, user: User, cid: str) -> dict[str, Any]:
        if self.votes.pop((int(cid), user.id), None) is None:
            raise ApiError(400, f"Cannot find a vote on classification {cid} by this user")
        return {}
