"""Training reports: label distribution, per-class statistics and the DNN-vs-XGB
recall/precision scatter (SCoPe's "Analyzing predictions"; DNN on x, XGB on y), plus SCoPe's
``assemble-training-stats`` file copying. Feature importance is in ``importance``.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from scope_assets.analysis.plots import grid, save_png
from scope_assets.ml.model_files.manifest import MANIFEST_NAME, ModelManifest
from scope_assets.ml.training.labels import label_columns

STAT_NAMES = ("accuracy", "precision", "recall", "f1_score", "roc_auc")
SCATTER_STYLE = {"cmap": "plasma", "s": 40, "edgecolor": "k", "lw": 0.4}
LABEL_OFFSET = {"xytext": (3, 3), "textcoords": "offset points"}


# --------------------------------------------------------------------------- labels


def label_distribution(training_set: pd.DataFrame, threshold: float = 0.7) -> pd.Series:
    """Positives (label ``> threshold``, SCoPe's training rule) per label column, in label order."""
    columns = [c for c in label_columns() if c in training_set.columns]
    return pd.Series({c: int((training_set[c] > threshold).sum()) for c in columns}, name="n")


def label_distribution_from_manifests(models_root: str | Path, group: str) -> pd.Series:
    """Positives per trained label from the models' manifests (train + val + test positives),
    for when the training set itself is not at hand (the committed demo models)."""
    counts: dict[str, int] = {}
    for _, manifest in model_manifests(models_root, group).values():
        sets = [manifest.metrics.get(name, {}) for name in ("train", "val", "test")]
        counts.setdefault(manifest.label, sum(int(m.get("n_positive") or 0) for m in sets))
    return pd.Series(counts, name="n", dtype="int64")


def plot_label_distribution(counts: pd.Series, path: Path, threshold: float = 0.7) -> Path:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 0.3 * len(counts) + 1.5))
    ordered = counts.sort_values()
    ax.barh(ordered.index, ordered.to_numpy(), color="C2")
    for y, value in enumerate(ordered.to_numpy()):
        ax.text(value, y, f" {value}", va="center", fontsize=7)
    ax.set_xlabel(f"sources with label > {threshold}")
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


def recall_precision_points(stats: pd.DataFrame, metric: str, set_name: str) -> pd.DataFrame:
    """Per tag with both models: ``dnn`` (x) and ``xgb`` (y) value of ``metric`` on ``set_name``
    and the training positives (colour)."""
    part = stats[stats["set"] == set_name]
    wide = part.pivot_table(index="tag", columns="algorithm", values=metric)
    if not {"dnn", "xgb"} <= set(wide.columns):
        return pd.DataFrame(columns=["dnn", "xgb", "n_positive_train"])
    positives = part.groupby("tag")["n_positive_train"].max()
    points = wide[["dnn", "xgb"]].dropna().rename_axis(columns=None)
    return points.assign(n_positive_train=positives.reindex(points.index))


def draw_recall_precision(fig, ax, points: pd.DataFrame, metric: str, set_name: str) -> None:
    """One metric's DNN (x) vs XGB (y) scatter, coloured by training positives."""
    from matplotlib.colors import LogNorm

    if len(points):
        colour = points["n_positive_train"].astype(float)
        norm = LogNorm(vmin=max(1, colour.min()), vmax=max(2, colour.max()))
        dots = ax.scatter(points["dnn"], points["xgb"], c=colour, norm=norm, **SCATTER_STYLE)
        for tag, row in points.iterrows():
            ax.annotate(tag, (row["dnn"], row["xgb"]), fontsize=7, **LABEL_OFFSET)
        fig.colorbar(dots, ax=ax, label="training positives")
    else:
        ax.text(0.5, 0.5, "needs DNN and XGB models", ha="center")
    ax.plot([0, 1], [0, 1], "k--", lw=0.6)
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel(f"DNN {metric}")
    ax.set_ylabel(f"XGB {metric}")
    ax.set_title(f"{metric} ({set_name} set)")


def plot_recall_precision(stats: pd.DataFrame, path: Path, set_name: str = "test") -> Path:
    """DNN (x) vs XGB (y) recall and precision per class, coloured by training positives."""
    fig, axes = grid(2, ncols=2, panel=(4.4, 4.0))
    for ax, metric in zip(axes, ("recall", "precision"), strict=True):
        draw_recall_precision(
            fig, ax, recall_precision_points(stats, metric, set_name), metric, set_name
        )
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
