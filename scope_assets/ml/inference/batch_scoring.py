"""Scoring one record batch: its feature matrix → SCoPe's drop rule, imputation, scaling and
every model's scores, with the descriptive columns filtered by the same row mask.

Imputation and scaling statistics come from the model manifests, never from the batch, so a
source's score does not depend on the batch it was read in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from scope_assets.lightcurves.ids import decode_id_unchecked
from scope_assets.ml.dmdt_arrays import DmdtRows, dmdt_from_arrow
from scope_assets.ml.inference.batch_reading import ColumnPlan
from scope_assets.ml.inference.matrix_imputer import MatrixImputer
from scope_assets.ml.inference.prediction_format import SURVEY_ID_COLUMNS, score_array
from scope_assets.ml.model_files.classifier import Classifier

LOCATION_COLUMNS = ("field", "ccd", "quad", "filter")
"""Taken from the input when it has them, else derived from the 14-digit ``_id``."""


def feature_matrix(batch: pa.RecordBatch, columns: list[str]) -> np.ndarray:
    """float64 ``(rows, len(columns))`` matrix of a record batch; nulls and ±inf become NaN."""
    out = np.empty((batch.num_rows, len(columns)), dtype=np.float64)
    for j, name in enumerate(columns):
        col = batch.column(name)
        if not pa.types.is_floating(col.type):
            col = pc.cast(col, pa.float64(), safe=False)
        out[:, j] = col.to_numpy(zero_copy_only=False)
    out[~np.isfinite(out)] = np.nan
    return out


def _column(batch: pa.RecordBatch, name: str, dtype: pa.DataType) -> pa.Array:
    if name in batch.schema.names:
        col = batch.column(name)
        return col.cast(dtype) if col.type != dtype else col
    return pa.nulls(batch.num_rows, dtype)


def descriptive_columns(
    batch: pa.RecordBatch, keep: pa.Array, plan: ColumnPlan, schema: pa.Schema
) -> dict[str, pa.Array]:
    """The output columns before the scores, of the rows in ``keep``."""
    out: dict[str, pa.Array] = {"_id": _column(batch, "_id", pa.int64())}
    if "obj_id" in schema.names:
        out["obj_id"] = _column(batch, plan.obj_id_column or "obj_id", pa.string())
    for c in SURVEY_ID_COLUMNS:
        out[c] = pc.fill_null(_column(batch, c, pa.int64()), 0)
    out["ra"] = _column(batch, "ra", pa.float64())
    out["dec"] = _column(batch, "dec", pa.float64())
    out["period"] = _column(batch, plan.period_column, pa.float64())
    derived = None
    for c in (c for c in LOCATION_COLUMNS if c in schema.names):
        dtype = schema.field(c).type
        if c in batch.schema.names:
            out[c] = _column(batch, c, dtype)
            continue
        if derived is None:
            derived = decode_id_unchecked(out["_id"].to_numpy(zero_copy_only=False))._asdict()
        out[c] = pa.array(derived[c]).cast(dtype)
    return {k: v.filter(keep) for k, v in out.items()}


@dataclass
class OutsideTraining:
    """Scored rows with a model input far outside the models' training range
    (:meth:`Scaler.far_outside`), in total and per feature."""

    rows: int = 0
    by_feature: dict[str, int] = field(default_factory=dict)

    def add(self, far_by_input: list[tuple[list[str], np.ndarray]]) -> None:
        """Count one batch: per model input, its feature names and :meth:`Scaler.far_outside`."""
        if not far_by_input:
            return
        far_rows = np.zeros(len(far_by_input[0][1]), dtype=bool)
        counts: dict[str, int] = {}
        for names, far in far_by_input:
            far_rows |= far.any(axis=1)
            for name, n in zip(names, far.sum(axis=0).tolist(), strict=True):
                counts[name] = max(counts.get(name, 0), n)
        self.rows += int(far_rows.sum())
        for name, n in counts.items():
            if n:
                self.by_feature[name] = self.by_feature.get(name, 0) + n


class BatchScorer:
    """Scores record batches with ``models``; the output columns follow ``schema``; rows far
    outside the training range are counted in ``outside_training``."""

    def __init__(self, models: list[Classifier], plan: ColumnPlan, schema: pa.Schema):
        self.models = models
        self.plan = plan
        self.schema = schema
        references = {id(m.imputation): m.imputation for m in models if m.imputation is not None}
        self.imputers = {key: MatrixImputer(ref, plan.features) for key, ref in references.items()}
        # models sharing imputation and scaling (one feature set, one training set) share
        # their input matrix
        self.input_keys = [
            (id(m.imputation), tuple(cols), m.scaler.key)
            for m, cols in zip(models, plan.model_columns, strict=True)
        ]
        self.outside_training = OutsideTraining()

    def _kept_rows(self, matrix: np.ndarray) -> tuple[np.ndarray, dict[int, np.ndarray]]:
        """(rows kept, imputed matrix per reference). SCoPe drops a row missing a light-curve
        ("none") feature or dropped by a model's imputation reference; every output column is
        filtered with this one mask."""
        kept = ~np.isnan(matrix[:, self.plan.none_index]).any(axis=1)
        imputed: dict[int, np.ndarray] = {}
        for key, imputer in self.imputers.items():
            imputed[key], mask = imputer.transform(matrix)
            kept &= mask
        return kept, imputed

    def _scores(
        self, matrix: np.ndarray, kept: np.ndarray, imputed: dict[int, np.ndarray], dmdt
    ) -> dict[str, pa.Array]:
        sources = {None: matrix[kept]}
        model_inputs: dict[tuple, np.ndarray] = {}
        far_by_input = []
        out = {}
        for m, cols, key in zip(self.models, self.plan.model_columns, self.input_keys, strict=True):
            if key not in model_inputs:
                ref = id(m.imputation) if m.imputation is not None else None
                if ref not in sources:
                    sources[ref] = imputed[ref][kept]
                model_inputs[key] = m.prepare(np.take(sources[ref], cols, axis=1))
                names = [self.plan.features[i] for i in cols]
                far_by_input.append((names, m.scaler.far_outside(model_inputs[key])))
            scores = m.predict(model_inputs[key], dmdt)
            out[m.column] = score_array(scores)
        self.outside_training.add(far_by_input)
        return out

    def score(self, batch: pa.RecordBatch, matrix: np.ndarray, path: Path) -> pa.Table:
        """The output rows of ``batch`` (``matrix``: its :func:`feature_matrix` of the plan's
        features; ``path``: the file it came from, for error messages)."""
        kept, imputed = self._kept_rows(matrix)
        out = descriptive_columns(batch, pa.array(kept), self.plan, self.schema)
        dmdt = None
        if self.plan.uses_dmdt:
            view = dmdt_from_arrow(batch.column("dmdt"), where=str(path), copy=False)
            dmdt = DmdtRows(view, np.flatnonzero(kept))
        out |= self._scores(matrix, kept, imputed, dmdt)
        return pa.table(out).select(self.schema.names).cast(self.schema)
