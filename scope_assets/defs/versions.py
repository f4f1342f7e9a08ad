"""Code versions of the assets: what Dagster compares to tell which materializations are stale.

An asset's code version hashes
- the source files of the modules it runs (``ASSET_CODE``),
- the configuration sections it reads, as ``StorageResource`` loads them when it has no
  ``config_path`` (packaged defaults, ``$SCOPE_CONFIG``, ``SCOPE__*`` overrides),
- for the prediction and training-report assets, the fingerprints of the model manifests they
  read (``models/<alg>/<group>/<tag>/manifest.json``),
- the code versions of its parents with the same partitions (one field's chain): a change to
  the feature code marks ``features`` and everything computed after it from that field stale at
  once. Between partitionings (class-tag models → field predictions) the lineage goes through
  data versions instead: a model's data version is its manifest fingerprint (``model_lineage``).

Assets not in ``ASSET_CODE`` keep the code version they were defined with.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import dagster as dg

from scope_assets.config import ScopeConfig
from scope_assets.ml.model_files.manifest import MANIFEST_NAME

VERSION_LENGTH = 12


@dataclass(frozen=True)
class CodeSpec:
    """What an asset's result depends on besides its inputs."""

    modules: tuple[str, ...]
    config: tuple[str, ...] = ()
    models: tuple[str, ...] = ()
    """Algorithms whose model manifests it reads."""
    exclude: tuple[str, ...] = ()
    """Modules inside ``modules`` that belong to another asset."""


_FEATURES = ("feature_generation", "features", "period_suffix")
ASSET_CODE: dict[str, CodeSpec] = {
    "quad_ids": CodeSpec(("scope_assets.lightcurves", "scope_assets.kowalski")),
    "light_curves": CodeSpec(("scope_assets.lightcurves.cleaning",), ("feature_generation",)),
    "features": CodeSpec(
        ("scope_assets.features",), _FEATURES, exclude=("scope_assets.features.imputation",)
    ),
    "imputed_features": CodeSpec(
        ("scope_assets.features.imputation",), ("imputation", "features", "period_suffix")
    ),
    "training_set": CodeSpec(
        ("scope_assets.ml", "scope_assets.sim", "scope_assets.features"),
        (*_FEATURES, "imputation", "training", "classes"),
    ),
    "xgb_models": CodeSpec(("scope_assets.ml",), ("features", "training", "classes")),
    "dnn_models": CodeSpec(("scope_assets.ml",), ("features", "training", "classes")),
    "xgb_predictions": CodeSpec(("scope_assets.ml",), ("features", "classes"), ("xgb",)),
    "dnn_predictions": CodeSpec(("scope_assets.ml",), ("features", "classes"), ("dnn",)),
    "combined_predictions": CodeSpec(("scope_assets.ml",)),
    "dnn_xgb_comparison": CodeSpec(("scope_assets.analysis",)),
    "dnn_xgb_comparison_all": CodeSpec(("scope_assets.analysis",)),
    "training_stats": CodeSpec(("scope_assets.analysis",), ("training",), ("xgb", "dnn")),
    "feature_importance": CodeSpec(("scope_assets.analysis",), (), ("xgb",)),
}


def _digest(parts: Iterable[str | bytes]) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode() if isinstance(part, str) else part)
        digest.update(b"\0")
    return digest.hexdigest()[:VERSION_LENGTH]


def _module_files(name: str) -> list[Path]:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        raise ValueError(f"code version: no module {name!r} (update ASSET_CODE in {__name__})")
    if spec.submodule_search_locations:
        return sorted(Path(spec.origin).parent.rglob("*.py"))
    return [Path(spec.origin)]


@cache
def source_fingerprint(modules: tuple[str, ...], exclude: tuple[str, ...] = ()) -> str:
    """Hash of the source files of ``modules`` (packages recursively) minus ``exclude``."""
    skipped = {path for name in exclude for path in _module_files(name)}
    files = sorted({p for name in modules for p in _module_files(name)} - skipped)
    root = Path(importlib.util.find_spec("scope_assets").origin).parents[1]
    return _digest(part for p in files for part in (str(p.relative_to(root)), p.read_bytes()))


def config_fingerprint(config: ScopeConfig, sections: tuple[str, ...]) -> str:
    """Hash of the named top-level sections of the configuration."""
    dumped = config.model_dump(mode="json")
    return _digest([json.dumps({s: dumped[s] for s in sections}, sort_keys=True)])


def manifest_fingerprints(models_root: Path, algorithm: str, group: str) -> dict[str, str]:
    """Class tag → hash of its model's manifest, for every model of ``algorithm`` in ``group``."""
    group_dir = Path(models_root) / algorithm / group
    return {
        path.parent.name: _digest([path.read_bytes()])
        for path in sorted(group_dir.glob(f"*/{MANIFEST_NAME}"))
    }


def models_fingerprint(models_root: Path, algorithms: tuple[str, ...], group: str) -> str:
    """One hash over the manifests of every model of ``algorithms`` in ``group``."""
    return _digest(
        f"{algorithm}/{tag}:{fingerprint}"
        for algorithm in algorithms
        for tag, fingerprint in manifest_fingerprints(models_root, algorithm, group).items()
    )


def own_code_version(spec: CodeSpec, config: ScopeConfig, models_root: Path, group: str) -> str:
    parts = [source_fingerprint(spec.modules, spec.exclude)]
    if spec.config:
        parts.append(config_fingerprint(config, spec.config))
    if spec.models:
        parts.append(models_fingerprint(models_root, spec.models, group))
    return _digest(parts)


def code_versions(
    specs: Iterable[dg.AssetSpec], config: ScopeConfig, models_root: Path, group: str
) -> dict[dg.AssetKey, str]:
    """The code version of every spec named in ``ASSET_CODE``, chained along same-partition
    parents (parents first, whatever the order of ``specs``)."""
    by_key = {spec.key: spec for spec in specs}
    versions: dict[dg.AssetKey, str] = {}

    def version(key: dg.AssetKey) -> str | None:
        if key not in versions:
            spec = by_key[key]
            code = ASSET_CODE.get(key.to_user_string())
            if code is None:
                return None
            parents = sorted(
                v
                for dep in spec.deps
                if dep.asset_key in by_key
                and by_key[dep.asset_key].partitions_def == spec.partitions_def
                and (v := version(dep.asset_key))
            )
            versions[key] = _digest([own_code_version(code, config, models_root, group), *parents])
        return versions[key]

    for key in by_key:
        version(key)
    return versions
