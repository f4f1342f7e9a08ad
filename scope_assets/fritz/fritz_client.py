"""The Fritz (SkyPortal) client: the endpoints SCoPe uses, over :class:`FritzTransport`.

The only way this project talks to Fritz; retries, rate limit, token hiding and the envelope
check live in :mod:`scope_assets.fritz.fritz_transport`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import quote

from scope_assets.fritz.fritz_transport import (
    MAX_PER_PAGE,
    FritzError,
    FritzNotFoundError,
    FritzTransport,
)


def source_path(obj_id: str, suffix: str = "") -> str:
    """``/api/sources/<obj_id><suffix>`` with the object id percent-encoded."""
    return f"/api/sources/{quote(obj_id, safe='')}{suffix}"


class FritzClient(FritzTransport):
    """Fritz REST client: one method per endpoint SCoPe uses."""

    def get_source(self, obj_id: str, **params: Any) -> dict[str, Any] | None:
        """One source, or None when Fritz says it does not exist (404 or the older 400)."""
        try:
            return self.get(source_path(obj_id), params)
        except FritzNotFoundError:
            return None
        except FritzError as exc:
            if exc.status == 400 and "not found" in exc.message.lower():
                return None
            raise

    def iter_sources(
        self, params: Mapping[str, Any] | None = None, num_per_page: int = MAX_PER_PAGE
    ) -> Iterator[dict[str, Any]]:
        """Every source matching ``params`` (``group_ids``, ``ra``/``dec``/``radius``, …), all pages."""
        for _, sources in self.paginate("/api/sources", "sources", params, num_per_page):
            yield from sources

    def sources_near(
        self, ra: float, dec: float, radius_arcsec: float, **params: Any
    ) -> list[dict[str, Any]]:
        return list(
            self.iter_sources({"ra": ra, "dec": dec, "radius": radius_arcsec / 3600.0, **params})
        )

    def post_source(
        self,
        obj_id: str,
        ra: float,
        dec: float,
        group_ids: Sequence[int] | None = None,
        **extra: Any,
    ) -> dict:
        body = {"id": obj_id, "ra": ra, "dec": dec, **extra}
        if group_ids is not None:
            body["group_ids"] = list(group_ids)
        return self.post("/api/sources", body)

    def save_to_groups(self, obj_id: str, group_ids: Sequence[int]) -> Any:
        return self.post("/api/source_groups", {"objId": obj_id, "inviteGroupIds": list(group_ids)})

    def post_classifications(self, classifications: Sequence[Mapping[str, Any]]) -> list[int]:
        """Post a batch; returns the new ids. Items commit one by one, so a failure leaves the earlier ones."""
        data = self.post("/api/classification", {"classifications": list(classifications)})
        return list(data.get("classification_ids", []))

    def get_classifications(self, obj_id: str) -> list[dict[str, Any]]:
        return self.get(source_path(obj_id, "/classifications"))

    def delete_classification(self, classification_id: int, label: bool = True) -> Any:
        return self.delete(f"/api/classification/{classification_id}", {"label": label})

    def get_annotations(self, obj_id: str) -> list[dict[str, Any]]:
        return self.get(source_path(obj_id, "/annotations"))

    def post_annotation(
        self,
        obj_id: str,
        origin: str,
        data: Mapping[str, Any],
        group_ids: Sequence[int] | None = None,
    ) -> int:
        body: dict[str, Any] = {"origin": origin, "data": dict(data)}
        if group_ids is not None:
            body["group_ids"] = list(group_ids)
        return self.post(source_path(obj_id, "/annotations"), body)["annotation_id"]

    def put_annotation(
        self, obj_id: str, annotation_id: int, data: Mapping[str, Any], origin: str | None = None
    ) -> Any:
        body: dict[str, Any] = {"data": dict(data)}
        if origin is not None:
            body["origin"] = origin
        return self.put(source_path(obj_id, f"/annotations/{annotation_id}"), body)

    def put_photometry(self, photometry: Mapping[str, Any]) -> dict[str, Any]:
        """Idempotent photometry upload (PUT de-duplicates)."""
        return self.put("/api/photometry", dict(photometry))

    def get_comments(self, obj_id: str) -> list[dict[str, Any]]:
        return self.get(source_path(obj_id, "/comments"))

    def post_comment(
        self,
        obj_id: str,
        text: str,
        attachment: Mapping[str, str] | None = None,
        group_ids: Sequence[int] | None = None,
    ) -> int:
        body: dict[str, Any] = {"text": text}
        if attachment is not None:
            body["attachment"] = dict(attachment)
        if group_ids is not None:
            body["group_ids"] = list(group_ids)
        return self.post(source_path(obj_id, "/comments"), body)["comment_id"]

    def get_groups(self) -> dict[str, Any]:
        return self.get("/api/groups")

    def get_taxonomies(self) -> list[dict[str, Any]]:
        return self.get("/api/taxonomy")

    def instrument_id(self, name: str = "ZTF") -> int:
        """The id of the instrument called ``name``."""
        for instrument in self.get("/api/instrument", {"name": name}):
            if instrument.get("name") == name:
                return int(instrument["id"])
        raise FritzError("GET", "/api/instrument", None, f"no instrument named {name!r}")

    def iter_gcn_events(self, params: Mapping[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        for _, events in self.paginate("/api/gcn_event", "events", params, num_per_page=100):
            yield from events

    def get_gcn_event(self, dateobs: str) -> dict[str, Any]:
        return self.get(f"/api/gcn_event/{dateobs}")
