"""Synthetic feature tables in the shape of the field pipeline's output (tests and benchmarks).

:func:`synthetic_truth` draws simulated sources (``_id, class, period_days``) like the sky
simulator's truth table; :func:`synthetic_features` gives them a feature table with the columns of
``imputed_features`` (identity and survey-id columns, the 61 ontological features with suffixed
periodic names, ``dmdt`` as a 26×26 nested list) whose distributions depend on the class, so
classifiers trained on it have something to learn. Not astrophysics: every feature of a class is
Gaussian around a class-specific mean (in a per-feature offset and scale, so scaling matters),
and dm-dt images are noisy class-specific patterns.
"""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from scope_assets.config import ScopeConfig
from scope_assets.lightcurves.ids import encode_id
from scope_assets.ml.dmdt_arrays import DMDT_SHAPE, dmdt_to_arrow
from scope_assets.ml.training.labels import SIM_CLASSES

SURVEYS = ("Gaia_EDR3", "AllWISE", "PS1_DR1")
_PERIODS = {
    "rrab": (0.45, 0.8),
    "rrc": (0.25, 0.42),
    "dscu": (0.03, 0.2),
    "wuma": (0.25, 0.5),
    "ea": (1.0, 10.0),
    "ceph": (2.0, 30.0),
    "mir": (150.0, 500.0),
    "fla": (0.05, 1000.0),
    "nonvar": (0.05, 1000.0),
}
_SHARES = {
    "rrab": 0.09,
    "rrc": 0.07,
    "dscu": 0.07,
    "wuma": 0.09,
    "ea": 0.08,
    "ceph": 0.06,
    "mir": 0.07,
    "fla": 0.07,
    "nonvar": 0.40,
}


def synthetic_truth(
    n: int,
    *,
    field: int = 296,
    seed: int = 0,
    classes: tuple[str, ...] | None = None,
    balanced: bool = False,
    start_seq: int = 0,
) -> pd.DataFrame:
    """``n`` simulated sources: ``_id, class, period_days, field, ccd, quad, filter``."""
    rng = np.random.default_rng(seed)
    classes = tuple(classes or SIM_CLASSES)
    if balanced:
        cls = np.array([classes[i % len(classes)] for i in range(n)], dtype=object)
        rng.shuffle(cls)
    else:
        p = np.array([_SHARES.get(c, 0.1) for c in classes])
        cls = rng.choice(np.array(classes, dtype=object), size=n, p=p / p.sum())
    lo = np.array([_PERIODS[c][0] for c in cls])
    hi = np.array([_PERIODS[c][1] for c in cls])
    period = np.exp(rng.uniform(np.log(lo), np.log(hi)))
    periodic = ~np.isin(cls, ["fla", "nonvar"])
    ccd = rng.integers(1, 17, n)
    quad = rng.integers(1, 5, n)
    filt = rng.integers(1, 3, n)
    seq = start_seq + np.arange(n)
    return pd.DataFrame(
        {
            "_id": encode_id(field, ccd, quad, filt, seq),
            "class": cls,
            "period_days": np.where(periodic, period, np.nan),
            "field": np.full(n, field, dtype=np.int64),
            "ccd": ccd.astype(np.int64),
            "quad": quad.astype(np.int64),
            "filter": filt.astype(np.int64),
        }
    )


def _class_rng(name: str, salt: int = 0) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(name.encode()) + 7919 * salt)


def _feature_offsets(columns: list[str]) -> tuple[np.ndarray, np.ndarray]:
    offsets = np.array([_class_rng(c, 1).uniform(-5.0, 20.0) for c in columns])
    scales = np.array(
        [np.exp(_class_rng(c, 2).uniform(np.log(0.01), np.log(100.0))) for c in columns]
    )
    return offsets, scales


def _class_means(cls: str, n_features: int, separation: float) -> np.ndarray:
    return _class_rng(cls, 3).normal(0.0, separation, n_features)


def _dmdt_pattern(cls: str) -> np.ndarray:
    rng = _class_rng(cls, 4)
    base = rng.gamma(0.6, 1.0, DMDT_SHAPE)
    # a class-specific ridge so the conv branch has structure to find
    rows = np.arange(DMDT_SHAPE[0])[:, None]
    centre = rng.uniform(6, 20)
    base += 3.0 * np.exp(-0.5 * ((rows - centre) / rng.uniform(1.0, 4.0)) ** 2)
    return base


def synthetic_features_table(
    truth: pd.DataFrame,
    config: ScopeConfig,
    *,
    seed: int = 0,
    separation: float = 0.8,
    missing_xmatch: float = 0.0,
    missing_none: float = 0.0,
) -> pa.Table:
    """Feature table (Arrow) for the sources of ``truth``, in ``imputed_features`` shape.

    ``missing_xmatch``: per survey, the fraction of rows without a cross-match (that survey's
    features NaN, its id null). ``missing_none``: fraction of rows missing one light-curve feature
    (imputation drops those rows).
    """
    rng = np.random.default_rng(seed)
    n = len(truth)
    columns = config.feature_columns("ontological")
    offsets, scales = _feature_offsets(columns)
    z = rng.normal(0.0, 1.0, (n, len(columns)))
    cls = truth["class"].to_numpy()
    dmdt = rng.gamma(0.6, 1.0, (n, *DMDT_SHAPE))
    for c in np.unique(cls):
        rows = cls == c
        z[rows] += _class_means(str(c), len(columns), separation)
        dmdt[rows] = 0.5 * dmdt[rows] + _dmdt_pattern(str(c))
    values = offsets + scales * z
    suffix = config.period_suffix
    period_col = f"period_{suffix}" if suffix not in ("", "None") else "period"
    period = truth["period_days"].to_numpy(dtype=float)
    period = np.where(
        np.isfinite(period), period, np.exp(rng.uniform(np.log(0.05), np.log(900), n))
    )
    values[:, columns.index(period_col)] = period * np.exp(rng.normal(0, 0.01, n))
    alerts_col = columns.index("n_ztf_alerts")
    values[:, alerts_col] = np.round(np.abs(values[:, alerts_col]))
    dmdt /= np.linalg.norm(dmdt.reshape(n, -1), axis=1).reshape(n, 1, 1)

    ids = {}
    for survey in SURVEYS:
        survey_cols = [i for i, c in enumerate(columns) if c.startswith(f"{survey}__")]
        absent = rng.random(n) < missing_xmatch
        values[np.ix_(absent, survey_cols)] = np.nan
        sid = rng.integers(10**14, 10**15, n)
        ids[f"{survey}___id"] = pa.array(sid, mask=absent, type=pa.int64())
    if missing_none:
        none_cols = [i for i, c in enumerate(columns) if config.impute_strategies()[c] == "none"]
        bad = np.flatnonzero(rng.random(n) < missing_none)
        values[bad, rng.choice(none_cols, len(bad))] = np.nan

    data: dict[str, pa.Array] = {
        "_id": pa.array(truth["_id"].to_numpy(np.int64)),
        "ra": pa.array(rng.uniform(270.0, 280.0, n)),
        "dec": pa.array(rng.uniform(-10.0, 0.0, n)),
        "field": pa.array(truth["field"].to_numpy(np.int64)),
        "ccd": pa.array(truth["ccd"].to_numpy(np.int64)),
        "quad": pa.array(truth["quad"].to_numpy(np.int64)),
        "filter": pa.array(truth["filter"].to_numpy(np.int64)),
        **ids,
    }
    for i, c in enumerate(columns):
        col = values[:, i]
        if c == "n_ztf_alerts":
            data[c] = pa.array(col, mask=np.isnan(col), type=pa.float64()).cast(pa.int64())
        else:
            data[c] = pa.array(col, mask=np.isnan(col))
    data["dmdt"] = dmdt_to_arrow(dmdt)
    return pa.table(data)


def synthetic_features(truth: pd.DataFrame, config: ScopeConfig, **kwargs) -> pd.DataFrame:
    """:func:`synthetic_features_table` as a DataFrame (``dmdt`` cells are nested arrays)."""
    df = synthetic_features_table(truth, config, **kwargs).to_pandas()
    for column in df.columns:
        if column.endswith("___id") or column == "n_ztf_alerts":
            df[column] = df[column].astype("Int64")
    return df


def write_synthetic_field(
    path: str | Path,
    n: int,
    config: ScopeConfig,
    *,
    field: int = 296,
    seed: int = 0,
    chunk: int = 50_000,
    missing_xmatch: float = 0.0,
    missing_none: float = 0.0,
    truth_path: str | Path | None = None,
) -> Path:
    """Write an ``n``-row synthetic feature file in chunks (memory bounded by ``chunk``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = None
    truths = []
    try:
        for k, start in enumerate(range(0, n, chunk)):
            m = min(chunk, n - start)
            truth = synthetic_truth(m, field=field, seed=seed + k, start_seq=start)
            table = synthetic_features_table(
                truth,
                config,
                seed=seed + 1000 + k,
                missing_xmatch=missing_xmatch,
                missing_none=missing_none,
            )
            if writer is None:
                writer = pq.ParquetWriter(path, table.schema)
            writer.write_table(table, row_group_size=min(chunk, 100_000))
            if truth_path:
                truths.append(truth[["_id", "class", "period_days"]])
    finally:
        if writer is not None:
            writer.close()
    if truth_path:
        pd.concat(truths, ignore_index=True).to_parquet(truth_path, index=False)
    return path
