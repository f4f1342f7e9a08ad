"""Reading a run's inputs: open and validate the feature files, plan the columns, read ahead.

Files are read in slices (record batches) that a background thread decodes one slice ahead;
streamed reads with no pre-buffering of whole column chunks keep memory flat.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from scope_assets.config import ScopeConfig
from scope_assets.ml.model_errors import InputError
from scope_assets.ml.model_files.classifier import Classifier

READ_BUFFER_BYTES = 1 << 22


@dataclass
class InputFile:
    path: Path
    parquet: pq.ParquetFile
    names: list[str]


@dataclass
class ColumnPlan:
    """The feature matrix built for every batch, and where each model finds its inputs."""

    features: list[str]
    """Matrix columns: the models' features, their imputation references' columns, then the
    ontological features the files have (for the flags and the drop rule)."""
    model_columns: list[np.ndarray]
    """Per model: the matrix columns of its features, in its order."""
    flag_names: list[str]
    flag_index: list[int]
    none_index: list[int]
    """Light-curve ("none") features: a row missing one is dropped, as SCoPe does."""
    uses_dmdt: bool
    period_column: str
    obj_id_column: str | None
    with_filter: bool


def model_features(models: list[Classifier]) -> list[str]:
    """Columns the models and their imputation references read, in first-use order."""
    features = list(dict.fromkeys(c for m in models for c in m.features))
    references = {id(m.imputation): m.imputation for m in models if m.imputation is not None}
    for reference in references.values():
        features += [c for c in reference.strategies if c not in features]
    return features


def _open(path: Path) -> pq.ParquetFile:
    try:
        return pq.ParquetFile(path, pre_buffer=False, buffer_size=READ_BUFFER_BYTES)
    except FileNotFoundError:
        raise FileNotFoundError(f"feature file {path} does not exist") from None
    except (OSError, pa.ArrowInvalid) as exc:
        raise InputError(f"{path}: not a readable Parquet file ({exc})") from None


def open_inputs(paths: list[Path], models: list[Classifier]) -> list[InputFile]:
    """Open every feature file; an :class:`InputError` names a file lacking a needed column."""
    required = ["_id", *model_features(models)]
    uses_dmdt = any(m.uses_dmdt for m in models)
    files = []
    for path in paths:
        parquet = _open(path)
        names = parquet.schema_arrow.names
        missing = [c for c in required if c not in names]
        if uses_dmdt and "dmdt" not in names:
            missing.append("dmdt")
        if missing:
            raise InputError(
                f"{path}: missing columns needed by the models: {missing[:10]}"
                + (f" (+{len(missing) - 10} more)" if len(missing) > 10 else "")
            )
        files.append(InputFile(path, parquet, names))
    return files


def _period_column(models: list[Classifier], config: ScopeConfig) -> str:
    suffixes = {m.manifest.period_suffix for m in models if m.manifest is not None}
    suffix = suffixes.pop() if len(suffixes) == 1 else config.period_suffix
    return f"period_{suffix}" if suffix not in ("", "None") else "period"


def plan_columns(
    models: list[Classifier], files: list[InputFile], config: ScopeConfig
) -> ColumnPlan:
    """The columns of a run over ``files`` (opened by :func:`open_inputs`)."""
    strategies = config.impute_strategies()
    features = model_features(models)
    # flags and the "none" drop rule cover the ontological features the files have
    common = set.intersection(*(set(f.names) for f in files)) if files else set()
    features += [c for c in strategies if c in common and c not in features]
    flag_names = [c for c in strategies if c in features]
    none_columns = [c for c, s in strategies.items() if s == "none"]
    obj_id_column = next(
        (c for c in ("obj_id", "fritz_name") if all(c in f.names for f in files)), None
    )
    return ColumnPlan(
        features=features,
        model_columns=[np.array([features.index(c) for c in m.features]) for m in models],
        flag_names=flag_names,
        flag_index=[features.index(c) for c in flag_names],
        none_index=[features.index(c) for c in none_columns if c in features],
        uses_dmdt=any(m.uses_dmdt for m in models),
        period_column=_period_column(models, config),
        obj_id_column=obj_id_column,
        with_filter=any("filter" in f.names for f in files),
    )


class IdRegistry:
    """Every ``_id`` read, per file, so a run whose inputs repeat a source can be refused.

    A repeated ``_id`` would be scored twice, appear twice in the flagged JSON and break the
    one-to-one join of ``combine-preds``; which row is right cannot be known, so none is chosen.
    Costs 8 bytes per input row.
    """

    def __init__(self) -> None:
        self._parts: list[tuple[Path, np.ndarray]] = []

    def add(self, path: Path, ids: np.ndarray) -> None:
        self._parts.append((path, np.asarray(ids)))

    def require_unique(self) -> None:
        """Raise an :class:`InputError` naming the repeated ids and the files holding them."""
        if not self._parts:
            return
        values, counts = np.unique(
            np.concatenate([ids for _, ids in self._parts]), return_counts=True
        )
        repeated = values[counts > 1]
        if len(repeated) == 0:
            return
        examples = repeated[:5]
        files = sorted({str(p) for p, ids in self._parts if np.isin(ids, examples).any()})
        raise InputError(
            f"{len(repeated)} _id values appear more than once in the feature files "
            f"(e.g. {examples.tolist()} in {files}); each source must have one row: "
            "remove the duplicate rows and rerun"
        )


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


def read_batches(
    files: list[InputFile], rows: int, with_dmdt: bool
) -> Iterator[tuple[Path, pa.RecordBatch]]:
    """``(file, batch)`` of every non-empty slice of at most ``rows`` rows, file by file (every
    column; ``dmdt`` only ``with_dmdt``)."""
    for file in files:
        columns = [c for c in file.names if c != "dmdt" or with_dmdt]
        batches = file.parquet.iter_batches(batch_size=rows, columns=columns)
        for batch in _read_ahead(batches):
            if batch.num_rows:
                yield file.path, batch
