"""The Kowalski API as penquins sees it: ``GET /``, ``POST /api/auth``, ``POST /api/queries``.

Status codes and envelopes follow spec/services.md §A: BSON extended JSON (relaxed) bodies,
``{"status":"error","message":"<Class>: <text>"}`` with 400 for failing queries, the reason
phrase for other errors, a bare (or ``Bearer``) JWT in ``Authorization`` and a 1 MiB body limit.
The queries themselves run in :class:`~scope_assets.emulator.kowalski_queries.KowalskiQueries`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from bson import json_util

from scope_assets.emulator.catalog import Catalog
from scope_assets.emulator.kowalski_queries import KowalskiQueries
from scope_assets.emulator.server import Request, Response, nginx_error_page, reason

PENQUINS_VERSIONS = (
    "2.0.0",
    "2.0.1",
    "2.1.0",
    "2.2.0",
    "2.3.1",
    "2.3.2",
    "2.4.0",
    "2.4.1",
    "2.4.2",
)
ROUTES = {"/": {"GET", "HEAD"}, "/api/auth": {"POST"}, "/api/queries": {"POST"}}


# --- tokens ---------------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encode_token(payload: Mapping[str, Any], secret: str) -> str:
    """An HS256 JWT (Kowalski issues them without ``exp``; an ``exp`` claim is honoured)."""
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = _b64(json.dumps(dict(payload), separators=(",", ":")).encode())
    signature = hmac.new(secret.encode(), f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{_b64(signature)}"


def decode_token(token: str, secret: str) -> dict[str, Any] | None:
    """The payload of a token this server signed, or None."""
    try:
        header, body, signature = token.split(".")
        expected = hmac.new(secret.encode(), f"{header}.{body}".encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(expected, _unb64(signature)):
            return None
        return json.loads(_unb64(body))
    except (ValueError, json.JSONDecodeError):
        return None


# --- responses ------------------------------------------------------------------------------


_STRING_OR_NONFINITE = re.compile(r'("(?:\\.|[^"\\])*")|(-?Infinity|NaN)')


def dumps(payload: Any) -> str:
    """BSON relaxed extended JSON, as ``json_util.dumps`` writes it, but with C-speed encoding.

    Non-JSON types (ObjectId, datetime, …) go through ``json_util.default``; non-finite floats
    become ``{"$numberDouble": "NaN"}`` (and ``±Infinity``) outside of strings.
    """
    text = json.dumps(payload, default=json_util.default)
    if "NaN" not in text and "Infinity" not in text:
        return text
    return _STRING_OR_NONFINITE.sub(
        lambda m: m.group(1) or f'{{"$numberDouble": "{m.group(2)}"}}', text
    )


def _envelope(status: int, payload: Mapping[str, Any]) -> Response:
    return Response(status, dumps(payload).encode())


def _error(status: int, message: str) -> Response:
    return _envelope(status, {"status": "error", "message": message})


class KowalskiService:
    """One Kowalski instance serving ``catalogs`` to ``users`` (name → password)."""

    name = "Kowalski"
    max_body_bytes: int | None = 1 << 20

    def __init__(
        self,
        catalogs: Mapping[str, Catalog],
        users: Mapping[str, str],
        secret: str | None = None,
    ) -> None:
        self.users = dict(users)
        self.secret = secret or secrets.token_hex(16)
        self.queries = KowalskiQueries(catalogs)

    def issue_token(self, username: str) -> str:
        return encode_token(
            {"user_id": username, "created_at": datetime.now(UTC).isoformat()}, self.secret
        )

    def fault_response(self, status: int) -> Response:
        if status in (429, 502, 503, 504):
            return nginx_error_page(status)
        return _error(status, reason(status))

    def control(self, action: str, payload: Any) -> Any:
        if action == "cost":
            self.queries.ms_per_document = float(payload.get("ms_per_document", 0.0))
            return {"ms_per_document": self.queries.ms_per_document}
        return NotImplemented

    def reset(self) -> None:
        self.queries.ms_per_document = 0.0

    def _user(self, request: Request) -> tuple[str | None, Response | None]:
        header = request.headers.get("Authorization")
        if not header:
            return None, None
        token = header[len("Bearer ") :] if header.startswith("Bearer ") else header
        payload = decode_token(token.strip(), self.secret)
        if payload is None or "user_id" not in payload:
            return None, _error(400, "token is invalid")
        if "exp" in payload and float(payload["exp"]) < datetime.now(UTC).timestamp():
            return None, _error(400, "token has expired")
        return str(payload["user_id"]), None

    def handle(self, request: Request) -> Response:
        path = request.path.rstrip("/") or "/"
        if path not in ROUTES:
            return _error(404, "Not Found")
        if request.method not in ROUTES[path]:
            return Response(405, b"405: Method Not Allowed", "text/plain; charset=utf-8")
        user, failure = self._user(request)
        if failure is not None:
            return failure
        if path == "/api/auth":
            return self._auth(request)
        if user is None:
            return _error(401, "Unauthorized")
        if path == "/":
            return _envelope(200, {"status": "success", "message": "greetings from Kowalski!"})
        return self._queries(request, user)

    def _auth(self, request: Request) -> Response:
        try:
            body = request.json()
        except json.JSONDecodeError:
            return _error(400, "Invalid JSON body")
        for key in ("username", "password"):
            if not body.get(key):
                return _error(400, f"missing {key}")
        version = body.get("penquins.__version__")
        if version is not None and version not in PENQUINS_VERSIONS:
            return _error(400, f"unsupported version of penquins: {version}")
        expected = self.users.get(body["username"])
        if expected is None or not hmac.compare_digest(expected, str(body["password"])):
            return _error(401, "Unauthorized")
        return _envelope(200, {"status": "success", "token": self.issue_token(body["username"])})

    def _queries(self, request: Request, user: str) -> Response:
        try:
            body = request.json()
            data = self.queries.run(body.get("query_type"), body.get("query"), body.get("kwargs"))
        except Exception as exc:  # Kowalski reports every query failure as a 400
            return _error(400, f"{type(exc).__name__}: {exc}")
        payload: dict[str, Any] = {"status": "success", "message": "Successfully executed query"}
        if data is not None:
            payload["data"] = data
        return _envelope(200, payload)
