"""Kowalski (ZTF's data service) through penquins: a checked client, a sky source, downloads."""

from scope_assets.kowalski.client import KowalskiAuthError, KowalskiClient, KowalskiError
from scope_assets.kowalski.kowalski_sky import KowalskiSkySource

__all__ = ["KowalskiAuthError", "KowalskiClient", "KowalskiError", "KowalskiSkySource"]
