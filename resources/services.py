"""Fritz and Kowalski resources, pointed by one switch at the local emulator or the real services.

``SCOPE_SERVICES`` (read when the definitions load; not a secret):

- ``emulator`` (default): ``scope-emulator --fritz-port 8802 --kowalski-port 8801`` on
  127.0.0.1 with its demo credentials (they are the emulator's, not secrets);
- ``production``: fritz.science and kowalski.caltech.edu, with ``FRITZ_TOKEN`` and
  ``KOWALSKI_TOKEN`` as ``dg.EnvVar`` (read at launch, never logged).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import dagster as dg

from resources.fritz import FritzResource
from resources.kowalski import KowalskiResource
from scope_assets.emulator.runtime import DEMO_FRITZ_TOKENS, DEMO_KOWALSKI_USERS

SWITCH = "SCOPE_SERVICES"
EMULATOR_FRITZ_PORT = 8802
EMULATOR_KOWALSKI_PORT = 8801


def emulator_resources() -> dict[str, dg.ConfigurableResource]:
    username, password = next(iter(DEMO_KOWALSKI_USERS.items()))
    return {
        "fritz": FritzResource(
            base_url=f"http://127.0.0.1:{EMULATOR_FRITZ_PORT}",
            token=DEMO_FRITZ_TOKENS[0],
            rate_limit_per_s=0,
        ),
        "kowalski": KowalskiResource(
            protocol="http",
            host="127.0.0.1",
            port=EMULATOR_KOWALSKI_PORT,
            username=username,
            password=password,
            timeout_s=60.0,
        ),
    }


def production_resources() -> dict[str, dg.ConfigurableResource]:
    return {
        "fritz": FritzResource(token=dg.EnvVar("FRITZ_TOKEN")),
        "kowalski": KowalskiResource(token=dg.EnvVar("KOWALSKI_TOKEN")),
    }


def service_resources(
    environ: Mapping[str, str] | None = None,
) -> dict[str, dg.ConfigurableResource]:
    """``fritz`` and ``kowalski`` resources for the target ``SCOPE_SERVICES`` names."""
    target = (os.environ if environ is None else environ).get(SWITCH, "emulator")
    if target == "emulator":
        return emulator_resources()
    if target == "production":
        return production_resources()
    raise ValueError(f"{SWITCH}={target!r}: expected 'emulator' or 'production'")
