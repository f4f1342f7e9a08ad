"""Classification statistics as SCoPe writes them in ``<tag>.<time>_stats.json``."""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    precision_score,
    recall_score,
    roc_auc_score,
)


def classification_stats(y_true: np.ndarray, scores: np.ndarray) -> dict[str, object]:
    """``accuracy, precision, recall, f1_score, roc_auc`` (predictions rounded at 0.5).

    Also ``confusion_matrix`` normalised over all rows (SCoPe's ``cm``), ``n`` and ``n_positive``.
    ROC AUC is ``None`` when only one class is present.
    """
    y_true = np.asarray(y_true).astype(int)
    scores = np.asarray(scores, dtype=float)
    y_pred = (scores >= 0.5).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        both = len(np.unique(y_true)) == 2
        out: dict[str, object] = {
            "accuracy": float(accuracy_score(y_true, y_pred)),
            "precision": float(precision_score(y_true, y_pred, zero_division=0)),
            "recall": float(recall_score(y_true, y_pred, zero_division=0)),
            "f1_score": float(f1_score(y_true, y_pred, zero_division=0)),
            "roc_auc": float(roc_auc_score(y_true, scores)) if both else None,
        }
        cm = confusion_matrix(y_true, y_pred, labels=[0, 1], normalize="all")
    out["confusion_matrix"] = np.nan_to_num(cm).round(6).tolist()
    out["n"] = int(len(y_true))
    out["n_positive"] = int(y_true.sum())
    return out


def roc_auc(y_true: np.ndarray, scores: np.ndarray) -> float | None:
    y_true = np.asarray(y_true).astype(int)
    if len(np.unique(y_true)) < 2:
        return None
    return float(roc_auc_score(y_true, np.asarray(scores, dtype=float)))
