"""Point-level cleaning of a light-curve batch (SCoPe ``generate_features`` step 3, vectorised).

SCoPe cleans one light curve at a time in Python and applies its HJD and programid cuts to
whole Kowalski documents only. Here every cut is applied to individual points over the whole
CSR batch at once:

1. drop points with ``catflags != 0`` (reason ``flagged``);
2. drop points with non-finite ``t``/``mag``/``magerr`` (``nonfinite``);
3. drop points with ``magerr <= 0`` (``error_not_positive``);
4. drop points with a magnitude or error no detector reports (``mag_nonphysical`` outside
   :data:`PHYSICAL_MAG_RANGE`, ``magerr_nonphysical`` outside :data:`PHYSICAL_MAGERR_RANGE`):
   sentinels such as 1e30 or 99 and errors such as 1e-30 that would dominate any weighted fit;
5. drop points whose ``programid`` is not in ``programids`` (``programid``);
6. drop points with ``t > max_hjd`` (HJD, days) (``after_max_hjd``);
7. sort each curve by time; of points with the same time keep the one with the smallest
   ``magerr``, ties by the smallest ``mag`` (``duplicate_time``), so the result never depends
   on the input row order;
8. thin greedily: keep the first point, then each point at least ``min_cadence_minutes`` after
   the last *kept* point (``cadence``);
9. drop curves left with fewer than ``min_n_points`` points.

A point failing several of cuts 1-6 is counted once, under the first failing cut in that order.
Step 7 re-sorts only the curves that need it (``np.lexsort``); step 8 is one ``numba`` pass
over the batch; the rest is plain numpy.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import numba
import numpy as np

from scope_assets.lightcurves.batch import LightCurveBatch
from scope_assets.numba_cache import install_package_locators

install_package_locators()

DEFAULT_MAX_HJD = 2459951.5
"""End of ZTF DR16 (SCoPe config ``max_timestamp_hjd``), HJD days."""

MINUTES_PER_DAY = 1440.0

PHYSICAL_MAG_RANGE = (-30.0, 40.0)
"""Magnitudes outside this range are sentinels, not measurements (the Sun is -26.7; no
survey detects anything fainter than ~35)."""

PHYSICAL_MAGERR_RANGE = (1e-6, 10.0)
"""Errors outside this range are not measurements: photometry is never better than ~1e-4 mag,
and a 10-mag error carries no information."""

DROP_REASONS = (
    "flagged",
    "nonfinite",
    "error_not_positive",
    "mag_nonphysical",
    "magerr_nonphysical",
    "programid",
    "after_max_hjd",
    "duplicate_time",
    "cadence",
)
"""Why cleaning drops a point, in the order the cuts apply."""

COUNT_KEYS = (
    *(f"points_{reason}" for reason in DROP_REASONS),
    "points_short_curve",
    *(f"curves_{reason}" for reason in DROP_REASONS),
    "curves_empty",
    "curves_too_few_points",
)
"""Keys of :attr:`CleaningResult.counts` (dropped points and light curves per reason).

``points_<reason>`` counts points dropped for that reason; ``curves_<reason>`` counts light
curves that lost at least one point to it. ``points_short_curve`` counts points that survived
every point cut but belong to a curve dropped afterwards. ``curves_empty`` (no point left) and
``curves_too_few_points`` (1 to ``min_n_points - 1`` left) are the dropped curves; they are
disjoint.
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
        Greedy thinning interval in minutes; ``0`` keeps every point with a distinct time.
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
    mag = np.asarray(batch.mag, dtype=np.float64)
    magerr = np.asarray(batch.magerr, dtype=np.float64)
    curve_of_point = np.repeat(np.arange(len(batch), dtype=np.int64), batch.n_points)
    counts: dict[str, int] = dict.fromkeys(COUNT_KEYS, 0)
    # Each cut drops points that are still alive and fail it (first-reason precedence).
    alive = np.ones(n_pts, dtype=np.bool_)

    def cut(reason: str, fails: np.ndarray) -> None:
        hit = alive & fails
        alive[hit] = False
        _count_dropped(counts, reason, curve_of_point[hit])

    for reason, fails in _point_failures(t, mag, magerr, catflags, programid, programids, max_hjd):
        cut(reason, fails)

    index = np.flatnonzero(alive)
    index = index[_canonical_order(t[index], mag[index], magerr[index], curve_of_point[index])]
    curve = curve_of_point[index]
    duplicate = np.zeros(len(index), dtype=np.bool_)
    duplicate[1:] = (np.diff(t[index]) == 0) & (curve[1:] == curve[:-1])
    _count_dropped(counts, "duplicate_time", curve[duplicate])
    index, curve = index[~duplicate], curve[~duplicate]
    n_alive = np.bincount(curve, minlength=len(batch)).astype(np.int64)
    min_dt_days = float(min_cadence_minutes) / MINUTES_PER_DAY
    keep_point, n_kept = _thin(t[index], n_alive, min_dt_days)
    _count_dropped(counts, "cadence", curve[~keep_point])
    index = index[keep_point]

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
        mag=mag[index],
        magerr=magerr[index],
    )
    return CleaningResult(batch=cleaned, kept=keep_curve, source_index=index, counts=counts)


def _point_failures(
    t: np.ndarray,
    mag: np.ndarray,
    magerr: np.ndarray,
    catflags: np.ndarray | None,
    programid: np.ndarray | None,
    programids: Iterable[int] | None,
    max_hjd: float | None,
) -> Iterator[tuple[str, np.ndarray]]:
    """(reason, per-point failure mask) of each point cut, in :data:`DROP_REASONS` order."""
    if catflags is not None:
        yield "flagged", np.asarray(catflags) != 0
    yield "nonfinite", ~(np.isfinite(t) & np.isfinite(mag) & np.isfinite(magerr))
    with np.errstate(invalid="ignore"):
        yield "error_not_positive", ~(magerr > 0)
        yield "mag_nonphysical", ~_within(mag, PHYSICAL_MAG_RANGE)
        yield "magerr_nonphysical", ~_within(magerr, PHYSICAL_MAGERR_RANGE)
        if programid is not None and programids is not None:
            allowed = np.asarray(list(programids))
            yield "programid", ~np.isin(np.asarray(programid), allowed)
        if max_hjd is not None:
            yield "after_max_hjd", t > max_hjd


def _within(values: np.ndarray, bounds: tuple[float, float]) -> np.ndarray:
    return (values >= bounds[0]) & (values <= bounds[1])


def _count_dropped(counts: dict[str, int], reason: str, curves_of_dropped: np.ndarray) -> None:
    counts[f"points_{reason}"] = len(curves_of_dropped)
    counts[f"curves_{reason}"] = len(np.unique(curves_of_dropped))


def _canonical_order(
    t: np.ndarray, mag: np.ndarray, magerr: np.ndarray, curve: np.ndarray
) -> np.ndarray:
    """Permutation sorting points by (curve, t, magerr, mag): independent of the input order.

    Curves (ascending, contiguous runs) are time-sorted with :func:`_stable_time_order`; only
    curves with equal times are then re-sorted by the full key.
    """
    order = _stable_time_order(t, curve)
    t_sorted, curve_sorted = t[order], curve[order]
    tied = (np.diff(t_sorted) == 0) & (curve_sorted[1:] == curve_sorted[:-1])
    if tied.any():
        sel = np.flatnonzero(np.isin(curve_sorted, np.unique(curve_sorted[1:][tied])))
        sub = order[sel]
        order[sel] = sub[np.lexsort((mag[sub], magerr[sub], t[sub], curve[sub]))]
    return order


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
