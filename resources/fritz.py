"""Fritz (SkyPortal) as a Dagster resource: a thin wrapper around ``FritzClient``."""

from __future__ import annotations

import dagster as dg

from scope_assets.fritz.fritz_client import FritzClient


class FritzResource(dg.ConfigurableResource):
    """Fritz API settings. Pass the token as ``dg.EnvVar("FRITZ_TOKEN")``: it is read at launch,
    sent only in the ``Authorization: token …`` header, and never logged.

    ``rate_limit_per_s`` is the client-side limit (Fritz's nginx allows about 5/s per token);
    0 disables it.
    """

    base_url: str = "https://fritz.science"
    token: str
    timeout_s: float = 30.0
    max_retries: int = 5
    backoff_s: float = 1.0
    max_backoff_s: float = 30.0
    rate_limit_per_s: float = 4.0
    rate_limit_burst: int = 5

    def get_client(self) -> FritzClient:
        return FritzClient(
            self.base_url,
            self.token,
            timeout_s=self.timeout_s,
            max_retries=self.max_retries,
            backoff_s=self.backoff_s,
            max_backoff_s=self.max_backoff_s,
            rate_limit_per_s=self.rate_limit_per_s or None,
            rate_limit_burst=self.rate_limit_burst,
        )
