"""combine-preds: the DNN and XGB catalogues of a field joined into one (SCoPe's default mode).

``preds_dnn_xgb/field_<f>.parquet`` = the DNN frame inner-joined on ``_id`` with the XGB columns
the DNN frame lacks (descriptive columns, then ``<tag>_dnn…``, then ``<tag>_xgb…``), the format
of Kowalski's ``ZTF_source_classifications_DR16`` and the Zenodo catalogue. ``fields.json`` in
the same directory lists the fields combined so far (sorted). A catalogue that lists an ``_id``
twice is refused (:class:`CombineError`), as ``run-inference`` refuses such inputs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from scope_assets import __version__
from scope_assets.io import DataLayout, read_parquet, write_csv, write_json, write_parquet


class CombineError(ValueError):
    """An input catalogue is missing or the two cannot be joined."""


@dataclass
class CombineResult:
    field: int | str
    path: Path | None
    fields_json: Path | None
    rows: int
    rows_dnn: int
    rows_xgb: int
    columns: list[str]
    frame: pd.DataFrame


def _read_preds(path: Path, algorithm: str) -> pd.DataFrame:
    if not path.exists():
        raise CombineError(f"no {algorithm} predictions: {path} does not exist")
    return read_parquet(path)


def _require_unique_ids(preds: pd.DataFrame, path: Path) -> None:
    """Refuse a catalogue that lists a source twice: which row is right cannot be known."""
    repeated = preds.loc[preds["_id"].duplicated(), "_id"].unique()
    if len(repeated):
        raise CombineError(
            f"{path}: {len(repeated)} _id values appear more than once "
            f"(e.g. {repeated[:5].tolist()}); rerun inference on de-duplicated features"
        )


def combine_field_predictions(
    layout: DataLayout,
    field: int | str,
    *,
    combined_dirname: str = "preds_dnn_xgb",
    dnn_directory: str = "preds_dnn",
    xgb_directory: str = "preds_xgb",
    save: bool = True,
    write_csv_file: bool = False,
) -> CombineResult:
    """Join a field's DNN and XGB predictions and write ``<combined>/field_<f>.parquet``."""
    name = f"field_{field}"
    dnn_path = layout.root / dnn_directory / name / f"{name}.parquet"
    xgb_path = layout.root / xgb_directory / name / f"{name}.parquet"
    dnn = _read_preds(dnn_path, "DNN")
    xgb = _read_preds(xgb_path, "XGB")
    if "_id" not in dnn.columns or "_id" not in xgb.columns:
        raise CombineError(f"{dnn_path} and {xgb_path} must both have an '_id' column")
    _require_unique_ids(dnn, dnn_path)
    _require_unique_ids(xgb, xgb_path)
    extra = [c for c in xgb.columns if c not in dnn.columns]
    combined = dnn.merge(xgb[["_id", *extra]], on="_id", how="inner", validate="one_to_one")
    combined.attrs = dict(dnn.attrs) | {
        "combine_preds_scope_code_version": __version__,
        "combined_from": [str(dnn_path), str(xgb_path)],
    }
    path = fields_json = None
    if save:
        path = layout.combined_file(field, combined_dirname)
        write_parquet(combined, path)
        if write_csv_file:
            write_csv(combined, path.with_suffix(".csv"))
        fields_json = update_fields_json(layout.combined_dir(combined_dirname))
    return CombineResult(
        field=field,
        path=path,
        fields_json=fields_json,
        rows=len(combined),
        rows_dnn=len(dnn),
        rows_xgb=len(xgb),
        columns=list(combined.columns),
        frame=combined,
    )


def _field_key(name: str) -> tuple[int, int | str]:
    value = name.removeprefix("field_")
    try:
        return (0, int(value))
    except ValueError:
        return (1, value)


def update_fields_json(combined_dir: Path) -> Path:
    """``fields.json``: the fields with a combined catalogue (sorted; numbers as ints)."""
    names = sorted((p.stem for p in combined_dir.glob("field_*.parquet")), key=_field_key)
    fields = [_field_key(n)[1] for n in names]
    return write_json(fields, combined_dir / "fields.json")


def combined_fields(layout: DataLayout, combined_dirname: str = "preds_dnn_xgb") -> list:
    path = layout.combined_dir(combined_dirname) / "fields.json"
    if path.exists():
        return json.loads(path.read_text())
    return [
        _field_key(p.stem)[1]
        for p in sorted(layout.combined_dir(combined_dirname).glob("field_*.parquet"))
    ]
