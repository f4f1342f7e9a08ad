"""Fault injection and request recording for the emulated services.

A :class:`FaultInjector` holds an ordered list of :class:`Fault` rules and an optional
per-``Authorization`` token-bucket rate limit. Each incoming request is matched against the rules
(first match wins); a matching rule may delay the request, answer it with an error status, or
both. A :class:`RequestLog` records every request a service answered, for tests to assert on.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Fault:
    """One injected fault.

    ``status`` None means "only delay, then answer normally". ``count`` is how many matching
    requests the fault applies to (None: until cleared); the first ``skip`` matching requests
    pass through untouched. ``path_regex``/``body_regex`` select requests by a regex search in the
    path / the request body. ``body``/``content_type`` default to what the real service (or the
    nginx in front of it) sends for ``status``.
    """

    status: int | None = None
    count: int | None = 1
    method: str | None = None
    path_regex: str | None = None
    body_regex: str | None = None
    delay_s: float = 0.0
    body: str | None = None
    content_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    skip: int = 0

    def __post_init__(self) -> None:
        for name in ("path_regex", "body_regex"):
            pattern = getattr(self, name)
            if pattern is None:
                continue
            try:
                re.compile(pattern)
            except (re.error, TypeError) as exc:
                raise ValueError(
                    f"fault {name} {pattern!r} is not a regular expression: {exc}"
                ) from None

    def matches(self, method: str, path: str, body: bytes = b"") -> bool:
        if self.method and self.method.upper() != method.upper():
            return False
        if self.path_regex and re.search(self.path_regex, path) is None:
            return False
        text = body.decode("utf-8", errors="replace")
        return not self.body_regex or re.search(self.body_regex, text) is not None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Fault:
        unknown = set(data) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown fault keys: {sorted(unknown)}")
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class RateLimit:
    """nginx-style token bucket per ``Authorization`` value: ``rate`` per second, ``burst`` deep."""

    rate: float = 5.0
    burst: int = 10
    enabled: bool = False
    retry_after: bool = False

    def __post_init__(self) -> None:
        self._buckets: dict[str, tuple[float, float]] = {}

    def allow(self, key: str, now: float) -> bool:
        """Take one token from ``key``'s bucket; False when it is empty."""
        tokens, last = self._buckets.get(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.rate)
        if tokens < 1.0:
            self._buckets[key] = (tokens, now)
            return False
        self._buckets[key] = (tokens - 1.0, now)
        return True

    def to_dict(self) -> dict[str, Any]:
        return {
            "rate": self.rate,
            "burst": self.burst,
            "enabled": self.enabled,
            "retry_after": self.retry_after,
        }


@dataclass(frozen=True)
class Interception:
    """What the injector decided for one request."""

    delay_s: float = 0.0
    fault: Fault | None = None
    rate_limited: bool = False


class FaultInjector:
    """Thread-safe list of faults plus the rate limit, consulted once per request."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self.rate_limit = RateLimit()

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
            self.rate_limit = RateLimit()

    def set_rate_limit(
        self, rate: float = 5.0, burst: int = 10, enabled: bool = True, retry_after: bool = False
    ) -> None:
        with self._lock:
            self.rate_limit = RateLimit(rate, burst, enabled, retry_after)

    def active(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def intercept(self, method: str, path: str, auth_key: str, body: bytes = b"") -> Interception:
        """Consume the first matching fault (or a rate-limit token) for this request."""
        with self._lock:
            for fault in self._faults:
                if not fault.matches(method, path, body):
                    continue
                if fault.skip > 0:
                    fault.skip -= 1
                    break
                if fault.count is not None:
                    fault.count -= 1
                    if fault.count <= 0:
                        self._faults.remove(fault)
                return Interception(delay_s=fault.delay_s, fault=fault)
            limit = self.rate_limit
            if limit.enabled and not limit.allow(auth_key, time.monotonic()):
                return Interception(rate_limited=True)
        return Interception()


REDACTED = "<redacted>"
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})
SECRET_FIELDS = frozenset({"password", "token"})


def redacted_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """``headers`` with credentials replaced (the request log is served to anyone)."""
    return {k: REDACTED if k.lower() in SECRET_HEADERS else v for k, v in headers.items()}


def redacted_body(body: bytes) -> str:
    """A request body as text, with every ``password``/``token`` value of a JSON object hidden."""
    text = body.decode("utf-8", errors="replace")
    try:
        data = json.loads(text)
    except ValueError:
        return text
    if not isinstance(data, dict):
        return text
    if not any(data.get(k) for k in SECRET_FIELDS):
        return text
    hidden = {k: REDACTED if k in SECRET_FIELDS else v for k, v in data.items()}
    return json.dumps(hidden)


@dataclass(frozen=True)
class LoggedRequest:
    """One request as the service saw it, and the status it answered with."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    status: int
    injected: bool

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "headers": redacted_headers(self.headers),
            "body": redacted_body(self.body),
            "status": self.status,
            "injected": self.injected,
        }


class RequestLog:
    """Every answered request, in arrival order of completion."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[LoggedRequest] = []

    def record(self, entry: LoggedRequest) -> None:
        with self._lock:
            self._entries.append(entry)

    def entries(
        self, method: str | None = None, path_regex: str | None = None
    ) -> list[LoggedRequest]:
        """Recorded requests, optionally only those with ``method`` and a path matching the regex."""
        with self._lock:
            entries = list(self._entries)
        return [
            e
            for e in entries
            if (method is None or e.method == method.upper())
            and (path_regex is None or re.search(path_regex, e.path))
        ]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
