"""Models named by path or by group, in this project's layout or SCoPe's."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from scope_assets.config import ScopeConfig
from scope_assets.features.imputation import ImputationReference
from scope_assets.ml.model_errors import ModelError
from scope_assets.ml.model_files.classifier import Classifier
from scope_assets.ml.model_files.manifest import MANIFEST_NAME
from scope_assets.ml.model_files.project_layout import (
    class_order,
    find_model_dirs,
    load_model_dir,
    load_models,
)
from scope_assets.ml.model_files.scaling import FeatureStats
from scope_assets.ml.model_files.scope_layout import (
    SCOPE_TIME_TAG,
    load_scope_model_file,
    load_scope_models,
    newest_scope_model_file,
    read_training_set,
    scope_feature_stats,
    scope_imputation,
)


def _project_model_dir(path: Path) -> Path | None:
    """The model directory ``path`` names in this project's layout, or None (a SCoPe file)."""
    if path.is_dir() or path.name == MANIFEST_NAME:
        return path
    if (path.parent / MANIFEST_NAME).exists():
        return path.parent
    return None


class _ScopeInputs:
    """Scaling statistics and imputation reference of SCoPe files, built on first use."""

    def __init__(
        self,
        config: ScopeConfig,
        training_set: str | Path | None,
        feature_stats: Mapping[str, Mapping[str, float]] | None,
    ):
        self.config, self.training_set, self.feature_stats = config, training_set, feature_stats
        self.stats: FeatureStats | None = None
        self.imputation: ImputationReference | None = None

    def build(self) -> None:
        if self.stats is not None or (self.training_set is None and self.feature_stats is None):
            return
        frame = read_training_set(self.training_set) if self.training_set is not None else None
        self.stats = scope_feature_stats(
            self.config, training_set=frame, feature_stats=self.feature_stats
        )
        if frame is not None:
            self.imputation = scope_imputation(frame, self.config, self.training_set)


def load_model_paths(
    paths: list[str | Path],
    tags: list[str] | None,
    algorithm: str,
    config: ScopeConfig,
    *,
    training_set: str | Path | None = None,
    feature_stats: Mapping[str, Mapping[str, float]] | None = None,
    scale_features: str | None = "min_max",
) -> list[Classifier]:
    """``run-inference --paths-models``: model directories/manifests (this layout) or SCoPe files."""
    if tags is not None and len(tags) != len(paths):
        raise ModelError(
            f"{len(paths)} model paths but {len(tags)} class names; give one name per model"
        )
    cache: dict = {}
    scope_inputs = _ScopeInputs(config, training_set, feature_stats)
    out = []
    for i, raw in enumerate(paths):
        path = Path(raw)
        directory = _project_model_dir(path)
        if directory is not None:
            model = load_model_dir(directory, cache)
            if tags is not None and tags[i] != model.tag:
                raise ModelError(f"{path}: holds the model of {model.tag!r}, not {tags[i]!r}")
        else:
            if not path.exists():
                raise ModelError(f"model file {path} does not exist")
            tag = tags[i] if tags is not None else SCOPE_TIME_TAG.sub("", path.stem)
            scope_inputs.build()
            model = load_scope_model_file(
                path,
                tag,
                algorithm,
                config,
                stats=scope_inputs.stats,
                scale_features=scale_features,
                imputation=scope_inputs.imputation,
            )
        if model.algorithm != algorithm:
            raise ModelError(f"{path}: a {model.algorithm} model, but --algorithm is {algorithm}")
        out.append(model)
    return out


def group_model_paths(
    models_root: str | Path, algorithm: str, group: str, config: ScopeConfig | None = None
) -> tuple[list[Path], list[str]]:
    """(model paths, tags) of a group: this project's layout, else SCoPe's ``models_<alg>``."""
    root = Path(models_root)
    if (root / algorithm / group).is_dir():
        dirs = find_model_dirs(root, algorithm, group, config=config)
        return [d.resolve() for d in dirs], [d.name for d in dirs]
    scope_dir = root / f"models_{algorithm}" / group
    if scope_dir.is_dir():
        tags = class_order([p.name for p in scope_dir.iterdir() if p.is_dir()], config)
        return [newest_scope_model_file(scope_dir / t, algorithm).resolve() for t in tags], tags
    raise ModelError(
        f"no {algorithm} model group {group!r}: neither {root / algorithm / group} nor "
        f"{scope_dir} exists"
    )


def load_group(
    models_root: str | Path,
    algorithm: str,
    group: str,
    config: ScopeConfig,
    *,
    tags: list[str] | None = None,
    training_set: str | Path | None = None,
    feature_stats: Mapping[str, Mapping[str, float]] | None = None,
    scale_features: str | None = "min_max",
) -> list[Classifier]:
    """The models of a group: ``<root>/<alg>/<group>/`` (this project's layout, which carries its
    own statistics), else SCoPe's ``<root>/models_<alg>/<group>/`` scaled and imputed from
    ``training_set`` / ``feature_stats``."""
    root = Path(models_root)
    if (root / algorithm / group).is_dir():
        return load_models(root, algorithm, group, tags=tags, config=config)
    return load_scope_models(
        root,
        algorithm,
        group,
        config,
        tags=tags,
        training_set=training_set,
        feature_stats=feature_stats,
        scale_features=scale_features,
    )
