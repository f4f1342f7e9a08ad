"""The result file of an upload: one row per input row, what happened to it and why.

``<result-dir>/<input stem>_<result-filetag>_results.<format>`` with columns ``row`` (zero-based
position in the input), ``obj_id``, ``status`` (posted / updated / skipped / failed), the counts
of classifications ``posted``, ``updated``, ``deleted``, ``unchanged``, ``failed``, and
``detail``. While the upload runs, each settled source is appended to
``<result file>.journal.jsonl``, so an interrupted run leaves a record of what was done; the
table replaces the journal atomically at the end. A rerun needs nothing from either file:
uploads are idempotent, so it re-reads Fritz and sends only what is still missing.

``--write-obj-id`` also writes SCoPe's ``<input stem>_<result-filetag>.<format>``: the input
table with an ``obj_id`` column, for later ``--use-existing-obj-id`` uploads.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from scope_assets.io import write_table

FORMAT_SUFFIXES = {"parquet": ".parquet", "h5": ".h5", "hdf5": ".h5", "csv": ".csv"}
COUNTS = ("posted", "updated", "deleted", "unchanged", "failed")


def result_suffix(result_format: str) -> str:
    suffix = FORMAT_SUFFIXES.get(result_format.lower().lstrip("."))
    if suffix is None:
        raise ValueError(f"--result-format {result_format!r}: expected parquet, h5 or csv")
    return suffix


def result_paths(
    input_path: Path, result_dir: Path, filetag: str, result_format: str
) -> tuple[Path, Path]:
    """(result table, SCoPe's input copy with ``obj_id``)."""
    suffix = result_suffix(result_format)
    tag = Path(filetag).stem if Path(filetag).suffix in FORMAT_SUFFIXES.values() else filetag
    stem = f"{input_path.stem}_{tag}"
    return result_dir / f"{stem}_results{suffix}", result_dir / f"{stem}{suffix}"


@dataclass
class RowResult:
    row: int
    obj_id: str = ""
    posted: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    failed: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        if self.failed:
            return "failed"
        if self.posted:
            return "posted"
        if self.updated or self.deleted:
            return "updated"
        return "skipped"

    def as_dict(self) -> dict:
        return {
            "row": self.row,
            "obj_id": self.obj_id,
            "status": self.status,
            **{name: getattr(self, name) for name in COUNTS},
            "detail": "; ".join(dict.fromkeys(self.notes)),
        }


class UploadResults:
    """Thread-safe per-row bookkeeping with an append-only journal."""

    def __init__(self, rows: Iterable[int], journal: Path | None = None) -> None:
        self._rows = {r: RowResult(r) for r in rows}
        self._lock = threading.Lock()
        self._journal = journal
        if journal is not None:
            journal.parent.mkdir(parents=True, exist_ok=True)

    def __getitem__(self, row: int) -> RowResult:
        return self._rows[row]

    def count(self, row: int, kind: str, n: int = 1, note: str | None = None) -> None:
        with self._lock:
            result = self._rows[row]
            setattr(result, kind, getattr(result, kind) + n)
            if note:
                result.notes.append(note)

    def note(self, row: int, text: str) -> None:
        with self._lock:
            self._rows[row].notes.append(text)

    def set_obj_id(self, row: int, obj_id: str) -> None:
        with self._lock:
            self._rows[row].obj_id = obj_id

    def settle(self, rows: Iterable[int]) -> None:
        """Append the rows' current results to the journal (one JSON line each)."""
        if self._journal is None:
            return
        with self._lock, self._journal.open("a") as out:
            for row in rows:
                out.write(json.dumps(self._rows[row].as_dict()) + "\n")

    def frame(self) -> pd.DataFrame:
        with self._lock:
            return pd.DataFrame(
                [self._rows[r].as_dict() for r in sorted(self._rows)],
                columns=["row", "obj_id", "status", *COUNTS, "detail"],
            )

    def write(self, path: Path, attrs: dict | None = None) -> Path:
        """Write the result table atomically and drop the journal."""
        table = self.frame()
        table.attrs = dict(attrs or {})
        write_table(table, path)
        if self._journal is not None:
            self._journal.unlink(missing_ok=True)
        return path


@dataclass
class UploadSummary:
    """Counts of an upload (rows by status, classifications by outcome) and its files."""

    rows: int
    rows_by_status: dict[str, int]
    classifications: dict[str, int]
    sources_created: int
    duplicates_removed: int
    result_path: Path | None
    obj_id_path: Path | None = None
    check_error: str | None = None
    """Why the final duplicate check could not run (then a rerun should be made)."""

    @property
    def ok(self) -> bool:
        return self.rows_by_status.get("failed", 0) == 0 and self.check_error is None

    def describe(self) -> str:
        statuses = ", ".join(f"{n} {s}" for s, n in self.rows_by_status.items())
        counts = ", ".join(f"{n} {k}" for k, n in self.classifications.items())
        text = (
            f"{self.rows} rows: {statuses}; classifications: {counts}; "
            f"{self.sources_created} sources created; results in {self.result_path}"
        )
        if self.duplicates_removed:
            text += f"; {self.duplicates_removed} duplicates removed"
        if self.check_error:
            text += f"; duplicate check failed ({self.check_error}): run the upload again"
        return text


def summarize(
    results: UploadResults,
    sources_created: int,
    duplicates_removed: int,
    result_path: Path | None,
    obj_id_path: Path | None,
    check_error: str | None = None,
) -> UploadSummary:
    table = results.frame()
    statuses = {
        s: int((table["status"] == s).sum()) for s in ("posted", "updated", "skipped", "failed")
    }
    return UploadSummary(
        rows=len(table),
        rows_by_status=statuses,
        classifications={k: int(table[k].sum()) for k in COUNTS},
        sources_created=sources_created,
        duplicates_removed=duplicates_removed,
        result_path=result_path,
        obj_id_path=obj_id_path,
        check_error=check_error,
    )
