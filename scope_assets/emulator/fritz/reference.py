"""Instruments, groups, taxonomies and GCN events."""

from __future__ import annotations

from typing import Any

import yaml

from scope_assets.emulator.fritz.common import (
    ApiError,
    User,
    in_date_range,
    parse_bool,
    parse_date,
    parse_id_list,
    utcnow,
)
from scope_assets.emulator.fritz.state import FritzState
from scope_assets.emulator.server import Request
from scope_assets.emulator.taxonomies import is_valid_hierarchy


class ReferenceApi(FritzState):
    """Instruments, groups, taxonomies and GCN events."""

    # --- instruments, groups, taxonomies --------------------------------------------------------

    def _list_instruments(self, request: Request, user: User) -> list[dict]:
        name = request.param("name")
        return [i for i in self.instruments.values() if name is None or i["name"] == name]

    def _get_instrument(self, request: Request, user: User, iid: str) -> dict:
        instrument = self.instruments.get(int(iid))
        if instrument is None:
            raise self._not_found(f"Instrument {iid} not found")
        return instrument

    def _get_profile(self, request: Request, user: User) -> dict[str, Any]:
        """The token's user (SkyPortal's ``/api/internal/profile``): id, name and groups."""
        return {**user.as_dict(), "groups": [self.groups[g] for g in sorted(user.group_ids)]}

    def _list_groups(self, request: Request, user: User) -> Any:
        name = request.param("name")
        if name is not None:
            return [g for g in self.groups.values() if g["name"] == name]
        mine = [self.groups[g] for g in sorted(user.group_ids)]
        all_groups = (
            list(self.groups.values())
            if user.admin
            else [g for g in self.groups.values() if not g["private"]]
        )
        return {"user_groups": mine, "user_accessible_groups": mine, "all_groups": all_groups}

    def _get_group(self, request: Request, user: User, gid: str) -> dict:
        group = self.groups.get(int(gid))
        if group is None or (
            group["private"] and int(gid) not in user.group_ids and not user.admin
        ):
            raise self._not_found(f"Group {gid} not found")
        members = [
            self.users[u].as_dict()
            for u in sorted(self.group_members.get(int(gid), ()))
            if u in self.users
        ]
        return {**group, "users": members}

    def _taxonomy_dict(self, t: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in t.items() if k != "group_ids"}
        out["groups"] = [self.groups[g] for g in t["group_ids"] if g in self.groups]
        return out

    def _list_taxonomies(self, request: Request, user: User) -> list[dict]:
        return [self._taxonomy_dict(t) for t in self.taxonomies.values()]

    def _get_taxonomy(self, request: Request, user: User, tid: str) -> dict:
        taxonomy = self.taxonomies.get(int(tid))
        if taxonomy is None:
            raise self._not_found(f"Taxonomy {tid} not found")
        return self._taxonomy_dict(taxonomy)

    def _post_taxonomy(self, request: Request, user: User) -> dict[str, Any]:
        body = self._body(request)
        unknown = set(body) - {
            "name",
            "version",
            "hierarchy",
            "hierarchy_file",
            "group_ids",
            "provenance",
            "isLatest",
        }
        if unknown:
            raise ApiError(400, f"Unknown keys: {sorted(unknown)}")
        name, version = body.get("name"), body.get("version")
        if not name or not version:
            raise ApiError(400, "A taxonomy needs a name and a version")
        hierarchy = body.get("hierarchy")
        if hierarchy is None and body.get("hierarchy_file") is not None:
            try:
                hierarchy = yaml.safe_load(body["hierarchy_file"])
            except yaml.YAMLError:
                raise ApiError(400, "Hierarchy does not validate against the schema.") from None
        if isinstance(hierarchy, str):
            hierarchy = yaml.safe_load(hierarchy)
        if not is_valid_hierarchy(hierarchy):
            raise ApiError(400, "Hierarchy does not validate against the schema.")
        if any(t["name"] == name and t["version"] == version for t in self.taxonomies.values()):
            raise ApiError(400, f"Taxonomy {name} version {version} already exists")
        group_ids = self._user_group_ids(user, parse_id_list(body.get("group_ids")))
        is_latest = parse_bool(body.get("isLatest"), default=True)
        if is_latest:
            for t in self.taxonomies.values():
                if t["name"] == name:
                    t["isLatest"] = False
        tid = max(self.taxonomies, default=0) + 1
        now = utcnow()
        self.taxonomies[tid] = {
            "id": tid,
            "name": name,
            "version": version,
            "hierarchy": hierarchy,
            "provenance": body.get("provenance"),
            "isLatest": is_latest,
            "group_ids": group_ids,
            "created_at": now,
            "modified": now,
        }
        return {"taxonomy_id": tid}

    # --- GCN events ---------------------------------------------------------------------------

    @staticmethod
    def _event_dict(event: dict[str, Any]) -> dict[str, Any]:
        out = dict(event)
        out["localizations"] = [
            {k: v for k, v in loc.items() if k not in ("center", "radius_deg")}
            for loc in event["localizations"]
        ]
        return out

    def _list_gcn_events(self, request: Request, user: User) -> dict[str, Any]:
        events = sorted(self.gcn_events.values(), key=lambda e: e["dateobs"], reverse=True)
        events = in_date_range(events, "dateobs", request)
        page, number, per_page, total = self._page(request, events)
        return {
            "events": [self._event_dict(e) for e in page],
            "totalMatches": total,
            "pageNumber": number,
            "numPerPage": per_page,
        }

    def _get_gcn_event(self, request: Request, user: User, dateobs: str) -> dict[str, Any]:
        event = self.gcn_events.get(parse_date(dateobs, "dateobs"))
        if event is None:
            raise ApiError(404, "GCN event not found")
        return self._event_dict(event)
