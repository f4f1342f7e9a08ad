"""``scope-post-taxonomy``: post a tdtax taxonomy (YAML) to Fritz, once.

A taxonomy with the same name and version already on Fritz is not posted again (Fritz would
refuse it); its id is returned instead, so the command can be rerun safely.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from scope_assets.errors import ScopeError
from scope_assets.fritz.fritz_client import FritzClient

TAXONOMY_ENDPOINT = "/api/taxonomy"


class TaxonomyFileError(ScopeError, ValueError):
    """The taxonomy file is not a tdtax hierarchy; the message names the file."""


def read_hierarchy(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A tdtax hierarchy (``{class, subclasses: […]}``) from a YAML file, checked."""
    path = Path(path)
    try:
        hierarchy = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise TaxonomyFileError(f"taxonomy file {path} does not exist") from None
    except yaml.YAMLError as exc:
        raise TaxonomyFileError(f"{path}: not valid YAML ({exc})") from None
    if not _is_node(hierarchy):
        raise TaxonomyFileError(
            f"{path}: not a tdtax hierarchy (every node needs a 'class' and optional 'subclasses')"
        )
    return hierarchy


def _is_node(node: Any) -> bool:
    if not isinstance(node, Mapping) or not isinstance(node.get("class"), str):
        return False
    subclasses = node.get("subclasses", [])
    return isinstance(subclasses, list) and all(_is_node(s) for s in subclasses)


def post_taxonomy(
    client: FritzClient,
    hierarchy: Mapping[str, Any],
    name: str,
    version: str,
    provenance: str | None = None,
    group_ids: Sequence[int] | None = None,
) -> tuple[int, bool]:
    """(taxonomy id, True if it was posted now; False if it was already on Fritz)."""
    for taxonomy in client.get_taxonomies():
        if taxonomy.get("name") == name and str(taxonomy.get("version")) == str(version):
            return int(taxonomy["id"]), False
    body: dict[str, Any] = {
        "name": name,
        "version": str(version),
        "hierarchy": dict(hierarchy),
        "provenance": provenance,
    }
    if group_ids:
        body["group_ids"] = list(group_ids)
    return int(client.post(TAXONOMY_ENDPOINT, body)["taxonomy_id"]), True
