"""tdtax-style hierarchies the Fritz emulator seeds, and their validation.

SCoPe's mapper files hard-code the taxonomy ids 1011/1012 (golden data set) and 1015
(ontological) / 1017 (phenomenological); the trees below contain every Fritz label SCoPe's
classes map to (see ``scope_assets/config/defaults.yaml``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

NODE_KEYS = frozenset(
    {"class", "subclasses", "tags", "other names", "description", "url", "fields"}
)


def node(name: str, *subclasses: dict[str, Any]) -> dict[str, Any]:
    """A hierarchy node ``{"class": name, "subclasses": [...]}``."""
    return {"class": name, "subclasses": list(subclasses)} if subclasses else {"class": name}


PHENOMENOLOGICAL = node(
    "Phenomenological",
    node(
        "non-variable",
        node("bogus", node("extended"), node("blend"), node("bright star"), node("ccd artifact")),
    ),
    node(
        "variable",
        node(
            "periodic",
            node("sinusoidal", node("ellipsoidal")),
            node("sawtooth"),
            node("multi periodic"),
            node("long timescale"),
            node("eclipsing", node("EA"), node("EB"), node("EW")),
            node("wrong period", node("half period"), node("double period")),
        ),
        node("irregular", node("flaring"), node("dipping")),
    ),
)

ONTOLOGICAL = node(
    "Time-domain Source",
    node(
        "Stellar variable",
        node(
            "Pulsating",
            node("Delta Scuti"),
            node("Gamma Dor"),
            node("Cepheid", node("Fundamental"), node("Overtone")),
            node("Population II Cepheid", node("BL Her"), node("W Vir"), node("RV Tau")),
            node("RR Lyrae", node("RRab"), node("RRc"), node("RRd"), node("Blazhko")),
            node("LPV", node("Mira"), node("Semiregular"), node("OSARG")),
        ),
        node(
            "Eclipsing",
            node("W Ursae Maj"),
            node("detached MS-MS"),
            node("Beta Lyrae"),
            node("RS CVn"),
            node("compact binary", node("HW Vir"), node("NN Ser"), node("Redback pulsar")),
        ),
        node("Cataclysmic"),
        node("YSO"),
    ),
    node("AGN"),
)

SEEDED_TAXONOMIES: tuple[dict[str, Any], ...] = (
    {
        "id": 1011,
        "name": "SCoPe Phenomenological Taxonomy",
        "version": "1.1.0",
        "hierarchy": PHENOMENOLOGICAL,
        "isLatest": False,
    },
    {
        "id": 1012,
        "name": "Sitewide Taxonomy",
        "version": "0.1.0",
        "hierarchy": ONTOLOGICAL,
        "isLatest": False,
    },
    {
        "id": 1015,
        "name": "Sitewide Taxonomy",
        "version": "0.1.1",
        "hierarchy": ONTOLOGICAL,
        "isLatest": True,
    },
    {
        "id": 1017,
        "name": "SCoPe Phenomenological Taxonomy",
        "version": "1.3.0",
        "hierarchy": PHENOMENOLOGICAL,
        "isLatest": True,
    },
)


def iter_classes(hierarchy: Mapping[str, Any]) -> Iterator[str]:
    """Every ``class`` name in a hierarchy, depth first."""
    yield hierarchy["class"]
    for sub in hierarchy.get("subclasses", []):
        yield from iter_classes(sub)


def is_valid_hierarchy(hierarchy: Any) -> bool:
    """Whether ``hierarchy`` is a tdtax tree: nodes with a string ``class`` and known keys only."""
    if not isinstance(hierarchy, Mapping) or not isinstance(hierarchy.get("class"), str):
        return False
    if set(hierarchy) - NODE_KEYS:
        return False
    subclasses = hierarchy.get("subclasses", [])
    return isinstance(subclasses, list) and all(is_valid_hierarchy(s) for s in subclasses)
