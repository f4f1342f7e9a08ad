"""combine-preds ``--merge-dnn-xgb`` (SCoPe's GCN mode): one row per Fritz source, DNN and XGB
scores of all its light curves aggregated per class.

``<tag>_dnn`` and ``<tag>_xgb`` become ``<tag>``; the rows of both algorithms are stacked and
grouped by ``obj_id`` (the Fritz source the light curves were found around) with the mean (or
max) of every score; only sources scored by both algorithms are kept. Written as
``<combined>/merged_<name>.parquet`` (``obj_id, survey_id, _id, ra, dec, period, <tag>…``) and
``merged_<name>_meta.json`` ``{obj_id: [classes above p_threshold]}``.

Unlike SCoPe, a source without any Gaia/AllWISE/PS1 id is kept (``survey_id`` empty), and the
first light curve's ``_id`` is kept so that photometry can be posted with the scores.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from scope_assets.io import DataLayout, read_parquet, write_csv, write_json, write_parquet
from scope_assets.ml.inference.combine_predictions import CombineError

AGG_METHODS = ("mean", "max")
SURVEY_ID_COLUMNS = ("Gaia_EDR3___id", "AllWISE___id", "PS1_DR1___id")
DESCRIPTIVE = ["obj_id", "survey_id", "_id", "ra", "dec", "period"]
ALGORITHMS = ("dnn", "xgb")


@dataclass
class MergeResult:
    path: Path | None
    meta_path: Path | None
    frame: pd.DataFrame
    meta: dict[str, list[str]]


def survey_ids(frame: pd.DataFrame) -> pd.Series:
    """``<Cat>___<id>`` of the first non-zero of Gaia → AllWISE → PS1 ('' if none)."""
    out = pd.Series([""] * len(frame), index=frame.index, dtype=object)
    for column in reversed(SURVEY_ID_COLUMNS):
        if column not in frame:
            continue
        ids = pd.to_numeric(frame[column], errors="coerce").fillna(0).astype(np.int64)
        catalog = column.removesuffix("___id")
        out = out.where(ids == 0, catalog + "___" + ids.astype(str))
    return out


def _bare_scores(frame: pd.DataFrame, algorithm: str) -> pd.DataFrame:
    suffix = f"_{algorithm}"
    scores = {c: c.removesuffix(suffix) for c in frame.columns if c.endswith(suffix)}
    if "obj_id" not in frame.columns:
        raise CombineError(
            f"{algorithm} predictions have no obj_id: merge mode needs features with fritz_name "
            "(generate-features --doSpecificIDs on a scope-download-gcn-sources file)"
        )
    if not scores:
        raise CombineError(f"no <tag>{suffix} score columns in the {algorithm} predictions")
    out = frame[[c for c in DESCRIPTIVE if c in frame.columns and c != "survey_id"]].copy()
    out["survey_id"] = survey_ids(frame)
    return pd.concat([out, frame[list(scores)].rename(columns=scores)], axis=1)


def merge_dnn_xgb(dnn: pd.DataFrame, xgb: pd.DataFrame, agg_method: str = "mean") -> pd.DataFrame:
    """One row per ``obj_id`` scored by both algorithms, classes aggregated by ``agg_method``."""
    if agg_method not in AGG_METHODS:
        raise CombineError(f"--agg-method {agg_method!r}: expected one of {AGG_METHODS}")
    parts = [_bare_scores(dnn, "dnn"), _bare_scores(xgb, "xgb")]
    both = set(parts[0]["obj_id"].dropna()) & set(parts[1]["obj_id"].dropna())
    stacked = pd.concat(parts, ignore_index=True)
    stacked = stacked[stacked["obj_id"].isin(both)]
    tags = [c for c in stacked.columns if c not in DESCRIPTIVE]
    rules = {"survey_id": "first", "_id": "first", "ra": "mean", "dec": "mean", "period": "mean"}
    rules = {k: v for k, v in rules.items() if k in stacked} | dict.fromkeys(tags, agg_method)
    merged = stacked.groupby("obj_id", sort=True).agg(rules).reset_index()
    return merged[[c for c in DESCRIPTIVE if c in merged] + tags]


def classes_above(merged: pd.DataFrame, p_threshold: float) -> dict[str, list[str]]:
    """``{obj_id: [classes with score > p_threshold]}`` (SCoPe's meta file)."""
    tags = [c for c in merged.columns if c not in DESCRIPTIVE]
    scores = merged[tags].to_numpy(np.float64)
    return {
        str(obj_id): [t for t, p in zip(tags, row, strict=True) if p > p_threshold]
        for obj_id, row in zip(merged["obj_id"], scores, strict=True)
    }


def merged_paths(layout: DataLayout, combined_dirname: str, name: str) -> tuple[Path, Path]:
    directory = layout.combined_dir(combined_dirname)
    return directory / f"merged_{name}.parquet", directory / f"merged_{name}_meta.json"


def merge_gcn_predictions(
    layout: DataLayout,
    field: str,
    name: str,
    *,
    combined_dirname: str = "preds_dnn_xgb",
    dnn_directory: str = "preds_dnn",
    xgb_directory: str = "preds_xgb",
    agg_method: str = "mean",
    p_threshold: float = 0.7,
    save: bool = True,
    write_csv_file: bool = False,
) -> MergeResult:
    """Merge ``field``'s DNN and XGB predictions; writes ``merged_<name>`` files if ``save``."""
    frames = []
    for directory in (dnn_directory, xgb_directory):
        path = layout.root / directory / f"field_{field}" / f"field_{field}.parquet"
        if not path.exists():
            raise CombineError(f"no predictions: {path} does not exist")
        frames.append(read_parquet(path))
    merged = merge_dnn_xgb(*frames, agg_method=agg_method)
    meta = classes_above(merged, p_threshold)
    if not save:
        return MergeResult(None, None, merged, meta)
    path, meta_path = merged_paths(layout, combined_dirname, name)
    merged.attrs = {"merged_from": field, "agg_method": agg_method, "p_threshold": p_threshold}
    write_parquet(merged, path)
    if write_csv_file:
        write_csv(merged, path.with_suffix(".csv"))
    write_json(meta, meta_path)
    return MergeResult(path, meta_path, merged, meta)
