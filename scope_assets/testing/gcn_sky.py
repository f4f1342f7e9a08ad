"""A simulated sky for GCN tests and benchmarks, and GCN events with Fritz candidates created
through the emulator's control routes (``/__emulator__/gcn_event`` and ``/objects``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import requests

from scope_assets.emulator import load_kowalski_catalogs
from scope_assets.lightcurves.archive import LocalArchive
from scope_assets.sim import simulate_field
from scope_assets.testing.fast_config import FAST_CONFIG

FIELD = 296


@dataclass(frozen=True)
class GcnSky:
    root: Path
    archive: Path
    config: Path
    catalogs: dict
    stars: pd.DataFrame
    """One row per simulated star (ra, dec): positions for Fritz candidates."""


def simulated_sky(root: Path, n_light_curves: int, seed: int = 11) -> GcnSky:
    archive = simulate_field(root / "archive", field=FIELD, n_sources=n_light_curves, seed=seed)
    config = root / "scope.yaml"
    config.write_text(FAST_CONFIG)
    ids = LocalArchive(archive).source_ids(FIELD)
    stars = ids.drop_duplicates(["ra", "dec"])[["ra", "dec"]].reset_index(drop=True)
    return GcnSky(root, archive, config, load_kowalski_catalogs(archive), stars)


def recent_dateobs(hours_ago: float = 24.0) -> str:
    moment = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    return (moment - dt.timedelta(hours=hours_ago)).isoformat()


def control(url: str, action: str, payload: dict) -> dict:
    reply = requests.post(f"{url}/__emulator__/{action}", json=payload, timeout=5)
    assert reply.status_code == 200, reply.text
    return reply.json()["data"]


def cone(stars: pd.DataFrame, margin_deg: float = 0.01) -> tuple[float, float, float]:
    """(ra, dec, radius) of the smallest cone around the stars' mean covering them all."""
    from scope_assets.emulator.fritz import separation_deg

    ra, dec = float(stars["ra"].mean()), float(stars["dec"].mean())
    radius = max(separation_deg(r, d, ra, dec) for r, d in zip(stars.ra, stars.dec, strict=True))
    return ra, dec, radius + margin_deg


def split_sky(stars: pd.DataFrame, n: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``n`` westernmost and ``n`` easternmost stars (two separate localizations)."""
    ordered = stars.sort_values("ra")
    return ordered.head(n), ordered.tail(n)


def post_event(url: str, dateobs: str, tags: list[str], stars: pd.DataFrame) -> dict:
    """A GCN event whose localization (a cone) just covers ``stars``."""
    ra, dec, radius = cone(stars)
    payload = {"dateobs": dateobs, "tags": tags, "ra": ra, "dec": dec, "radius_deg": radius}
    return control(url, "gcn_event", payload)


def post_candidates(url: str, dateobs: str, stars: pd.DataFrame, prefix: str) -> list[str]:
    """Fritz sources at ``stars`` detected an hour after ``dateobs``; returns their names."""
    seen = (dt.datetime.fromisoformat(dateobs) + dt.timedelta(hours=1)).isoformat()
    names = [f"{prefix}{i:04d}" for i in stars.index]
    objects = [
        {"id": name, "ra": float(s.ra), "dec": float(s.dec), "last_detected": seen}
        for name, s in zip(names, stars.itertuples(), strict=True)
    ]
    control(url, "objects", {"objects": objects})
    return names


def local_scope_examples(
    archive: Path, n_stars: int = 8, offset_arcsec: float = 0.3
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``run-scope-local`` inputs from an archive's first stars (by ``_id``): every light curve
    of each (``ztf_id``, ``obj_id``), and each star's position ``offset_arcsec`` away
    (``obj_id``, ``ra``, ``dec``). ``tools/local_scope_*.csv`` are these for the demo sky."""
    ids = LocalArchive(archive).source_ids(FIELD).sort_values("_id").reset_index(drop=True)
    ids["star"] = ids.groupby(["ra", "dec"], sort=False).ngroup()
    chosen = ids[ids["star"] < n_stars].sort_values(["star", "_id"])
    names = chosen["star"].map(lambda s: f"demo_star_{s:02d}")
    by_id = pd.DataFrame({"ztf_id": chosen["_id"].to_numpy(), "obj_id": names.to_numpy()})
    first = chosen.drop_duplicates("star")
    offset = offset_arcsec / 3600.0
    by_position = pd.DataFrame(
        {
            "obj_id": names[first.index].to_numpy(),
            "ra": (first["ra"] + offset).round(7).to_numpy(),
            "dec": (first["dec"] - offset).round(7).to_numpy(),
        }
    )
    return by_id, by_position
