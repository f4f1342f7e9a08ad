"""Sources: list (cone, groups, localization, dates, paging), get, post (upsert), groups."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from scope_assets.emulator.fritz.common import (
    OBJ_ID_PATTERN,
    ApiError,
    User,
    parse_date,
    parse_id_list,
    separation_deg,
)
from scope_assets.emulator.fritz.state import FritzState
from scope_assets.emulator.server import Request


class SourcesApi(FritzState):
    """Sources: list (cone, groups, localization, dates, paging), get, post (upsert), groups."""

    def _list_sources(self, request: Request, user: User) -> dict[str, Any]:
        group_ids = parse_id_list(request.param("group_ids"))
        if group_ids is None:
            allowed = set(self.groups) if user.admin else user.group_ids
        else:
            allowed = set(self._user_group_ids(user, group_ids))
        objs = self._filter_cone(list(self.objs.values()), request)
        objs = [o for o in objs if self._obj_group_ids(o["id"]) & allowed]
        objs = self._filter_localization(objs, request)
        objs = self._filter_dates(objs, request)
        reverse = (request.param("sortOrder") or "asc").lower() == "desc"
        sort_by = request.param("sortBy") or "created_at"
        if sort_by not in ("created_at", "id", "ra", "dec", "saved_at"):
            raise ApiError(400, f"Invalid sortBy: {sort_by}")
        key = "created_at" if sort_by == "saved_at" else sort_by
        objs.sort(key=lambda o: (o[key], o["id"]), reverse=reverse)
        page, number, per_page, total = self._page(request, objs)
        data = {
            "sources": [self._source_dict(o, user, False, request) for o in page],
            "totalMatches": total,
            "pageNumber": number,
            "numPerPage": per_page,
        }
        if group_ids is not None and len(group_ids) == 1:
            data["group_id"] = group_ids[0]
        return data

    @staticmethod
    def _filter_cone(objs: list[dict], request: Request) -> list[dict]:
        values = [request.param(k) for k in ("ra", "dec", "radius")]
        if all(v is None for v in values):
            return objs
        try:
            ra, dec, radius = (float(v) for v in values)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise ApiError(400, "ra, dec and radius must all be numbers") from None
        return [
            o
            for o in objs
            if abs(o["dec"] - dec) <= radius
            and separation_deg(o["ra"], o["dec"], ra, dec) <= radius
        ]

    def _filter_localization(self, objs: list[dict], request: Request) -> list[dict]:
        dateobs_text = request.param("localizationDateobs")
        if dateobs_text is None:
            return objs
        start, end = request.param("startDate"), request.param("endDate")
        if start is None or end is None:
            raise ApiError(
                400, "Must provide startDate and endDate when filtering by localizationDateobs"
            )
        if parse_date(end, "endDate") - parse_date(start, "startDate") > timedelta(days=3653):
            raise ApiError(400, "startDate and endDate must be within 10 years of each other")
        dateobs = parse_date(dateobs_text, "localizationDateobs")
        name = request.param("localizationName")
        event = self.gcn_events.get(dateobs)
        localizations = event["localizations"] if event else []
        if name is not None:
            localizations = [loc for loc in localizations if loc["localization_name"] == name]
        if not localizations:
            raise ApiError(
                400,
                f"Cannot retrieve sources: Localization {dateobs_text} {name or ''} not found".rstrip(),
            )
        loc = localizations[0]
        ra, dec = loc["center"]
        return [o for o in objs if separation_deg(o["ra"], o["dec"], ra, dec) <= loc["radius_deg"]]

    @staticmethod
    def _filter_dates(objs: list[dict], request: Request) -> list[dict]:
        start, end = request.param("startDate"), request.param("endDate")
        if start is not None:
            lo = parse_date(start, "startDate")
            objs = [
                o for o in objs if o["last_detected_at"] is not None and o["last_detected_at"] >= lo
            ]
        if end is not None:
            hi = parse_date(end, "endDate")
            objs = [
                o for o in objs if o["last_detected_at"] is not None and o["last_detected_at"] <= hi
            ]
        return objs

    def _get_source(self, request: Request, user: User, obj_id: str) -> dict[str, Any]:
        return self._source_dict(self._visible_obj(obj_id, user), user, True, request)

    def _get_source_groups(self, request: Request, user: User, obj_id: str) -> list[dict[str, Any]]:
        self._visible_obj(obj_id, user)
        return self._group_dicts(obj_id, include_requested=True)

    def _post_source(self, request: Request, user: User) -> dict[str, Any]:
        body = self._body(request)
        obj_id = body.get("id")
        if not isinstance(obj_id, str) or not OBJ_ID_PATTERN.match(obj_id):
            raise ApiError(400, f"Failed to post source: invalid id {obj_id!r}")
        try:
            ra, dec = float(body["ra"]), float(body["dec"])
        except (KeyError, TypeError, ValueError):
            raise ApiError(400, "Failed to post source: ra and dec are required numbers") from None
        if not (0 <= ra < 360 and -90 <= dec <= 90):
            raise ApiError(400, "Failed to post source: ra/dec out of range")
        group_ids = self._user_group_ids(user, parse_id_list(body.get("group_ids")))
        obj = self._upsert_obj(obj_id, ra, dec, origin=body.get("origin"))
        for key in ("alias", "redshift"):
            if key in body:
                obj[key] = body[key]
        for gid in group_ids:
            self._save_source(obj_id, gid, user, requested=False)
        return {"id": obj_id, "saved_to_groups": group_ids}

    def _post_source_groups(self, request: Request, user: User) -> dict[str, Any]:
        body = self._body(request)
        extra = set(body) - {"objId", "inviteGroupIds", "unsaveGroupIds"}
        if extra:
            raise ApiError(400, f"Unexpected keys: {sorted(extra)}")
        invite = parse_id_list(body.get("inviteGroupIds")) or []
        unsave = parse_id_list(body.get("unsaveGroupIds")) or []
        if not invite and not unsave:
            raise ApiError(400, "One of either inviteGroupIds or unsaveGroupIds must be provided")
        obj_id = body.get("objId")
        if obj_id not in self.objs:
            raise ApiError(404, f"Source {obj_id} not found")
        for gid in invite:
            if gid not in self.groups:
                raise ApiError(400, f"Invalid group ID: {gid}")
            row = self.sources.get(obj_id, {}).get(gid)
            if row is not None and row["active"] and not row["requested"]:
                raise ApiError(400, f"Source already saved to group w/ ID {gid}")
            self._save_source(
                obj_id, gid, user, requested=gid not in user.group_ids and not user.admin
            )
        for gid in unsave:
            row = self.sources.get(obj_id, {}).get(gid)
            if row is None or gid not in user.group_ids:
                raise ApiError(400, f"Source not saved to group w/ ID {gid}")
            row["active"] = False
        return {}
