"""Feature generation for a field or a light-curve table: one code path for CLI and assets.

The steps follow SCoPe's ``generate_features`` (spec/scope-features.md §1): clean each light
curve, then basic statistics, the period search (every configured algorithm, including the
nested ``ELS_ECE_EAOV``), Fourier features at each algorithm's period, the dm-dt histogram,
alert statistics and catalogue cross-matches. Differences from SCoPe, on purpose:

- time is float64 HJD throughout (SCoPe HEAD casts HJD to float32: 0.25 d resolution);
- the HJD and programid cuts apply to points, not whole documents;
- the frequency grid depends on each light curve (or a fixed configured baseline), never on
  the other light curves of the batch;
- the cross-match keeps the truly closest catalogue object.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from scope_assets import __version__
from scope_assets.config import ScopeConfig
from scope_assets.features.dmdt import dmdt_histograms
from scope_assets.features.feature_files import (
    FeatureFileWriter,
    empty_frame,
    feature_schema,
)
from scope_assets.features.fourier import fourier_features
from scope_assets.features.periodsearch import find_periods
from scope_assets.features.stats import basic_stats
from scope_assets.io import atomic_path
from scope_assets.io.table_formats import META_KEY, attrs_to_json
from scope_assets.lightcurves.batch import LightCurveBatch
from scope_assets.lightcurves.cleaning import DROP_REASONS, CleaningResult, clean_light_curves
from scope_assets.lightcurves.raw import RawLightCurves
from scope_assets.lightcurves.relative_magnitudes import (
    RELATIVE_MEDIAN_LIMIT_MAG,
    relative_magnitude_curves,
    with_zero_point,
)

log = logging.getLogger(__name__)

IDENTITY_COLUMNS = ["_id", "ra", "dec", "field", "ccd", "quad", "filter"]
CLEANED_SCHEMA = pa.schema(
    [
        ("_id", pa.int64()),
        ("ra", pa.float64()),
        ("dec", pa.float64()),
        ("field", pa.int32()),
        ("ccd", pa.int32()),
        ("quad", pa.int32()),
        ("filter", pa.int32()),
        ("nobs", pa.int32()),
        ("n", pa.int32()),
        ("hjd", pa.list_(pa.float64())),
        ("mag", pa.list_(pa.float64())),
        ("magerr", pa.list_(pa.float64())),
    ]
)
"""The ``light_curves`` table: one row per cleaned light curve, points as float64 lists."""


@dataclass
class CleaningSummary:
    """Counts of what cleaning kept and dropped over a whole field or file."""

    curves_in: int = 0
    curves_kept: int = 0
    counts: Counter = field(default_factory=Counter)

    def add(self, result: CleaningResult) -> None:
        self.curves_in += len(result.kept)
        self.curves_kept += int(result.kept.sum())
        self.counts.update(result.counts)

    def as_dict(self) -> dict[str, int]:
        return {"curves_in": self.curves_in, "curves_kept": self.curves_kept} | {
            k: int(v) for k, v in sorted(self.counts.items())
        }

    def describe(self) -> str:
        """Kept curves, then one line per reason that dropped anything (for CLI output)."""
        lines = [f"cleaning kept {self.curves_kept} of {self.curves_in} light curves"]
        for reason in DROP_REASONS:
            if self.counts[f"points_{reason}"]:
                lines.append(
                    f"  dropped {self.counts[f'points_{reason}']} points ({reason}) "
                    f"from {self.counts[f'curves_{reason}']} light curves"
                )
        for key, what in (("curves_empty", "no point left"), ("curves_too_few_points", "too few")):
            if self.counts[key]:
                lines.append(f"  dropped {self.counts[key]} light curves ({what})")
        if self.counts["curves_relative_magnitudes"]:
            lines.append(
                f"  {self.counts['curves_relative_magnitudes']} light curves hold relative "
                f"magnitudes (median within {RELATIVE_MEDIAN_LIMIT_MAG:g} mag of 0): put at "
                "feature_generation.relative_zero_point_mag before features"
            )
        return "\n".join(lines)


def clean(
    raw: RawLightCurves, config: ScopeConfig
) -> tuple[pd.DataFrame, LightCurveBatch, CleaningResult]:
    """Clean ``raw`` with the configured cuts and put curves of relative magnitudes at the
    configured zero point (:mod:`~scope_assets.lightcurves.relative_magnitudes`); returns (kept
    meta rows, cleaned batch, result)."""
    fg = config.feature_generation
    result = clean_light_curves(
        raw.batch,
        raw.catflags,
        raw.programid,
        min_cadence_minutes=fg.min_cadence_minutes,
        min_n_points=fg.min_n_lc_points,
        max_hjd=fg.max_timestamp_hjd,
        programids=fg.programids,
    )
    meta = raw.meta.loc[result.kept].reset_index(drop=True)
    batch = result.batch
    if fg.relative_zero_point_mag is not None:
        relative = relative_magnitude_curves(batch)
        batch = with_zero_point(batch, relative, fg.relative_zero_point_mag)
        result.counts["curves_relative_magnitudes"] = int(relative.sum())
    return meta, batch, result


def cleaned_table(meta: pd.DataFrame, batch: LightCurveBatch) -> pa.Table:
    """The ``light_curves`` rows for cleaned curves (schema :data:`CLEANED_SCHEMA`)."""
    offsets = pa.array(batch.offsets.astype(np.int32))
    columns = {
        "_id": pa.array(batch.ids, pa.int64()),
        "ra": pa.array(meta["ra"].to_numpy(np.float64)),
        "dec": pa.array(meta["dec"].to_numpy(np.float64)),
        "field": pa.array(meta["field"].to_numpy(np.int32)),
        "ccd": pa.array(meta["ccd"].to_numpy(np.int32)),
        "quad": pa.array(meta["quad"].to_numpy(np.int32)),
        "filter": pa.array(meta["filter"].to_numpy(np.int32)),
        "nobs": pa.array(meta["nobs"].to_numpy(np.int32)),
        "n": pa.array(batch.n_points.astype(np.int32)),
        "hjd": pa.ListArray.from_arrays(offsets, pa.array(batch.t)),
        "mag": pa.ListArray.from_arrays(offsets, pa.array(batch.mag)),
        "magerr": pa.ListArray.from_arrays(offsets, pa.array(batch.magerr)),
    }
    return pa.table(columns, schema=CLEANED_SCHEMA)


def batch_from_cleaned(table: pa.Table | pa.RecordBatch) -> tuple[pd.DataFrame, LightCurveBatch]:
    """Inverse of :func:`cleaned_table`: (meta DataFrame, LightCurveBatch)."""
    hjd = table.column("hjd")
    if isinstance(hjd, pa.ChunkedArray):
        hjd = hjd.combine_chunks()
    offsets = np.asarray(hjd.offsets, dtype=np.int64)
    start = offsets[0]
    offsets = offsets - start

    def flat(name: str) -> np.ndarray:
        col = table.column(name)
        col = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
        return np.asarray(col.flatten(), dtype=np.float64)

    meta = table.select(["_id", "ra", "dec", "field", "ccd", "quad", "filter", "nobs"]).to_pandas()
    batch = LightCurveBatch(
        ids=meta["_id"].to_numpy(np.int64),
        offsets=offsets,
        t=flat("hjd"),
        mag=flat("mag"),
        magerr=flat("magerr"),
    )
    return meta, batch


def write_cleaned_light_curves(
    raw_batches: Iterable[RawLightCurves],
    path: Path,
    config: ScopeConfig,
    progress: Callable[[int], None] | None = None,
) -> CleaningSummary:
    """Stream ``raw_batches`` through cleaning into one Parquet file at ``path`` (atomically)."""
    summary = CleaningSummary()
    attrs = {"scope_code_version": __version__, "time_system": "HJD (days, float64)"}
    schema = CLEANED_SCHEMA.with_metadata({META_KEY: attrs_to_json(attrs).encode()})
    with atomic_path(path) as tmp, pq.ParquetWriter(tmp, schema) as writer:
        for raw in raw_batches:
            meta, batch, result = clean(raw, config)
            summary.add(result)
            writer.write_table(cleaned_table(meta, batch).replace_schema_metadata(schema.metadata))
            if progress:
                progress(len(raw.meta))
    return summary


def iter_cleaned_light_curves(
    path: Path, batch_size: int = 1000
) -> Iterator[tuple[pd.DataFrame, LightCurveBatch]]:
    """Read a ``light_curves`` file in batches of at most ``batch_size`` curves."""
    parquet = pq.ParquetFile(path)
    for record_batch in parquet.iter_batches(batch_size=batch_size):
        yield batch_from_cleaned(record_batch)


def period_columns(config: ScopeConfig) -> list[str]:
    """The per-algorithm period, significance, pdot and Fourier columns, in output order."""
    from scope_assets.features.fourier import FOURIER_COLUMNS

    columns = []
    for alg in config.feature_generation.period_algorithms:
        columns += [f"period_{alg}", f"significance_{alg}", f"pdot_{alg}"]
        columns += [f"{name}_{alg}" for name in FOURIER_COLUMNS]
    return columns


def light_curve_features(batch: LightCurveBatch, config: ScopeConfig) -> pd.DataFrame:
    """Statistics, periods, Fourier and dm-dt features of cleaned curves (one row per curve)."""
    fg = config.feature_generation
    parts = [basic_stats(batch).reset_index(drop=True)]
    periods = find_periods(
        batch,
        algorithms=tuple(fg.period_algorithms),
        max_freq=fg.max_freq,
        samples_per_peak=fg.samples_per_peak,
        remove_terrestrial=fg.remove_terrestrial,
        top_n_periods=fg.top_n_periods,
        baseline_days=fg.grid_baseline_days,
        long_periods=fg.long_periods,
    )
    for alg in fg.period_algorithms:
        result = periods[alg]
        parts.append(
            pd.DataFrame(
                {
                    f"period_{alg}": np.asarray(result.period, dtype=np.float64),
                    f"significance_{alg}": np.asarray(result.significance, dtype=np.float64),
                    f"pdot_{alg}": np.asarray(result.pdot, dtype=np.float64),
                }
            )
        )
        fourier = fourier_features(
            batch, np.asarray(result.period), coefficient_convention=fg.fourier_convention
        )
        parts.append(fourier.add_suffix(f"_{alg}").reset_index(drop=True))
    hist = dmdt_histograms(batch)
    parts.append(pd.DataFrame({"dmdt": [h.tolist() for h in hist]}))
    return pd.concat(parts, axis=1)


def assemble_features(
    meta: pd.DataFrame,
    batch: LightCurveBatch,
    sky,
    config: ScopeConfig,
) -> pd.DataFrame:
    """The SCoPe feature table for cleaned curves: identity, features, alerts, cross-matches.

    ``sky`` is a :class:`~scope_assets.lightcurves.sky_source.SkySource` or ``None`` (no catalogue
    access: alert and cross-match columns are then missing values).
    """
    radius = config.feature_generation.xmatch_radius_arcsec
    identity = meta[IDENTITY_COLUMNS].reset_index(drop=True)
    features = light_curve_features(batch, config)
    positions = identity[["_id", "ra", "dec"]]
    if sky is not None:
        alerts = sky.alert_stats(positions, radius).reset_index(drop=True)
        xmatch = sky.crossmatch(positions, radius).reset_index(drop=True)
    else:
        alerts = pd.DataFrame(
            {
                "n_ztf_alerts": pd.array([pd.NA] * len(identity), dtype="Int64"),
                "mean_ztf_alert_braai": np.full(len(identity), np.nan),
            }
        )
        xmatch = empty_crossmatch(len(identity))
    out = pd.concat([identity, features, alerts, xmatch], axis=1)
    for column in out.columns:
        if "_id" in column:
            out[column] = out[column].astype("Int64")
    return out


def empty_crossmatch(n_rows: int) -> pd.DataFrame:
    """All cross-match columns as missing values (no catalogue available)."""
    from scope_assets.features.xmatch import XMATCH_COLUMNS

    data: dict[str, object] = {}
    for name, columns in XMATCH_COLUMNS.items():
        for column in columns:
            data[f"{name}__{column}"] = np.full(n_rows, np.nan)
        data[f"{name}___id"] = pd.array([pd.NA] * n_rows, dtype="Int64")
    return pd.DataFrame(data)


def feature_attrs(config: ScopeConfig, **extra: object) -> dict[str, object]:
    """The ``scope`` metadata of a feature file: settings and code version."""
    fg = config.feature_generation
    return {
        "scope_code_version": __version__,
        "feature_generation": fg.model_dump(),
        "period_suffix": config.period_suffix,
        "time_system": "HJD (days, float64)",
        "generated_utc": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    } | extra


def lightcurves_mode(config: ScopeConfig) -> ScopeConfig:
    """``config`` as ``generate-features --lightcurves`` runs it: a table of any survey's light
    curves, so the grid reaches one cycle over each curve's span (Miras, long Cepheids) and no
    HJD limit applies (SCoPe's 2459951.5, the end of ZTF DR16, keeps field runs reproducible
    against one data release; a user's own table has no release to match)."""
    fg = config.feature_generation.model_copy(
        update={"long_periods": True, "max_timestamp_hjd": None}
    )
    return config.model_copy(update={"feature_generation": fg})


def features_for_light_curves(
    raw: RawLightCurves, sky, config: ScopeConfig
) -> tuple[pd.DataFrame, CleaningResult]:
    """Clean raw light curves and compute their features (training sets and ad-hoc tables)."""
    meta, batch, result = clean(raw, config)
    if len(batch) == 0:
        return empty_features(config), result
    return assemble_features(meta, batch, sky, config), result


def feature_column_names(config: ScopeConfig) -> list[str]:
    """Every column of a feature file, in output order."""
    from scope_assets.features.stats import BASIC_STATS_COLUMNS

    return (
        IDENTITY_COLUMNS
        + list(BASIC_STATS_COLUMNS)
        + period_columns(config)
        + ["dmdt", "n_ztf_alerts", "mean_ztf_alert_braai"]
        + list(empty_crossmatch(0).columns)
    )


def declared_feature_schema(config: ScopeConfig) -> pa.Schema:
    """The schema of every feature file written with ``config`` (never taken from data)."""
    return feature_schema(feature_column_names(config), config)


def empty_features(config: ScopeConfig) -> pd.DataFrame:
    """A zero-row feature table with every column (SCoPe writes one for an empty quadrant)."""
    return empty_frame(declared_feature_schema(config))


def write_empty_features(path: Path, config: ScopeConfig, attrs: dict[str, object]) -> None:
    """A zero-row feature file of the declared schema, written atomically."""
    with atomic_path(path) as tmp, FeatureFileWriter(tmp, attrs, declared_feature_schema(config)):
        pass


def generate_field_features(
    light_curves_path: Path,
    sky,
    config: ScopeConfig,
    output_path_for_quad: Callable[[int, int], Path],
    progress: Callable[[int], None] | None = None,
) -> dict[tuple[int, int], int]:
    """Features of every cleaned curve of a field, one Parquet file per (ccd, quad).

    Streams the ``light_curves`` file in batches into one Parquet writer per quadrant, so memory
    is bounded by the batch size, not the field. Every file appears atomically when the whole
    field succeeded; a failure leaves none of them. Returns {(ccd, quad): rows written}.
    """
    batch_size = config.feature_generation.batch_size
    schema = declared_feature_schema(config)
    writers: dict[tuple[int, int], FeatureFileWriter] = {}
    with contextlib.ExitStack() as stack:
        for meta, batch in iter_cleaned_light_curves(light_curves_path, batch_size):
            features = assemble_features(meta, batch, sky, config)
            for (ccd, quad), rows in features.groupby(["ccd", "quad"], sort=True):
                key = (int(ccd), int(quad))
                if key not in writers:
                    field = int(rows["field"].iloc[0])
                    attrs = feature_attrs(config, field=field, ccd=key[0], quad=key[1])
                    tmp = stack.enter_context(atomic_path(output_path_for_quad(*key)))
                    writers[key] = stack.enter_context(FeatureFileWriter(tmp, attrs, schema))
                writers[key].write(rows)
            if progress:
                progress(len(meta))
    return {key: writers[key].rows for key in sorted(writers)}
