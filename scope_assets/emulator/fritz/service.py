"""The Fritz emulator service: authentication, routing and envelopes."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from scope_assets.emulator.fritz.annotations import AnnotationsApi
from scope_assets.emulator.fritz.classifications import ClassificationsApi
from scope_assets.emulator.fritz.common import (
    ALL_ACLS,
    MALFORMED,
    SITEWIDE_GROUP_ID,
    VERSION,
    ApiError,
    Route,
    User,
    to_jsonable,
)
from scope_assets.emulator.fritz.photometry import PhotometryApi
from scope_assets.emulator.fritz.reference import ReferenceApi
from scope_assets.emulator.fritz.sources import SourcesApi
from scope_assets.emulator.server import Request, Response, nginx_error_page, reason


def _moment(text: str | None) -> datetime | None:
    """An ISO time of a control payload as naive UTC (None stays None)."""
    if text is None:
        return None
    value = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


class FritzService(SourcesApi, ClassificationsApi, AnnotationsApi, PhotometryApi, ReferenceApi):
    """In-memory SkyPortal: users, groups, objects, sources, classifications, annotations, …"""

    name = "Fritz"
    max_body_bytes: int | None = None

    def __init__(
        self, tokens: Iterable[str] = (), seed: Callable[[FritzService], object] | None = None
    ) -> None:
        """Users ``scope-user-<i>`` for ``tokens`` (all ACLs); ``seed`` adds objects, events, …."""
        self._lock = threading.RLock()
        self._routes = self._build_routes()
        self._seed_tokens = list(tokens)
        self._seed = seed
        self._batch_failures: list[dict[str, int]] = []
        self.reset()

    # --- Service protocol ---------------------------------------------------------------------

    def fault_response(self, status: int) -> Response:
        if status in (429, 502, 503, 504):
            return nginx_error_page(status)
        messages = {401: "HTTP 401: Unauthorized", 403: "HTTP 403: Forbidden"}
        return self._error(status, messages.get(status, reason(status)))

    def control(self, action: str, payload: Any) -> Any:
        if action == "batch_failure":
            self.fail_classification_batch(payload["item"], payload.get("count", 1))
            return {"pending": list(self._batch_failures)}
        if action == "version":
            self.not_found_status = int(payload.get("not_found_status", self.not_found_status))
            self.microseconds = bool(payload.get("microseconds", self.microseconds))
            return {"not_found_status": self.not_found_status, "microseconds": self.microseconds}
        if action == "users":
            user = self.add_user(
                payload["username"],
                payload["token"],
                payload.get("acls", sorted(ALL_ACLS)),
                payload.get("active", True),
                payload.get("admin", False),
                payload.get("group_ids"),
            )
            return user.as_dict()
        if action == "gcn_event":
            return self._control_gcn_event(payload)
        if action == "objects":
            return self._control_objects(payload)
        return NotImplemented

    def _control_gcn_event(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        """``{dateobs, tags, ra, dec, radius_deg[, localization_name, aliases]}``: a new event,
        or a newer localization (a cone) of an existing one."""
        event = self.add_gcn_event(
            _moment(payload["dateobs"]),
            list(payload.get("tags", [])),
            float(payload["ra"]),
            float(payload["dec"]),
            float(payload["radius_deg"]),
            localization_name=payload.get("localization_name", "bayestar.fits.gz"),
            aliases=list(payload.get("aliases", [])),
        )
        return {"id": event["id"], "dateobs": event["dateobs"].isoformat()}

    def _control_objects(self, payload: Mapping[str, Any]) -> dict[str, int]:
        """``{objects: [{id, ra, dec[, group_ids, first_detected, last_detected]}]}``: sources
        saved to their groups (Sitewide by default), e.g. candidates in a GCN localization."""
        objects = payload["objects"]
        for item in objects:
            self.add_object(
                str(item["id"]),
                float(item["ra"]),
                float(item["dec"]),
                group_ids=item.get("group_ids", [SITEWIDE_GROUP_ID]),
                first_detected=_moment(item.get("first_detected")),
                last_detected=_moment(item.get("last_detected")),
                origin=item.get("origin"),
            )
        return {"objects": len(objects)}

    def reset(self) -> None:
        """Back to the seeded state (groups, taxonomies, instrument, start-up users, ``seed``)."""
        with self._lock:
            self._reset_state()
            self._batch_failures.clear()
            self.not_found_status = 404
            self.microseconds = True
            for i, token in enumerate(self._seed_tokens, start=1):
                self.add_user(f"scope-user-{i}", token)
            if self._seed is not None:
                self._seed(self)

    def _envelope(self, status: int, payload: Mapping[str, Any]) -> Response:
        return Response(status, json.dumps(to_jsonable(payload, self.microseconds)).encode())

    def _error(self, status: int, message: str) -> Response:
        return self._envelope(
            status, {"status": "error", "message": message, "data": {}, "version": VERSION}
        )

    def _success(self, data: Any, message: str | None = None) -> Response:
        payload: dict[str, Any] = {"status": "success", "data": data, "version": VERSION}
        if message:
            payload["message"] = message
        return self._envelope(200, payload)

    def _authenticate(self, request: Request) -> User:
        header = request.headers.get("Authorization") or ""
        match = re.fullmatch(r"token (\S+)", header.strip())
        if not match:
            raise ApiError(401, MALFORMED)
        user = next((u for u in self.users.values() if u.token == match.group(1)), None)
        if user is None:
            raise ApiError(401, "HTTP 401: Unauthorized")
        if not user.active:
            raise ApiError(403, "HTTP 403: Forbidden (User account expired)")
        return user

    def handle(self, request: Request) -> Response:
        path = request.path.rstrip("/")
        matches = [(r, m) for r in self._routes if (m := r.pattern.fullmatch(path))]
        if not matches:
            if request.method == "GET" and path.startswith("/api"):
                return self._error(400, "Invalid API endpoint")
            return (
                self._error(405, reason(405))
                if path.startswith("/api")
                else self._error(404, reason(404))
            )
        route_match = next(((r, m) for r, m in matches if r.method == request.method), None)
        if route_match is None:
            return self._error(405, reason(405))
        route, match = route_match
        params = {k: unquote(v) for k, v in match.groupdict().items()}
        with self._lock:
            try:
                user = self._authenticate(request)
                if route.acl and route.acl not in user.acls and not user.admin:
                    raise ApiError(401, "HTTP 401: Unauthorized")
                result = route.handler(request, user, **params)
            except ApiError as exc:
                return self._error(exc.status, exc.message)
            except json.JSONDecodeError:
                return self._error(400, "Invalid JSON body")
        if isinstance(result, tuple):
            return self._success(*result)
        return self._success(result)

    def _build_routes(self) -> list[Route]:
        obj = r"(?P<obj_id>[^/]+)"
        table = [
            ("GET", r"/api/sources", self._list_sources, None),
            ("POST", r"/api/sources", self._post_source, "Upload data"),
            ("GET", rf"/api/sources/{obj}", self._get_source, None),
            ("GET", rf"/api/sources/{obj}/groups", self._get_source_groups, None),
            ("GET", rf"/api/sources/{obj}/classifications", self._get_source_classifications, None),
            (
                "DELETE",
                rf"/api/sources/{obj}/classifications",
                self._delete_source_classifications,
                None,
            ),
            ("GET", rf"/api/sources/{obj}/annotations", self._get_annotations, None),
            ("POST", rf"/api/sources/{obj}/annotations", self._post_annotation, "Annotate"),
            (
                "PUT",
                rf"/api/sources/{obj}/annotations/(?P<aid>\d+)",
                self._put_annotation,
                "Annotate",
            ),
            (
                "DELETE",
                rf"/api/sources/{obj}/annotations/(?P<aid>\d+)",
                self._delete_annotation,
                None,
            ),
            ("GET", rf"/api/sources/{obj}/comments", self._get_comments, None),
            ("POST", rf"/api/sources/{obj}/comments", self._post_comment, "Comment"),
            ("POST", r"/api/source_groups", self._post_source_groups, "Upload data"),
            ("GET", r"/api/classification", self._list_classifications, None),
            ("POST", r"/api/classification", self._post_classifications, "Classify"),
            ("GET", r"/api/classification/(?P<cid>\d+)", self._get_classification, None),
            ("PUT", r"/api/classification/(?P<cid>\d+)", self._put_classification, "Classify"),
            ("DELETE", r"/api/classification/(?P<cid>\d+)", self._delete_classification, None),
            ("POST", r"/api/classification/votes/(?P<cid>\d+)", self._post_vote, "Classify"),
            ("DELETE", r"/api/classification/votes/(?P<cid>\d+)", self._delete_vote, None),
            ("POST", r"/api/photometry", self._post_photometry, "Upload data"),
            ("PUT", r"/api/photometry", self._put_photometry, "Upload data"),
            ("GET", r"/api/instrument", self._list_instruments, None),
            ("GET", r"/api/instrument/(?P<iid>\d+)", self._get_instrument, None),
            ("GET", r"/api/internal/profile", self._get_profile, None),
            ("GET", r"/api/groups", self._list_groups, None),
            ("GET", r"/api/groups/(?P<gid>\d+)", self._get_group, None),
            ("GET", r"/api/taxonomy", self._list_taxonomies, None),
            ("POST", r"/api/taxonomy", self._post_taxonomy, "Post taxonomy"),
            ("GET", r"/api/taxonomy/(?P<tid>\d+)", self._get_taxonomy, None),
            ("GET", r"/api/gcn_event", self._list_gcn_events, None),
            ("GET", r"/api/gcn_event/(?P<dateobs>[^/]+)", self._get_gcn_event, None),
        ]
        return [Route(m, re.compile(p), h, acl) for m, p, h, acl in table]
