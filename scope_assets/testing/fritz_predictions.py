"""Combined prediction catalogues in SCoPe's layout, for Fritz upload tests and benchmarks.

``preds_dnn_xgb/field_<f>.parquet`` columns: ``_id, Gaia_EDR3___id, AllWISE___id,
PS1_DR1___id, ra, dec, period, field, ccd, quad, filter, <tag>_dnn…, <tag>_xgb…`` with scores
rounded to 2 decimals (DESIGN.md §4). Scores are random but deterministic (seeded), spread
over [0, 1] so that a 0.7 threshold keeps some classes of most rows.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from scope_assets.lightcurves.archive import LocalArchive
from scope_assets.lightcurves.ids import encode_id
from scope_assets.ml.training.labels import DEMO_TAGS

SURVEY_ID_COLUMNS = ("Gaia_EDR3___id", "AllWISE___id", "PS1_DR1___id")


def _with_scores(meta: pd.DataFrame, tags: Sequence[str], rng: np.random.Generator) -> pd.DataFrame:
    n = len(meta)
    out = pd.DataFrame({"_id": meta["_id"].to_numpy(np.int64)})
    for column in SURVEY_ID_COLUMNS:
        out[column] = np.zeros(n, dtype=np.int64)
    out["ra"] = meta["ra"].to_numpy(np.float64)
    out["dec"] = meta["dec"].to_numpy(np.float64)
    out["period"] = np.round(10 ** rng.uniform(-1.0, 2.0, n), 6)
    for column in ("field", "ccd", "quad", "filter"):
        out[column] = meta[column].to_numpy(np.int64)
    for algorithm in ("dnn", "xgb"):
        for tag in tags:
            out[f"{tag}_{algorithm}"] = np.round(rng.beta(0.6, 0.6, n), 2)
    return out


def archive_combined_predictions(
    archive_dir: str, field: int, tags: Sequence[str] = DEMO_TAGS, seed: int = 0
) -> pd.DataFrame:
    """Scores for every light curve of ``field`` in a local archive (e.g. a simulated sky)."""
    meta = LocalArchive(archive_dir).source_ids(field)
    return _with_scores(meta, tags, np.random.default_rng(seed))


def synthetic_combined_predictions(
    n: int, field: int = 296, tags: Sequence[str] = DEMO_TAGS, seed: int = 0
) -> pd.DataFrame:
    """``n`` light curves of distinct stars spread over a 7 x 7 deg field (no archive needed)."""
    rng = np.random.default_rng(seed)
    ccd = rng.integers(1, 17, n)
    quad = rng.integers(1, 5, n)
    meta = pd.DataFrame(
        {
            "_id": encode_id(field, ccd, quad, 2, np.arange(n) % 1_000_000),
            "ra": 100.0 + rng.uniform(0.0, 7.0, n),
            "dec": 10.0 + rng.uniform(-3.5, 3.5, n),
            "field": field,
            "ccd": ccd,
            "quad": quad,
            "filter": 2,
        }
    )
    return _with_scores(meta, tags, rng)
