"""scope-eval: ROC AUC of a field's predictions against the simulator's truth table."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from scope_assets.config import ScopeConfig
from scope_assets.io import DataLayout, read_parquet
from scope_assets.ml.backends.registry import ALGORITHMS
from scope_assets.ml.inference.prediction_format import split_score_column
from scope_assets.ml.training.classification_metrics import classification_stats
from scope_assets.ml.training.labels import sim_classes_of_tag


def score_columns(df: pd.DataFrame, algorithm: str | None = None) -> dict[str, str]:
    """``{column: tag}`` of the ``<tag>_<alg>`` score columns of a predictions table."""
    out = {}
    for column in df.columns:
        parts = split_score_column(column)
        if parts is not None and algorithm in (None, parts[1]):
            out[column] = parts[0]
    return out


def evaluate_against_truth(
    preds: pd.DataFrame, truth: pd.DataFrame, config: ScopeConfig
) -> pd.DataFrame:
    """One row per score column: tag, algorithm, rows matched, positives, ROC AUC, recall,
    precision (at 0.5). A class is positive for a tag when the simulator class sets the tag's
    training label (``scope_assets.ml.training.labels``); ``vnv`` is positive for every variable class."""
    merged = preds.merge(truth[["_id", "class"]], on="_id", how="inner")
    rows = []
    for column, tag in score_columns(merged).items():
        if tag not in config.classes and tag != "nonvar":
            continue
        positives = sim_classes_of_tag(tag, config)
        y = merged["class"].isin(positives).to_numpy().astype(int)
        stats = classification_stats(y, merged[column].to_numpy(dtype=float))
        rows.append(
            {
                "tag": tag,
                "algorithm": column.rsplit("_", 1)[1],
                "column": column,
                "n": stats["n"],
                "n_positive": stats["n_positive"],
                "roc_auc": stats["roc_auc"],
                "recall": stats["recall"],
                "precision": stats["precision"],
            }
        )
    return pd.DataFrame(
        rows,
        columns=["tag", "algorithm", "column", "n", "n_positive", "roc_auc", "recall", "precision"],
    )


def evaluate_field(
    layout: DataLayout,
    field: int | str,
    config: ScopeConfig,
    *,
    truth_path: str | Path | None = None,
    algorithms: tuple[str, ...] = ALGORITHMS,
) -> pd.DataFrame:
    """Evaluate every available ``preds_<alg>`` file of ``field`` against the truth table."""
    truth_path = Path(truth_path) if truth_path else layout.archive_dir / "truth.parquet"
    if not truth_path.exists():
        raise FileNotFoundError(
            f"truth table {truth_path} does not exist (simulate the field first)"
        )
    truth = pd.read_parquet(truth_path, columns=["_id", "class"])
    frames = []
    for alg in algorithms:
        path = layout.preds_file(alg, field)
        if path.exists():
            frames.append(evaluate_against_truth(read_parquet(path), truth, config))
    if not frames:
        raise FileNotFoundError(
            f"no predictions for field {field} under {layout.root} (looked for preds_xgb, preds_dnn)"
        )
    out = pd.concat(frames, ignore_index=True)
    out["roc_auc"] = out["roc_auc"].astype(float)
    return out.sort_values(["tag", "algorithm"]).reset_index(drop=True)


def format_table(df: pd.DataFrame) -> str:
    lines = [f"{'tag':<8} {'alg':<4} {'n':>7} {'pos':>6} {'ROC AUC':>8} {'recall':>7} {'prec':>6}"]
    for r in df.itertuples():
        auc = "   n/a" if r.roc_auc is None or np.isnan(r.roc_auc) else f"{r.roc_auc:8.3f}"
        lines.append(
            f"{r.tag:<8} {r.algorithm:<4} {r.n:>7} {r.n_positive:>6} {auc:>8} "
            f"{r.recall:7.3f} {r.precision:6.3f}"
        )
    return "\n".join(lines)
