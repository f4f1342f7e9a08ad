"""dm-dt histograms (spec ``scope-features.md`` §2.3): the DNN's 26×26 image input.

For every pair ``i < j`` of a time-sorted curve, ``Δt = t_j − t_i`` (days) and
``Δm = m_j − m_i`` (mag, later minus earlier) are binned with numpy ``histogram2d`` semantics
(bins half-open ``[e_k, e_{k+1})`` except the last, which is closed; values outside the edges are
dropped). Rows are ``Δm`` bins, columns ``Δt`` bins, both ascending. Each histogram is divided by
its Frobenius norm (all zeros if no pair falls inside). Errors are not used.

The pair loop is inherently O(N²) per curve; it runs in ``numba``. For a fixed ``i`` the ``Δt``
bin only moves forward as ``j`` grows (sorted time), so it is tracked with a pointer and the pair
loop stops once ``Δt`` exceeds the last edge; the ``Δm`` bin comes from a uniform lookup table
refined by walking the edges, usually a single comparison (exact numpy semantics for any
increasing edges).
"""

from __future__ import annotations

import math

import numba
import numpy as np

from scope_assets.lightcurves.batch import LightCurveBatch
from scope_assets.lightcurves.cleaning import require_time_sorted

_DM_POSITIVE = (0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.25, 1.5, 2.0, 2.5, 3.0, 4.5, 8.0)
DM_EDGES: np.ndarray = np.array(
    sorted([-x for x in _DM_POSITIVE] + [0.0] + list(_DM_POSITIVE)), dtype=np.float64
)
"""27 Δm bin edges in mag (SCoPe config ``dmdt_ints.dmints``)."""

_DT_WITHIN_A_DAY = (0.0, 0.02759, 0.04, 0.08, 0.12, 0.3, 0.75)
_DT_DAYS = (1.0, 1.5, 2.5, 3.5, 4.5, 5.5, 7.0, 10.0, 20.0, 30.0, 45.0, 60.0, 90.0)
_DT_MONTHS_TO_YEARS = (120.0, 180.0, 240.0, 360.0, 500.0, 650.0, 2000.0)
DT_EDGES_DAYS: np.ndarray = np.array(
    _DT_WITHIN_A_DAY + _DT_DAYS + _DT_MONTHS_TO_YEARS, dtype=np.float64
)
"""27 Δt bin edges in days (SCoPe config ``dmdt_ints.dtints``)."""

DM_EDGES.flags.writeable = False
DT_EDGES_DAYS.flags.writeable = False

_LOOKUP_CELLS_PER_BIN = 8
_LOOKUP_MAX_CELLS = 1 << 16


def dmdt_histograms(
    batch: LightCurveBatch,
    dm_edges: np.ndarray = DM_EDGES,
    dt_edges: np.ndarray = DT_EDGES_DAYS,
) -> np.ndarray:
    """L2-normalised pair histograms, float32 of shape ``(n, len(dm_edges)-1, len(dt_edges)-1)``.

    Curves must be time-sorted (``clean_light_curves`` output is).
    """
    dm_edges = _check_edges(dm_edges, "dm_edges")
    dt_edges = _check_edges(dt_edges, "dt_edges")
    require_time_sorted(batch, "dmdt_histograms")
    out = np.zeros((len(batch), len(dm_edges) - 1, len(dt_edges) - 1), dtype=np.float32)
    if len(batch):
        lookup, lookup_origin, cells_per_mag = _bin_lookup(dm_edges)
        t, mag, _, offsets = batch.kernel_arrays()
        _dmdt_kernel(
            t,
            mag,
            offsets,
            dm_edges,
            dt_edges,
            lookup,
            lookup_origin,
            cells_per_mag,
            out,
        )
    return out


def _check_edges(edges: np.ndarray, name: str) -> np.ndarray:
    edges = np.ascontiguousarray(edges, dtype=np.float64)
    if edges.ndim != 1 or len(edges) < 2:
        raise ValueError(f"{name} must be 1-D with at least 2 edges, got shape {edges.shape}")
    if not np.all(np.isfinite(edges)) or np.any(np.diff(edges) <= 0):
        raise ValueError(f"{name} must be finite and strictly increasing")
    return edges


def _bin_lookup(edges: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Uniform table over the edge range: cell ``c`` holds the bin of its lower end.

    Cells are normally narrower than any bin, so the true bin of a value is the tabulated one
    or a neighbour; the kernel walks the edges from there either way, so the result is exact
    even for a coarse (size-capped) table or a rounding slip at a cell boundary.
    Returns (table, origin, cells per unit).
    """
    span = float(edges[-1] - edges[0])
    step = max(float(np.min(np.diff(edges))) / _LOOKUP_CELLS_PER_BIN, span / _LOOKUP_MAX_CELLS)
    n_cells = int(math.ceil((edges[-1] - edges[0]) / step)) + 1
    cell_low = edges[0] + step * np.arange(n_cells)
    bins = np.searchsorted(edges, cell_low, side="right") - 1
    return np.clip(bins, 0, len(edges) - 2).astype(np.int64), float(edges[0]), 1.0 / step


@numba.njit(cache=True, error_model="numpy")
def _dmdt_kernel(
    t: np.ndarray,
    mag: np.ndarray,
    offsets: np.ndarray,
    dm_edges: np.ndarray,
    dt_edges: np.ndarray,
    lookup: np.ndarray,
    lookup_origin: float,
    cells_per_mag: float,
    out: np.ndarray,
) -> None:
    n_dm = len(dm_edges) - 1
    n_dt = len(dt_edges) - 1
    dm_lo = dm_edges[0]
    dm_hi = dm_edges[n_dm]
    dt_lo = dt_edges[0]
    dt_hi = dt_edges[n_dt]
    n_cells = len(lookup)
    hist = np.zeros((n_dm, n_dt), dtype=np.int64)
    for c in range(len(offsets) - 1):
        lo, hi = offsets[c], offsets[c + 1]
        hist[:, :] = 0
        for i in range(lo, hi - 1):
            ti = t[i]
            mi = mag[i]
            b_dt = 0
            for j in range(i + 1, hi):
                dt = t[j] - ti
                if not dt >= dt_lo:  # also skips NaN
                    continue
                if dt > dt_hi:
                    break
                while b_dt < n_dt - 1 and dt >= dt_edges[b_dt + 1]:
                    b_dt += 1
                dm = mag[j] - mi
                if not (dm >= dm_lo and dm <= dm_hi):
                    continue
                b_dm = lookup[min(int((dm - lookup_origin) * cells_per_mag), n_cells - 1)]
                while b_dm < n_dm - 1 and dm >= dm_edges[b_dm + 1]:
                    b_dm += 1
                while b_dm > 0 and dm < dm_edges[b_dm]:
                    b_dm -= 1
                hist[b_dm, b_dt] += 1
        sum_sq = 0.0
        for a in range(n_dm):
            for b in range(n_dt):
                sum_sq += float(hist[a, b]) ** 2
        norm = math.sqrt(sum_sq)
        if norm > 0.0:
            for a in range(n_dm):
                for b in range(n_dt):
                    out[c, a, b] = hist[a, b] / norm
