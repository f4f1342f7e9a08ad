"""``manifest.json``: everything inference needs about a model besides its weights.

A model directory ``models/<alg>/<group>/<tag>/`` holds the model file (``<tag>.json`` for
XGBoost, ``<tag>.keras`` for the DNN) and this manifest: tag, algorithm, ordered input features,
period suffix, the imputation reference (a JSON file shared by the group, referenced by relative
path and fingerprint), scaling method and statistics, label and threshold, the training-set
fingerprint, metrics, creation time and code version. Inference reads only these two files.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from scope_assets.errors import UnsafePathError
from scope_assets.io import write_json
from scope_assets.io.layout import path_inside, safe_name
from scope_assets.ml.backends.registry import ALGORITHMS
from scope_assets.ml.model_errors import ModelError

MANIFEST_NAME = "manifest.json"
MANIFEST_FORMAT = "scope-assets-model/1"


@dataclass
class ModelManifest:
    tag: str
    algorithm: str
    group: str
    model_file: str
    features: list[str]
    feature_set: str
    period_suffix: str
    label: str
    threshold: float
    scaling_method: str | None
    scaling_stats: dict[str, dict[str, float]]
    imputation_reference: str | None
    imputation_fingerprint: str | None
    training_set_fingerprint: str
    training_set_source: str
    metrics: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    created_utc: str = ""
    time_tag: str = ""
    code_version: str = ""
    library_versions: dict[str, str] = field(default_factory=dict)
    uses_dmdt: bool = False
    format: str = MANIFEST_FORMAT

    def to_json(self, directory: str | Path) -> Path:
        return write_json(asdict(self), Path(directory) / MANIFEST_NAME)

    @classmethod
    def from_json(cls, path: str | Path) -> ModelManifest:
        path = Path(path)
        if path.is_dir():
            path = path / MANIFEST_NAME
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            raise ModelError(f"model manifest {path} does not exist") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ModelError(f"model manifest {path} is not valid JSON: {exc}") from None
        if not isinstance(data, dict) or data.get("format") != MANIFEST_FORMAT:
            raise ModelError(f"{path} is not a {MANIFEST_FORMAT} manifest")
        known = set(cls.__dataclass_fields__)
        try:
            manifest = cls(**{k: v for k, v in data.items() if k in known})
        except TypeError as exc:
            raise ModelError(f"model manifest {path} is malformed: {exc}") from None
        if manifest.algorithm not in ALGORITHMS:
            raise ModelError(f"{path}: unknown algorithm {manifest.algorithm!r}")
        if not manifest.features:
            raise ModelError(f"{path}: empty feature list")
        _check_paths(manifest, path)
        return manifest


def _check_paths(manifest: ModelManifest, path: Path) -> None:
    """The model file lies in the manifest's directory, the imputation reference in the models
    root (``<root>/<alg>/<group>/<tag>/``): a manifest never leads a reader elsewhere."""
    directory = path.resolve().parent
    try:
        safe_name(str(manifest.model_file), "model_file")
        if manifest.imputation_reference:
            root = directory.parents[2] if len(directory.parents) > 2 else directory
            path_inside(root, directory / manifest.imputation_reference, "imputation_reference")
    except UnsafePathError as exc:
        raise ModelError(f"model manifest {path}: {exc}") from None
