"""Start the Kowalski and Fritz emulators in background threads (used by tests and the CLI)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scope_assets.emulator.archive_collections import catalog_subset, load_kowalski_catalogs
from scope_assets.emulator.catalog import Catalog
from scope_assets.emulator.fritz import FritzService
from scope_assets.emulator.fritz_seed import seed_fritz_from_archive
from scope_assets.emulator.kowalski_service import KowalskiService
from scope_assets.emulator.server import ServiceServer

DEMO_KOWALSKI_USERS = {"scope": "scope-demo-password"}
DEMO_FRITZ_TOKENS = ("scope-demo-fritz-token",)
DEFAULT_INSTANCE = "kowalski"


@dataclass
class Emulator:
    """Running emulated services; stop with :meth:`stop` or use as a context manager."""

    kowalski_servers: dict[str, ServiceServer]
    fritz: ServiceServer
    kowalski_users: dict[str, str]
    fritz_tokens: list[str]
    _stopped: bool = field(default=False, repr=False)

    @property
    def kowalski(self) -> ServiceServer:
        """The first (or only) Kowalski instance."""
        return next(iter(self.kowalski_servers.values()))

    @property
    def kowalski_url(self) -> str:
        return self.kowalski.url

    @property
    def fritz_url(self) -> str:
        return self.fritz.url

    @property
    def fritz_service(self) -> FritzService:
        return self.fritz.service  # type: ignore[return-value]

    def penquins_instances(self, username: str | None = None) -> dict[str, dict[str, Any]]:
        """penquins' ``instances=`` mapping for every Kowalski instance (username+password)."""
        username = username or next(iter(self.kowalski_users))
        return {
            name: {
                "protocol": "http",
                "host": server.host,
                "port": server.port,
                "username": username,
                "password": self.kowalski_users[username],
            }
            for name, server in self.kowalski_servers.items()
        }

    def servers(self) -> list[ServiceServer]:
        return [*self.kowalski_servers.values(), self.fritz]

    def reset(self) -> None:
        """Clear faults, rate limits and request logs; restore Fritz's seeded state."""
        for server in self.servers():
            server.faults.clear()
            server.log.clear()
        self.fritz.service.reset()

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        for server in self.servers():
            server.stop()

    def __enter__(self) -> Emulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_emulator(
    archive_dir: str | Path | None = None,
    *,
    catalogs: Mapping[str, Catalog] | None = None,
    features_path: str | Path | None = None,
    kowalski_users: Mapping[str, str] | None = None,
    fritz_tokens: Iterable[str] | None = None,
    kowalski_port: int = 0,
    fritz_port: int = 0,
    kowalski_instances: Mapping[str, Sequence[str]] | None = None,
    host: str = "127.0.0.1",
    seed_fritz: bool = True,
) -> Emulator:
    """Serve Kowalski and Fritz seeded from ``archive_dir`` (or preloaded ``catalogs``).

    ``kowalski_instances`` splits the collections over several Kowalski servers (name → catalog
    names), so penquins' multi-instance routing is exercised; the first instance gets
    ``kowalski_port``, the others ephemeral ports. Demo credentials are used when none are given.
    """
    if catalogs is None:
        if archive_dir is None:
            raise ValueError("give archive_dir or catalogs")
        catalogs = load_kowalski_catalogs(archive_dir, features_path)
    users = dict(kowalski_users or DEMO_KOWALSKI_USERS)
    tokens = list(fritz_tokens or DEMO_FRITZ_TOKENS)
    split = kowalski_instances or {DEFAULT_INSTANCE: list(catalogs)}
    servers: list[ServiceServer] = []
    try:
        kowalski_servers = {}
        for i, (name, names) in enumerate(split.items()):
            service = KowalskiService(catalog_subset(catalogs, names), users)
            server = ServiceServer(service, host, kowalski_port if i == 0 else 0)
            servers.append(server)
            kowalski_servers[name] = server
        archive = Path(archive_dir) if seed_fritz and archive_dir is not None else None
        fritz_service = FritzService(
            tokens, seed=(lambda svc: seed_fritz_from_archive(svc, archive)) if archive else None
        )
        fritz = ServiceServer(fritz_service, host, fritz_port)
        servers.append(fritz)
    except BaseException:
        for server in servers:
            server.stop()
        raise
    for server in servers:
        server.start()
    return Emulator(kowalski_servers, fritz, users, tokens)
