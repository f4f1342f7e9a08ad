"""What an upload will do, worked out from the input table alone (no request is sent here).

Every check that can fail on the input happens here, before Fritz is contacted, so bad input
gives one clear error and nothing is posted or written: missing columns, unknown mapper
columns, probabilities outside [0, 1], NaN or out-of-range coordinates, a ``--start`` beyond
the file.

Scores of a mapper column are read from the column of that name. SCoPe's combined catalogue
(``preds_dnn_xgb``) has ``<tag>_dnn`` and ``<tag>_xgb`` instead of ``<tag>``; then the score is
their mean, as SCoPe's ``combine-preds --merge-dnn-xgb`` makes it, and ``nonvar`` is
``1 - vnv`` rounded to 2 decimals, as SCoPe's ``select-fritz-sample`` makes it. So the combined
catalogue uploads with ``fritz_mapper.json`` directly.

Thresholds: a class is posted when its probability is ``>= p_threshold`` (one rule everywhere)
and above 0 (SCoPe never posts a zero score, which matters at the default threshold 0).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from scope_assets.errors import ScopeError
from scope_assets.fritz.taxonomy_mappers import (
    COMPLEMENT_OF,
    COMPLEMENT_TAG,
    TaxonomyMapper,
)
from scope_assets.lightcurves.ids import decode_id, is_scope_id

READ_MODE = "read"
COORDINATE_COLUMNS = ("ra", "dec")


class UploadInputError(ScopeError, ValueError):
    """The input table cannot be uploaded as asked; the message names the file and problem."""


@dataclass(frozen=True)
class UploadOptions:
    """SCoPe's ``scope-upload-classification`` flags (``file`` apart), plus ``parallel`` and
    ``batch_size`` (classifications per ``POST /api/classification``)."""

    group_ids: tuple[int, ...]
    classification: tuple[str, ...] | None = None
    taxonomy_map: str | None = None
    comment: str | None = None
    start: int | None = None
    stop: int | None = None
    classification_origin: str = "SCoPe"
    skip_phot: bool = False
    post_survey_id: bool = False
    survey_id_origin: str = "SCoPe_xmatch"
    p_threshold: float = 0.0
    match_ids: bool = False
    use_existing_obj_id: bool = False
    post_upvote: bool = False
    check_labelled_box: bool = False
    write_obj_id: bool = False
    result_dir: str = "fritzUpload"
    result_filetag: str = "fritzUpload"
    result_format: str = "parquet"
    replace_classifications: bool = False
    radius_arcsec: float = 2.0
    no_ml: bool = False
    post_phot_as_comment: bool = False
    post_phasefolded_phot: bool = False
    phot_dirname: str = "phot_plots"
    instrument_name: str = "ZTF"
    parallel: int = 4
    batch_size: int = 100

    @property
    def needs_light_curves(self) -> bool:
        return not self.skip_phot or self.post_phot_as_comment

    def should_post(self, probability: float) -> bool:
        """The one threshold rule: ``p >= p_threshold`` (and ``p > 0``)."""
        return probability >= self.p_threshold and probability > 0.0


@dataclass(frozen=True)
class PlannedClass:
    """A score of one row for one mapper column."""

    column: str
    fritz_label: str
    taxonomy_id: int
    probability: float


@dataclass
class RowPlan:
    """One input row: where it is, what it says, and its scores."""

    row: int
    ra: float
    dec: float
    obj_id: str | None = None
    period: float | None = None
    survey_id: str | None = None
    ztf_field: int | None = None
    classes: list[PlannedClass] = field(default_factory=list)


@dataclass
class UploadPlan:
    rows: list[RowPlan]
    columns: list[str]
    """Mapper columns read from the file (in mapper order)."""
    absent_columns: list[str]
    """Mapper columns of a ``read`` upload that the file cannot provide (not uploaded)."""
    n_input_rows: int


def score_sources(frame: pd.DataFrame, column: str) -> list[str]:
    """The file columns the scores of mapper column ``column`` come from ([] if none)."""
    if column in frame.columns:
        return [column]
    parts = [f"{column}_{alg}" for alg in ("dnn", "xgb") if f"{column}_{alg}" in frame.columns]
    if parts or not column.startswith(COMPLEMENT_TAG):
        return parts
    return score_sources(frame, COMPLEMENT_OF + column[len(COMPLEMENT_TAG) :])


def score_column(frame: pd.DataFrame, column: str) -> pd.Series | None:
    """Scores of ``column``: the column itself, the DNN/XGB mean, or ``1 - vnv``; None if absent."""
    sources = score_sources(frame, column)
    if not sources:
        return None
    values = frame[sources].apply(pd.to_numeric, errors="coerce").astype(np.float64)
    scores = (
        values.iloc[:, 0] if sources == [column] else values.mean(axis=1, skipna=False).round(4)
    )
    if column.startswith(COMPLEMENT_TAG) and not sources[0].startswith(COMPLEMENT_TAG):
        return (1.0 - scores).round(2)
    return scores


def select_rows(frame: pd.DataFrame, start: int | None, stop: int | None, source: str) -> range:
    """Row positions ``start``..``stop`` (inclusive, zero-based, as SCoPe's flags)."""
    n = len(frame)
    if n == 0:
        raise UploadInputError(f"{source}: the file has no rows")
    first = 0 if start is None else start
    last = n - 1 if stop is None else min(stop, n - 1)
    if first < 0 or first >= n:
        raise UploadInputError(
            f"{source}: --start {first} is beyond the file ({n} rows: 0..{n - 1})"
        )
    if last < first:
        raise UploadInputError(f"{source}: --stop {stop} is before --start {first}")
    return range(first, last + 1)


def _require(frame: pd.DataFrame, columns: Sequence[str], why: str, source: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise UploadInputError(f"{source}: missing columns {missing} ({why})")


def _chosen_columns(
    frame: pd.DataFrame, options: UploadOptions, mapper: TaxonomyMapper | None, source: str
) -> tuple[list[str], list[str]]:
    """(mapper columns to upload, mapper columns a read upload cannot find in the file)."""
    if not options.classification:
        return [], []
    if mapper is None:
        raise UploadInputError("--classification needs --taxonomy-map")
    usable = [e.column for e in mapper if not e.skipped]
    if [c.lower() for c in options.classification] == [READ_MODE]:
        present = [c for c in usable if score_column(frame, c) is not None]
        if not present:
            raise UploadInputError(
                f"{source}: none of the columns of {mapper.source} is in the file "
                f"(expected some of {usable[:5]}…)"
            )
        return present, [c for c in usable if c not in present]
    unknown = [c for c in options.classification if c not in mapper]
    if unknown:
        raise UploadInputError(
            f"--classification {unknown}: not in the taxonomy map {mapper.source}"
        )
    missing = [c for c in options.classification if score_column(frame, c) is None]
    if missing:
        raise UploadInputError(f"{source}: missing columns {missing} (named by --classification)")
    return [c for c in options.classification if not mapper.entry(c).skipped], []


def _checked_scores(frame: pd.DataFrame, columns: list[str], source: str) -> dict[str, np.ndarray]:
    used = list(dict.fromkeys(c for column in columns for c in score_sources(frame, column)))
    for name in used:
        values = pd.to_numeric(frame[name], errors="coerce").to_numpy(np.float64)
        bad = np.flatnonzero(np.isfinite(values) & ((values < 0.0) | (values > 1.0)))
        if len(bad):
            rows = [int(frame.index[i]) for i in bad[:5]]
            raise UploadInputError(
                f"{source}: column {name!r} has probabilities outside [0, 1] "
                f"(rows {rows}, e.g. {values[bad[0]]})"
            )
    return {column: score_column(frame, column).to_numpy() for column in columns}  # type: ignore[union-attr]


def _checked_coordinates(frame: pd.DataFrame, source: str) -> tuple[np.ndarray, np.ndarray]:
    ra = pd.to_numeric(frame["ra"], errors="coerce").to_numpy(np.float64)
    dec = pd.to_numeric(frame["dec"], errors="coerce").to_numpy(np.float64)
    bad = np.flatnonzero(
        ~np.isfinite(ra) | ~np.isfinite(dec) | (ra < 0) | (ra >= 360) | (np.abs(dec) > 90)
    )
    if len(bad):
        rows = [int(frame.index[i]) for i in bad[:5]]
        raise UploadInputError(
            f"{source}: ra/dec missing (NaN) or out of range in rows {rows} "
            f"({len(bad)} rows; ra must be in [0, 360), dec in [-90, 90])"
        )
    return ra, dec


def _text(value: object) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, float | np.floating) and float(value).is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


def _fields(frame: pd.DataFrame) -> list[int | None]:
    """The ZTF field of each row, from ``field`` or from the light-curve ``_id``."""
    if "field" in frame.columns:
        values = pd.to_numeric(frame["field"], errors="coerce")
        return [None if pd.isna(v) else int(v) for v in values]
    if "_id" in frame.columns:
        ids = pd.to_numeric(frame["_id"], errors="coerce").fillna(0).astype(np.int64).to_numpy()
        ok = is_scope_id(ids)
        fields = np.where(ok, decode_id(np.where(ok, ids, 10**13)).field, 0)
        return [int(f) if good else None for f, good in zip(fields, ok, strict=True)]
    return [None] * len(frame)


def _check_flags(frame: pd.DataFrame, options: UploadOptions, source: str) -> None:
    _require(frame, COORDINATE_COLUMNS, "every row needs a position", source)
    if options.use_existing_obj_id:
        _require(frame, ["obj_id"], "--use-existing-obj-id", source)
        empty = [int(i) for i, v in frame["obj_id"].items() if _text(v) is None]
        if empty:
            raise UploadInputError(f"{source}: obj_id is empty in rows {empty[:5]}")
    if options.post_survey_id or options.match_ids:
        _require(frame, ["survey_id"], "--post-survey-id/--match-ids", source)
    if options.needs_light_curves and not {"field", "_id"} & set(frame.columns):
        raise UploadInputError(
            f"{source}: photometry needs a 'field' or '_id' column to find the light curves "
            "(or use --skip-phot)"
        )
    if not options.group_ids:
        raise UploadInputError("--group-ids: give at least one Fritz group id")
    if options.post_phasefolded_phot and not options.post_phot_as_comment:
        raise UploadInputError("--post-phasefolded-phot needs --post-phot-as-comment")


def build_upload_plan(
    table: pd.DataFrame, options: UploadOptions, mapper: TaxonomyMapper | None, source: str
) -> UploadPlan:
    """Check ``table`` against ``options`` and return one :class:`RowPlan` per selected row."""
    selected = select_rows(table, options.start, options.stop, source)
    frame = table.iloc[selected.start : selected.stop].set_axis(selected)
    _check_flags(frame, options, source)
    columns, absent = _chosen_columns(frame, options, mapper, source)
    scores = _checked_scores(frame, columns, source)
    ra, dec = _checked_coordinates(frame, source)
    periods = (
        pd.to_numeric(frame["period"], errors="coerce").to_numpy(np.float64)
        if "period" in frame.columns
        else np.full(len(frame), np.nan)
    )
    fields = _fields(frame)
    entries = {c: mapper.entry(c) for c in columns} if mapper is not None else {}
    rows = []
    for i, position in enumerate(selected):
        classes = [
            PlannedClass(c, entries[c].fritz_label, entries[c].taxonomy_id, float(scores[c][i]))
            for c in columns
            if np.isfinite(scores[c][i])
        ]
        rows.append(
            RowPlan(
                row=position,
                ra=float(ra[i]),
                dec=float(dec[i]),
                obj_id=_text(frame["obj_id"].iloc[i]) if options.use_existing_obj_id else None,
                period=float(periods[i]) if np.isfinite(periods[i]) and periods[i] > 0 else None,
                survey_id=_text(frame["survey_id"].iloc[i]) if "survey_id" in frame else None,
                ztf_field=fields[i],
                classes=classes,
            )
        )
    return UploadPlan(rows=rows, columns=columns, absent_columns=absent, n_input_rows=len(table))
