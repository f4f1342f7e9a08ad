"""Kowalski access through penquins, with its sharp edges filed off.

penquins (2.4.2) returns ``{instance: response}`` dicts, silently keeps an empty catalogue list
when a token is rejected, raises bare ``ValueError``/``RetryError``/``JSONDecodeError`` for
transport problems, and returns batch results in completion order. :class:`KowalskiClient`
returns the ``data`` of successful responses, raises :class:`KowalskiError` (naming Kowalski and
the query, never a token or password) for everything else, and leaves result matching to callers
(by ``_id`` or result key, never by position).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import requests
from penquins import Kowalski

from scope_assets.credentials import clean_password, clean_token, redact
from scope_assets.errors import ScopeError, printable

logger = logging.getLogger(__name__)

DEFAULT_INSTANCE = "default"
AUTH_MESSAGES = ("Unauthorized", "Forbidden", "token is invalid", "token has expired")
CATALOG_NAMES_QUERY = {"query_type": "info", "query": {"command": "catalog_names"}}


class KowalskiError(ScopeError, RuntimeError):
    """A Kowalski query failed; the message carries the service's own text."""


class KowalskiAuthError(KowalskiError):
    """Kowalski rejected the credentials or the token."""


def _describe(query: Mapping[str, Any]) -> str:
    body = query.get("query", {})
    target = body.get("catalog") or ",".join(body.get("catalogs", {})) or body.get("command", "")
    return f"{query.get('query_type')} {target}".strip()


class KowalskiClient:
    """One or several Kowalski instances behind a single ``query``/``batch`` interface."""

    def __init__(
        self,
        *,
        protocol: str = "https",
        host: str = "kowalski.caltech.edu",
        port: int = 443,
        token: str | None = None,
        username: str | None = None,
        password: str | None = None,
        timeout_s: float = 300.0,
        max_retries: int = 3,
        backoff_factor: float = 1.0,
        max_n_threads: int = 4,
        instances: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        token = clean_token(token, "the Kowalski token (KOWALSKI_TOKEN)")
        password = clean_password(password, "the Kowalski password (KOWALSKI_PASSWORD)")
        if instances is None:
            if not token and not (username and password):
                raise ValueError(
                    "Kowalski needs a token (KOWALSKI_TOKEN) or a username and password "
                    "(KOWALSKI_USERNAME / KOWALSKI_PASSWORD)"
                )
            instances = {
                DEFAULT_INSTANCE: {
                    "protocol": protocol,
                    "host": host,
                    "port": port,
                    "token": token,
                    "username": username,
                    "password": password,
                }
            }
        self._secrets = [
            str(cfg[key])
            for cfg in instances.values()
            for key in ("token", "password")
            if cfg.get(key)
        ]
        self.max_n_threads = max_n_threads
        self.addresses = {
            name: f"{cfg.get('host')}:{cfg.get('port')}" for name, cfg in instances.items()
        }
        try:
            self._kowalski = Kowalski(
                instances={name: dict(cfg) for name, cfg in instances.items()},
                verbose=False,
                timeout=timeout_s,
                max_retries=max_retries,
                backoff_factor=backoff_factor,
                pool_maxsize=max(10, max_n_threads),
            )
        except ValueError as exc:
            message = self._redact(str(exc))
            error = KowalskiAuthError if "Authentication failed" in message else KowalskiError
            raise error(f"Kowalski ({', '.join(self.addresses.values())}): {message}") from None
        for name in instances:
            if not self._kowalski.ping(name):
                raise KowalskiAuthError(
                    f"Kowalski instance {name} ({self.addresses[name]}) rejected the token "
                    "(ping failed: token invalid or expired?)"
                )
            if not self._kowalski.instances[name].get("catalogs"):
                self._check_access(name)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> KowalskiClient:
        """Settings from ``KOWALSKI_URL`` (or ``KOWALSKI_PROTOCOL/HOST/PORT``), ``KOWALSKI_TOKEN``
        (or ``KOWALSKI_USERNAME``/``KOWALSKI_PASSWORD``) and ``KOWALSKI_TIMEOUT``."""
        env = os.environ if environ is None else environ
        settings: dict[str, Any] = {}
        token = clean_token(env.get("KOWALSKI_TOKEN"), "KOWALSKI_TOKEN")
        password = clean_password(env.get("KOWALSKI_PASSWORD"), "KOWALSKI_PASSWORD")
        if env.get("KOWALSKI_URL"):
            url = urlsplit(env["KOWALSKI_URL"])
            settings.update(
                protocol=url.scheme or "https",
                host=url.hostname,
                port=url.port or (443 if url.scheme == "https" else 80),
            )
        else:
            settings.update(
                protocol=env.get("KOWALSKI_PROTOCOL", "https"),
                host=env.get("KOWALSKI_HOST", "kowalski.caltech.edu"),
                port=int(env.get("KOWALSKI_PORT", "443")),
            )
        settings.update(
            token=token,
            username=(env.get("KOWALSKI_USERNAME") or "").strip() or None,
            password=password,
        )
        if env.get("KOWALSKI_TIMEOUT"):
            settings["timeout_s"] = float(env["KOWALSKI_TIMEOUT"])
        settings.update(overrides)
        return cls(**settings)

    def __repr__(self) -> str:
        return f"KowalskiClient(instances={self.addresses!r})"

    def close(self) -> None:
        self._kowalski.close_all()

    def __enter__(self) -> KowalskiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _redact(self, text: str) -> str:
        return redact(text, self._secrets)

    def _check_access(self, name: str) -> None:
        """penquins keeps an empty catalogue list when the catalogue query is refused, and a
        query then fails as "catalog not available": ask once more and name a 401/403."""
        instance = self._kowalski.instances[name]
        url = f"{instance['base_url'].rstrip('/')}/api/queries"
        try:
            response = instance["session"].post(
                url, json=CATALOG_NAMES_QUERY, headers=instance["headers"]
            )
        except requests.exceptions.RequestException as exc:
            raise KowalskiError(
                f"Kowalski instance {name} ({self.addresses[name]}): catalogue list failed "
                f"({self._redact(type(exc).__name__)})"
            ) from None
        if response.status_code in (401, 403):
            raise KowalskiAuthError(
                f"Kowalski instance {name} ({self.addresses[name]}) refused the credentials "
                f"(HTTP {response.status_code} {response.reason}: token invalid, expired or "
                "without access to catalogues)"
            )
        try:
            instance["catalogs"] = response.json().get("data") or []
        except (ValueError, AttributeError):
            raise KowalskiError(
                f"Kowalski instance {name} ({self.addresses[name]}): the catalogue list is not "
                f"JSON (HTTP {response.status_code} {response.reason})"
            ) from None

    def catalog_names(self) -> list[str]:
        """Catalogues available on any instance (as penquins cached them)."""
        names = {c for inst in self._kowalski.instances.values() for c in inst.get("catalogs", [])}
        return sorted(names)

    def _call(self, description: str, **kwargs: Any) -> Any:
        try:
            return self._kowalski.query(**kwargs)
        except requests.exceptions.RetryError as exc:
            raise KowalskiError(
                f"Kowalski {description}: gave up after retries ({self._redact(str(exc.args[0]) if exc.args else '')[:300]})"
            ) from None
        except requests.exceptions.InvalidHeader:
            raise KowalskiError(
                f"Kowalski {description}: a request header is invalid (check the token)"
            ) from None
        except requests.exceptions.ConnectionError:
            raise KowalskiError(
                f"Kowalski {description}: no answer (timeout or connection failure after retries)"
            ) from None
        except json.JSONDecodeError:
            raise KowalskiError(
                f"Kowalski {description}: the answer was not JSON (e.g. 413 request too large or a proxy error page)"
            ) from None
        except ValueError as exc:
            raise KowalskiError(f"Kowalski {description}: {self._redact(str(exc))}") from None

    def _data(self, description: str, response: Any) -> Any:
        if not isinstance(response, Mapping):
            raise KowalskiError(
                f"Kowalski {description}: unexpected answer {printable(str(response), 200)}"
            )
        if response.get("status") != "success":
            message = self._redact(str(response.get("message", response)))
            error = KowalskiAuthError if message in AUTH_MESSAGES else KowalskiError
            raise error(f"Kowalski {description} failed: {message}")
        return response.get("data")

    def query(
        self,
        query_type: str,
        query: Mapping[str, Any],
        kwargs: Mapping[str, Any] | None = None,
        instance: str | None = None,
    ) -> Any:
        """One query's ``data`` (None when Kowalski omits it, e.g. ``find_one`` without a match).

        A multi-catalogue ``cone_search``/``near`` split over instances comes back merged.
        """
        body: dict[str, Any] = {"query_type": query_type, "query": dict(query)}
        if kwargs:
            body["kwargs"] = dict(kwargs)
        description = _describe(body)
        logger.debug("Kowalski %s", description)
        responses = self._call(description, query=body, name=instance)
        data = [self._data(description, response) for response in responses.values()]
        if len(data) == 1:
            return data[0]
        merged: dict[str, Any] = {}
        for part in data:
            merged.update(part or {})
        return merged

    def batch(self, queries: Sequence[Mapping[str, Any]]) -> list[Any]:
        """Run full query bodies in parallel; ``data`` of each, in **completion** order.

        Every response must succeed, otherwise KowalskiError (a lost chunk is never silent).
        """
        if not queries:
            return []
        description = f"batch of {len(queries)} × {_describe(queries[0])}"
        results = self._call(
            description,
            queries=[dict(q) for q in queries],
            use_batch_query=True,
            max_n_threads=self.max_n_threads,
        )
        responses = [response for per_instance in results.values() for response in per_instance]
        if len(responses) < len(queries):
            raise KowalskiError(
                f"Kowalski {description}: {len(queries) - len(responses)} answers missing"
            )
        return [self._data(description, response) for response in responses]
