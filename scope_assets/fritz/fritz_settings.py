"""Where Fritz is and which token to use: the environment, or a SCoPe ``config.yaml``.

``FRITZ_URL`` and ``FRITZ_TOKEN`` win; otherwise the ``fritz:`` section of the SCoPe config
given with ``--config-path`` (``protocol``, ``host``, ``token``). A token is never accepted on
the command line, so it never lands in a shell history or a process list.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from scope_assets.credentials import clean_token
from scope_assets.errors import ScopeError
from scope_assets.fritz.fritz_client import FritzClient

DEFAULT_FRITZ_URL = "https://fritz.science"


class FritzSettingsError(ScopeError, ValueError):
    """No usable Fritz URL or token; the message says where they are looked for."""


def _config_section(config_path: str | os.PathLike[str] | None) -> Mapping[str, Any]:
    if not config_path:
        return {}
    path = Path(config_path)
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except FileNotFoundError:
        raise FritzSettingsError(f"config file {path} does not exist") from None
    except yaml.YAMLError as exc:
        raise FritzSettingsError(f"config file {path} is not valid YAML: {exc}") from None
    section = data.get("fritz") if isinstance(data, Mapping) else None
    return section if isinstance(section, Mapping) else {}


def fritz_url_and_token(
    config_path: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> tuple[str, str]:
    """(base URL, token) from ``FRITZ_URL``/``FRITZ_TOKEN``, else the config's ``fritz:`` section."""
    env = os.environ if environ is None else environ
    section = _config_section(config_path)
    url = env.get("FRITZ_URL") or ""
    if not url and section.get("host"):
        url = f"{section.get('protocol') or 'https'}://{section['host']}"
    token = clean_token(env.get("FRITZ_TOKEN"), "FRITZ_TOKEN") or clean_token(
        str(section.get("token") or ""), f"fritz.token in {config_path}"
    )
    if not token:
        where = f" or fritz.token in {config_path}" if config_path else ""
        raise FritzSettingsError(f"no Fritz token: set FRITZ_TOKEN{where}")
    return (url or DEFAULT_FRITZ_URL).rstrip("/"), token


def fritz_client_from_settings(
    config_path: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
    **client_options: Any,
) -> FritzClient:
    """A :class:`FritzClient` for :func:`fritz_url_and_token` (``client_options`` passed on)."""
    url, token = fritz_url_and_token(config_path, environ)
    return FritzClient(url, token, **client_options)
