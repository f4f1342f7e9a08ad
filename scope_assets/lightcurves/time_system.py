"""Checking that times are plausible for the time system a column declares.

An MJD in an ``hjd`` column would pass every HJD cut silently (``t > max_hjd`` never fires), so
readers refuse such columns and say what they found.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from scope_assets.lightcurves.raw import HJD_OFFSET

PLAUSIBLE_TIME_RANGES = {"hjd": (2415020.5, 2488069.5), "mjd": (15020.0, 88069.0)}
"""Days: 1900-01-01 to 2100-01-01 as (H)JD and as MJD; times outside are in another system."""


def require_time_system(source: Path | str, column: str, values: pd.Series) -> None:
    """Raise ``ValueError`` naming ``source`` if ``values`` cannot be in ``column``'s system."""
    t = values.to_numpy(dtype=np.float64, na_value=np.nan)
    t = t[np.isfinite(t)]
    low, high = PLAUSIBLE_TIME_RANGES[column]
    outside = (t < low) | (t > high)
    if not outside.any():
        return
    found = f"{int(outside.sum())} of {len(t)} values in {t.min():.1f}–{t.max():.1f}"
    hint = {
        "hjd": f" (they look like MJD: name the column 'mjd' or add {HJD_OFFSET})",
        "mjd": f" (they look like JD: name the column 'hjd' or subtract {HJD_OFFSET})",
    }[column]
    other_low, other_high = PLAUSIBLE_TIME_RANGES["mjd" if column == "hjd" else "hjd"]
    looks_other = ((t[outside] >= other_low) & (t[outside] <= other_high)).all()
    raise ValueError(
        f"{source}: column '{column}' has times outside {low}–{high} days, the plausible range "
        f"for {column.upper()}: {found}{hint if looks_other else ''}"
    )
