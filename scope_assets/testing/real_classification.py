"""How well the classifiers separate real RR Lyrae from real eclipsing binaries.

The real development set's features (from ``features_for_light_curves``, as ``generate-features
--lightcurves`` computes them: no cross-matches, no alerts) are written to a Parquet feature file
and scored by ``run_inference`` with a model group, the path a user's ``run-inference`` takes. The
RR Lyrae score of a star is the larger of its ``rrab`` and ``rrc`` scores, the eclipsing-binary
score the larger of ``ea`` and ``wuma``. The table gives, per set and algorithm, the ROC AUC of
each score for telling the two real classes apart (1 = perfect, 0.5 = chance). Used by
``bench/eval_real.py`` (``make eval-real``) and ``tests/test_real_classification.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
from sklearn.metrics import roc_auc_score

from scope_assets.config import ScopeConfig
from scope_assets.features.feature_files import FeatureFileWriter
from scope_assets.features.pipeline import declared_feature_schema, feature_attrs
from scope_assets.io import atomic_path
from scope_assets.ml.backends.registry import ALGORITHMS
from scope_assets.ml.inference.field_inference import run_inference
from scope_assets.ml.model_files.either_layout import load_group

RR_LYRAE_TAGS = ("rrab", "rrc")
ECLIPSING_TAGS = ("ea", "wuma")
EB_LABELS = ("EB", "EA", "EA/RS")
"""Catalogue labels of eclipsing binaries besides ztfperiodic's ``EB_*`` types."""


def broad_class(label: str) -> str | None:
    """``RRL`` or ``EB`` for a catalogue label of the development set, else None."""
    if label.upper().startswith("RR"):
        return "RRL"
    if label in EB_LABELS or label.startswith("EB_"):
        return "EB"
    return None


def score_features(
    features: pd.DataFrame,
    models_root: Path,
    config: ScopeConfig,
    workdir: Path,
    *,
    group: str = "demo",
    warn: Callable[[str], None] | None = None,
) -> dict[str, pd.DataFrame]:
    """Prediction rows (``_id`` + score columns) per algorithm for a feature table; ``warn``
    receives inference's warning about inputs outside the training range, if any."""
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / "real_features.parquet"
    with atomic_path(path) as tmp:
        with FeatureFileWriter(tmp, feature_attrs(config), declared_feature_schema(config)) as out:
            out.write(features)
    scores = {}
    for algorithm in ALGORITHMS:
        models = load_group(models_root, algorithm, group, config)
        result = run_inference(
            models,
            [path],
            workdir / f"real_{algorithm}.parquet",
            algorithm=algorithm,
            field="real",
            config=config,
        )
        scores[algorithm] = pd.read_parquet(result.path)
        warning = result.outside_training_warning()
        if warn and warning:
            warn(f"{algorithm}: {warning}")
    return scores


def rrl_eb_scores(scores: dict[str, pd.DataFrame], labels: pd.DataFrame) -> pd.DataFrame:
    """One row per real RR Lyrae or eclipsing binary and algorithm: ``_id``, ``source``,
    ``algorithm``, ``is_rrl``, ``rrl_score`` (max of ``rrab``, ``rrc``) and ``eb_score`` (max of
    ``ea``, ``wuma``). ``labels``: ``_id``, ``source``, ``label``; other classes are left out."""
    labels = labels.assign(broad=labels["label"].map(broad_class)).dropna(subset=["broad"])
    parts = []
    for algorithm, predictions in scores.items():
        merged = labels.merge(predictions, on="_id", how="inner")
        parts.append(
            pd.DataFrame(
                {
                    "_id": merged["_id"],
                    "source": merged["source"],
                    "algorithm": algorithm,
                    "is_rrl": merged["broad"] == "RRL",
                    "rrl_score": merged[[f"{t}_{algorithm}" for t in RR_LYRAE_TAGS]].max(axis=1),
                    "eb_score": merged[[f"{t}_{algorithm}" for t in ECLIPSING_TAGS]].max(axis=1),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def separable_groups(table: pd.DataFrame):
    """``(set, algorithm, rows)`` of an :func:`rrl_eb_scores` table, per set and pooled
    (``all``), where both classes are present."""
    for algorithm, rows in table.groupby("algorithm", sort=False):
        for source in [*sorted(rows["source"].unique()), "all"]:
            part = rows if source == "all" else rows[rows["source"] == source]
            if part["is_rrl"].all() or not part["is_rrl"].any():
                continue
            yield source, algorithm, part


def separation_table(scores: dict[str, pd.DataFrame], labels: pd.DataFrame) -> pd.DataFrame:
    """ROC AUC of the RR Lyrae and eclipsing-binary scores for real RRL vs EB, per set (``labels``:
    ``_id``, ``source``, ``label``; an ``all`` row pools the sets) and algorithm."""
    rows = []
    for source, algorithm, part in separable_groups(rrl_eb_scores(scores, labels)):
        rows.append(
            {
                "set": source,
                "algorithm": algorithm,
                "RRL": int(part["is_rrl"].sum()),
                "EB": int((~part["is_rrl"]).sum()),
                "AUC RRL score": roc_auc_score(part["is_rrl"], part["rrl_score"]),
                "AUC EB score": roc_auc_score(~part["is_rrl"], part["eb_score"]),
            }
        )
    return pd.DataFrame(rows)
