"""Configuration: pydantic models over ``defaults.yaml`` plus a user's ``scope.yaml``.

Load with :func:`load_config`. A user file is deep-merged over the packaged defaults, then
``SCOPE__SECTION__KEY=value`` environment variables override single keys (values parsed as
YAML). Unknown keys are rejected with an error that names them, so a typo never passes
silently.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from scope_assets.errors import ScopeError

DEFAULTS_PATH = Path(__file__).with_name("defaults.yaml")
ENV_PREFIX = "SCOPE__"
ImputeStrategy = Literal["none", "zero", "median", "mean", "regress"]
FeatureSetName = Literal["phenomenological", "ontological"]


class ConfigError(ScopeError, ValueError):
    """A configuration file or override is invalid; the message names the key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FeatureSpec(_Strict):
    dtype: Literal["float", "Int64", "int", "str"] = "float"
    periodic: bool = False
    impute_strategy: ImputeStrategy = "none"
    description: str = ""
    """What the feature measures (column descriptions in the Dagster UI)."""


class FeatureSets(_Strict):
    phenomenological: list[str]
    ontological: list[str]


class FeaturesConfig(_Strict):
    catalog: dict[str, FeatureSpec]
    sets: FeatureSets

    @model_validator(mode="after")
    def _sets_use_known_features(self) -> FeaturesConfig:
        for set_name in ("phenomenological", "ontological"):
            names = getattr(self.sets, set_name)
            unknown = [n for n in names if n not in self.catalog]
            if unknown:
                raise ValueError(f"features.sets.{set_name} names unknown features {unknown}")
            if len(set(names)) != len(names):
                raise ValueError(f"features.sets.{set_name} lists a feature twice")
        return self


class ClassSpec(_Strict):
    label: str
    fritz_label: str
    taxonomy_id: int
    feature_set: FeatureSetName
    threshold: float = Field(0.7, ge=0.0, le=1.0)
    published: bool = True


class FeatureGenerationConfig(_Strict):
    min_n_lc_points: int = Field(50, ge=1)
    min_cadence_minutes: float = Field(30.0, ge=0.0)
    max_timestamp_hjd: float | None = 2459951.5
    programids: list[int] = [1, 2, 3]
    period_algorithms: list[Literal["ELS", "ECE", "EAOV", "ELS_ECE_EAOV"]] = [
        "ELS",
        "ECE",
        "EAOV",
        "ELS_ECE_EAOV",
    ]
    max_freq: float = Field(48.0, gt=0.0)
    samples_per_peak: int = Field(10, ge=1)
    remove_terrestrial: bool = True
    top_n_periods: int = Field(50, ge=1)
    grid_baseline_days: float | None = None
    long_periods: bool = False
    relative_zero_point_mag: float | None = Field(18.0, ge=10.0, le=25.0)
    fourier_convention: Literal["legacy_ab", "amp_phase"] = "legacy_ab"
    xmatch_radius_arcsec: float = Field(2.0, gt=0.0)
    batch_size: int = Field(1000, ge=1)


class ImputationConfig(_Strict):
    n_neighbors: int = Field(5, ge=1)
    max_reference_rows: int = Field(5000, ge=10)


class TrainingConfig(_Strict):
    threshold: float = Field(0.7, ge=0.0, le=1.0)
    seed: int = 42


class InferenceFieldsConfig(_Strict):
    """Fields that ``run-inference-job-submission`` scores (SCoPe's ``inference`` keys)."""

    fields_to_run: list[int] = []
    fields_to_exclude: list[int] = []


class ScopeConfig(_Strict):
    period_suffix: str = "ELS_ECE_EAOV"
    features: FeaturesConfig
    classes: dict[str, ClassSpec]
    feature_generation: FeatureGenerationConfig = FeatureGenerationConfig()
    imputation: ImputationConfig = ImputationConfig()
    training: TrainingConfig = TrainingConfig()
    inference: InferenceFieldsConfig = InferenceFieldsConfig()

    def column_name(self, feature: str) -> str:
        """The stored column of ``feature``: periodic features carry ``_<period_suffix>``."""
        spec = self.features.catalog[feature]
        if spec.periodic and self.period_suffix not in ("", "None"):
            return f"{feature}_{self.period_suffix}"
        return feature

    def feature_columns(self, feature_set: FeatureSetName) -> list[str]:
        """Ordered model input columns of a feature set (suffixed)."""
        return [self.column_name(n) for n in getattr(self.features.sets, feature_set)]

    def impute_strategies(self) -> dict[str, str]:
        """Suffixed column → strategy, for every ontological feature (SCoPe imputes those)."""
        return {
            self.column_name(n): self.features.catalog[n].impute_strategy
            for n in self.features.sets.ontological
        }

    def class_columns(self, tag: str) -> list[str]:
        """Model input columns of the classifier ``tag``."""
        if tag not in self.classes:
            raise ConfigError(f"unknown class tag {tag!r}; known tags: {sorted(self.classes)}")
        return self.feature_columns(self.classes[tag].feature_set)


def _deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except OSError as exc:
        raise ConfigError(f"config file {path} cannot be read ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise ConfigError(f"config file {path} is not UTF-8 text") from None
    except RecursionError:
        raise ConfigError(f"config file {path} is nested too deeply") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {path} is not valid YAML: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must hold a mapping, got {type(data).__name__}")
    return data


def _env_value(name: str, raw: str) -> Any:
    """The YAML value of one ``SCOPE__…`` variable; ConfigError naming it if empty or not YAML."""
    if not raw.strip():
        raise ConfigError(f"environment variable {name} is empty (unset it or give a value)")
    try:
        return yaml.safe_load(raw)
    except RecursionError:
        raise ConfigError(f"environment variable {name} is nested too deeply") from None
    except yaml.YAMLError as exc:
        problem = str(exc).splitlines()[0]
        raise ConfigError(f"environment variable {name} is not valid YAML ({problem})") from None


def _env_keys(environ: dict[str, str]) -> dict[tuple[str, ...], str]:
    """Config key path → variable name of every ``SCOPE__…`` variable; refuses a variable that
    sets a section another variable sets keys inside (whatever the order of the environment)."""
    paths: dict[tuple[str, ...], str] = {}
    for name in sorted(n for n in environ if n.startswith(ENV_PREFIX)):
        keys = tuple(k.lower() for k in name[len(ENV_PREFIX) :].split("__") if k)
        if not keys:
            raise ConfigError(f"environment variable {name} names no configuration key")
        if keys in paths:
            raise ConfigError(f"environment variables {paths[keys]} and {name} set the same key")
        paths[keys] = name
    for keys, name in paths.items():
        for depth in range(1, len(keys)):
            if keys[:depth] in paths:
                raise ConfigError(
                    f"environment variable {paths[keys[:depth]]} sets a whole section that "
                    f"{name} sets a key inside; keep one of them"
                )
    return paths


def _env_overrides(environ: dict[str, str]) -> dict[str, Any]:
    overrides: dict[str, Any] = {}
    for keys, name in _env_keys(environ).items():
        node = overrides
        for key in keys[:-1]:
            node = node.setdefault(key, {})
        node[keys[-1]] = _env_value(name, environ[name])
    return overrides


def _format_errors(exc: ValidationError, source: str) -> str:
    lines = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"])
        if err["type"] == "extra_forbidden":
            lines.append(f"  {where}: unknown key (typo?)")
        else:
            lines.append(f"  {where}: {err['msg']}")
    return f"invalid configuration ({source}):\n" + "\n".join(lines)


def load_config(
    path: str | os.PathLike[str] | None = None, environ: dict[str, str] | None = None
) -> ScopeConfig:
    """Packaged defaults, deep-merged with ``path`` (if given) and ``SCOPE__*`` env overrides.

    ``path`` defaults to ``$SCOPE_CONFIG`` when set. Raises :class:`ConfigError` naming the bad key.
    """
    environ = dict(os.environ) if environ is None else environ
    data = _read_yaml(DEFAULTS_PATH)
    sources = [str(DEFAULTS_PATH)]
    path = path if path is not None else environ.get("SCOPE_CONFIG")
    if path:
        data = _deep_merge(data, _read_yaml(Path(path)))
        sources.append(str(path))
    overrides = _env_overrides(environ)
    if overrides:
        data = _deep_merge(data, overrides)
        sources.append("SCOPE__* environment")
    try:
        return ScopeConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_errors(exc, " + ".join(sources))) from None


def data_root(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The data root: ``explicit`` (``--data-dir``), else ``$SCOPE_DATA_DIR``, else ``./data``.

    The one place that reads ``SCOPE_DATA_DIR`` (an empty value counts as unset).
    """
    return Path(explicit or os.environ.get("SCOPE_DATA_DIR") or "data").resolve()
