"""Annotations (unique per object and origin) and comments (idempotent reposts)."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from scope_assets.emulator.fritz.common import (
    ApiError,
    User,
    parse_id_list,
    utcnow,
)
from scope_assets.emulator.fritz.state import FritzState
from scope_assets.emulator.server import Request


class AnnotationsApi(FritzState):
    """Annotations (unique per object and origin) and comments (idempotent reposts)."""

    # --- annotations --------------------------------------------------------------------------

    def _get_annotations(self, request: Request, user: User, obj_id: str) -> list[dict]:
        if obj_id not in self.objs:
            raise self._not_found("Source not found")
        visible, any_exist = self._visible_annotations(user, obj_id)
        if any_exist and not visible:
            raise ApiError(403, "Could not find any accessible annotations.")
        return [self._annotation_dict(a) for a in visible]

    def _post_annotation(self, request: Request, user: User, obj_id: str) -> dict[str, Any]:
        if obj_id not in self.objs:
            raise ApiError(404, f"Source {obj_id} not found")
        body = self._body(request)
        origin, data = body.get("origin"), body.get("data")
        if not isinstance(origin, str) or not re.match(r"^\w+", origin):
            raise ApiError(400, f"Invalid origin {origin!r}")
        if not isinstance(data, dict) or not data:
            raise ApiError(400, "data must be a non-empty object")
        if any(a["obj_id"] == obj_id and a["origin"] == origin for a in self.annotations.values()):
            raise ApiError(400, f"Annotation already exists: obj_id {obj_id}, origin {origin}")
        group_ids = self._user_group_ids(user, parse_id_list(body.get("group_ids")))
        now = utcnow()
        aid = self._next_id("annotation")
        self.annotations[aid] = {
            "id": aid,
            "obj_id": obj_id,
            "origin": origin,
            "data": data,
            "author_id": user.id,
            "group_ids": group_ids,
            "created_at": now,
            "modified": now,
        }
        return {"annotation_id": aid}

    def _own_annotation(self, user: User, obj_id: str, aid: str) -> dict[str, Any]:
        a = self.annotations.get(int(aid))
        if a is None or a["obj_id"] != obj_id:
            raise self._not_found(f"Annotation {aid} not found")
        if a["author_id"] != user.id and not user.admin:
            raise ApiError(403, "Insufficient permissions.")
        return a

    def _put_annotation(
        self, request: Request, user: User, obj_id: str, aid: str
    ) -> dict[str, Any]:
        a = self._own_annotation(user, obj_id, aid)
        body = self._body(request)
        if "data" in body:
            if not isinstance(body["data"], dict):
                raise ApiError(400, "data must be an object")
            a["data"] = body["data"]
        if "origin" in body:
            a["origin"] = body["origin"]
        if "group_ids" in body:
            a["group_ids"] = self._user_group_ids(user, parse_id_list(body["group_ids"]))
        a["modified"] = utcnow()
        return {}

    def _delete_annotation(
        self, request: Request, user: User, obj_id: str, aid: str
    ) -> dict[str, Any]:
        self._own_annotation(user, obj_id, aid)
        del self.annotations[int(aid)]
        return {}

    # --- comments -----------------------------------------------------------------------------

    def _get_comments(self, request: Request, user: User, obj_id: str) -> list[dict]:
        self._visible_obj(obj_id, user)
        return [
            self._comment_dict(c)
            for c in self.comments.values()
            if c["obj_id"] == obj_id and (user.admin or set(c["group_ids"]) & user.group_ids)
        ]

    @staticmethod
    def _attachment(value: Any) -> tuple[str | None, bytes | None]:
        if value is None:
            return None, None
        if (
            not isinstance(value, dict)
            or not isinstance(value.get("body"), str)
            or not value.get("name")
        ):
            raise ApiError(400, "Malformed comment attachment")
        body = value["body"]
        if body.startswith("data:") and ";base64," in body:
            body = body.split(";base64,", 1)[1]
        try:
            return str(value["name"]), base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise ApiError(400, "Malformed comment attachment: body is not base64") from None

    def _post_comment(self, request: Request, user: User, obj_id: str) -> Any:
        self._visible_obj(obj_id, user)
        body = self._body(request)
        text = body.get("text")
        if not isinstance(text, str) or not text:
            raise ApiError(400, "Missing comment text")
        name, content = self._attachment(body.get("attachment"))
        for c in self.comments.values():
            if (
                c["obj_id"] == obj_id
                and c["author_id"] == user.id
                and c["text"] == text
                and c["attachment_name"] == name
            ):
                return {"comment_id": c["id"]}, "Same comment already exists."
        group_ids = self._user_group_ids(user, parse_id_list(body.get("group_ids")))
        now = utcnow()
        cid = self._next_id("comment")
        self.comments[cid] = {
            "id": cid,
            "obj_id": obj_id,
            "text": text,
            "author_id": user.id,
            "author": user.as_dict(),
            "bot": False,
            "attachment_name": name,
            "attachment_bytes": content,
            "group_ids": group_ids,
            "created_at": now,
            "modified": now,
        }
        return {"comment_id": cid}
