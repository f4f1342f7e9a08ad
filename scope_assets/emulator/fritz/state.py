"""The Fritz emulator's tables (users, groups, objects, …) and shared helpers."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from scope_assets.emulator.fritz.common import (
    ALL_ACLS,
    MAX_PER_PAGE,
    SEEDED_GROUPS,
    SITEWIDE_GROUP_ID,
    ApiError,
    User,
    galactic,
    parse_bool,
    utcnow,
)
from scope_assets.emulator.server import Request
from scope_assets.emulator.taxonomies import SEEDED_TAXONOMIES


class FritzState:
    """The in-memory tables and the helpers every endpoint group shares.

    ``not_found_status`` (404; older SkyPortal: 400) and ``microseconds`` (False: datetimes
    without fractions, as some Fritz versions send) are the version switches.
    """

    _lock: threading.RLock
    _batch_failures: list[dict[str, int]]
    not_found_status: int = 404
    microseconds: bool = True

    # --- seeding (Python API) -----------------------------------------------------------------

    def _reset_state(self) -> None:
        self._ids: dict[str, int] = {}
        self.users: dict[int, User] = {}
        self.groups: dict[int, dict[str, Any]] = {}
        self.group_members: dict[int, set[int]] = {}
        self.objs: dict[str, dict[str, Any]] = {}
        self.sources: dict[str, dict[int, dict[str, Any]]] = {}
        self.classifications: dict[int, dict[str, Any]] = {}
        self.votes: dict[tuple[int, int], dict[str, Any]] = {}
        self.labels: dict[tuple[str, int, int], dict[str, Any]] = {}
        self.annotations: dict[int, dict[str, Any]] = {}
        self.comments: dict[int, dict[str, Any]] = {}
        self.photometry: dict[int, dict[str, Any]] = {}
        self._photometry_keys: dict[tuple, int] = {}
        self.taxonomies: dict[int, dict[str, Any]] = {}
        self.instruments: dict[int, dict[str, Any]] = {}
        self.gcn_events: dict[datetime, dict[str, Any]] = {}
        created = datetime(2020, 1, 1)
        for gid, name, nickname in SEEDED_GROUPS:
            self._add_group(gid, name, nickname, created)
        for tax in SEEDED_TAXONOMIES:
            self.taxonomies[tax["id"]] = {
                **tax,
                "provenance": "scope-emulator seed",
                "group_ids": [SITEWIDE_GROUP_ID],
                "created_at": created,
                "modified": created,
            }
        self.instruments[1] = {
            "id": 1,
            "name": "ZTF",
            "type": "imager",
            "band": "Optical",
            "telescope_id": 1,
            "filters": ["ztfg", "ztfr", "ztfi"],
        }

    def _next_id(self, kind: str, start: int = 1) -> int:
        self._ids[kind] = max(self._ids.get(kind, start - 1), start - 1) + 1
        return self._ids[kind]

    def _add_group(
        self, gid: int, name: str, nickname: str | None, created: datetime, single: bool = False
    ) -> dict:
        self.groups[gid] = {
            "id": gid,
            "name": name,
            "nickname": nickname,
            "description": None,
            "private": single,
            "single_user_group": single,
            "created_at": created,
            "modified": created,
        }
        self.group_members[gid] = set()
        return self.groups[gid]

    def add_user(
        self,
        username: str,
        token: str,
        acls: Iterable[str] = ALL_ACLS,
        active: bool = True,
        admin: bool = False,
        group_ids: Iterable[int] | None = None,
    ) -> User:
        """A user with ``token``, a single-user group, and membership of ``group_ids`` (default: all seeded)."""
        with self._lock:
            uid = self._next_id("user")
            user = User(uid, username, token, frozenset(acls), active, admin)
            personal = self._add_group(
                self._next_id("group", 2000), username, None, utcnow(), single=True
            )
            wanted = [g for g, _, _ in SEEDED_GROUPS] if group_ids is None else list(group_ids)
            for gid in [*wanted, personal["id"]]:
                user.group_ids.add(gid)
                self.group_members.setdefault(gid, set()).add(uid)
            self.users[uid] = user
            return user

    def add_object(
        self,
        obj_id: str,
        ra: float,
        dec: float,
        group_ids: Sequence[int] = (SITEWIDE_GROUP_ID,),
        first_detected: datetime | None = None,
        last_detected: datetime | None = None,
        created_at: datetime | None = None,
        origin: str | None = None,
    ) -> dict[str, Any]:
        """Create (or update) an object and save it to ``group_ids`` (seeding; no ACL checks)."""
        with self._lock:
            obj = self._upsert_obj(obj_id, ra, dec, origin=origin, created_at=created_at)
            obj["first_detected_at"] = first_detected
            obj["last_detected_at"] = last_detected
            for gid in group_ids:
                self._save_source(obj_id, gid, None, requested=False)
            return obj

    def add_gcn_event(
        self,
        dateobs: datetime,
        tags: Sequence[str],
        ra: float,
        dec: float,
        radius_deg: float,
        localization_name: str = "bayestar.fits.gz",
        aliases: Sequence[str] = (),
    ) -> dict[str, Any]:
        """A GCN event with one localization: a cone of ``radius_deg`` around (ra, dec)."""
        with self._lock:
            event = self.gcn_events.get(dateobs)
            if event is None:
                event = {
                    "id": self._next_id("gcn_event"),
                    "dateobs": dateobs,
                    "aliases": list(aliases),
                    "tags": list(tags),
                    "localizations": [],
                    "gcn_notices": [],
                    "comments": [],
                    "properties": [],
                    "created_at": utcnow(),
                }
                self.gcn_events[dateobs] = event
            event["localizations"].insert(
                0,
                {
                    "id": self._next_id("localization"),
                    "dateobs": dateobs,
                    "localization_name": localization_name,
                    "created_at": utcnow(),
                    "center": [ra, dec],
                    "radius_deg": radius_deg,
                },
            )
            return event

    # --- helpers ------------------------------------------------------------------------------

    def _not_found(self, message: str) -> ApiError:
        return ApiError(self.not_found_status, message)

    @staticmethod
    def _body(request: Request) -> dict[str, Any]:
        body = request.json()
        if not isinstance(body, dict):
            raise ApiError(400, "Request body must be a JSON object")
        return body

    @staticmethod
    def _page(
        request: Request, items: list, default_per_page: int = 100
    ) -> tuple[list, int, int, int]:
        """(page items, pageNumber, capped numPerPage, totalMatches)."""
        try:
            page = int(request.param("pageNumber", "1"))
            per_page = int(request.param("numPerPage", str(default_per_page)))
        except ValueError:
            raise ApiError(400, "Invalid page number or page size") from None
        if page < 1:
            raise ApiError(400, "Page number must be greater than 0")
        if per_page < 1:
            raise ApiError(400, "numPerPage must be greater than 0")
        per_page = min(per_page, MAX_PER_PAGE)
        start = (page - 1) * per_page
        return items[start : start + per_page], page, per_page, len(items)

    def _visible_obj(self, obj_id: str, user: User) -> dict[str, Any]:
        obj = self.objs.get(obj_id)
        if obj is None or not (user.admin or self._obj_group_ids(obj_id) & user.group_ids):
            raise self._not_found("Source not found")
        return obj

    def _obj_group_ids(self, obj_id: str) -> set[int]:
        """Groups the object is actively saved to (requests excluded)."""
        rows = self.sources.get(obj_id, {})
        return {gid for gid, row in rows.items() if row["active"] and not row["requested"]}

    def _user_group_ids(self, user: User, requested: Sequence[int] | None) -> list[int]:
        """Requested group ids (all must be the user's), or all the user's non-personal groups."""
        if requested is None:
            return sorted(g for g in user.group_ids if not self.groups[g]["single_user_group"])
        missing = [
            g
            for g in requested
            if g not in self.groups or (g not in user.group_ids and not user.admin)
        ]
        if missing:
            raise ApiError(400, f"Invalid group IDs: {missing}")
        return list(requested)

    def _upsert_obj(
        self,
        obj_id: str,
        ra: float,
        dec: float,
        origin: str | None = None,
        created_at: datetime | None = None,
    ) -> dict[str, Any]:
        now = utcnow()
        obj = self.objs.get(obj_id)
        if obj is None:
            gal_lon, gal_lat = galactic(ra, dec)
            obj = self.objs[obj_id] = {
                "id": obj_id,
                "ra": ra,
                "dec": dec,
                "ra_dis": None,
                "dec_dis": None,
                "ra_err": None,
                "dec_err": None,
                "redshift": None,
                "redshift_error": None,
                "origin": origin,
                "alias": None,
                "tns_name": None,
                "altdata": None,
                "created_at": created_at or now,
                "modified": now,
                "gal_lon": gal_lon,
                "gal_lat": gal_lat,
                "first_detected_at": None,
                "last_detected_at": None,
            }
        else:
            obj.update(ra=ra, dec=dec, modified=now)
            if origin is not None:
                obj["origin"] = origin
        return obj

    def _save_source(self, obj_id: str, gid: int, user: User | None, requested: bool) -> None:
        self.sources.setdefault(obj_id, {})[gid] = {
            "active": True,
            "requested": requested,
            "saved_at": utcnow(),
            "saved_by_id": user.id if user else None,
        }

    def _group_dicts(self, obj_id: str, include_requested: bool = True) -> list[dict[str, Any]]:
        out = []
        for gid, row in sorted(self.sources.get(obj_id, {}).items()):
            if not row["active"] or (row["requested"] and not include_requested):
                continue
            saved_by = self.users.get(row["saved_by_id"]) if row["saved_by_id"] else None
            out.append(
                {
                    **self.groups[gid],
                    "active": row["active"],
                    "requested": row["requested"],
                    "saved_at": row["saved_at"],
                    "saved_by": saved_by.as_dict() if saved_by else None,
                }
            )
        return out

    def _classification_dict(self, c: dict[str, Any], full: bool) -> dict[str, Any]:
        out = {k: v for k, v in c.items() if k != "group_ids"}
        author = self.users.get(c["author_id"])
        out["author_name"] = author.username if author else None
        if full:
            out["groups"] = [self.groups[g] for g in c["group_ids"] if g in self.groups]
            out["votes"] = [v for (cid, _), v in self.votes.items() if cid == c["id"]]
            out["edits"] = []
        else:
            out["groups"], out["votes"] = [], []
        return out

    def _visible_classifications(
        self, user: User, obj_id: str | None = None
    ) -> list[dict[str, Any]]:
        return [
            c
            for c in self.classifications.values()
            if (obj_id is None or c["obj_id"] == obj_id)
            and (user.admin or c["author_id"] == user.id or set(c["group_ids"]) & user.group_ids)
        ]

    def _visible_annotations(self, user: User, obj_id: str) -> tuple[list[dict], bool]:
        """(visible annotations, whether any annotation of the object exists)."""
        rows = [a for a in self.annotations.values() if a["obj_id"] == obj_id]
        visible = [
            a
            for a in rows
            if user.admin or a["author_id"] == user.id or set(a["group_ids"]) & user.group_ids
        ]
        return visible, bool(rows)

    @staticmethod
    def _annotation_dict(a: dict[str, Any]) -> dict[str, Any]:
        return {
            k: a[k]
            for k in ("id", "obj_id", "origin", "data", "author_id", "created_at", "modified")
        }

    def _source_dict(
        self, obj: dict[str, Any], user: User, full: bool, request: Request
    ) -> dict[str, Any]:
        obj_id = obj["id"]
        out = {k: v for k, v in obj.items() if k not in ("first_detected_at", "last_detected_at")}
        out["groups"] = self._group_dicts(obj_id)
        out["classifications"] = [
            self._classification_dict(c, full) for c in self._visible_classifications(user, obj_id)
        ]
        out["annotations"] = [
            self._annotation_dict(a) for a in self._visible_annotations(user, obj_id)[0]
        ]
        if parse_bool(request.param("includeLabellers")):
            labels = [row for (oid, _, _), row in self.labels.items() if oid == obj_id]
            if full:
                ids = sorted({row["labeller_id"] for row in labels})
                out["labellers"] = [self.users[i].as_dict() for i in ids if i in self.users]
            else:
                out["labellers"] = labels
        if full and parse_bool(request.param("includePhotometry")):
            out["photometry"] = [p for p in self.photometry.values() if p["obj_id"] == obj_id]
        if full and parse_bool(request.param("includeComments")):
            out["comments"] = [
                self._comment_dict(c) for c in self.comments.values() if c["obj_id"] == obj_id
            ]
        return out

    def _comment_dict(self, c: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in c.items() if k not in ("attachment_bytes", "group_ids")}
