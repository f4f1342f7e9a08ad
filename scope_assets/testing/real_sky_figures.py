"""Figures of ``make eval-real``: period recovery per set and class, and the RR Lyrae / eclipsing
binary ROC curves of the classifiers on real stars."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import roc_curve

from scope_assets.analysis.plots import grid
from scope_assets.testing.real_classification import separable_groups

RECOVERY_COLUMNS = {
    "ELS_ECE_EAOV P or harmonic %": "nested ELS_ECE_EAOV",
    "ELS P or harmonic %": "LS alone",
}
"""Columns of a ``recovery_summary`` table drawn, with their legend labels."""


def recovery_figure(summary: pd.DataFrame):
    """Bars of % P or harmonic (within 1 %) per class, nested vs LS alone, one panel per set.

    ``summary``: :func:`scope_assets.testing.real_recovery.recovery_summary` indexed by
    (source, class)."""
    sources = list(dict.fromkeys(summary.index.get_level_values(0)))
    fig, axes = grid(len(sources), ncols=2, panel=(5.2, 3.2))
    width = 0.8 / len(RECOVERY_COLUMNS)
    for ax, source in zip(axes, sources, strict=True):
        part = summary.loc[source]
        x = np.arange(len(part))
        for j, (column, label) in enumerate(RECOVERY_COLUMNS.items()):
            ax.bar(x + (j - 0.5) * width, part[column], width, label=label)
        labels = [f"{c} ({n})" for c, n in zip(part.index, part["n"], strict=True)]
        ax.set_xticks(x, labels, rotation=45, ha="right", fontsize=7)
        ax.set_ylim(0, 100)
        ax.set_ylabel("% P or harmonic (1 %)")
        ax.set_title(source)
    axes[0].legend(fontsize=7, loc="lower left")
    return fig


def roc_figure(table: pd.DataFrame):
    """ROC curves of the RR Lyrae score (RRL positive) and the EB score (EB positive), one panel
    per set (and pooled, ``all``) and algorithm where both classes are present; ``table``:
    :func:`~scope_assets.testing.real_classification.rrl_eb_scores`."""
    groups = list(separable_groups(table))
    fig, axes = grid(len(groups), ncols=3, panel=(3.4, 3.2))
    for ax, (source, algorithm, part) in zip(axes, groups, strict=True):
        for positive, column, label in (
            (part["is_rrl"], "rrl_score", "RRL score"),
            (~part["is_rrl"], "eb_score", "EB score"),
        ):
            fpr, tpr, _ = roc_curve(positive, part[column])
            ax.plot(fpr, tpr, label=f"{label} (AUC {np.trapezoid(tpr, fpr):.3f})")
        ax.plot([0, 1], [0, 1], color="0.7", lw=0.8)
        n_rrl = int(part["is_rrl"].sum())
        ax.set_title(f"{source}, {algorithm} ({n_rrl} RRL / {len(part) - n_rrl} EB)", fontsize=8)
        ax.set_xlabel("false-positive rate")
        ax.set_ylabel("true-positive rate")
        ax.legend(fontsize=7, loc="lower right")
    return fig
