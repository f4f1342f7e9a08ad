"""Inference over a field's feature table: reading → scoring → writing, streamed in batches.

Writes exactly SCoPe's outputs (spec/scope-pipeline.md §3, :mod:`.prediction_format`):
``preds_<alg>/field_<f>/field_<f>.parquet`` (or ``ccd_<cc>_quad_<q>.parquet``), ``meta.json``
``{field, <alg>_models, total}`` and ``field_<f>_flagged.json`` ``{_id: [missing features]}``.

Unlike SCoPe:
- memory stays flat: batches stream from the Parquet files into a Parquet writer;
- each model is loaded once per run, not once per batch;
- imputation and scaling statistics come from the model manifest, never from the batch, so a
  source's score does not depend on the batch it was read in (the stored reference is applied
  with :mod:`.matrix_imputer`, vectorised, equal to ``impute_features``);
- descriptive columns are filtered with the same row mask as the scores: rows dropped by
  imputation never shift the other rows;
- the output and its side files (flagged JSON, CSV, ``meta.json``) are staged and published
  together when the run succeeds, under a lock on the output directory (a concurrent run gets
  a clear error); a CSV or flagged JSON of an earlier run that this run does not write is
  removed;
- inputs that repeat an ``_id`` are refused, naming the ids and files (SCoPe scores both rows).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from scope_assets import __version__
from scope_assets.config import ScopeConfig
from scope_assets.io import DataLayout, read_parquet_metadata, write_json
from scope_assets.io.layout import is_specific_ids
from scope_assets.io.run_files import StagedOutputs, staged_outputs
from scope_assets.ml.inference.batch_reading import (
    ColumnPlan,
    IdRegistry,
    InputFile,
    open_inputs,
    plan_columns,
    read_batches,
)
from scope_assets.ml.inference.batch_scoring import BatchScorer, feature_matrix
from scope_assets.ml.inference.prediction_format import prediction_schema
from scope_assets.ml.inference.prediction_writing import (
    DEFAULT_BATCH_SIZE,
    PredictionWriter,
    default_flagged_path,
    meta_content,
    prediction_writer,
    write_csv_copy,
)
from scope_assets.ml.model_errors import ModelError
from scope_assets.ml.model_files.classifier import Classifier

INNER_ROWS = 16_384
"""Rows per slice read and scored at once (``batch_size`` rows make one output row group)."""


@dataclass
class InferenceResult:
    algorithm: str
    field: int | str
    path: Path
    meta_path: Path
    flagged_path: Path | None
    csv_path: Path | None
    inputs: list[Path]
    rows_in: int
    rows_out: int
    models: list[str]
    columns: list[str]
    seconds: float
    batches: int
    attrs: dict = field(default_factory=dict)
    rows_outside_training: int = 0
    """Scored rows with an input far outside the models' training range (scores extrapolated)."""
    features_outside_training: dict[str, int] = field(default_factory=dict)
    """Those rows per feature, most first."""

    @property
    def rows_dropped(self) -> int:
        return self.rows_in - self.rows_out

    def outside_training_warning(self, top: int = 3) -> str | None:
        """One line for the user when scored rows lie far outside the training range."""
        if not self.rows_outside_training:
            return None
        worst = ", ".join(
            f"{name} ({n})" for name, n in list(self.features_outside_training.items())[:top]
        )
        return (
            f"{self.rows_outside_training} of {self.rows_out} scored rows have inputs far outside "
            f"the models' training range (rows per feature: {worst}); their scores are "
            "extrapolations: check the input's units (e.g. median-subtracted magnitudes)"
        )


# --------------------------------------------------------------------------- paths


def _quadrant_name(ccd: int | None, quad: int | None) -> str:
    return f"ccd_{int(ccd):02d}_quad_{int(quad)}"


def _output_file(whole_field: Path, ccd: int | None, quad: int | None, suffix: str) -> Path:
    """SCoPe's output path: ``whole_field`` (``field_<f>…``), or for one quadrant its sibling
    ``ccd_<cc>_quad_<q><suffix>``."""
    if ccd is None and quad is None:
        return whole_field
    return whole_field.with_name(f"{_quadrant_name(ccd, quad)}{suffix}")


def feature_inputs(
    layout: DataLayout,
    field: int | str,
    *,
    ccd: int | None = None,
    quad: int | None = None,
    feature_directory: str | Path | None = None,
    feature_file_prefix: str | None = None,
) -> list[Path]:
    """Feature files to score.

    Default (``feature_directory`` unset): the whole field's ``imputed_features`` table (what the
    assets use), or for one quadrant its generated features file. With ``feature_directory``:
    every Parquet file of ``<dir>/field_<f>/`` (whole field) or the quadrant's file in it
    (``ccd_<cc>_quad_<q>.parquet``, else ``<prefix>_field_<f>_ccd_<c>_quad_<q>.parquet`` with
    ``feature_file_prefix``, default the layout's).
    A specific-ids label (``<label>_specific_ids``) reads the one file
    ``generate-features --doSpecificIDs`` wrote: ``<dir>/specific_ids/<prefix>_<field>.parquet``
    (``<dir>`` default ``generated_features``).
    """
    if is_specific_ids(field):
        return [_specific_ids_input(layout, str(field), feature_directory)]
    if feature_directory is None:
        if ccd is None and quad is None:
            paths = [layout.imputed_features_file(field)]
        else:
            paths = [layout.features_file(field, int(ccd), int(quad))]
    else:
        directory = Path(feature_directory)
        directory = directory if directory.is_absolute() else layout.root / directory
        field_dir = directory / f"field_{field}"
        if ccd is None and quad is None:
            paths = sorted(field_dir.glob("*.parquet"))
            if not paths:
                raise FileNotFoundError(f"no feature files (*.parquet) in {field_dir}")
        else:
            prefix = feature_file_prefix or layout.features_prefix
            candidates = [
                field_dir / f"{_quadrant_name(ccd, quad)}.parquet",
                field_dir / f"{prefix}_field_{field}_ccd_{int(ccd)}_quad_{int(quad)}.parquet",
            ]
            paths = [next((p for p in candidates if p.exists()), candidates[-1])]
    missing = [p for p in paths if not p.exists()]
    if missing:
        raise FileNotFoundError(f"feature file {missing[0]} does not exist")
    return paths


def _specific_ids_input(
    layout: DataLayout, field: str, feature_directory: str | Path | None
) -> Path:
    """The specific-ids feature file; else any ``<prefix>_<field>.parquet`` (SCoPe's
    ``--feature-file-prefix``, e.g. ``gen_gcn_features``) if only one matches, else
    ``<field>.parquet``."""
    path = layout.specific_ids_features_file(field, feature_directory)
    if path.exists():
        return path
    matches = sorted(path.parent.glob(f"*_{field}.parquet")) or sorted(
        path.parent.glob(f"{field}.parquet")
    )
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise FileNotFoundError(f"several feature files for {field} in {path.parent}: {matches}")
    raise FileNotFoundError(
        f"feature file {path} does not exist (write it with generate-features --doSpecificIDs)"
    )


def count_rows(paths: list[Path]) -> int:
    return sum(pq.ParquetFile(p).metadata.num_rows for p in paths)


# --------------------------------------------------------------------------- the run


def _check_run(models: list[Classifier], algorithm: str, batch_size: int) -> None:
    if not models:
        raise ModelError("no models to run")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    columns = [m.column for m in models]
    if len(set(columns)) != len(columns):
        raise ModelError(f"two models write the same column: {columns}")
    wrong = [str(m.path) for m in models if m.algorithm != algorithm]
    if wrong:
        raise ModelError(f"not {algorithm} models: {wrong}")


def _output_attrs(inputs: list[Path], algorithm: str, models: list[Classifier]) -> dict:
    """The feature table's metadata plus this run's (stored in the prediction file)."""
    feature_attrs = read_parquet_metadata(inputs[0]) if inputs else {}
    return dict(feature_attrs) | {
        "inference_scope_code_version": __version__,
        "inference_dateTime_utc": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S"),
        "inference_algorithm": algorithm,
        "inference_models": [str(m.path) for m in models],
    }


def _stream(
    files: list[InputFile],
    plan: ColumnPlan,
    scorer: BatchScorer,
    writer: PredictionWriter,
    read_rows: int,
    progress: Callable[[int], None] | None,
) -> int:
    """Read → score → write every batch (flags of every input row first); returns the rows
    read. Inputs that repeat an ``_id`` are refused (see :class:`IdRegistry`)."""
    rows_in = 0
    seen = IdRegistry()
    batches = read_batches(files, read_rows, plan.uses_dmdt)
    with contextlib.closing(batches):
        for path, batch in batches:
            matrix = feature_matrix(batch, plan.features)
            ids = batch.column("_id").to_numpy(zero_copy_only=False)
            seen.add(path, ids)
            if writer.flags is not None:
                writer.flags.write(ids, np.isnan(matrix[:, plan.flag_index]))
            writer.append(scorer.score(batch, matrix, path), batch.num_rows)
            rows_in += batch.num_rows
            if progress:
                progress(batch.num_rows)
    seen.require_unique()
    return rows_in


def _stage_companions(
    staged: StagedOutputs, output: Path, flagged_path: Path | None, csv_path: Path | None
) -> None:
    """Stage the CSV copy; mark an earlier run's CSV or flagged JSON that this run does not
    write for removal (so a 1-model run never leaves a 9-model CSV beside its Parquet file)."""
    if csv_path is not None:
        write_csv_copy(staged.staged(output), staged.path(csv_path))
    else:
        staged.remove(output.with_suffix(".csv"))
    if flagged_path is None:
        staged.remove(default_flagged_path(output))


def run_inference(
    models: list[Classifier],
    inputs: list[str | Path],
    output: str | Path,
    *,
    algorithm: str,
    field: int | str,
    config: ScopeConfig,
    batch_size: int = DEFAULT_BATCH_SIZE,
    flagged_path: str | Path | None = None,
    meta_path: str | Path | None = None,
    write_csv: bool = False,
    write_metadata: bool = True,
    progress: Callable[[int], None] | None = None,
) -> InferenceResult:
    """Score every row of ``inputs`` with ``models`` and write SCoPe's prediction files."""
    started = time.perf_counter()
    _check_run(models, algorithm, batch_size)
    inputs = [Path(p) for p in inputs]
    output = Path(output)
    files = open_inputs(inputs, models)
    plan = plan_columns(models, files, config)
    attrs = _output_attrs(inputs, algorithm, models)
    schema = prediction_schema(
        [m.column for m in models], plan.obj_id_column is not None, plan.with_filter, attrs
    )
    scorer = BatchScorer(models, plan, schema)
    flagged_path = Path(flagged_path) if flagged_path else None
    meta_path = Path(meta_path) if meta_path else output.parent / "meta.json"
    csv_path = output.with_suffix(".csv") if write_csv else None
    model_paths = [str(m.path) for m in models]
    with staged_outputs(output.parent) as staged:
        staged_flags = staged.path(flagged_path) if flagged_path else None
        with prediction_writer(
            staged.path(output),
            schema,
            flagged_path=staged_flags,
            flag_names=plan.flag_names,
            batch_size=batch_size,
        ) as writer:
            rows_in = _stream(files, plan, scorer, writer, min(batch_size, INNER_ROWS), progress)
        _stage_companions(staged, output, flagged_path, csv_path)
        if write_metadata:
            meta = meta_content(meta_path, field, algorithm, model_paths, writer.rows_out)
            write_json(meta, staged.path(meta_path))
    return InferenceResult(
        algorithm=algorithm,
        field=field,
        path=output,
        meta_path=meta_path,
        flagged_path=flagged_path,
        csv_path=csv_path,
        inputs=inputs,
        rows_in=rows_in,
        rows_out=writer.rows_out,
        models=model_paths,
        columns=list(schema.names),
        seconds=time.perf_counter() - started,
        batches=writer.row_groups,
        attrs=attrs,
        rows_outside_training=scorer.outside_training.rows,
        features_outside_training=dict(
            sorted(scorer.outside_training.by_feature.items(), key=lambda kv: -kv[1])
        ),
    )


def predict_field(
    layout: DataLayout,
    field: int | str,
    algorithm: str,
    models: list[Classifier],
    config: ScopeConfig,
    *,
    ccd: int | None = None,
    quad: int | None = None,
    feature_directory: str | Path | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    flag_ids: bool = True,
    write_csv: bool = False,
    write_metadata: bool = True,
    feature_file_prefix: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> InferenceResult:
    """The asset's and ``run-inference``'s code path: inputs and outputs in SCoPe's layout."""
    inputs = feature_inputs(
        layout,
        field,
        ccd=ccd,
        quad=quad,
        feature_directory=feature_directory,
        feature_file_prefix=feature_file_prefix,
    )
    flagged = layout.flagged_file(algorithm, field)
    return run_inference(
        models,
        inputs,
        _output_file(layout.preds_file(algorithm, field), ccd, quad, ".parquet"),
        algorithm=algorithm,
        field=field,
        config=config,
        batch_size=batch_size,
        flagged_path=_output_file(flagged, ccd, quad, "_flagged.json") if flag_ids else None,
        meta_path=layout.preds_meta_file(algorithm, field),
        write_csv=write_csv,
        write_metadata=write_metadata,
        progress=progress,
    )
