"""Fritz objects and GCN events seeded from the archive's alerts.

Fritz names objects after their first alert (``ZTF20aaelulu``). Each alert object in the archive
becomes a Fritz source saved to the Sitewide and SCoPe training-set groups, with first/last
detection times from its alerts. Two GCN events are added whose localizations (cones) cover the
objects and whose ``dateobs`` puts part of them inside SCoPe's default 7-day window, so the GCN
workflow has candidates to find.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq

from scope_assets.emulator.fritz import SITEWIDE_GROUP_ID, FritzService, separation_deg

TRAINING_GROUP_ID = 1458
MJD_EPOCH = datetime(1858, 11, 17)


def jd_to_datetime(jd: float) -> datetime:
    """Naive UTC datetime of a Julian date, rounded to the second."""
    moment = MJD_EPOCH + timedelta(days=jd - 2400000.5)
    return moment.replace(microsecond=0)


def _mean_position(ras: list[float], decs: list[float]) -> tuple[float, float]:
    x = sum(
        math.cos(math.radians(d)) * math.cos(math.radians(r))
        for r, d in zip(ras, decs, strict=True)
    )
    y = sum(
        math.cos(math.radians(d)) * math.sin(math.radians(r))
        for r, d in zip(ras, decs, strict=True)
    )
    z = sum(math.sin(math.radians(d)) for d in decs)
    return math.degrees(math.atan2(y, x)) % 360.0, math.degrees(math.atan2(z, math.hypot(x, y)))


def seed_fritz_from_archive(
    service: FritzService, archive_dir: str | Path, max_objects: int = 500
) -> int:
    """Add the archive's alert objects and two GCN events; returns the number of objects added."""
    path = Path(archive_dir) / "alerts" / "ZTF_alerts.parquet"
    if not path.exists():
        return 0
    alerts = pq.read_table(path, columns=["objectId", "ra", "dec", "jd"]).to_pandas()
    if alerts.empty:
        return 0
    objects = (
        alerts.groupby("objectId")
        .agg(ra=("ra", "mean"), dec=("dec", "mean"), first=("jd", "min"), last=("jd", "max"))
        .sort_index()
        .head(max_objects)
    )
    for obj_id, row in objects.iterrows():
        service.add_object(
            str(obj_id),
            float(row["ra"]),
            float(row["dec"]),
            group_ids=(SITEWIDE_GROUP_ID, TRAINING_GROUP_ID),
            first_detected=jd_to_datetime(row["first"]),
            last_detected=jd_to_datetime(row["last"]),
            created_at=jd_to_datetime(row["first"]),
            origin="ZTF alerts",
        )
    ras, decs = objects["ra"].tolist(), objects["dec"].tolist()
    center = _mean_position(ras, decs)
    radius = max(separation_deg(r, d, *center) for r, d in zip(ras, decs, strict=True)) + 0.01
    dateobs = jd_to_datetime(float(objects["last"].median())) - timedelta(days=2)
    service.add_gcn_event(dateobs, ["GW"], *center, radius, aliases=["LVC#S-emulator-GW"])
    service.add_gcn_event(
        dateobs + timedelta(hours=12),
        ["GRB", "Fermi"],
        *center,
        radius / 2,
        localization_name="fermi_grb.fits.gz",
        aliases=["FERMI#emulator-GRB"],
    )
    return len(objects)
