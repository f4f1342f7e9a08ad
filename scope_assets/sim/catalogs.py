"""Synthetic Gaia EDR3, AllWISE and Pan-STARRS1 rows and ZTF alerts for simulated stars.

Input is the simulator's star table (``ra, dec, tag, g, r, i, abs_mag_g``). Counterparts sit
within 1" of their star (Gaia/PS1 scatter 0.1", WISE 0.3"); some stars have none (too faint for
the survey, or lost to crowding), so their cross-match features are NaN later. About 5 % of
Gaia counterparts have a fainter neighbour 1.2-4" away, so a cross-match that does not take
the closest row gets them wrong. Unrelated field rows (stars too faint for ZTF) fill the field.
Colours follow the star's g - r (Miras and flaring M dwarfs very red in WISE), Gaia parallaxes
follow the class's absolute magnitude, errors grow towards each survey's limit.
"""

from __future__ import annotations

import string

import numpy as np
import pandas as pd

ARCSEC = 1.0 / 3600.0
GAIA_LIMIT_G = 20.8
GAIA_MATCH_FRACTION = 0.92
GAIA_NEIGHBOUR_FRACTION = 0.05
WISE_LIMITS = {"w1": 17.1, "w2": 15.7, "w3": 11.5, "w4": 8.0}
WISE_MATCH_FRACTION = 0.85
PS1_LIMITS = {"g": 22.0, "r": 21.8, "i": 21.5, "z": 20.9, "y": 19.7}
PS1_MATCH_FRACTION = 0.95
PS1_QUALITY_FLAGS = ([52, 60, 20, 116], [0.7, 0.2, 0.05, 0.05])
ALERT_START_JD = 2458270.5  # public ZTF alerts from June 2018
BRAAI_START_JD = 2458635.5  # packets carry braai from June 2019
ALERT_KEEP_FRACTION = 0.25  # not every significant detection becomes a public alert
MAX_ALERTS_PER_STAR = 300


def jitter_positions(
    ra: np.ndarray, dec: np.ndarray, sigma_arcsec: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Offset positions by a Gaussian of ``sigma_arcsec`` per axis, capped at 0.9"."""
    offset = rng.normal(0.0, sigma_arcsec, (2, len(ra)))
    radius = np.hypot(*offset)
    offset *= np.minimum(1.0, 0.9 / np.maximum(radius, 1e-12))
    return _offset(ra, dec, offset[0] * ARCSEC, offset[1] * ARCSEC)


def _offset(ra, dec, east_deg, north_deg) -> tuple[np.ndarray, np.ndarray]:
    return ra + east_deg / np.cos(np.radians(dec)), dec + north_deg


def unique_ids(rng: np.random.Generator, n: int, base: int, max_step: int) -> np.ndarray:
    """``n`` distinct increasing int64 ids above ``base`` (survey-like identifiers)."""
    return base + np.cumsum(rng.integers(1, max_step, n, dtype=np.int64))


def random_positions(
    rng: np.random.Generator, centre: tuple[float, float], half_width_deg: float, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """Uniform positions in a square of ``2 * half_width_deg`` around ``centre``."""
    east = rng.uniform(-half_width_deg, half_width_deg, n)
    north = rng.uniform(-half_width_deg, half_width_deg, n)
    return _offset(np.full(n, centre[0]), np.full(n, centre[1]), east, north)


# --------------------------------------------------------------------------- Gaia EDR3


def gaia_photometry(r: np.ndarray, gr: np.ndarray) -> dict[str, np.ndarray]:
    """G, BP, RP from ZTF r and g - r (approximate colour transformations)."""
    g_mag = r - 0.1 - 0.25 * gr
    bp_rp = 0.15 + 1.2 * gr
    bp = g_mag + 0.4 * bp_rp + 0.05
    return {"phot_g_mean_mag": g_mag, "phot_bp_mean_mag": bp, "phot_rp_mean_mag": bp - bp_rp}


def gaia_parallax_error(g_mag: np.ndarray) -> np.ndarray:
    """EDR3-like parallax error (mas): 0.02 when bright, 0.5 at G = 20, 1.3 at G = 21."""
    return 0.02 + 0.5 * 10.0 ** (0.4 * (np.asarray(g_mag) - 20.0))


def _gaia_columns(
    rng: np.random.Generator, r: np.ndarray, gr: np.ndarray, abs_mag_g: np.ndarray, binary
) -> dict[str, np.ndarray]:
    n = len(r)
    phot = gaia_photometry(r, gr)
    g_mag = phot["phot_g_mean_mag"]
    distance_pc = 10.0 ** ((g_mag - abs_mag_g + 5.0) / 5.0)
    parallax_error = gaia_parallax_error(g_mag)
    velocity_km_s = rng.normal(0.0, 40.0, (2, n))
    pm_error = 1.1 * parallax_error
    pm = velocity_km_s / (4.74 * distance_pc / 1000.0)
    bp_rp = phot["phot_bp_mean_mag"] - phot["phot_rp_mean_mag"]
    excess_noise = np.abs(rng.normal(0.0, 0.1, n)) * np.where(binary, 3.0, 1.0)
    return {
        **phot,
        "parallax": 1000.0 / distance_pc + rng.normal(0.0, 1.0, n) * parallax_error,
        "parallax_error": parallax_error,
        "pmra": pm[0] + rng.normal(0.0, 1.0, n) * pm_error,
        "pmra_error": pm_error,
        "pmdec": pm[1] + rng.normal(0.0, 1.0, n) * pm_error,
        "pmdec_error": pm_error,
        "astrometric_excess_noise": excess_noise + 0.3 * 10.0 ** (0.4 * (g_mag - 20.0)),
        "phot_bp_rp_excess_factor": 1.18 + 0.04 * bp_rp + np.abs(rng.normal(0.0, 0.02, n)),
    }


def gaia_catalog(
    stars: pd.DataFrame, rng: np.random.Generator, centre: tuple[float, float], half_width: float
) -> pd.DataFrame:
    """Gaia EDR3 rows: counterparts of most stars, a few close neighbours, field stars."""
    g_mag = gaia_photometry(stars["r"].to_numpy(), stars["gr"].to_numpy())["phot_g_mean_mag"]
    matched = stars[(g_mag < GAIA_LIMIT_G) & (rng.random(len(stars)) < GAIA_MATCH_FRACTION)]
    ra, dec = jitter_positions(matched["ra"].to_numpy(), matched["dec"].to_numpy(), 0.1, rng)
    counterparts = pd.DataFrame({"ra": ra, "dec": dec}).assign(
        **_gaia_columns(
            rng,
            matched["r"].to_numpy(),
            matched["gr"].to_numpy(),
            matched["abs_mag_g"].to_numpy(),
            matched["tag"].isin(["wuma", "ea"]).to_numpy(),
        )
    )

    crowded = matched[rng.random(len(matched)) < GAIA_NEIGHBOUR_FRACTION]
    separation = rng.uniform(1.2, 4.0, len(crowded)) * ARCSEC
    angle = rng.uniform(0.0, 2.0 * np.pi, len(crowded))
    n_ra, n_dec = _offset(
        crowded["ra"].to_numpy(),
        crowded["dec"].to_numpy(),
        separation * np.cos(angle),
        separation * np.sin(angle),
    )
    neighbours = _field_gaia_rows(rng, n_ra, n_dec, crowded["r"].to_numpy() + 1.5)

    n_field = 2 * len(stars)
    f_ra, f_dec = random_positions(rng, centre, half_width, n_field)
    field_rows = _field_gaia_rows(rng, f_ra, f_dec, rng.uniform(17.0, 21.0, n_field))

    table = pd.concat([counterparts, neighbours, field_rows], ignore_index=True)
    table = table.iloc[rng.permutation(len(table))].reset_index(drop=True)
    table.insert(0, "_id", unique_ids(rng, len(table), 3_000_000_000_000_000_000, 10**12))
    return table


def _field_gaia_rows(rng, ra, dec, r) -> pd.DataFrame:
    n = len(ra)
    gr = rng.uniform(0.2, 1.5, n)
    columns = _gaia_columns(rng, r, gr, rng.uniform(3.0, 9.0, n), np.zeros(n, dtype=bool))
    return pd.DataFrame({"ra": ra, "dec": dec, **columns})


# --------------------------------------------------------------------------- AllWISE


def _wise_photometry(
    rng: np.random.Generator, r: np.ndarray, gr: np.ndarray, tag: np.ndarray
) -> dict[str, np.ndarray]:
    """Vega W1-W4: r - W1 from g - r, very red for Miras, redder for M dwarfs."""
    mira = tag == "mir"
    w1 = r - (0.6 + 1.3 * gr + 3.0 * mira + 1.0 * (tag == "fla")) + rng.normal(0.0, 0.1, len(r))
    w2 = w1 - (0.02 + 0.3 * mira)
    w3 = w2 - (0.1 + 0.8 * mira)
    w4 = w3 - (0.1 + 0.5 * mira)
    return {"w1": w1, "w2": w2, "w3": w3, "w4": w4}


def allwise_catalog(
    stars: pd.DataFrame, rng: np.random.Generator, centre: tuple[float, float], half_width: float
) -> pd.DataFrame:
    """AllWISE rows; bands fainter than the survey limit are upper limits (ph_qual 'U')."""
    bands = _wise_photometry(
        rng, stars["r"].to_numpy(), stars["gr"].to_numpy(), stars["tag"].to_numpy()
    )
    detected = (bands["w1"] < WISE_LIMITS["w1"]) & (rng.random(len(stars)) < WISE_MATCH_FRACTION)
    ra, dec = jitter_positions(
        stars["ra"].to_numpy()[detected], stars["dec"].to_numpy()[detected], 0.3, rng
    )
    counterparts = {band: mags[detected] for band, mags in bands.items()}
    n_field = len(stars)
    f_ra, f_dec = random_positions(rng, centre, half_width, n_field)
    field_w1 = rng.uniform(12.0, 17.0, n_field)
    field_bands = {
        "w1": field_w1,
        "w2": field_w1 - 0.05,
        "w3": field_w1 - 0.3,
        "w4": field_w1 - 0.5,
    }

    mags = {b: np.concatenate([counterparts[b], field_bands[b]]) for b in WISE_LIMITS}
    table = pd.DataFrame({"ra": np.concatenate([ra, f_ra]), "dec": np.concatenate([dec, f_dec])})
    quality = []
    for band, limit in WISE_LIMITS.items():
        measured = mags[band] < limit
        table[f"{band}mpro"] = np.where(
            measured, mags[band], limit + rng.normal(0, 0.2, len(table))
        )
        error = 0.02 + 0.3 * 10.0 ** (0.4 * (mags[band] - limit))
        table[f"{band}sigmpro"] = np.where(measured, error, np.nan)
        quality.append(
            np.select(
                [mags[band] < limit - 1.5, mags[band] < limit - 0.5, measured],
                ["A", "B", "C"],
                "U",
            )
        )
    table["ph_qual"] = ["".join(q) for q in zip(*quality, strict=True)]
    table = table.iloc[rng.permutation(len(table))].reset_index(drop=True)
    table.insert(0, "_id", unique_ids(rng, len(table), 100_000_000_000, 10**6))
    return table


# --------------------------------------------------------------------------- Pan-STARRS1


def ps1_catalog(
    stars: pd.DataFrame, rng: np.random.Generator, centre: tuple[float, float], half_width: float
) -> pd.DataFrame:
    """PS1 DR1 mean PSF magnitudes (NaN beyond each band's limit) and a quality flag."""
    matched = stars[rng.random(len(stars)) < PS1_MATCH_FRACTION]
    ra, dec = jitter_positions(matched["ra"].to_numpy(), matched["dec"].to_numpy(), 0.1, rng)
    g, r, i = (matched[b].to_numpy() for b in ("g", "r", "i"))
    n_field = 2 * len(stars)
    f_ra, f_dec = random_positions(rng, centre, half_width, n_field)
    f_r = rng.uniform(17.0, 22.0, n_field)
    f_gr = rng.uniform(0.2, 1.5, n_field)
    g = np.concatenate([g, f_r + f_gr])
    r = np.concatenate([r, f_r])
    i = np.concatenate([i, f_r - 0.4 * f_gr])
    ri = r - i
    mags = {"g": g - 0.02, "r": r, "i": i, "z": i - (0.05 + 0.5 * ri), "y": i - (0.1 + 0.8 * ri)}

    table = pd.DataFrame({"ra": np.concatenate([ra, f_ra]), "dec": np.concatenate([dec, f_dec])})
    for band, limit in PS1_LIMITS.items():
        measured = mags[band] < limit
        noisy = mags[band] + rng.normal(0.0, 0.01, len(table))
        table[f"{band}MeanPSFMag"] = np.where(measured, noisy, np.nan)
        error = 0.01 + 0.2 * 10.0 ** (0.4 * (mags[band] - limit))
        table[f"{band}MeanPSFMagErr"] = np.where(measured, error, np.nan)
    flags, weights = PS1_QUALITY_FLAGS
    table["qualityFlag"] = rng.choice(flags, size=len(table), p=weights).astype(np.int64)
    table = table.iloc[rng.permutation(len(table))].reset_index(drop=True)
    table.insert(0, "_id", unique_ids(rng, len(table), 100_000_000_000_000_000, 10**9))
    return table


# --------------------------------------------------------------------------- ZTF alerts


def ztf_object_id(rng: np.random.Generator, year: int) -> str:
    """A ZTF alert object name, e.g. ``ZTF19abcdefg``."""
    letters = rng.choice(list(string.ascii_lowercase), 7)
    return f"ZTF{year % 100:02d}{''.join(letters)}"


def alert_rows(
    ra: float,
    dec: float,
    candidate_jd: np.ndarray,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Alerts of a variable star at some of ``candidate_jd`` (exposures it varied significantly in).

    Real variables get high real-bogus scores; braai is NaN before the packets carried it.
    """
    jd = candidate_jd[candidate_jd >= ALERT_START_JD]
    jd = jd[rng.random(len(jd)) < ALERT_KEEP_FRACTION]
    if len(jd) > MAX_ALERTS_PER_STAR:
        jd = np.sort(rng.choice(jd, MAX_ALERTS_PER_STAR, replace=False))
    n = len(jd)
    if n == 0:
        return pd.DataFrame(columns=["objectId", "ra", "dec", "jd", "braai"])
    first_year = 2018 + int((jd[0] - 2458119.5) // 365.25)
    a_ra, a_dec = jitter_positions(np.full(n, ra), np.full(n, dec), 0.08, rng)
    braai = rng.beta(6.0, 1.2, n)
    return pd.DataFrame(
        {
            "objectId": ztf_object_id(rng, first_year),
            "ra": a_ra,
            "dec": a_dec,
            "jd": jd,
            "braai": _braai_if_reported(jd, braai),
        }
    )


def _braai_if_reported(jd: np.ndarray, braai: np.ndarray) -> np.ndarray:
    """float32 real-bogus scores, NaN for alerts older than braai in the packets."""
    return np.where(jd < BRAAI_START_JD, np.nan, braai).astype(np.float32)


def alerts_table(
    per_object: list[pd.DataFrame],
    rng: np.random.Generator,
    centre: tuple[float, float],
    half_width: float,
    jd_range: tuple[float, float],
    n_unrelated: int,
) -> pd.DataFrame:
    """All alerts: the given objects' plus unrelated ones (asteroids, transients), sorted by jd."""
    u_ra, u_dec = random_positions(rng, centre, half_width, n_unrelated)
    u_jd = rng.uniform(max(jd_range[0], ALERT_START_JD), jd_range[1], n_unrelated)
    unrelated = pd.DataFrame(
        {
            "objectId": [ztf_object_id(rng, 2020) for _ in range(n_unrelated)],
            "ra": u_ra,
            "dec": u_dec,
            "jd": u_jd,
            "braai": _braai_if_reported(u_jd, rng.beta(2.0, 2.0, n_unrelated)),
        }
    )
    table = pd.concat([f for f in per_object if len(f)] + [unrelated], ignore_index=True)
    table = table.sort_values("jd", kind="stable").reset_index(drop=True)
    table.insert(0, "candid", unique_ids(rng, len(table), 1_000_000_000_000_000_000, 10**6))
    return table
