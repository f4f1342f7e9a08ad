"""Simulate ZTF fields into a local archive (format: ``scope_assets.lightcurves.archive``).

``simulate_field`` writes a new archive holding one field; ``add_field`` adds a field to an
archive (the shared tables get one block of rows per field: see ``archive_writer``).

``n_sources`` counts light curves (archive rows), as SCoPe counts Kowalski documents: every
star has a g and an r light curve and 20 % of them (those bright enough) an i one, each with its
own ``_id``, so a field of 2000 sources holds about 900 stars. Classes are allocated by their
``ClassSpec.share`` (40 % non-variable; at least ~60 light curves per variable class at 2000).
Stars are spread uniformly over a 7 x 7 deg field cut into the 16 CCDs x 4 quadrants (64
readout channels) of a synthetic focal-plane layout.

Determinism: every random draw comes from ``numpy.random.default_rng`` streams keyed by
(seed, field, purpose[, star]), so the same arguments give the same values (and, with the same
pyarrow, the same bytes), whatever other fields the archive holds.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from scope_assets.lightcurves.archive import MANIFEST_NAME
from scope_assets.lightcurves.ids import encode_id
from scope_assets.lightcurves.raw import HJD_OFFSET
from scope_assets.sim.archive_writer import (
    FieldTables,
    add_to_archive,
    check_can_add,
    check_new_archive,
    write_new_archive,
)
from scope_assets.sim.cadence import Cadence, field_centre, ztf_cadence
from scope_assets.sim.catalogs import (
    alert_rows,
    alerts_table,
    allwise_catalog,
    gaia_catalog,
    ps1_catalog,
)
from scope_assets.sim.classes import CLASSES, Variability, draw_variability, variability_mag
from scope_assets.sim.ztf_photometry import observe_data_release, ztf_mag_error

DEMO_N_SOURCES = 2000  # light curves of the demo field (`make demo`, scope-sim default)
FIELD_HALF_WIDTH_DEG = 3.5
CCD_WIDTH_DEG = 2 * FIELD_HALF_WIDTH_DEG / 4
I_BAND_FRACTION = 0.2
I_BAND_MAX_MAG = 19.8
FAINTEST_G = 20.4  # every star must be detectable in g as well as r
STAR_COUNT_SLOPE = 0.25  # d log10 N / dm of the magnitude distribution
ALERT_SIGMA = 5.0 * np.sqrt(2.0)  # 5 sigma in a difference image (science + reference noise)

# Random streams: (seed, field, purpose[, star]).
_CADENCE, _STARS, _STAR, _GAIA, _WISE, _PS1, _ALERTS = range(7)


def simulate_field(
    archive_dir: Path | str,
    field: int = 296,
    n_sources: int = DEMO_N_SOURCES,
    seed: int = 42,
    overwrite: bool = False,
    progress: Callable[[int], None] | None = None,
) -> Path:
    """Write a simulated archive of one field to ``archive_dir`` and return its path.

    ``progress`` is called with the number of light curves simulated since its last call.
    """
    archive_dir = Path(archive_dir)
    _check_n_sources(n_sources)
    check_new_archive(archive_dir, overwrite)
    tables = simulate_field_tables(field, n_sources, seed, progress)
    write_new_archive(archive_dir, tables, overwrite, created_by=f"scope-sim {_version()}")
    return archive_dir


def add_field(
    archive_dir: Path | str,
    field: int,
    n_sources: int = DEMO_N_SOURCES,
    seed: int = 42,
    overwrite_field: bool = False,
    progress: Callable[[int], None] | None = None,
) -> Path:
    """Add a simulated field to the archive at ``archive_dir`` (creating it if absent).

    A field already in the archive is refused unless ``overwrite_field``; the other fields'
    files stay as they are (see ``archive_writer``).
    """
    archive_dir = Path(archive_dir)
    if not (archive_dir / MANIFEST_NAME).exists():
        return simulate_field(archive_dir, field, n_sources, seed, progress=progress)
    _check_n_sources(n_sources)
    check_can_add(archive_dir, field, overwrite_field)
    add_to_archive(
        archive_dir, simulate_field_tables(field, n_sources, seed, progress), overwrite_field
    )
    return archive_dir


def simulate_field_tables(
    field: int, n_sources: int, seed: int, progress: Callable[[int], None] | None = None
) -> FieldTables:
    """Light curves, truth, cross-match catalogues and alerts of one simulated field."""
    centre = field_centre(field)
    cadence = ztf_cadence(_rng(seed, field, _CADENCE), centre[0])
    stars = draw_stars(_rng(seed, field, _STARS), n_sources, centre)
    curves, truth, alert_frames = _observe_stars(stars, cadence, field, seed, progress)
    jd_range = (cadence.hmjd[0] + HJD_OFFSET, cadence.hmjd[-1] + HJD_OFFSET)
    alerts = alerts_table(
        alert_frames,
        _rng(seed, field, _ALERTS),
        centre,
        FIELD_HALF_WIDTH_DEG,
        jd_range,
        n_unrelated=max(1, len(stars) // 4),
    )
    shared = {"truth.parquet": truth}
    shared |= {f"xmatch/{name}.parquet": t for name, t in _catalogs(stars, centre, seed, field)}
    shared["alerts/ZTF_alerts.parquet"] = alerts
    return FieldTables(field=field, seed=seed, curves=curves, shared=shared)


def _check_n_sources(n_sources: int) -> None:
    if n_sources < 1:
        raise ValueError(f"n_sources must be >= 1, got {n_sources}")


def _rng(seed: int, field: int, purpose: int, *more: int) -> np.random.Generator:
    return np.random.default_rng([seed, field, purpose, *more])


def _version() -> str:
    try:
        return metadata.version("scope-assets")
    except metadata.PackageNotFoundError:
        return "unknown"


# --------------------------------------------------------------------------- stars


def allocate_classes(n_stars: int) -> np.ndarray:
    """Class tags for ``n_stars`` in proportion to ``ClassSpec.share`` (largest remainder)."""
    tags = list(CLASSES)
    shares = np.array([CLASSES[t].share for t in tags])
    exact = shares / shares.sum() * n_stars
    counts = np.floor(exact).astype(int)
    remainder_order = np.argsort(-(exact - counts), kind="stable")
    counts[remainder_order[: n_stars - counts.sum()]] += 1
    return np.repeat(tags, counts)


def stratified_tags(rng: np.random.Generator, n_stars: int) -> np.ndarray:
    """Allocated class tags in a random order in which every prefix keeps the class shares."""
    tags = allocate_classes(n_stars)
    keys = np.empty(n_stars)
    for tag in np.unique(tags):
        members = np.flatnonzero(tags == tag)
        keys[members] = (np.arange(len(members)) + rng.random(len(members))) / len(members)
    return tags[np.argsort(keys, kind="stable")]


def faint_heavy_magnitudes(rng: np.random.Generator, low: np.ndarray, high: np.ndarray):
    """Magnitudes in [low, high] with density rising as 10^(STAR_COUNT_SLOPE m)."""
    a = STAR_COUNT_SLOPE * np.log(10.0)
    u = rng.random(len(low))
    return np.log(np.exp(a * low) + u * (np.exp(a * high) - np.exp(a * low))) / a


def draw_stars(
    rng: np.random.Generator, n_sources: int, centre: tuple[float, float]
) -> pd.DataFrame:
    """Stars with exactly ``n_sources`` light curves: class, position, ccd/quad, g/r/i, filters.

    A pool of ``n_sources`` stars (enough: each has at least one curve) is drawn and cut after
    the star that brings the light-curve count to ``n_sources`` (that star may lose filters).
    """
    pool = n_sources
    tags = stratified_tags(rng, pool)
    specs = [CLASSES[t] for t in tags]
    gr = np.array([rng.uniform(*s.gr_range) for s in specs])
    r_low = np.array([s.r_mag_range[0] for s in specs])
    r_high = np.minimum([s.r_mag_range[1] for s in specs], FAINTEST_G - gr)
    r = faint_heavy_magnitudes(rng, r_low, np.maximum(r_high, r_low))
    i_mag = r - (0.05 + 0.4 * gr)
    east = rng.uniform(-FIELD_HALF_WIDTH_DEG, FIELD_HALF_WIDTH_DEG, pool)
    north = rng.uniform(-FIELD_HALF_WIDTH_DEG, FIELD_HALF_WIDTH_DEG, pool)
    ccd, quad = focal_plane_position(east, north)
    has_i = (rng.random(pool) < I_BAND_FRACTION) & (i_mag < I_BAND_MAX_MAG)

    curves_so_far = np.cumsum(2 + has_i)
    n_stars = int(np.searchsorted(curves_so_far, n_sources)) + 1
    bands = [[1, 2, 3] if i else [1, 2] for i in has_i[:n_stars]]
    before_last = int(curves_so_far[n_stars - 2]) if n_stars > 1 else 0
    bands[-1] = bands[-1][: n_sources - before_last]
    stars = pd.DataFrame(
        {
            "star": np.arange(pool),
            "tag": tags,
            "ra": centre[0] + east / np.cos(np.radians(centre[1] + north)),
            "dec": centre[1] + north,
            "ccd": ccd,
            "quad": quad,
            "g": r + gr,
            "r": r,
            "i": i_mag,
            "gr": gr,
            "abs_mag_g": [rng.uniform(*s.abs_mag_g) for s in specs],
        }
    ).iloc[:n_stars]
    return stars.assign(bands=bands)


def focal_plane_position(east: np.ndarray, north: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(ccd 1..16, quad 1..4) of offsets from the field centre in deg (synthetic layout).

    CCDs form a 4 x 4 grid numbered row by row from the south-east corner; quadrants are
    numbered anticlockwise from the north-east one.
    """
    column = np.clip(((east + FIELD_HALF_WIDTH_DEG) // CCD_WIDTH_DEG).astype(int), 0, 3)
    row = np.clip(((north + FIELD_HALF_WIDTH_DEG) // CCD_WIDTH_DEG).astype(int), 0, 3)
    ccd = row * 4 + column + 1
    east_half = (east + FIELD_HALF_WIDTH_DEG) % CCD_WIDTH_DEG >= CCD_WIDTH_DEG / 2
    north_half = (north + FIELD_HALF_WIDTH_DEG) % CCD_WIDTH_DEG >= CCD_WIDTH_DEG / 2
    quad = np.select(
        [east_half & north_half, ~east_half & north_half, ~east_half & ~north_half], [1, 2, 3], 4
    )
    return ccd, quad


# --------------------------------------------------------------------------- light curves


def _observe_stars(
    stars: pd.DataFrame,
    cadence: Cadence,
    field: int,
    seed: int,
    progress: Callable[[int], None] | None,
) -> tuple[pd.DataFrame, pd.DataFrame, list[pd.DataFrame]]:
    """Light curves (one row per curve, list cells), truth rows and each star's alerts."""
    t_start, t_end = float(cadence.hmjd[0]), float(cadence.hmjd[-1])
    curves, truth, alerts = [], [], []
    for star in stars.itertuples():
        rng = _rng(seed, field, _STAR, star.star)
        var = draw_variability(star.tag, rng, t_start, t_end)
        alert_jd = []
        for filterid in star.bands:
            curve, significant = _observe_band(star, var, filterid, cadence, rng)
            curves.append({"fieldid": field, **curve})
            truth.append(_truth_row(star, var, filterid, field))
            alert_jd.append(curve["hmjd"][significant] + HJD_OFFSET)
        jd = np.sort(np.concatenate(alert_jd))
        if len(jd):
            alerts.append(alert_rows(star.ra, star.dec, jd, rng))
        if progress is not None:
            progress(len(star.bands))
    curves_frame, truth_frame = pd.DataFrame(curves), pd.DataFrame(truth)
    ids = _assign_ids(curves_frame, field)
    curves_frame.insert(0, "objectid", ids)
    truth_frame.insert(0, "_id", ids)
    return curves_frame, truth_frame, alerts


def _observe_band(
    star, var: Variability, filterid: int, cadence: Cadence, rng: np.random.Generator
) -> tuple[dict, np.ndarray]:
    """One light curve as archive columns, and which of its points would raise an alert."""
    exposures = cadence.band(filterid)
    mean_mag = getattr(star, "gri"[filterid - 1])
    offset = variability_mag(var, cadence.hmjd[exposures], filterid)
    seen = observe_data_release(
        mean_mag + offset, cadence.depth[exposures], cadence.bad[exposures], rng
    )
    used = exposures[seen.index]
    difference_noise = ALERT_SIGMA * ztf_mag_error(mean_mag, cadence.depth[used])
    significant = (np.abs(offset[seen.index]) > difference_noise) & (seen.catflags == 0)
    curve = {
        "filterid": filterid,
        "rcid": (star.ccd - 1) * 4 + star.quad - 1,
        "objra": star.ra,
        "objdec": star.dec,
        "nepochs": len(used),
        "hmjd": cadence.hmjd[used],
        "mag": seen.mag,
        "magerr": seen.magerr,
        "clrcoeff": cadence.clrcoeff[used],
        "catflags": seen.catflags,
        "programid": cadence.programid[used],
    }
    return curve, significant


def _truth_row(star, var: Variability, filterid: int, field: int) -> dict:
    return {
        "class": star.tag,
        "period_days": var.period,
        "ra": star.ra,
        "dec": star.dec,
        "field": field,
        "ccd": star.ccd,
        "quad": star.quad,
        "filter": filterid,
        "mean_mag": getattr(star, "gri"[filterid - 1]),
        "amplitude_mag": var.band_amplitude(filterid),
    }


def _assign_ids(curves: pd.DataFrame, field: int) -> np.ndarray:
    """SCoPe ``_id`` per curve: sequence numbers count up per (readout channel, filter)."""
    seq = curves.groupby(["rcid", "filterid"], sort=False).cumcount().to_numpy() + 1
    rcid = curves["rcid"].to_numpy()
    return encode_id(field, rcid // 4 + 1, rcid % 4 + 1, curves["filterid"].to_numpy(), seq)


# --------------------------------------------------------------------------- catalogues


def _catalogs(stars: pd.DataFrame, centre: tuple[float, float], seed: int, field: int):
    """(name, table) of the Gaia, AllWISE and PS1 rows around the field's stars."""
    yield "Gaia_EDR3", gaia_catalog(stars, _rng(seed, field, _GAIA), centre, FIELD_HALF_WIDTH_DEG)
    yield "AllWISE", allwise_catalog(stars, _rng(seed, field, _WISE), centre, FIELD_HALF_WIDTH_DEG)
    yield "PS1_DR1", ps1_catalog(stars, _rng(seed, field, _PS1), centre, FIELD_HALF_WIDTH_DEG)
