"""Shared pieces of the Fritz emulator: constants, parsing, JSON conversion, users, routes."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from scope_assets.emulator.server import Request

VERSION = "1.4.0"
ALL_ACLS = frozenset({"Upload data", "Classify", "Annotate", "Comment", "Post taxonomy"})
SITEWIDE_GROUP_ID = 1
SEEDED_GROUPS = (
    (SITEWIDE_GROUP_ID, "Sitewide Group", "sitewide"),
    (48, "SCoPe GRB candidates", "scope-grb"),
    (1458, "SCoPe training set", "scope-training"),
    (1544, "SCoPe GW candidates", "scope-gw"),
)
MAX_PER_PAGE = 500
MAX_PHOTOMETRY_ROWS = 10_000
ZTF_ZP = 23.9
OBJ_ID_PATTERN = re.compile(r"^[A-Za-z0-9_\-;:+.]+$")
TRUE_WORDS = frozenset({"true", "yes", "t", "1"})
MALFORMED = (
    'HTTP 401: Unauthorized (Credentials malformed; expected form "Authorization: token abc123")'
)


class ApiError(Exception):
    """An error answer: HTTP ``status`` with ``message`` in the error envelope."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def utcnow() -> datetime:
    """Naive UTC now, as SkyPortal stores times."""
    return datetime.now(UTC).replace(tzinfo=None)


def parse_date(text: str, name: str) -> datetime:
    """An ISO date/time (naive UTC); 400 naming the parameter when unparseable."""
    try:
        value = datetime.fromisoformat(text.strip())
    except (ValueError, AttributeError):
        raise ApiError(400, f"Invalid {name}: {text!r}") from None
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


def in_date_range(rows: list[dict], key: str, request: Request) -> list[dict]:
    """``rows`` whose ``key`` lies within the request's ``startDate``/``endDate`` (inclusive; a
    missing or empty bound does not filter)."""
    start, end = request.param("startDate"), request.param("endDate")
    if start:
        lo = parse_date(start, "startDate")
        rows = [r for r in rows if r[key] >= lo]
    if end:
        hi = parse_date(end, "endDate")
        rows = [r for r in rows if r[key] <= hi]
    return rows


def parse_bool(value: Any, default: bool = False) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in TRUE_WORDS


def parse_id_list(value: Any) -> list[int] | None:
    """``"1,2"``, ``[1, 2]`` or ``3`` → ``[1, 2]``/``[3]``; None when absent."""
    if value is None or value == "":
        return None
    items = value if isinstance(value, list) else str(value).split(",")
    try:
        return [int(str(item).strip()) for item in items if str(item).strip()]
    except ValueError:
        raise ApiError(400, f"Invalid list of ids: {value!r}") from None


def to_jsonable(value: Any, microseconds: bool = True) -> Any:
    """NaN → null, datetimes → naive isoformat (microseconds dropped when zero, or always)."""
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, datetime):
        return (value if microseconds else value.replace(microsecond=0)).isoformat()
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v, microseconds) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(v, microseconds) for v in value]
    return value


def galactic(ra_deg: float, dec_deg: float) -> tuple[float, float]:
    """(l, b) in degrees from J2000 (ra, dec)."""
    ra, dec = math.radians(ra_deg), math.radians(dec_deg)
    x, y, z = math.cos(dec) * math.cos(ra), math.cos(dec) * math.sin(ra), math.sin(dec)
    rot = (
        (-0.0548755604, -0.8734370902, -0.4838350155),
        (0.4941094279, -0.4448296300, 0.7469822445),
        (-0.8676661490, -0.1980763734, 0.4559837762),
    )
    gx, gy, gz = (r[0] * x + r[1] * y + r[2] * z for r in rot)
    return math.degrees(math.atan2(gy, gx)) % 360.0, math.degrees(
        math.asin(max(-1.0, min(1.0, gz)))
    )


def separation_deg(ra1: float, dec1: float, ra2: float, dec2: float) -> float:
    r1, d1, r2, d2 = map(math.radians, (ra1, dec1, ra2, dec2))
    a = math.sin((d1 - d2) / 2) ** 2 + math.cos(d1) * math.cos(d2) * math.sin((r1 - r2) / 2) ** 2
    return math.degrees(2 * math.asin(math.sqrt(min(1.0, a))))


@dataclass
class User:
    id: int
    username: str
    token: str
    acls: frozenset[str] = ALL_ACLS
    active: bool = True
    admin: bool = False
    group_ids: set[int] = field(default_factory=set)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "username": self.username, "first_name": None, "last_name": None}


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Callable[..., Any]
    acl: str | None = None
