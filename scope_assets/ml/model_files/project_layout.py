"""This project's model layout: writing a model directory, loading a group.

::

    <root>/imputation/<fingerprint>.json               imputation reference (shared)
    <root>/<alg>/<group>/<tag>/manifest.json           :mod:`~.manifest`
    <root>/<alg>/<group>/<tag>/<tag>.json | .keras     the model

The manifest carries the feature order, imputation reference and scaling statistics. Every load
error is a :class:`~scope_assets.ml.model_errors.ModelError` naming the file.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from scope_assets.config import ScopeConfig
from scope_assets.features.imputation import ImputationError, ImputationReference
from scope_assets.ml.backends.registry import backend_for
from scope_assets.ml.model_errors import ModelError
from scope_assets.ml.model_files.classifier import Classifier, load_classifier
from scope_assets.ml.model_files.manifest import MANIFEST_NAME, ModelManifest
from scope_assets.ml.model_files.scaling import FeatureStats, Scaler


def model_dir(models_root: str | Path, algorithm: str, group: str, tag: str) -> Path:
    return Path(models_root) / algorithm / group / tag


# --------------------------------------------------------------------------- writing


def save_imputation_reference(reference: ImputationReference, models_root: Path) -> Path:
    """Store a reference once for all models: ``<models root>/imputation/<fingerprint>.json``."""
    path = Path(models_root) / "imputation" / f"{reference.fingerprint}.json"
    if not path.exists():
        reference.to_json(path)
    return path


@contextmanager
def replacing_directory(target: Path) -> Iterator[Path]:
    """A fresh directory beside ``target`` to fill; on success it replaces ``target`` at once
    (the model directory appears complete or not at all), on error it is removed."""
    parent = target.parent
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=parent))
    tmp.chmod(0o755)
    try:
        yield tmp
        old = None
        if target.exists():
            old = parent / f".{target.name}.old.{os.getpid()}"
            target.rename(old)
        tmp.rename(target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


# --------------------------------------------------------------------------- loading


def _imputation_reference(
    directory: Path, manifest: ModelManifest, cache: dict
) -> ImputationReference | None:
    if not manifest.imputation_reference:
        return None
    ref_path = (directory / manifest.imputation_reference).resolve()
    if ref_path not in cache:
        try:
            cache[ref_path] = ImputationReference.from_json(ref_path)
        except (FileNotFoundError, ImputationError) as exc:
            raise ModelError(f"{directory / MANIFEST_NAME}: {exc}") from None
    reference = cache[ref_path]
    if manifest.imputation_fingerprint and reference.fingerprint != manifest.imputation_fingerprint:
        raise ModelError(
            f"{ref_path}: fingerprint {reference.fingerprint} differs from the one recorded in "
            f"{directory / MANIFEST_NAME} ({manifest.imputation_fingerprint})"
        )
    return reference


def load_model_dir(directory: str | Path, reference_cache: dict | None = None) -> Classifier:
    """Load ``<alg>/<group>/<tag>/`` (manifest + model file) of this project's layout."""
    directory = Path(directory)
    if directory.is_file() and directory.name == MANIFEST_NAME:
        directory = directory.parent
    if not directory.is_dir():
        raise ModelError(f"model directory {directory} does not exist")
    manifest = ModelManifest.from_json(directory / MANIFEST_NAME)
    cache = reference_cache if reference_cache is not None else {}
    imputation = _imputation_reference(directory, manifest, cache)
    scaler = Scaler.build(
        manifest.features, FeatureStats(manifest.scaling_stats), manifest.scaling_method
    )
    return load_classifier(
        manifest.tag,
        manifest.algorithm,
        manifest.features,
        directory / manifest.model_file,
        scaler,
        imputation,
        "scope-assets",
        manifest,
    )


def class_order(tags: list[str], config: ScopeConfig | None) -> list[str]:
    """``tags`` in the config's class order (unknown tags last, sorted)."""
    if config is None:
        return sorted(tags)
    known = [t for t in config.classes if t in tags]
    return known + sorted(t for t in tags if t not in config.classes)


def find_model_dirs(
    models_root: str | Path,
    algorithm: str,
    group: str,
    tags: list[str] | None = None,
    config: ScopeConfig | None = None,
) -> list[Path]:
    """Model directories of ``<root>/<alg>/<group>/``, in config class order (or ``tags`` order)."""
    backend_for(algorithm)
    group_dir = Path(models_root) / algorithm / group
    if not group_dir.is_dir():
        raise ModelError(f"no {algorithm} models: directory {group_dir} does not exist")
    available = {
        p.name: p for p in group_dir.iterdir() if p.is_dir() and (p / MANIFEST_NAME).exists()
    }
    if tags:
        missing = [t for t in tags if t not in available]
        if missing:
            raise ModelError(
                f"no {algorithm} model for tags {missing} in {group_dir} "
                f"(available: {sorted(available)})"
            )
        return [available[t] for t in tags]
    if not available:
        raise ModelError(f"no {algorithm} models (no */{MANIFEST_NAME}) in {group_dir}")
    return [available[t] for t in class_order(list(available), config)]


def load_models(
    models_root: str | Path,
    algorithm: str,
    group: str,
    tags: list[str] | None = None,
    config: ScopeConfig | None = None,
) -> list[Classifier]:
    """Load every model of a group (this project's layout), once each."""
    cache: dict = {}
    return [
        load_model_dir(d, cache)
        for d in find_model_dirs(models_root, algorithm, group, tags, config)
    ]
