"""XGB feature importance in SCoPe's layout and the "top features across classifiers" chart.

SCoPe's training writes each XGB model's ``get_score()`` ("weight": split counts by feature) to
``<tag>.<time>_plots/<set>/<tag>.<time>_impvars.json``; ``assemble-training-stats`` copies those
files, names kept, into ``xgb_feature_importance/``. The chart counts, for every feature, the
classifiers that rank it in their top ``n`` (SCoPe's default: 3).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from scope_assets.analysis.plots import save_png

IMPORTANCE_DIRECTORY = "xgb_feature_importance"
IMPVARS_SUFFIX = "_impvars.json"
TOP_N = 3


def importance_tag(path: str | Path) -> tuple[str, str]:
    """``(tag, time tag)`` of ``<tag>.<time>_impvars.json``; an untimed ``<tag>_impvars.json``
    (this project's earlier name) has time tag ``""``, so any timed file of the tag wins."""
    stem = Path(path).name.removesuffix(IMPVARS_SUFFIX)
    tag, _, time_tag = stem.partition(".")
    return tag, time_tag


def read_importance_directory(
    directory: str | Path, tags: Iterable[str] | None = None
) -> dict[str, dict[str, float]]:
    """``{tag: {feature: weight}}`` from an importance directory (newest file per tag, tags
    sorted); ``tags`` limits it to those classes (the directory may hold several groups)."""
    wanted = None if tags is None else set(tags)
    newest: dict[str, tuple[str, Path]] = {}
    for path in Path(directory).glob(f"*{IMPVARS_SUFFIX}"):
        tag, time_tag = importance_tag(path)
        if (wanted is None or tag in wanted) and time_tag >= newest.get(tag, ("", None))[0]:
            newest[tag] = (time_tag, path)
    return {tag: json.loads(newest[tag][1].read_text()) for tag in sorted(newest)}


def top_features(importances: dict[str, dict[str, float]], n: int = TOP_N) -> pd.DataFrame:
    """How many classifiers rank each feature in their top ``n`` (ties broken by the mean
    normalised importance)."""
    counts: Counter = Counter()
    share: dict[str, list[float]] = {}
    for scores in importances.values():
        total = sum(scores.values()) or 1.0
        ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
        for feature, _ in ranked[:n]:
            counts[feature] += 1
        for feature, value in scores.items():
            share.setdefault(feature, []).append(value / total)
    rows = [
        {"feature": f, "n_classifiers": c, "mean_importance": float(np.mean(share.get(f, [0.0])))}
        for f, c in counts.items()
    ]
    df = pd.DataFrame(rows, columns=["feature", "n_classifiers", "mean_importance"])
    return df.sort_values(["n_classifiers", "mean_importance"], ascending=False).reset_index(
        drop=True
    )


def plot_top_features(
    top: pd.DataFrame, path: Path, n_classifiers: int, n: int = TOP_N, limit: int = 25
) -> Path:
    import matplotlib.pyplot as plt

    part = top.head(limit).iloc[::-1]
    fig, ax = plt.subplots(figsize=(7, 0.28 * len(part) + 1.5))
    ax.barh(part["feature"], part["n_classifiers"], color="C0")
    ax.set_xlabel(f"classifiers with the feature in their top {n} (of {n_classifiers})")
    ax.set_title("XGB: top features across classifiers")
    ax.tick_params(axis="y", labelsize=7)
    return save_png(fig, path)
