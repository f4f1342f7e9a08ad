"""Training reports: label distribution, per-class statistics, DNN-vs-XGB recall/precision,
XGB feature importance and the "top features across classifiers" chart (SCoPe's
"Analyzing Predictions"), plus SCoPe's ``assemble-training-stats`` file copying.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from scope_assets.analysis.plots import grid, save_png
from scope_assets.io import write_json
from scope_assets.ml.model_files.manifest import MANIFEST_NAME, ModelManifest
from scope_assets.ml.training.labels import label_columns

STAT_NAMES = ("accuracy", "precision", "recall", "f1_score", "roc_auc")


# --------------------------------------------------------------------------- labels


def label_distribution(training_set: pd.DataFrame, threshold: float = 0.7) -> pd.Series:
    """Positives (label ≥ ``threshold``) per label column, in label order."""
    columns = [c for c in label_columns() if c in training_set.columns]
    return pd.Series({c: int((training_set[c] >= threshold).sum()) for c in columns}, name="n")


def plot_label_distribution(counts: pd.Series, path: Path, threshold: float = 0.7) -> Path:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 0.3 * len(counts) + 1.5))
    ordered = counts.sort_values()
    ax.barh(ordered.index, ordered.to_numpy(), color="C2")
    for y, value in enumerate(ordered.to_numpy()):
        ax.text(value, y, f" {value}", va="center", fontsize=7)
    ax.set_xlabel(f"sources with label ≥ {threshold}")
    ax.set_title("Training label distribution")
    return save_png(fig, path)


# --------------------------------------------------------------------------- statistics


def model_manifests(models_root: str | Path, group: str, algorithms=("dnn", "xgb")):
    """``{(algorithm, tag): (model_dir, manifest)}`` of every model of a group."""
    out = {}
    for algorithm in algorithms:
        group_dir = Path(models_root) / algorithm / group
        if not group_dir.is_dir():
            continue
        for manifest_path in sorted(group_dir.glob(f"*/{MANIFEST_NAME}")):
            manifest = ModelManifest.from_json(manifest_path)
            out[(algorithm, manifest.tag)] = (manifest_path.parent, manifest)
    return out


def training_stats_table(models_root: str | Path, group: str) -> pd.DataFrame:
    """One row per (tag, algorithm, set) with SCoPe's statistics and the positive counts."""
    rows = []
    for (algorithm, tag), (_, manifest) in model_manifests(models_root, group).items():
        train_pos = manifest.metrics.get("train", {}).get("n_positive")
        for set_name in ("train", "val", "test"):
            stats = manifest.metrics.get(set_name)
            if not stats:
                continue
            rows.append(
                {
                    "tag": tag,
                    "algorithm": algorithm,
                    "set": set_name,
                    **{k: stats.get(k) for k in STAT_NAMES},
                    "n": stats.get("n"),
                    "n_positive": stats.get("n_positive"),
                    "n_positive_train": train_pos,
                }
            )
    columns = ["tag", "algorithm", "set", *STAT_NAMES, "n", "n_positive", "n_positive_train"]
    return pd.DataFrame(rows, columns=columns)


def plot_recall_precision(stats: pd.DataFrame, path: Path, set_name: str = "test") -> Path:
    """DNN vs XGB recall and precision per class, coloured by training positives."""

    part = stats[stats["set"] == set_name]
    wide = part.pivot_table(
        index="tag", columns="algorithm", values=["recall", "precision", "n_positive_train"]
    )
    fig, axes = grid(2, ncols=2, panel=(4.4, 4.0))
    for ax, metric in zip(axes, ("recall", "precision"), strict=True):
        if metric in wide and {"dnn", "xgb"} <= set(wide[metric].columns):
            x, y = wide[metric]["xgb"], wide[metric]["dnn"]
            colour = wide["n_positive_train"].max(axis=1)
            from matplotlib.colors import LogNorm

            norm = LogNorm(vmin=max(1, colour.min()), vmax=max(2, colour.max()))
            points = ax.scatter(
                x, y, c=colour, cmap="plasma", norm=norm, s=40, edgecolor="k", lw=0.4
            )
            for tag in wide.index:
                ax.annotate(
                    tag, (x[tag], y[tag]), fontsize=7, xytext=(3, 3), textcoords="offset points"
                )
            fig.colorbar(points, ax=ax, label="training positives")
        else:
            ax.text(0.5, 0.5, "needs DNN and XGB models", ha="center")
        ax.plot([0, 1], [0, 1], "k--", lw=0.6)
        ax.set_xlim(-0.02, 1.02)
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlabel(f"XGB {metric}")
        ax.set_ylabel(f"DNN {metric}")
        ax.set_title(f"{metric} ({set_name} set)")
    return save_png(fig, path)


# --------------------------------------------------------------------------- assemble-training-stats


@dataclass
class AssembledStats:
    stats_files: list[Path]
    importance_files: list[Path]
    stats_dir: Path
    importance_dir: Path


def assemble_training_stats(
    models_root: str | Path,
    algorithm: str,
    group: str,
    out_root: str | Path,
    *,
    set_name: str = "val",
    importance_directory: str = "xgb_feature_importance",
    stats_directory: str = "stats",
) -> AssembledStats:
    """Per class, copy the first ``*_plots/<set>/*_stats.json`` to ``<out>/<alg>_<stats_dir>/``
    and (XGB) ``*_impvars.json`` to ``<out>/<importance_dir>/`` (file names kept)."""
    group_dir = Path(models_root) / algorithm / group
    if not group_dir.is_dir():
        raise FileNotFoundError(f"no {algorithm} models in {group_dir}")
    stats_dir = Path(out_root) / f"{algorithm}_{stats_directory}"
    importance_dir = Path(out_root) / importance_directory
    stats_files, importance_files = [], []
    for tag_dir in sorted(
        p for p in group_dir.iterdir() if p.is_dir() and not p.name.startswith(".")
    ):
        for pattern, target, found in (
            ("*_stats.json", stats_dir, stats_files),
            ("*_impvars.json", importance_dir, importance_files),
        ):
            matches = sorted(tag_dir.glob(f"*_plots/{set_name}/{pattern}"))
            if matches:
                target.mkdir(parents=True, exist_ok=True)
                found.append(Path(shutil.copy2(matches[-1], target / matches[-1].name)))
    return AssembledStats(stats_files, importance_files, stats_dir, importance_dir)


# --------------------------------------------------------------------------- feature importance


def xgb_importances(
    models_root: str | Path, group: str, set_name: str = "val"
) -> dict[str, dict[str, float]]:
    """``{tag: {feature: weight}}`` from each XGB model's newest ``_impvars.json``."""
    out = {}
    group_dir = Path(models_root) / "xgb" / group
    for tag_dir in sorted(p for p in group_dir.glob("*") if (p / MANIFEST_NAME).exists()):
        matches = sorted(tag_dir.glob(f"*_plots/{set_name}/*_impvars.json"))
        if matches:
            out[tag_dir.name] = json.loads(matches[-1].read_text())
    return out


def top_features(importances: dict[str, dict[str, float]], n: int = 10) -> pd.DataFrame:
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
    top: pd.DataFrame, path: Path, n_classifiers: int, n: int = 10, limit: int = 25
) -> Path:
    import matplotlib.pyplot as plt

    part = top.head(limit).iloc[::-1]
    fig, ax = plt.subplots(figsize=(7, 0.28 * len(part) + 1.5))
    ax.barh(part["feature"], part["n_classifiers"], color="C0")
    ax.set_xlabel(f"classifiers with the feature in their top {n} (of {n_classifiers})")
    ax.set_title("XGB: top features across classifiers")
    ax.tick_params(axis="y", labelsize=7)
    return save_png(fig, path)


def write_importance_json(importances: dict[str, dict[str, float]], out_dir: Path) -> list[Path]:
    """One ``<tag>_impvars.json`` per class under ``out_dir``."""
    return [write_json(v, out_dir / f"{tag}_impvars.json") for tag, v in importances.items()]
