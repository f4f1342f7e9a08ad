"""Heavy domain calls that run in the Dagster process or as a SLURM job.

The features step needs nothing here: the asset hands ``compute_field_features`` itself to the
execution switch. Scoring needs the models loaded where the scoring runs (loaded models do not
travel to a job), so :func:`predict_field_with_group` makes the two calls the prediction
assets make: ``load_group`` then ``predict_field``. The ML functions the jobs run are imported
here and nowhere else in this package.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from scope_assets.config import ScopeConfig
from scope_assets.io import DataLayout
from scope_assets.ml.inference.field_inference import InferenceResult, predict_field
from scope_assets.ml.model_files.either_layout import load_group


@dataclass(frozen=True)
class FieldScores:
    """A field's prediction files, and the score column of each model in model order."""

    inference: InferenceResult
    score_columns: list[str]


def predict_field_with_group(
    layout: DataLayout,
    field: int,
    algorithm: str,
    models_root: Path,
    group: str,
    config: ScopeConfig,
    *,
    batch_size: int,
    flag_ids: bool,
    write_csv: bool,
    training_set: str | Path | None = None,
    log: Callable[[str], None] | None = None,
    progress: Callable[[int], None] | None = None,
) -> FieldScores:
    """Score ``field`` with every ``algorithm`` model of ``group`` (SCoPe's preds layout); the
    group is in this project's model layout or SCoPe's (scaled from ``training_set``)."""
    models = load_group(models_root, algorithm, group, config, training_set=training_set)
    if log:
        log(f"{len(models)} {algorithm} models: {[m.tag for m in models]}")
    result = predict_field(
        layout,
        field,
        algorithm,
        models,
        config,
        batch_size=batch_size,
        flag_ids=flag_ids,
        write_csv=write_csv,
        progress=progress,
    )
    return FieldScores(result, [m.column for m in models])
