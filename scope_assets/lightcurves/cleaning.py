"""Point-level cleaning of a light-curve batch (SCoPe ``generate_features`` step 3, vectorised).

SCoPe cleans one light curve at a time in Python and applies its HJD and programid cuts to
whole Kowalski documents only. Here every cut is applied to individual points over the whole
CSR batch at once:

1. drop points with ``catflags != 0``;
2. drop points with non-finite ``t``/``mag``/``magerr`` or ``magerr <= 0``;
3. drop points whose ``programid`` is not in ``programids``;
4. drop points with ``t > max_hjd`` (HJD, days);
5. sort each curve by time (stable: equal times keep their input order);
6. thin greedily: keep the first point, then each point at least ``min_cadence_minutes`` after
   the last *kept* point;
7. drop curves left with fewer than ``min_n_points`` points.

A point failing several of cuts 1-4 is counted once, under the first failing cut in that order.
Step 5 re-sorts only the curves that need it (``np.lexsort``); step 6 is one ``numba`` pass
over the batch; the rest is plain numpy.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numba
import numpy as np

from scope_assets.lightcurves.batch import LightCurveBatch

DEFAULT_MAX_HJD = 2459951.5
"""End of ZTF DR16 (SCoPe config ``max_timestamp_hjd``), HJD days."""

MINUTES_PER_DAY = 1440.0

COUNT_KEYS = (
    "points_flagged",
    "points_nonfinite",
    "points_programid",
    "points_after_max_hjd",
    "points_cadence",
    "points_short_curve",
    "curves_empty",
    "curves_too_few_points",
)
"""Keys of :attr:`CleaningResult.counts` (dropped points and dropped curves per reason).

``points_short_curve`` counts points that survived every point cut but belong to a curve
dropped afterwards. ``curves_empty`` (no point left) and ``curves_too_few_points``
(1 to ``min_n_points - 1`` left) are disjoint.
"""


@dataclass(frozen=True)
class CleaningResult:
    """Output of :func:`clean_light_curves`.

    ``batch`` holds the kept curves only, time-sorted, in input order. ``kept[i]`` tells whether
    input curve ``i`` survived. ``source_index[k]`` is the position in the *input* flat arrays
    of output point ``k`` (use it to carry other per-point columns along). ``counts`` maps each
    key of :data:`COUNT_KEYS` to a number of dropped points or curves.
    """

    batch: LightCurveBatch
    kept: np.ndarray  # bool, shape (n_input_curves,)
    source_index: np.ndarray  # int64, shape (batch.offsets[-1],)
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def n_dropped_curves(self) -> int:
        """Curves dropped for any reason (empty or too few points)."""
        return int(self.counts["curves_empty"] + self.counts["curves_too_few_points"])


def is_time_sorted(batch: LightCurveBatch) -> bool:
    """True if every curve of ``batch`` has non-decreasing ``t`` (vectorised check)."""
    if len(batch.t) < 2:
        return True
    decreasing = np.diff(batch.t) < 0
    # A decrease across a curve boundary (last point of i -> first of i+1) is allowed.
    boundaries = batch.offsets[1:-1] - 1
    boundaries = boundaries[(boundaries >= 0) & (boundaries < len(decreasing))]
    decreasing[boundaries] = False
    return not bool(decreasing.any())


def require_time_sorted(batch: LightCurveBatch, what: str) -> None:
    """Raise ``ValueError`` naming ``what`` if ``batch`` is not time-sorted within curves."""
    if not is_time_sorted(batch):
        raise ValueError(
            f"{what} needs each light curve sorted by time; "
            "pass the batch through clean_light_curves (or sort_by_time) first"
        )


def sort_by_time(batch: LightCurveBatch) -> LightCurveBatch:
    """Return ``batch`` with every curve stably sorted by ``t`` (no point dropped)."""
    curve = np.repeat(np.arange(len(batch), dtype=np.int64), batch.n_points)
    order = _stable_time_order(np.asarray(batch.t, dtype=np.float64), curve)
    return LightCurveBatch(
        ids=batch.ids,
        offsets=batch.offsets.copy(),
        t=batch.t[order],
        mag=batch.mag[order],
        magerr=batch.magerr[order],
    )


def _stable_time_order(t: np.ndarray, curve: np.ndarray) -> np.ndarray:
    """Permutation that stably sorts ``t`` within runs of equal, ascending ``curve`` labels.

    Only curves with a decrease are re-sorted (``np.lexsort``, stable); sorted ones cost O(N).
    """
    order = np.arange(len(t), dtype=np.int64)
    decreasing = (np.diff(t) < 0) & (curve[1:] == curve[:-1])
    if decreasing.any():
        unsorted = np.isin(curve, np.unique(curve[1:][decreasing]))
        sel = np.flatnonzero(unsorted)
        order[sel] = sel[np.lexsort((t[sel], curve[sel]))]
    return order


def clean_light_curves(
    batch: LightCurveBatch,
    catflags: np.ndarray | None,
    programid: np.ndarray | None,
    *,
    min_cadence_minutes: float = 30.0,
    min_n_points: int = 50,
    max_hjd: float | None = DEFAULT_MAX_HJD,
    programids: Iterable[int] | None = (1, 2, 3),
) -> CleaningResult:
    """Apply SCoPe's cleaning to individual points of every curve in ``batch``.

    Parameters
    ----------
    batch
        Raw light curves (any point order within a curve).
    catflags, programid
        Per-point integer arrays aligned with ``batch.t``. ``None`` skips that cut (e.g. public
        data-release files carry no programid).
    min_cadence_minutes
        Greedy thinning interval in minutes; ``0`` keeps every point.
    min_n_points
        Curves with fewer points after all cuts are dropped.
    max_hjd
        Points with ``t > max_hjd`` (HJD days) are dropped; ``None`` disables the cut.
    programids
        Allowed ZTF program ids; ``None`` disables the cut.
    """
    n_pts = len(batch.t)
    for name, arr in (("catflags", catflags), ("programid", programid)):
        if arr is not None and len(arr) != n_pts:
            raise ValueError(f"{name} has {len(arr)} values, expected one per point ({n_pts})")
    if not np.isfinite(min_cadence_minutes) or min_cadence_minutes < 0:
        raise ValueError(f"min_cadence_minutes must be finite and >= 0, got {min_cadence_minutes}")
    if min_n_points < 0:
        raise ValueError(f"min_n_points must be >= 0, got {min_n_points}")

    t = np.asarray(batch.t, dtype=np.float64)
    # Each mask marks points that are still alive and fail this cut (first-reason precedence).
    alive = np.ones(n_pts, dtype=np.bool_)

    def cut(fails: np.ndarray) -> int:
        hit = alive & fails
        alive[hit] = False
        return int(hit.sum())

    counts: dict[str, int] = dict.fromkeys(COUNT_KEYS, 0)
    if catflags is not None:
        counts["points_flagged"] = cut(np.asarray(catflags) != 0)
    with np.errstate(invalid="ignore"):
        good = np.isfinite(t) & np.isfinite(batch.mag) & np.isfinite(batch.magerr)
        good &= batch.magerr > 0
    counts["points_nonfinite"] = cut(~good)
    if programid is not None and programids is not None:
        allowed = np.asarray(list(programids))
        counts["points_programid"] = cut(~np.isin(np.asarray(programid), allowed))
    if max_hjd is not None:
        counts["points_after_max_hjd"] = cut(t > max_hjd)

    index = np.flatnonzero(alive)
    curve = np.repeat(np.arange(len(batch), dtype=np.int64), batch.n_points)[index]
    index = index[_stable_time_order(t[index], curve)]
    n_alive = np.bincount(curve, minlength=len(batch)).astype(np.int64)
    min_dt_days = float(min_cadence_minutes) / MINUTES_PER_DAY
    keep_point, n_kept = _thin(t[index], n_alive, min_dt_days)
    index = index[keep_point]
    counts["points_cadence"] = int(n_alive.sum() - n_kept.sum())

    keep_curve = n_kept >= max(min_n_points, 1)
    counts["curves_empty"] = int((n_kept == 0).sum())
    counts["curves_too_few_points"] = int(((n_kept > 0) & ~keep_curve).sum())
    counts["points_short_curve"] = int(n_kept[~keep_curve].sum())

    index = index[np.repeat(keep_curve, n_kept)]
    offsets = np.zeros(int(keep_curve.sum()) + 1, dtype=np.int64)
    np.cumsum(n_kept[keep_curve], out=offsets[1:])
    cleaned = LightCurveBatch(
        ids=np.asarray(batch.ids)[keep_curve],
        offsets=offsets,
        t=t[index],
        mag=np.asarray(batch.mag, dtype=np.float64)[index],
        magerr=np.asarray(batch.magerr, dtype=np.float64)[index],
    )
    return CleaningResult(batch=cleaned, kept=keep_curve, source_index=index, counts=counts)


@numba.njit(cache=True)
def _thin(t: np.ndarray, n_points: np.ndarray, min_dt_days: float) -> tuple[np.ndarray, np.ndarray]:
    """Greedy cadence thinning of time-sorted CSR curves (``n_points`` per curve).

    Keeps each curve's first point, then every point at least ``min_dt_days`` after the last
    kept one. Returns (per-point keep mask, kept count per curve).
    """
    keep = np.zeros(len(t), dtype=np.bool_)
    n_kept = np.zeros(len(n_points), dtype=np.int64)
    start = 0
    for c in range(len(n_points)):
        stop = start + n_points[c]
        if stop > start:
            keep[start] = True
            last = t[start]
            kept = 1
            for p in range(start + 1, stop):
                if t[p] - last >= min_dt_days:
                    keep[p] = True
                    last = t[p]
                    kept += 1
            n_kept[c] = kept
        start = stop
    return keep, n_kept
