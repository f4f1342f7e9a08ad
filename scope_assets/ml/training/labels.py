"""Training labels of simulated sources, SCoPe style.

SCoPe's training set has one column per training label (the golden-dataset mapper keys:
``variable``, ``RR Lyrae ab``, ...) holding the probability that the source belongs to that
class. A simulated source has a single true class (the simulator's tag); it gets 1.0 in the
column of its own label and of every parent label in the taxonomy, 0.0 elsewhere.

The mapping, in one table (simulator class → labels set to 1.0, own label first):

=========  ==========================================================================
sim class  labels = 1.0
=========  ==========================================================================
rrab       RR Lyrae ab, RR Lyrae, pulsator, periodic, variable
rrc        RR Lyrae c, RR Lyrae, pulsator, periodic, variable
dscu       Delta Scu, pulsator, periodic, variable
ceph       Cepheid, pulsator, periodic, variable
wuma       W UMa, EW, eclipsing, binary star, periodic, variable
ea         EA, detached eclipsing MS-MS, eclipsing, binary star, periodic, variable
mir        Mira, LPV, long timescale, variable
fla        flaring, irregular, variable
nonvar     non-variable
=========  ==========================================================================

Classifier tags (``config.classes``) are trained on the column named by their ``label``; SCoPe
derives ``nonvar`` as ``1 - vnv`` and has no classifier of its own for it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from scope_assets.config import ScopeConfig

SIM_CLASS_LABELS: dict[str, tuple[str, ...]] = {
    "rrab": ("RR Lyrae ab", "RR Lyrae", "pulsator", "periodic", "variable"),
    "rrc": ("RR Lyrae c", "RR Lyrae", "pulsator", "periodic", "variable"),
    "dscu": ("Delta Scu", "pulsator", "periodic", "variable"),
    "ceph": ("Cepheid", "pulsator", "periodic", "variable"),
    "wuma": ("W UMa", "EW", "eclipsing", "binary star", "periodic", "variable"),
    "ea": (
        "EA",
        "detached eclipsing MS-MS",
        "eclipsing",
        "binary star",
        "periodic",
        "variable",
    ),
    "mir": ("Mira", "LPV", "long timescale", "variable"),
    "fla": ("flaring", "irregular", "variable"),
    "nonvar": ("non-variable",),
}
"""Simulator class → every training label that is true for it (see the module docstring)."""

SIM_CLASSES: tuple[str, ...] = tuple(SIM_CLASS_LABELS)

DEMO_TAGS: tuple[str, ...] = ("vnv", "ea", "fla", "ceph", "dscu", "mir", "rrab", "rrc", "wuma")
"""Classifiers of the demo model group: one per simulated variable class, plus ``vnv``
(variable vs non-variable, whose complement is SCoPe's derived ``nonvar``)."""

DEMO_GROUP = "demo"


def label_columns() -> list[str]:
    """Every training label any simulated class sets, in first-seen order."""
    seen: dict[str, None] = {}
    for labels in SIM_CLASS_LABELS.values():
        seen.update(dict.fromkeys(labels))
    return list(seen)


def labels_for_classes(classes: pd.Series | np.ndarray | list[str]) -> pd.DataFrame:
    """One row per entry of ``classes`` (simulator tags), one float column per training label."""
    classes = pd.Series(np.asarray(classes, dtype=object))
    unknown = sorted(set(classes.dropna()) - set(SIM_CLASS_LABELS))
    if unknown or classes.isna().any():
        raise ValueError(
            f"unknown simulated classes {unknown or ['<missing>']}; "
            f"expected one of {list(SIM_CLASS_LABELS)}"
        )
    out = pd.DataFrame(0.0, index=range(len(classes)), columns=label_columns())
    for sim_class, labels in SIM_CLASS_LABELS.items():
        rows = (classes == sim_class).to_numpy()
        out.loc[rows, list(labels)] = 1.0
    return out


def sim_classes_of_tag(tag: str, config: ScopeConfig) -> list[str]:
    """Simulated classes that are positives for classifier ``tag`` (via its training label)."""
    if tag == "nonvar":
        return ["nonvar"]
    label = config.classes[tag].label
    return [c for c, labels in SIM_CLASS_LABELS.items() if label in labels]


def trainable_tags(config: ScopeConfig) -> list[str]:
    """Configured classifier tags whose training label some simulated class sets."""
    labels = set(label_columns())
    return [tag for tag, spec in config.classes.items() if spec.label in labels]
