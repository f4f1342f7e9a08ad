"""The Fritz (SkyPortal 1.4) API subset SCoPe's Fritz tools and GCN workflow use.

Behaviour follows spec/services.md §B: ``Authorization: token <T>`` only; envelopes
``{"status","data","version"}`` / ``{"status":"error","message","data":{}}``; NaN as null; naive
UTC datetimes; Tornado query strings (the **last** of a repeated parameter wins, lists are
comma-separated); ``numPerPage`` silently capped at 500; batch classifications committed item by
item; annotations unique per (object, origin); comment reposts and photometry PUTs idempotent.
All state is in memory behind one lock.
"""

from scope_assets.emulator.fritz.common import (
    ALL_ACLS,
    MALFORMED,
    SITEWIDE_GROUP_ID,
    ApiError,
    separation_deg,
)
from scope_assets.emulator.fritz.service import FritzService

__all__ = [
    "ALL_ACLS",
    "MALFORMED",
    "SITEWIDE_GROUP_ID",
    "ApiError",
    "FritzService",
    "separation_deg",
]
