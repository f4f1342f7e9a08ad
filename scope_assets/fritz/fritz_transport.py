"""The HTTP side of the Fritz (SkyPortal) client: auth, retries, rate limit, envelopes, pages.

- ``Authorization: token <T>`` on every request; the token never appears in a log line, an
  exception or ``repr``.
- A timeout on every request; retries with exponential backoff on 429, 5xx and connection
  errors (and read timeouts for idempotent methods), honouring ``Retry-After`` when present and
  coping with nginx's HTML 429/502/503 pages.
- A client-side token-bucket rate limit (Fritz's nginx allows about 5 requests/s per token).
- List parameters are sent comma-joined (Tornado keeps only the last repeated key).
- The ``{status, data, message}`` envelope is checked; a permanent error (4xx) raises at once
  with the service's message.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Self
from urllib.parse import urljoin

import requests

from scope_assets.credentials import clean_token, redact
from scope_assets.errors import ScopeError, printable

logger = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE"})
MAX_PER_PAGE = 500


class FritzError(ScopeError, RuntimeError):
    """Fritz answered with an error (or not at all); ``message`` is the service's own text."""

    def __init__(self, method: str, endpoint: str, status: int | None, message: str) -> None:
        self.method = method
        self.endpoint = endpoint
        self.status = status
        self.message = message
        where = f"Fritz {method} {endpoint}"
        super().__init__(f"{where}: HTTP {status}: {message}" if status else f"{where}: {message}")


class FritzAuthError(FritzError):
    """401/403: the token is missing, unknown, lacks a permission, or the account expired."""


class FritzNotFoundError(FritzError):
    """404 (or the older 400 "not found"): the object does not exist or is not visible."""


class RateLimiter:
    """A thread-safe token bucket: at most ``rate`` requests per second, ``burst`` at once."""

    def __init__(
        self, rate: float, burst: int = 1, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.burst = max(1, burst)
        self._clock = clock
        self._tokens = float(self.burst)
        self._last = clock()
        self._lock = threading.Lock()

    def acquire(self) -> None:
        """Block until a request may be sent."""
        while True:
            with self._lock:
                now = self._clock()
                self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
                self._last = now
                if self._tokens >= 1.0:
                    self._tokens -= 1.0
                    return
                wait = (1.0 - self._tokens) / self.rate
            time.sleep(wait)


def encode_params(params: Mapping[str, Any] | None) -> dict[str, str]:
    """Query parameters as Tornado reads them: lists comma-joined, booleans ``true``/``false``."""
    encoded: dict[str, str] = {}
    for key, value in (params or {}).items():
        if value is None:
            continue
        if isinstance(value, bool):
            encoded[key] = "true" if value else "false"
        elif isinstance(value, list | tuple | set | frozenset):
            encoded[key] = ",".join(str(v) for v in value)
        else:
            encoded[key] = str(value)
    return encoded


def _service_message(response: requests.Response) -> str:
    """The envelope's ``message``, or the title of an HTML error page, or the start of the body."""
    try:
        body = response.json()
    except ValueError:
        text = response.text or ""
        title = re.search(r"<title>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)
        if title:
            return printable(title.group(1).strip(), 200)
        return printable(text.strip()[:200], 200) or response.reason or ""
    if isinstance(body, Mapping) and body.get("message"):
        return str(body["message"])
    return response.reason or ""


class FritzTransport:
    """Fritz REST requests with retries and a rate limit; ``request`` returns the envelope's
    ``data``."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout_s: float = 30.0,
        max_retries: int = 5,
        backoff_s: float = 1.0,
        max_backoff_s: float = 30.0,
        rate_limit_per_s: float | None = 4.0,
        rate_limit_burst: int = 5,
        session: requests.Session | None = None,
    ) -> None:
        token = clean_token(token, "the Fritz token (FRITZ_TOKEN)")
        if not token:
            raise ValueError("a Fritz token is required (set FRITZ_TOKEN)")
        self.base_url = base_url.rstrip("/") + "/"
        self._token = token
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self._limiter = (
            RateLimiter(rate_limit_per_s, rate_limit_burst) if rate_limit_per_s else None
        )
        self._session = session or requests.Session()
        self._session.trust_env = False

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r}, token=<hidden>)"

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _redact(self, text: str) -> str:
        return redact(text, [self._token])

    def _delay(self, attempt: int, response: requests.Response | None) -> float:
        if response is not None:
            retry_after = response.headers.get("Retry-After", "")
            if retry_after.strip().isdigit():
                return min(float(retry_after), self.max_backoff_s)
        return min(self.backoff_s * 2**attempt, self.max_backoff_s)

    def _send(
        self, method: str, endpoint: str, params: Mapping[str, Any] | None, json: Any
    ) -> requests.Response:
        if self._limiter is not None:
            self._limiter.acquire()
        return self._session.request(
            method,
            urljoin(self.base_url, endpoint.lstrip("/")),
            params=encode_params(params),
            json=json,
            headers={"Authorization": f"token {self._token}"},
            timeout=self.timeout_s,
        )

    def request(
        self,
        method: str,
        endpoint: str,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> Any:
        """Send a request with retries; return ``data`` of a success envelope or raise FritzError."""
        method = method.upper()
        endpoint = "/" + endpoint.lstrip("/")
        attempt = 0
        while True:
            response: requests.Response | None = None
            try:
                response = self._send(method, endpoint, params, json)
            except requests.exceptions.InvalidHeader:
                raise FritzError(
                    method, endpoint, None, "a request header is invalid (check the token)"
                ) from None
            except requests.exceptions.ConnectTimeout:
                problem = "connection timed out"
            except requests.exceptions.ReadTimeout:
                if method not in IDEMPOTENT_METHODS:
                    raise FritzError(
                        method,
                        endpoint,
                        None,
                        f"no answer within {self.timeout_s} s (not retried: {method} is not idempotent)",
                    ) from None
                problem = f"no answer within {self.timeout_s} s"
            except requests.exceptions.ConnectionError as exc:
                problem = f"connection failed ({type(exc).__name__})"
            else:
                if response.status_code not in RETRY_STATUSES:
                    return self._unwrap(method, endpoint, response)
                problem = f"HTTP {response.status_code}: {self._redact(_service_message(response))}"
            if attempt == self.max_retries:
                status = response.status_code if response is not None else None
                message = _service_message(response) if response is not None else problem
                raise FritzError(
                    method,
                    endpoint,
                    status,
                    self._redact(f"{message} (gave up after {attempt + 1} attempts)"),
                )
            delay = self._delay(attempt, response)
            logger.warning(
                "Fritz %s %s: %s; retry %d/%d in %.2f s",
                method,
                endpoint,
                problem,
                attempt + 1,
                self.max_retries,
                delay,
            )
            time.sleep(delay)
            attempt += 1

    def _unwrap(self, method: str, endpoint: str, response: requests.Response) -> Any:
        status = response.status_code
        message = self._redact(_service_message(response))
        if status in (401, 403):
            raise FritzAuthError(
                method, endpoint, status, f"{message} (check FRITZ_TOKEN and its permissions)"
            )
        if status == 404:
            raise FritzNotFoundError(method, endpoint, status, message)
        if status >= 400:
            raise FritzError(method, endpoint, status, message)
        try:
            body = response.json()
        except ValueError:
            raise FritzError(method, endpoint, status, f"answer is not JSON: {message}") from None
        if not isinstance(body, Mapping) or body.get("status") != "success":
            detail = body.get("message", body) if isinstance(body, Mapping) else body
            raise FritzError(method, endpoint, status, self._redact(str(detail)[:500]))
        return body.get("data")

    def get(self, endpoint: str, params: Mapping[str, Any] | None = None) -> Any:
        return self.request("GET", endpoint, params=params)

    def post(self, endpoint: str, json: Any = None) -> Any:
        return self.request("POST", endpoint, json=json)

    def put(self, endpoint: str, json: Any = None) -> Any:
        return self.request("PUT", endpoint, json=json)

    def delete(self, endpoint: str, json: Any = None) -> Any:
        return self.request("DELETE", endpoint, json=json)

    def paginate(
        self,
        endpoint: str,
        items_key: str,
        params: Mapping[str, Any] | None = None,
        num_per_page: int = MAX_PER_PAGE,
        start_page: int = 1,
    ) -> Iterator[tuple[int, list[dict[str, Any]]]]:
        """Yield ``(pageNumber, items)`` until an empty or short page, or ``totalMatches`` is reached.

        A short page is judged against the ``numPerPage`` the server echoes (it caps the size).
        """
        per_page = min(num_per_page, MAX_PER_PAGE)
        page = start_page
        while True:
            data = self.get(
                endpoint, {**(params or {}), "numPerPage": per_page, "pageNumber": page}
            )
            if not isinstance(data, Mapping):
                raise FritzError(
                    "GET", endpoint, 200, f"expected a page object, got {type(data).__name__}"
                )
            items = data.get(items_key) or []
            if items:
                yield page, items
            page_size = int(data.get("numPerPage") or per_page)
            total = data.get("totalMatches")
            if len(items) < page_size or (total is not None and page * page_size >= int(total)):
                return
            page += 1
