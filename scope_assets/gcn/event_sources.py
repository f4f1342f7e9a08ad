"""The Fritz sources of a GCN event and the ZTF light curves around them.

SCoPe's ``download_gcn_sources``: ``GET /api/sources`` in the event's newest localization
(all pages), then a cone search for ZTF light-curve ids around each source, duplicates of
``_id`` dropped (first kept). Written as SCoPe does: ``<save>.<dateobs>.parquet`` (``ztf_id``,
``coordinates``, ``fritz_name``) and ``.json`` ``{ztf_id: {fritz_name, radec_geojson}}``, with
``:`` in ``dateobs`` replaced by ``-``. The Parquet file is the input of
``generate-features --doSpecificIDs``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from scope_assets.fritz.fritz_client import FritzClient
from scope_assets.io import write_json, write_parquet

DEFAULT_DAYS_RANGE = 7.0
DEFAULT_RADIUS_ARCSEC = 0.5
DEFAULT_SAVE_FILENAME = "fritzDownload/specific_ids_GCN_sources"
SOURCES_PER_PAGE = 100


def parse_dateobs(text: str) -> dt.datetime:
    """A GCN ``dateobs`` (ISO, with or without ``T``/``Z``) as a naive UTC datetime."""
    moment = dt.datetime.fromisoformat(str(text).strip().replace("Z", "+00:00"))
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment


def dateobs_key(text: str) -> str:
    """The canonical ``YYYY-MM-DDTHH:MM:SS`` form of a ``dateobs`` (partition key)."""
    return parse_dateobs(text).isoformat(timespec="seconds")


def dateobs_label(text: str) -> str:
    """``dateobs`` as SCoPe puts it in file names (``:`` → ``-``)."""
    return dateobs_key(text).replace(":", "-")


def fritz_event_sources(
    client: FritzClient,
    dateobs: str,
    group_ids: Sequence[int] = (),
    days_range: float = DEFAULT_DAYS_RANGE,
) -> pd.DataFrame:
    """Fritz sources in the event's localization detected within ``days_range`` days after it:
    ``fritz_name``, ``ra``, ``dec`` (every page)."""
    start = parse_dateobs(dateobs)
    params = {
        "localizationDateobs": start.isoformat(),
        "startDate": start.isoformat(),
        "endDate": (start + dt.timedelta(days=days_range)).isoformat(),
        "group_ids": list(group_ids) or None,
    }
    rows = [
        {"fritz_name": s["id"], "ra": float(s["ra"]), "dec": float(s["dec"])}
        for s in client.iter_sources(params, num_per_page=SOURCES_PER_PAGE)
    ]
    return pd.DataFrame.from_records(rows, columns=["fritz_name", "ra", "dec"])


def match_light_curves(sources: pd.DataFrame, sky, radius_arcsec: float) -> pd.DataFrame:
    """ZTF light curves within ``radius_arcsec`` of each source: ``ztf_id``, ``fritz_name``,
    ``ra``, ``dec``; an id near two sources is kept once (the first source's)."""
    if sources.empty:
        return pd.DataFrame(
            {"ztf_id": pd.Series(dtype="int64"), "fritz_name": pd.Series(dtype=object)}
            | {c: pd.Series(dtype="float64") for c in ("ra", "dec")}
        )
    positions = sources.reset_index(drop=True)
    hits = sky.cone_ids(positions[["ra", "dec"]], radius_arcsec)
    table = pd.DataFrame(
        {
            "ztf_id": hits["_id"].to_numpy("int64"),
            "fritz_name": positions["fritz_name"].to_numpy()[hits["row"].to_numpy("int64")],
            "ra": hits["ra"].to_numpy("float64"),
            "dec": hits["dec"].to_numpy("float64"),
        }
    )
    return table.drop_duplicates("ztf_id").reset_index(drop=True)


def radec_geojson(ra: float, dec: float) -> dict:
    """Kowalski's ``coordinates.radec_geojson`` (longitude = ra - 180)."""
    return {"type": "Point", "coordinates": [float(ra) - 180.0, float(dec)]}


def scope_ids_table(matches: pd.DataFrame) -> pd.DataFrame:
    """SCoPe's ids file: ``ztf_id``, ``coordinates`` ``{radec_geojson}``, ``fritz_name``."""
    coordinates = [
        {"radec_geojson": radec_geojson(ra, dec)}
        for ra, dec in zip(matches["ra"], matches["dec"], strict=True)
    ]
    return pd.DataFrame(
        {
            "ztf_id": matches["ztf_id"].to_numpy("int64"),
            "coordinates": coordinates,
            "fritz_name": matches["fritz_name"].astype(str).to_numpy(),
        }
    )


def gcn_sources_paths(save_filename: str | Path, dateobs: str) -> tuple[Path, Path]:
    """``<save>.<dateobs with - for :>.parquet`` and ``.json``."""
    stem = f"{save_filename}.{dateobs_label(dateobs)}"
    return Path(f"{stem}.parquet"), Path(f"{stem}.json")


def sources_fingerprint(ids: Iterable[object]) -> str:
    """A short hash of a set of source ids (order-free): equal sets, equal fingerprints."""
    text = "\n".join(sorted({str(i) for i in ids}))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass
class GcnSources:
    """What ``download_gcn_sources`` found and wrote."""

    dateobs: str
    fritz_sources: pd.DataFrame
    ids: pd.DataFrame
    parquet_path: Path
    json_path: Path

    @property
    def as_dict(self) -> dict[int, dict]:
        """SCoPe's return value and JSON: ``{ztf_id: {fritz_name, radec_geojson}}``."""
        return {
            int(row.ztf_id): {
                "fritz_name": row.fritz_name,
                "radec_geojson": row.coordinates["radec_geojson"],
            }
            for row in self.ids.itertuples(index=False)
        }


def download_gcn_sources(
    client: FritzClient,
    sky,
    dateobs: str,
    *,
    group_ids: Sequence[int] = (),
    days_range: float = DEFAULT_DAYS_RANGE,
    radius_arcsec: float = DEFAULT_RADIUS_ARCSEC,
    save_filename: str | Path = DEFAULT_SAVE_FILENAME,
) -> GcnSources:
    """Fritz sources of the event → ZTF light-curve ids around them → SCoPe's two files."""
    fritz_sources = fritz_event_sources(client, dateobs, group_ids, days_range)
    ids = scope_ids_table(match_light_curves(fritz_sources, sky, radius_arcsec))
    parquet_path, json_path = gcn_sources_paths(save_filename, dateobs)
    result = GcnSources(dateobs_key(dateobs), fritz_sources, ids, parquet_path, json_path)
    write_parquet(ids, parquet_path)
    write_json({str(k): v for k, v in result.as_dict.items()}, json_path)
    return result
