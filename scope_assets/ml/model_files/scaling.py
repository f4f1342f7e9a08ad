"""Feature scaling with stored statistics (SCoPe's ``min_max`` and ``median_std``, and our own
``log_min_max``).

Statistics are computed once — from the imputed training rows at training time, or for SCoPe's
own models from a SCoPe training set or a config-style ``feature_stats`` mapping — and stored with
the model. A feature is scaled only when its statistics exist and are usable (``std != 0`` and
``max != min``), exactly as SCoPe skips constant features.

``log_min_max`` (not in SCoPe; the demo models use it): a feature that is positive over the whole
training set and spans at least :data:`LOG_SPAN_DEX` decades (period, chi², significance, …) is
min-max scaled in log10, every other feature as ``min_max``. With plain ``min_max`` a period
range of 0.03-500 d maps every RR Lyrae, δ Scuti and contact binary below 0.002, and the DNN
cannot tell them apart (measured: simulated EROS-1 RR Lyrae vs contact binaries, AUC 0.72).
Values below a quarter of a decade under the training minimum are clipped there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from scope_assets.errors import ScopeError

SCALING_METHODS = ("min_max", "median_std", "log_min_max")
STAT_KEYS = ("min", "max", "median", "mean", "std")
LOG_SPAN_DEX = 2.0
"""Decades a positive feature must span in training for ``log_min_max`` to scale it in log10."""
LOG_CLIP_DEX = 0.25
FAR_OUTSIDE_RANGES = 1.0
"""A min-max scaled input more than this many training ranges below the training minimum or above
the maximum (scaled < -1 or > 2) is far outside anything the model learned from: its score is an
extrapolation (e.g. median-subtracted magnitudes, mean ≈ 0, given to models trained on 12-22
mag). Inference counts such rows and says so."""


class ScalingError(ScopeError, ValueError):
    """Scaling statistics are missing or malformed."""


@dataclass(frozen=True)
class FeatureStats:
    """Per-feature ``min, max, median, mean, std`` (nan-aware), keyed by column name."""

    stats: dict[str, dict[str, float]]

    @classmethod
    def from_frame(cls, df: pd.DataFrame, columns: list[str]) -> FeatureStats:
        missing = [c for c in columns if c not in df.columns]
        if missing:
            raise ScalingError(f"cannot compute scaling statistics: no columns {missing}")
        values = df[columns].apply(pd.to_numeric, errors="coerce").astype("float64")
        values = values.replace([np.inf, -np.inf], np.nan).to_numpy()
        with np.errstate(all="ignore"), _quiet_nan_warnings():
            table = {
                "min": np.nanmin(values, axis=0),
                "max": np.nanmax(values, axis=0),
                "median": np.nanmedian(values, axis=0),
                "mean": np.nanmean(values, axis=0),
                "std": np.nanstd(values, axis=0),
            }
        return cls({c: {k: float(table[k][i]) for k in STAT_KEYS} for i, c in enumerate(columns)})

    @classmethod
    def from_mapping(
        cls, mapping: Mapping[str, Mapping[str, float]], columns: list[str], period_suffix: str
    ) -> FeatureStats:
        """Statistics from a config-style ``feature_stats`` section.

        SCoPe's config keys are unsuffixed (``f1_power``) while model inputs are suffixed
        (``f1_power_ELS_ECE_EAOV``); SCoPe then silently left periodic features unscaled. Here a
        suffixed column takes the suffixed key if present, else the unsuffixed one.
        """
        out: dict[str, dict[str, float]] = {}
        suffix = f"_{period_suffix}" if period_suffix not in ("", "None") else None
        for column in columns:
            entry = mapping.get(column)
            if entry is None and suffix and column.endswith(suffix):
                entry = mapping.get(column[: -len(suffix)])
            if entry is None:
                continue
            try:
                out[column] = {k: float(entry[k]) for k in STAT_KEYS if k in entry}
            except (TypeError, ValueError) as exc:
                raise ScalingError(
                    f"feature_stats entry for {column!r} is malformed: {exc}"
                ) from None
        return cls(out)

    def to_dict(self) -> dict[str, dict[str, float]]:
        return {c: dict(v) for c, v in self.stats.items()}

    def subset(self, columns: list[str]) -> FeatureStats:
        return FeatureStats({c: self.stats[c] for c in columns if c in self.stats})


class _quiet_nan_warnings:
    def __enter__(self):
        import warnings

        self._ctx = warnings.catch_warnings()
        self._ctx.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc):
        return self._ctx.__exit__(*exc)


@dataclass(frozen=True)
class Scaler:
    """Vectorised scaling of a fixed, ordered list of columns: ``(x - shift) / scale``."""

    columns: tuple[str, ...]
    shift: np.ndarray
    scale: np.ndarray
    method: str | None
    log10: np.ndarray | None = None  # bool per column: scaled in log10 (``log_min_max``)
    ranged: np.ndarray | None = None  # bool per column: min-max scaled to its training range

    @classmethod
    def build(cls, columns: list[str], stats: FeatureStats | None, method: str | None) -> Scaler:
        n = len(columns)
        shift, scale, log10 = np.zeros(n), np.ones(n), np.zeros(n, dtype=bool)
        ranged = np.zeros(n, dtype=bool)
        if method not in (None, "none", *SCALING_METHODS):
            raise ScalingError(f"unknown scaling method {method!r}; expected {SCALING_METHODS}")
        if method in SCALING_METHODS and stats is not None:
            for i, column in enumerate(columns):
                s = stats.stats.get(column)
                if not s:
                    continue
                std = s.get("std", np.nan)
                if not np.isfinite(std) or std == 0:
                    continue  # SCoPe skips constant features
                if method == "median_std":
                    med = s.get("median", np.nan)
                    if np.isfinite(med):
                        shift[i], scale[i] = med, std
                    continue
                lo, hi = s.get("min", np.nan), s.get("max", np.nan)
                if not (np.isfinite(lo) and np.isfinite(hi) and hi != lo):
                    continue
                if method == "log_min_max" and lo > 0 and np.log10(hi / lo) >= LOG_SPAN_DEX:
                    log10[i] = True
                    lo, hi = np.log10(lo), np.log10(hi)
                shift[i], scale[i], ranged[i] = lo, hi - lo, True
        method = method if method != "none" else None
        return cls(
            tuple(columns),
            shift,
            scale,
            method,
            log10 if log10.any() else None,
            ranged if ranged.any() else None,
        )

    @property
    def key(self) -> bytes:
        """Bytes that differ between two scalers that transform differently."""
        mask = b"" if self.log10 is None else self.log10.tobytes()
        return self.shift.tobytes() + self.scale.tobytes() + mask

    def far_outside(self, scaled: np.ndarray) -> np.ndarray:
        """Bool ``(rows, columns)``: scaled inputs more than :data:`FAR_OUTSIDE_RANGES` training
        ranges outside the training range (never for columns not min-max scaled; a log10 column
        is clipped :data:`LOG_CLIP_DEX` below its minimum first, so only its high side counts)."""
        if self.ranged is None:
            return np.zeros(scaled.shape, dtype=bool)
        with np.errstate(invalid="ignore"):
            far = (scaled < -FAR_OUTSIDE_RANGES) | (scaled > 1.0 + FAR_OUTSIDE_RANGES)
        return far & self.ranged

    def transform(self, values: np.ndarray) -> np.ndarray:
        """Scale a float64 ``(n, len(columns))`` array (returns a new float64 array)."""
        if self.log10 is not None:
            values = np.array(values, dtype=np.float64)
            floor = 10.0 ** (self.shift[self.log10] - LOG_CLIP_DEX)
            with np.errstate(invalid="ignore"):
                values[:, self.log10] = np.log10(np.maximum(values[:, self.log10], floor))
        out = np.subtract(values, self.shift)
        np.divide(out, self.scale, out=out)
        return out
