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

A field label or a directory name given by a user becomes a path component here, so it is
checked here, once: :func:`field_label` accepts a field number or ``<label>_specific_ids``,
:func:`safe_name` a single file-name component, and :func:`path_inside` refuses a relative path
(e.g. read from a model manifest) that leaves its root.
"""

from __future__ import annotations

import numbers
import os
import re
from dataclasses import dataclass
from pathlib import Path

from scope_assets.errors import UnsafePathError

NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")
SPECIFIC_IDS = "specific_ids"
SPECIFIC_IDS_SUFFIX = f"_{SPECIFIC_IDS}"


def field_label(field: int | str) -> str:
    """The canonical label of a field: a non-negative integer (``"0296"`` → ``"296"``) or
    ``<label>_specific_ids`` of letters, digits, ``_``, ``.`` and ``-``; UnsafePathError else."""
    if isinstance(field, numbers.Integral) and not isinstance(field, bool):
        if field < 0:
            raise UnsafePathError(f"field {field}: a field number is not negative")
        return str(int(field))
    text = str(field)
    if text.isascii() and text.isdigit():
        return str(int(text))
    if text.endswith(SPECIFIC_IDS_SUFFIX) and NAME_PATTERN.fullmatch(text) and ".." not in text:
        return text
    raise UnsafePathError(
        f"field {text!r}: expected a field number or <label>{SPECIFIC_IDS_SUFFIX} "
        "(letters, digits, '_', '.', '-')"
    )


def safe_name(name: str, what: str) -> str:
    """``name`` if it is one safe file-name component (no separator, no ``..``); else an error
    naming ``what``."""
    if not NAME_PATTERN.fullmatch(name) or ".." in name:
        raise UnsafePathError(
            f"{what} {name!r}: expected one name of letters, digits, '_', '.', '-' (no path)"
        )
    return name


def path_inside(root: str | os.PathLike[str], relative: str | os.PathLike[str], what: str) -> Path:
    """``root / relative`` when it stays inside ``root`` (lexically); UnsafePathError else."""
    base = os.path.normpath(os.path.abspath(root))
    joined = os.path.normpath(os.path.join(base, relative))
    if os.path.commonpath([base, joined]) != base:
        raise UnsafePathError(f"{what} {str(relative)!r} leads outside {base}")
    return Path(joined)


def is_specific_ids(field: int | str) -> bool:
    """SCoPe's rule: a field label (not a number) containing ``specific_ids``."""
    return isinstance(field, str) and not field.isdigit() and SPECIFIC_IDS in field


def specific_ids_field(label: str) -> str:
    """The field label inference uses for a specific-ids feature file: ``<label>_specific_ids``."""
    return f"{label}_{SPECIFIC_IDS}"


def field_dirname(field: int | str) -> str:
    """``field_<f>`` of a checked :func:`field_label`."""
    return f"field_{field_label(field)}"


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
        object.__setattr__(self, "features_dirname", safe_name(features_dirname, "directory"))
        object.__setattr__(self, "features_prefix", safe_name(features_prefix, "file prefix"))

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
        name = (
            f"{self.features_prefix}_{field_dirname(field)}_ccd_{int(ccd)}_quad_{int(quad)}.parquet"
        )
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
        return self.root / safe_name(f"preds_{algorithm}", "algorithm") / field_dirname(field)

    def preds_file(self, algorithm: str, field: int | str) -> Path:
        return self.preds_dir(algorithm, field) / f"{field_dirname(field)}.parquet"

    def preds_meta_file(self, algorithm: str, field: int | str) -> Path:
        return self.preds_dir(algorithm, field) / "meta.json"

    def flagged_file(self, algorithm: str, field: int | str) -> Path:
        return self.preds_dir(algorithm, field) / f"{field_dirname(field)}_flagged.json"

    def combined_dir(self, dirname: str = "preds_dnn_xgb") -> Path:
        return path_inside(self.root, dirname, "directory")

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
