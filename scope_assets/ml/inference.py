"""Inference over a field's feature table, streamed in Arrow record batches.

Writes exactly SCoPe's outputs (spec/scope-pipeline.md §3):
``preds_<alg>/field_<f>/field_<f>.parquet`` (or ``ccd_<cc>_quad_<q>.parquet``) with columns
``_id, [obj_id], Gaia_EDR3___id, AllWISE___id, PS1_DR1___id, ra, dec, period, field, ccd, quad,
[filter], <tag>_<alg>…`` (survey ids 0 when missing, scores rounded to 2 decimals), ``meta.json``
``{field, <alg>_models, total}`` and ``field_<f>_flagged.json`` ``{_id: [missing features]}``.

Unlike SCoPe:
- memory stays flat: batches stream from the Parquet files into a Parquet writer;
- each model is loaded once per run, not once per batch;
- imputation and scaling statistics come from the model manifest, never from the batch, so a
  source's score does not depend on the batch it was read in (the stored reference is applied
  with :mod:`scope_assets.ml.fast_impute`, vectorised, equal to ``impute_features``);
- descriptive columns are filtered with the same row mask as the scores: rows dropped by
  imputation never shift the other rows;
- the output (and its side files) appear atomically.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from scope_assets import __version__
from scope_assets.config import ScopeConfig
from scope_assets.io import DataLayout, atomic_path, read_parquet_metadata, write_json
from scope_assets.io.table_formats import META_KEY, attrs_to_json
from scope_assets.ml.arrays import DmdtRows, InputError, dmdt_from_arrow
from scope_assets.ml.fast_impute import MatrixImputer
from scope_assets.ml.manifest import ModelError
from scope_assets.ml.models import Classifier

SURVEY_ID_COLUMNS = ["Gaia_EDR3___id", "AllWISE___id", "PS1_DR1___id"]
DEFAULT_BATCH_SIZE = 100_000
INNER_ROWS = 16_384
READ_BUFFER_BYTES = 1 << 22


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

    @property
    def rows_dropped(self) -> int:
        return self.rows_in - self.rows_out


# --------------------------------------------------------------------------- paths


def preds_file(
    layout: DataLayout, algorithm: str, field: int | str, ccd: int | None = None,
    quad: int | None = None,
) -> Path:  # fmt: skip
    """SCoPe's output path: ``field_<f>.parquet`` or ``ccd_<cc>_quad_<q>.parquet``."""
    if ccd is None and quad is None:
        return layout.preds_file(algorithm, field)
    return layout.preds_dir(algorithm, field) / f"ccd_{int(ccd):02d}_quad_{int(quad)}.parquet"


def flagged_file(
    layout: DataLayout, algorithm: str, field: int | str, ccd: int | None = None,
    quad: int | None = None,
) -> Path:  # fmt: skip
    if ccd is None and quad is None:
        return layout.flagged_file(algorithm, field)
    return layout.preds_dir(algorithm, field) / f"ccd_{int(ccd):02d}_quad_{int(quad)}_flagged.json"


def feature_inputs(
    layout: DataLayout,
    field: int | str,
    *,
    ccd: int | None = None,
    quad: int | None = None,
    feature_directory: str | Path | None = None,
) -> list[Path]:
    """Feature files to score.

    Default (``feature_directory`` unset): the whole field's ``imputed_features`` table (what the
    assets use), or for one quadrant its generated features file. With ``feature_directory``:
    every Parquet file of ``<dir>/field_<f>/`` (whole field) or the quadrant's file in it.
    """
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
            candidates = [
                field_dir / f"ccd_{int(ccd):02d}_quad_{int(quad)}.parquet",
                field_dir
                / f"{layout.features_prefix}_field_{field}_ccd_{int(ccd)}_quad_{int(quad)}.parquet",
            ]
            paths = [next((p for p in candidates if p.exists()), candidates[-1])]
    missing = [p for p in paths if not p.exists()]
    if missing:
        raise FileNotFoundError(f"feature file {missing[0]} does not exist")
    return paths


# --------------------------------------------------------------------------- the run


class _FlagWriter:
    """Streams ``{"<_id>": [missing features], ...}`` to a file, one entry per line."""

    def __init__(self, handle):
        self.handle = handle
        self.first = True
        handle.write("{")

    def write(self, ids: np.ndarray, missing: np.ndarray, names: list[str]) -> None:
        entries = np.full(len(ids), "[]", dtype=object)
        for r in np.flatnonzero(missing.any(axis=1)):
            entries[r] = json.dumps([names[j] for j in np.flatnonzero(missing[r])])
        parts = [f'"{i}": {e}' for i, e in zip(ids.tolist(), entries, strict=True)]
        if parts:
            self.handle.write(("\n" if self.first else ",\n") + ",\n".join(parts))
            self.first = False

    def close(self) -> None:
        self.handle.write("\n}\n" if not self.first else "}\n")


class _ReadError:
    def __init__(self, exc: BaseException):
        self.exc = exc


def _read_ahead(iterator, depth: int = 1):
    """Iterate ``iterator`` in a background thread, ``depth`` items ahead (Parquet decoding
    releases the GIL, so reading the next slice overlaps scoring this one)."""
    items: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                items.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def worker() -> None:
        try:
            for item in iterator:
                if not put(item):
                    return
        except BaseException as exc:  # handed to the consumer
            put(_ReadError(exc))
            return
        put(done)

    thread = threading.Thread(target=worker, name="parquet-read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            item = items.get()
            if item is done:
                return
            if isinstance(item, _ReadError):
                raise item.exc
            yield item
    finally:
        stop.set()
        thread.join(timeout=5)


def _output_schema(
    models: list[Classifier], with_obj_id: bool, with_filter: bool, attrs: dict
) -> pa.Schema:
    fields = [pa.field("_id", pa.int64())]
    if with_obj_id:
        fields.append(pa.field("obj_id", pa.string()))
    fields += [pa.field(c, pa.int64()) for c in SURVEY_ID_COLUMNS]
    fields += [pa.field(c, pa.float64()) for c in ("ra", "dec", "period")]
    fields += [pa.field(c, pa.int64()) for c in ("field", "ccd", "quad")]
    if with_filter:
        fields.append(pa.field("filter", pa.int64()))
    fields += [pa.field(m.column, pa.float64()) for m in models]
    return pa.schema(fields, metadata={META_KEY: attrs_to_json(attrs).encode()})


def _column(batch: pa.RecordBatch, name: str, n: int, dtype: pa.DataType) -> pa.Array:
    if name in batch.schema.names:
        col = batch.column(name)
        return col.cast(dtype) if col.type != dtype else col
    return pa.nulls(n, dtype)


def _descriptive(
    batch: pa.RecordBatch, keep: pa.Array, schema: pa.Schema, period_column: str,
    obj_id_column: str | None,
) -> dict[str, pa.Array]:  # fmt: skip
    n = batch.num_rows
    out: dict[str, pa.Array] = {"_id": _column(batch, "_id", n, pa.int64())}
    if "obj_id" in schema.names:
        out["obj_id"] = _column(batch, obj_id_column or "obj_id", n, pa.string())
    for c in SURVEY_ID_COLUMNS:
        out[c] = pc.fill_null(_column(batch, c, n, pa.int64()), 0)
    out["ra"] = _column(batch, "ra", n, pa.float64())
    out["dec"] = _column(batch, "dec", n, pa.float64())
    out["period"] = _column(batch, period_column, n, pa.float64())
    ids = out["_id"].to_numpy(zero_copy_only=False)
    derived = None
    for c in ("field", "ccd", "quad") + (("filter",) if "filter" in schema.names else ()):
        if c in batch.schema.names:
            out[c] = _column(batch, c, n, pa.int64())
        else:  # derive from the 14-digit _id
            if derived is None:
                derived = {
                    "field": ids // 10**9 % 10**4,
                    "ccd": ids // 10**7 % 100 // 4 + 1,
                    "quad": ids // 10**7 % 100 % 4 + 1,
                    "filter": ids // 10**6 % 10,
                }
            out[c] = pa.array(derived[c], pa.int64())
    return {k: v.filter(keep) for k, v in out.items()}


def _feature_matrix(batch: pa.RecordBatch, columns: list[str]) -> np.ndarray:
    """float64 ``(rows, len(columns))`` matrix of a record batch; nulls and ±inf become NaN."""
    out = np.empty((batch.num_rows, len(columns)), dtype=np.float64)
    for j, name in enumerate(columns):
        col = batch.column(name)
        if not pa.types.is_floating(col.type):
            col = pc.cast(col, pa.float64(), safe=False)
        out[:, j] = col.to_numpy(zero_copy_only=False)
    out[~np.isfinite(out)] = np.nan
    return out


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
    if not models:
        raise ModelError("no models to run")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    columns_out = [m.column for m in models]
    if len(set(columns_out)) != len(columns_out):
        raise ModelError(f"two models write the same column: {columns_out}")
    wrong = [str(m.path) for m in models if m.algorithm != algorithm]
    if wrong:
        raise ModelError(f"not {algorithm} models: {wrong}")
    inputs = [Path(p) for p in inputs]
    output = Path(output)
    strategies = config.impute_strategies()
    flag_columns = list(strategies)
    none_columns = [c for c, s in strategies.items() if s == "none"]
    suffixes = {m.manifest.period_suffix for m in models if m.manifest is not None}
    suffix = suffixes.pop() if len(suffixes) == 1 else config.period_suffix
    period_column = f"period_{suffix}" if suffix not in ("", "None") else "period"

    references = {id(m.imputation): m.imputation for m in models if m.imputation is not None}
    need_features = list(dict.fromkeys(c for m in models for c in m.features))
    for ref in references.values():
        need_features += [c for c in ref.strategies if c not in need_features]
    uses_dmdt = any(m.uses_dmdt for m in models)

    files = []
    for path in inputs:
        try:
            # streamed reads: no pre-buffering of whole column chunks (memory stays flat)
            parquet = pq.ParquetFile(path, pre_buffer=False, buffer_size=READ_BUFFER_BYTES)
        except FileNotFoundError:
            raise FileNotFoundError(f"feature file {path} does not exist") from None
        except (OSError, pa.ArrowInvalid) as exc:
            raise InputError(f"{path}: not a readable Parquet file ({exc})") from None
        names = parquet.schema_arrow.names
        missing = [c for c in ["_id", *need_features] if c not in names]
        if uses_dmdt and "dmdt" not in names:
            missing.append("dmdt")
        if missing:
            raise InputError(
                f"{path}: missing columns needed by the models: {missing[:10]}"
                + (f" (+{len(missing) - 10} more)" if len(missing) > 10 else "")
            )
        files.append((path, parquet, names))

    # flags and the "none" drop rule cover the ontological features the files have
    common = set.intersection(*(set(names) for _, _, names in files)) if files else set()
    need_features += [c for c in flag_columns if c in common and c not in need_features]
    model_index = [np.array([need_features.index(c) for c in m.features]) for m in models]
    flag_present = [c for c in flag_columns if c in need_features]
    flag_index = [need_features.index(c) for c in flag_present]
    none_index = [need_features.index(c) for c in none_columns if c in need_features]
    imputers = {key: MatrixImputer(ref, need_features) for key, ref in references.items()}
    input_keys = [
        (id(m.imputation), tuple(cols), m.scaler.shift.tobytes(), m.scaler.scale.tobytes())
        for m, cols in zip(models, model_index, strict=True)
    ]
    with_filter = any("filter" in names for _, _, names in files)
    obj_id_column = next(
        (c for c in ("obj_id", "fritz_name") if all(c in names for _, _, names in files)), None
    )
    feature_attrs = read_parquet_metadata(inputs[0]) if inputs else {}
    attrs = dict(feature_attrs) | {
        "inference_scope_code_version": __version__,
        "inference_dateTime_utc": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S"),
        "inference_algorithm": algorithm,
        "inference_models": [str(m.path) for m in models],
    }
    schema = _output_schema(models, obj_id_column is not None, with_filter, attrs)
    flagged_path = Path(flagged_path) if flagged_path else None

    def score_part(batch: pa.RecordBatch, path: Path) -> pa.Table:
        matrix = _feature_matrix(batch, need_features)
        if flags is not None:
            ids = batch.column("_id").to_numpy(zero_copy_only=False)
            flags.write(ids, np.isnan(matrix[:, flag_index]), flag_present)
        # Rows SCoPe drops: a missing light-curve ("none") feature, or dropped by a model's
        # imputation reference. Every output column is filtered with this one mask.
        kept = ~np.isnan(matrix[:, none_index]).any(axis=1)
        imputed: dict[int, np.ndarray] = {}
        for key, imputer in imputers.items():
            imputed[key], mask = imputer.transform(matrix)
            kept &= mask
        out = _descriptive(batch, pa.array(kept), schema, period_column, obj_id_column)
        dmdt = None
        if uses_dmdt:
            view = dmdt_from_arrow(batch.column("dmdt"), where=str(path), copy=False)
            dmdt = DmdtRows(view, np.flatnonzero(kept))
        # models sharing imputation and scaling (one feature set, one training set) share
        # their input matrix
        sources = {None: matrix[kept]}
        model_inputs: dict[tuple, np.ndarray] = {}
        for m, cols, key in zip(models, model_index, input_keys, strict=True):
            if key not in model_inputs:
                ref = id(m.imputation) if m.imputation is not None else None
                if ref not in sources:
                    sources[ref] = imputed[ref][kept]
                model_inputs[key] = m.prepare(np.take(sources[ref], cols, axis=1))
            scores = m.predict(model_inputs[key], dmdt)
            out[m.column] = pa.array(np.round(scores, 2), pa.float64())
        return pa.table(out).select(schema.names).cast(schema)

    flags = None
    rows_in = rows_out = n_batches = 0
    with contextlib.ExitStack() as stack:
        writer = stack.enter_context(
            pq.ParquetWriter(stack.enter_context(atomic_path(output)), schema)
        )
        if flagged_path is not None:
            handle = stack.enter_context(open(stack.enter_context(atomic_path(flagged_path)), "w"))
            flags = _FlagWriter(handle)
        pending: list[pa.Table] = []
        pending_rows = 0

        def flush() -> None:
            nonlocal pending, pending_rows, rows_out, n_batches
            if pending:
                table = pa.concat_tables(pending)
                writer.write_table(table)
                rows_out += table.num_rows
                n_batches += 1
                pending, pending_rows = [], 0

        # Files are read in slices of at most INNER_ROWS rows (a background thread decodes the
        # next slice while this one is scored); ``batch_size`` rows make one output row group.
        read_rows = min(batch_size, INNER_ROWS)
        for path, parquet, names in files:
            read_columns = [c for c in names if c != "dmdt" or uses_dmdt]
            batches = parquet.iter_batches(batch_size=read_rows, columns=read_columns)
            for batch in _read_ahead(batches):
                if batch.num_rows == 0:
                    continue
                pending.append(score_part(batch, path))
                pending_rows += batch.num_rows
                rows_in += batch.num_rows
                if progress:
                    progress(batch.num_rows)
                if pending_rows >= batch_size:
                    flush()
        flush()
        if flags is not None:
            flags.close()
    csv_path = None
    if write_csv:
        csv_path = output.with_suffix(".csv")
        _parquet_to_csv(output, csv_path)
    meta_path = Path(meta_path) if meta_path else output.parent / "meta.json"
    model_paths = [str(m.path) for m in models]
    if write_metadata:
        write_meta(meta_path, field, algorithm, model_paths, rows_out)
    return InferenceResult(
        algorithm=algorithm,
        field=field,
        path=output,
        meta_path=meta_path,
        flagged_path=flagged_path,
        csv_path=csv_path,
        inputs=inputs,
        rows_in=rows_in,
        rows_out=rows_out,
        models=model_paths,
        columns=list(schema.names),
        seconds=time.perf_counter() - started,
        batches=n_batches,
        attrs=attrs,
    )


def write_meta(path: Path, field: int | str, algorithm: str, model_paths: list[str], total: int):
    """``meta.json`` = ``{field, <alg>_models: [paths], total}``; other keys of an existing file are
    kept, the model list is replaced by this run's (no duplicate appends)."""
    data: dict = {}
    if path.exists():
        try:
            data = json.loads(path.read_text())
        except json.JSONDecodeError:
            data = {}
    data = data if isinstance(data, dict) else {}
    data["field"] = _field_value(field)
    data[f"{algorithm}_models"] = list(dict.fromkeys(model_paths))
    data["total"] = int(total)
    return write_json(data, path)


def _field_value(field: int | str) -> int | str:
    try:
        return int(field)
    except (TypeError, ValueError):
        return str(field)


def _parquet_to_csv(parquet_path: Path, csv_path: Path) -> None:
    import pyarrow.csv as pacsv

    source = pq.ParquetFile(parquet_path)
    schema = source.schema_arrow.remove_metadata()
    with atomic_path(csv_path) as tmp, pacsv.CSVWriter(tmp, schema) as writer:
        for batch in source.iter_batches(batch_size=DEFAULT_BATCH_SIZE):
            writer.write_batch(batch)


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
    progress: Callable[[int], None] | None = None,
) -> InferenceResult:
    """The asset's and ``run-inference``'s code path: inputs and outputs in SCoPe's layout."""
    inputs = feature_inputs(layout, field, ccd=ccd, quad=quad, feature_directory=feature_directory)
    return run_inference(
        models,
        inputs,
        preds_file(layout, algorithm, field, ccd, quad),
        algorithm=algorithm,
        field=field,
        config=config,
        batch_size=batch_size,
        flagged_path=flagged_file(layout, algorithm, field, ccd, quad) if flag_ids else None,
        meta_path=layout.preds_meta_file(algorithm, field),
        write_csv=write_csv,
        progress=progress,
    )


def count_rows(paths: list[Path]) -> int:
    return sum(pq.ParquetFile(p).metadata.num_rows for p in paths)
