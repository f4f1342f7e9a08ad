"""SCoPe's own ``config.yaml``: the model inputs exactly as SCoPe builds them.

SCoPe feeds a classifier the features its class's feature set (``training.classes.<tag>.features``)
marks ``include: true``, **in the order the config's ``features:`` section lists them** (for the
ontological set: light-curve features, then AllWISE, Gaia, PS1), periodic names suffixed with
``_<features.info.period_suffix>`` (``"None"`` disables the suffix). The order is not sorted, and
SCoPe's ``.h5`` networks do not store it, so a SCoPe model needs this file (or, for a booster,
its stored ``feature_names``) to be fed correctly.

:func:`read_scope_yaml` validates the file (one error naming the file and every missing key);
:meth:`ScopeYaml.to_project_config` turns it into this project's :class:`ScopeConfig`, whose
feature sets keep SCoPe's order; :func:`booster_input_order` picks a booster's input columns.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from scope_assets.config import ConfigError, ScopeConfig, _read_yaml, load_config

NO_SUFFIX = "None"
TRUE_VALUES = ("t", "True", "true", "1", 1, True)  # what SCoPe accepts as ``include: true``
STRATEGIES = {
    "none": "none",
    "zero": "zero",
    "median": "median",
    "mean": "mean",
    "regress": "regress",
}
TAXONOMY_IDS = {"phenomenological": 1017, "ontological": 1015}  # SCoPe's Fritz taxonomies
DTYPES = ("float", "Int64", "int", "str")


class ScopeYamlError(ConfigError):
    """A SCoPe ``config.yaml`` lacks what inference needs; the message names the file and keys."""


class ModelInputsError(ValueError):
    """A model's stored inputs disagree with the configured ones; the message names the model."""


@dataclass(frozen=True)
class ScopeFeature:
    """One ``include: true`` entry of a SCoPe feature set (unsuffixed name)."""

    name: str
    periodic: bool
    dtype: str
    impute_strategy: str  # lower case; "none" when the set gives none


@dataclass(frozen=True)
class ScopeClass:
    """One entry of ``training.classes``."""

    tag: str
    label: str
    feature_set: str
    threshold: float


@dataclass(frozen=True)
class ScopeYaml:
    """What inference needs from a SCoPe ``config.yaml``."""

    path: Path
    period_suffix: str
    feature_sets: Mapping[str, tuple[ScopeFeature, ...]]  # set name → included, config order
    classes: Mapping[str, ScopeClass]  # config order
    training_dataset: str | None
    feature_stats: Mapping[str, Mapping[str, float]] | None
    path_to_features: str | None
    path_to_preds: str | None

    def column_name(self, feature: ScopeFeature, period_suffix: str | None = None) -> str:
        """SCoPe's column of ``feature``: periodic names carry ``_<suffix>``."""
        suffix = self.period_suffix if period_suffix is None else period_suffix
        if feature.periodic and suffix not in ("", NO_SUFFIX):
            return f"{feature.name}_{suffix}"
        return feature.name

    def set_inputs(self, feature_set: str, period_suffix: str | None = None) -> list[str]:
        """Ordered input columns of a feature set, as SCoPe builds them."""
        if feature_set not in self.feature_sets:
            raise ScopeYamlError(
                f"{self.path}: no feature set {feature_set!r} under features: "
                f"(has {sorted(self.feature_sets)})"
            )
        return [self.column_name(f, period_suffix) for f in self.feature_sets[feature_set]]

    def class_inputs(self, tag: str, period_suffix: str | None = None) -> list[str]:
        """Ordered model input columns of the classifier ``tag``, exactly as SCoPe feeds them."""
        if tag not in self.classes:
            raise ScopeYamlError(
                f"{self.path}: unknown class tag {tag!r} (not under training.classes; "
                f"known: {list(self.classes)})"
            )
        return self.set_inputs(self.classes[tag].feature_set, period_suffix)

    def training_set_path(self, base_dir: str | os.PathLike[str]) -> Path | None:
        """``training.dataset`` resolved against ``base_dir`` (SCoPe: its working directory)."""
        if not self.training_dataset:
            return None
        path = Path(self.training_dataset).expanduser()
        return path if path.is_absolute() else Path(base_dir) / path

    def to_project_config(self, base: ScopeConfig, period_suffix: str | None = None) -> ScopeConfig:
        """``base`` with SCoPe's feature sets (SCoPe's order), period suffix and classes.

        Features and classes unknown to ``base`` are added; a class known to ``base`` keeps its
        Fritz label and taxonomy id. Everything else (feature generation, imputation, training
        settings) comes from ``base``.
        """
        for name in ("phenomenological", "ontological"):
            if name not in self.feature_sets:
                raise ScopeYamlError(f"{self.path}: features.{name} is missing")
        data = base.model_dump()
        data["period_suffix"] = self.period_suffix if period_suffix is None else period_suffix
        catalog = data["features"]["catalog"]
        for name in ("phenomenological", "ontological"):  # ontological entries carry strategies
            for feature in self.feature_sets[name]:
                catalog[feature.name] = {
                    "dtype": feature.dtype,
                    "periodic": feature.periodic,
                    "impute_strategy": feature.impute_strategy,
                }
        data["features"]["sets"] = {
            name: [f.name for f in self.feature_sets[name]]
            for name in ("phenomenological", "ontological")
        }
        data["classes"] = self._project_classes(data["classes"])
        try:
            return ScopeConfig.model_validate(data)
        except ValueError as exc:
            raise ScopeYamlError(f"{self.path}: not usable as a configuration: {exc}") from None

    def _project_classes(self, base_classes: dict[str, dict[str, Any]]) -> dict[str, Any]:
        classes: dict[str, Any] = {}
        for tag, spec in self.classes.items():
            if spec.feature_set not in TAXONOMY_IDS:
                raise ScopeYamlError(
                    f"{self.path}: training.classes.{tag}.features is {spec.feature_set!r}; "
                    f"this project runs {sorted(TAXONOMY_IDS)} classes only"
                )
            known = base_classes.get(tag)
            classes[tag] = {
                "label": spec.label,
                "fritz_label": known["fritz_label"] if known else spec.label,
                "taxonomy_id": known["taxonomy_id"] if known else TAXONOMY_IDS[spec.feature_set],
                "feature_set": spec.feature_set,
                "threshold": spec.threshold,
                "published": known["published"] if known else False,
            }
        return classes | {t: c for t, c in base_classes.items() if t not in classes}


# --------------------------------------------------------------------------- reading


def is_scope_yaml(data: Mapping[str, Any]) -> bool:
    """Whether a loaded YAML mapping is SCoPe's ``config.yaml`` (not this project's scope.yaml)."""
    features = data.get("features")
    return isinstance(features, Mapping) and (
        "info" in features or isinstance(features.get("phenomenological"), Mapping)
    )


def looks_like_scope_yaml(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a readable SCoPe ``config.yaml`` (False for anything else)."""
    try:
        return is_scope_yaml(_read_yaml(Path(path)))
    except ConfigError:
        return False


def load_any_config(
    path: str | os.PathLike[str] | None, period_suffix: str | None = None
) -> tuple[ScopeConfig, ScopeYaml | None]:
    """The configuration ``path`` gives: SCoPe's ``config.yaml`` (converted by
    :meth:`ScopeYaml.to_project_config`, returned too) or this project's ``scope.yaml`` (``None``
    beside it). ``period_suffix`` overrides the file's."""
    if path and looks_like_scope_yaml(path):
        scope = read_scope_yaml(path)
        return scope.to_project_config(load_config(None), period_suffix), scope
    config = load_config(path)
    if period_suffix:
        config = config.model_copy(update={"period_suffix": period_suffix})
    return config, None


def read_scope_yaml(path: str | os.PathLike[str]) -> ScopeYaml:
    """Read and validate SCoPe's ``config.yaml``; :class:`ScopeYamlError` lists what is missing."""
    path = Path(path)
    try:
        data = _read_yaml(path)
    except ConfigError as exc:
        raise ScopeYamlError(str(exc)) from None
    problems: list[str] = []
    features = _mapping(data, "features", "features", problems)
    info = _mapping(features, "info", "features.info", problems)
    suffix = info.get("period_suffix")
    if "period_suffix" not in info or suffix in (None, ""):
        problems.append("features.info.period_suffix: missing (SCoPe's default is ELS_ECE_EAOV)")
    training = _mapping(data, "training", "training", problems)
    classes = _read_classes(_mapping(training, "classes", "training.classes", problems), problems)
    used = dict.fromkeys(c.feature_set for c in classes.values())
    sets = {}
    for name in used:
        if name not in features:
            problems.append(f"features.{name}: missing (used by training.classes)")
        else:
            sets[name] = _read_feature_set(features, name, problems)
    for name in ("phenomenological", "ontological"):
        if name not in sets and name in features:
            sets[name] = _read_feature_set(features, name, problems)
    if problems:
        raise ScopeYamlError(f"{path}: not a usable SCoPe config:\n  " + "\n  ".join(problems))
    return ScopeYaml(
        path=path,
        period_suffix=str(suffix),
        feature_sets=sets,
        classes=classes,
        training_dataset=_optional_str(data, ("training", "dataset")),
        feature_stats=data.get("feature_stats") or None,
        path_to_features=_optional_str(data, ("feature_generation", "path_to_features")),
        path_to_preds=_optional_str(data, ("inference", "path_to_preds")),
    )


def _mapping(parent: Mapping[str, Any], key: str, where: str, problems: list[str]) -> Mapping:
    value = parent.get(key)
    if isinstance(value, Mapping):
        return value
    problems.append(f"{where}: missing" if value is None else f"{where}: not a mapping")
    return {}


def _read_classes(section: Mapping[str, Any], problems: list[str]) -> dict[str, ScopeClass]:
    classes = {}
    for tag, spec in section.items():
        if not isinstance(spec, Mapping) or not spec.get("features"):
            problems.append(f"training.classes.{tag}.features: missing")
            continue
        threshold = spec.get("threshold", 0.7)
        classes[str(tag)] = ScopeClass(
            tag=str(tag),
            label=str(spec.get("label") or tag),
            feature_set=str(spec["features"]),
            threshold=0.7 if threshold is None else float(threshold),
        )
    return classes


def _read_feature_set(
    features: Mapping[str, Any], name: str, problems: list[str]
) -> tuple[ScopeFeature, ...]:
    section = _mapping(features, name, f"features.{name}", problems)
    out = []
    for feature, entry in section.items():
        where = f"features.{name}.{feature}"
        if not isinstance(entry, Mapping) or "include" not in entry:
            problems.append(f"{where}.include: missing")
            continue
        if entry["include"] not in TRUE_VALUES:
            continue
        if "periodic" not in entry:
            problems.append(f"{where}.periodic: missing")
            continue
        strategy = str(entry.get("impute_strategy", "none")).lower()
        if strategy not in STRATEGIES:
            problems.append(f"{where}.impute_strategy: unknown {entry['impute_strategy']!r}")
            continue
        dtype = str(entry.get("dtype", "float"))
        out.append(
            ScopeFeature(
                name=str(feature),
                periodic=entry["periodic"] in TRUE_VALUES,
                dtype=dtype if dtype in DTYPES else "float",
                impute_strategy=STRATEGIES[strategy],
            )
        )
    return tuple(out)


def _optional_str(data: Mapping[str, Any], keys: tuple[str, ...]) -> str | None:
    node: Any = data
    for key in keys:
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    return str(node) if node not in (None, "") else None


# --------------------------------------------------------------------------- boosters


class BoosterLike(Protocol):
    """What :func:`booster_input_order` reads from a loaded ``xgboost.Booster``."""

    feature_names: Sequence[str] | None

    def num_features(self) -> int: ...


def booster_input_order(
    booster: BoosterLike, configured: Sequence[str] | None, where: str | os.PathLike[str]
) -> list[str]:
    """A booster's input columns: its stored ``feature_names``, else ``configured``.

    Stored names win (they are the order the booster was trained with) but must be the same
    columns as ``configured`` when that is given; without stored names the configured order is
    used after checking the count. ``where`` (the model file) heads every error message.
    """
    n = booster.num_features()
    names = list(booster.feature_names or [])
    if names:
        if len(names) != n:
            raise ModelInputsError(f"{where}: stores {len(names)} feature names for {n} inputs")
        if configured is not None and set(names) != set(configured):
            extra = [c for c in names if c not in set(configured)]
            absent = [c for c in configured if c not in set(names)]
            raise ModelInputsError(
                f"{where}: the booster's inputs differ from the configured ones "
                f"(only in the booster: {extra[:5]}; only configured: {absent[:5]})"
            )
        return names
    if configured is None:
        raise ModelInputsError(
            f"{where}: the booster stores no feature names; give SCoPe's config.yaml "
            "(--config-path) so that its input order is known"
        )
    if n != len(configured):
        raise ModelInputsError(
            f"{where}: the booster has {n} input features but {len(configured)} are configured "
            f"for it ({list(configured[:3])}...)"
        )
    return list(configured)
