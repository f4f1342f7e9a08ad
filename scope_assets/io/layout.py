"""SCoPe's on-disk layout under one data root, in one place.

Every asset, CLI command and test asks this class for paths, so the layout is defined once::

    <root>/archive/                                   local light-curve archive (scope-sim)
    <root>/ids/field_<f>/field_<f>.h5                 quad_ids, as get-quad-ids (+ meta.json)
    <root>/lightcurves/field_<f>/field_<f>.parquet    cleaned light curves
    <root>/generated_features/field_<f>/gen_features_field_<f>_ccd_<c>_quad_<q>.parquet
    <root>/generated_features/specific_ids/gen_features_<label>_specific_ids.parquet
    <root>/imputed_features/field_<f>/field_<f>.parquet (+ imputation_reference.json)
    <root>/preds_<alg>/field_<f>/field_<f>.parquet    (+ meta.json, field_<f>_flagged.json)
    <root>/preds_dnn_xgb/field_<f>.parquet            combined catalogue
    <root>/reports/...                                PNG plots and JSON summaries
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

SPECIFIC_IDS = "specific_ids"


def is_specific_ids(field: int | str) -> bool:
    """SCoPe's rule: a field label (not a number) containing ``specific_ids``."""
    return isinstance(field, str) and not field.isdigit() and SPECIFIC_IDS in field


def specific_ids_field(label: str) -> str:
    """The field label inference uses for a specific-ids feature file: ``<label>_specific_ids``."""
    return f"{label}_{SPECIFIC_IDS}"


def field_dirname(field: int | str) -> str:
    """``field_<f>``; ``field`` may be an int or a label such as ``<dt>_specific_ids``."""
    return f"field_{field}"


@dataclass(frozen=True)
class DataLayout:
    """Paths of every table and report under ``root``."""

    root: Path
    features_dirname: str = "generated_features"
    features_prefix: str = "gen_features"

    def __init__(
        self,
        root: str | os.PathLike[str],
        features_dirname: str = "generated_features",
        features_prefix: str = "gen_features",
    ) -> None:
        object.__setattr__(self, "root", Path(root))
        object.__setattr__(self, "features_dirname", features_dirname)
        object.__setattr__(self, "features_prefix", features_prefix)

    @property
    def archive_dir(self) -> Path:
        return self.root / "archive"

    def ids_dir(self, field: int | str) -> Path:
        return self.root / "ids" / field_dirname(field)

    def ids_file(self, field: int | str) -> Path:
        return self.ids_dir(field) / f"{field_dirname(field)}.h5"

    def light_curves_file(self, field: int | str) -> Path:
        return self.root / "lightcurves" / field_dirname(field) / f"{field_dirname(field)}.parquet"

    def features_dir(self, field: int | str) -> Path:
        return self.root / self.features_dirname / field_dirname(field)

    def features_file(self, field: int | str, ccd: int, quad: int) -> Path:
        name = f"{self.features_prefix}_field_{field}_ccd_{ccd}_quad_{quad}.parquet"
        return self.features_dir(field) / name

    def specific_ids_features_file(
        self, field: str, directory: str | os.PathLike[str] | None = None, prefix: str | None = None
    ) -> Path:
        """``<dir>/specific_ids/<prefix>_<field>.parquet`` (``field`` = ``<label>_specific_ids``),
        the file ``generate-features --doSpecificIDs`` writes and ``run-inference`` reads."""
        base = Path(directory) if directory is not None else Path(self.features_dirname)
        base = base if base.is_absolute() else self.root / base
        return base / SPECIFIC_IDS / f"{prefix or self.features_prefix}_{field}.parquet"

    def imputed_features_file(self, field: int | str) -> Path:
        d = self.root / "imputed_features" / field_dirname(field)
        return d / f"{field_dirname(field)}.parquet"

    def imputation_reference_file(self, field: int | str) -> Path:
        return self.imputed_features_file(field).with_name("imputation_reference.json")

    def preds_dir(self, algorithm: str, field: int | str) -> Path:
        return self.root / f"preds_{algorithm}" / field_dirname(field)

    def preds_file(self, algorithm: str, field: int | str) -> Path:
        return self.preds_dir(algorithm, field) / f"{field_dirname(field)}.parquet"

    def preds_meta_file(self, algorithm: str, field: int | str) -> Path:
        return self.preds_dir(algorithm, field) / "meta.json"

    def flagged_file(self, algorithm: str, field: int | str) -> Path:
        return self.preds_dir(algorithm, field) / f"{field_dirname(field)}_flagged.json"

    def combined_dir(self, dirname: str = "preds_dnn_xgb") -> Path:
        return self.root / dirname

    def combined_file(self, field: int | str, dirname: str = "preds_dnn_xgb") -> Path:
        return self.combined_dir(dirname) / f"{field_dirname(field)}.parquet"

    @property
    def reports_dir(self) -> Path:
        return self.root / "reports"

    def field_reports_dir(self, field: int | str) -> Path:
        return self.reports_dir / field_dirname(field)

    @property
    def training_dir(self) -> Path:
        return self.root / "training"
