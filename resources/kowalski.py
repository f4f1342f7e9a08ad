"""Kowalski as a Dagster resource: a thin wrapper around ``KowalskiClient`` (penquins)."""

from __future__ import annotations

import dagster as dg
from pydantic import PrivateAttr

from scope_assets.kowalski.client import KowalskiClient
from scope_assets.kowalski.kowalski_sky import FEATURES_CATALOG, SOURCES_CATALOG, KowalskiSkySource


class KowalskiResource(dg.ConfigurableResource):
    """Kowalski connection settings.

    Give either ``token`` or ``username`` + ``password``, as ``dg.EnvVar("KOWALSKI_TOKEN")`` etc.:
    they are read at launch and never logged. ``timeout_s`` should exceed the queries'
    ``max_time_ms`` (SCoPe uses 300 s). One client (and one login) per resource instance.
    """

    protocol: str = "https"
    host: str = "kowalski.caltech.edu"
    port: int = 443
    token: str | None = None
    username: str | None = None
    password: str | None = None
    timeout_s: float = 300.0
    max_retries: int = 3
    backoff_factor: float = 1.0
    max_n_threads: int = 4
    catalog: str = SOURCES_CATALOG
    features_catalog: str = FEATURES_CATALOG

    _client: KowalskiClient | None = PrivateAttr(default=None)

    def get_client(self) -> KowalskiClient:
        if self._client is None:
            self._client = KowalskiClient(
                protocol=self.protocol,
                host=self.host,
                port=self.port,
                token=self.token,
                username=self.username,
                password=self.password,
                timeout_s=self.timeout_s,
                max_retries=self.max_retries,
                backoff_factor=self.backoff_factor,
                max_n_threads=self.max_n_threads,
            )
        return self._client

    def get_sky_source(self) -> KowalskiSkySource:
        return KowalskiSkySource(
            self.get_client(), catalog=self.catalog, features_catalog=self.features_catalog
        )

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
