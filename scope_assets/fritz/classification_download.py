"""``scope-download-classification``: labelled Fritz sources as SCoPe's tables.

Two ways to choose sources, as SCoPe:

- ``--file parse``: every source saved to ``--group-ids``, page by page (500 per request;
  ``--start`` is the first page) → ``<output-dir>/parse_fritzDownload.<ext>``
  (``parse_fritzDownload_continued_page_<n>`` when starting later);
- ``--file <table>``: the table's ``obj_id`` (``GET /api/sources/<id>``) or, without one, the
  nearest source within 2″ of ``ra``/``dec`` → ``<output-dir>/<stem>_fritzDownload.<ext>``.

One row per source: ``obj_id, ra, dec, classification, taxonomy_id, probability, sum_votes,
period_origin, period, labellers`` (lists ``;``-joined, one entry per classification or period
annotation, in Fritz's order). Fritz's source list leaves classification votes out, so SCoPe's
vote sums always read 0; here votes are fetched per source when they matter
(``--update-training-set``) and ``sum_votes`` is left empty otherwise.

With ``--merge-features`` the table goes on to :mod:`scope_assets.fritz.download_merge`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from scope_assets import __version__
from scope_assets.errors import ScopeError
from scope_assets.fritz.fritz_client import FritzClient
from scope_assets.fritz.fritz_snapshot import check_groups
from scope_assets.fritz.upload_results import result_suffix
from scope_assets.io import read_table, write_table
from scope_assets.kowalski.kowalski_sky import FEATURES_CATALOG

PARSE = "parse"
MATCH_RADIUS_ARCSEC = 2.0
SOURCE_COLUMNS = [
    "obj_id",
    "ra",
    "dec",
    "classification",
    "taxonomy_id",
    "probability",
    "sum_votes",
    "period_origin",
    "period",
    "labellers",
]


class DownloadInputError(ScopeError, ValueError):
    """The download cannot run as asked (bad input table or flags); nothing was written."""


@dataclass(frozen=True)
class DownloadOptions:
    """SCoPe's ``scope-download-classification`` flags, plus ``parallel`` and ``training_set``
    (the table ``--update-training-set`` extends; the project's training set by default)."""

    file: str = PARSE
    group_ids: tuple[int, ...] = ()
    start: int | None = None
    merge_features: bool = False
    features_catalog: str = FEATURES_CATALOG
    features_limit: int = 1000
    taxonomy_map: str = "golden_dataset_mapper.json"
    output_dir: str = "fritzDownload"
    output_filename: str = "merged_classifications_features"
    output_format: str = "parquet"
    get_ztf_filters: bool = False
    impute_missing_features: bool = False
    update_training_set: bool = False
    updated_training_set_prefix: str = "updated_AL"
    min_vote_diff: int = 1
    parallel: int = 4
    training_set: str | None = None

    @property
    def parse_mode(self) -> bool:
        return self.file == PARSE

    @property
    def suffix(self) -> str:
        return result_suffix(self.output_format)


def _joined(values: Iterable[Any]) -> str:
    return ";".join("" if v is None else str(v) for v in values)


def _net_votes(classification: Mapping[str, Any]) -> int:
    return sum(int(v.get("vote") or 0) for v in classification.get("votes") or [])


def source_row(source: Mapping[str, Any], votes: bool) -> dict[str, Any]:
    """SCoPe's one-row summary of a Fritz source (see the module docstring)."""
    classifications = list(source.get("classifications") or [])
    periods = [a for a in source.get("annotations") or [] if "period" in (a.get("data") or {})]
    labellers = dict.fromkeys(
        str(x.get("labeller_id", x.get("id"))) for x in source.get("labellers") or []
    )
    return {
        "obj_id": str(source["id"]),
        "ra": float(source["ra"]),
        "dec": float(source["dec"]),
        "classification": _joined(c["classification"] for c in classifications),
        "taxonomy_id": _joined(c.get("taxonomy_id") for c in classifications),
        "probability": _joined(c.get("probability") for c in classifications),
        "sum_votes": _joined(_net_votes(c) for c in classifications) if votes else "",
        "period_origin": _joined(a.get("origin") for a in periods),
        "period": _joined(a["data"]["period"] for a in periods),
        "labellers": _joined(labellers),
    }


def _with_votes(client: FritzClient, source: dict[str, Any]) -> dict[str, Any]:
    if not source.get("classifications"):
        return source
    return {**source, "classifications": client.get_classifications(str(source["id"]))}


def parse_group_sources(
    client: FritzClient,
    group_ids: Sequence[int],
    start_page: int = 1,
    votes: bool = False,
    pool: ThreadPoolExecutor | None = None,
    progress: Callable[[int], None] | None = None,
) -> pd.DataFrame:
    """One row per source of ``group_ids`` (pages from ``start_page``)."""
    rows = []
    params = {"group_ids": list(group_ids), "includeLabellers": True}
    for _, sources in client.paginate("/api/sources", "sources", params, start_page=start_page):
        if votes and pool is not None:
            sources = list(pool.map(lambda s: _with_votes(client, s), sources))
        rows += [source_row(s, votes) for s in sources]
        if progress is not None:
            progress(len(sources))
    return pd.DataFrame(rows, columns=SOURCE_COLUMNS)


def _nearest(sources: list[dict[str, Any]], ra: float, dec: float) -> dict[str, Any] | None:
    def distance(s: Mapping[str, Any]) -> float:
        d_ra = (float(s["ra"]) - ra) * math.cos(math.radians(dec))
        return math.hypot(d_ra, float(s["dec"]) - dec)

    return min(sources, key=distance) if sources else None


def _file_source(
    client: FritzClient, obj_id: str | None, ra: float, dec: float
) -> dict[str, Any] | None:
    if obj_id:
        found = client.get_source(obj_id, includeLabellers=True)
        if found is not None:
            return found
    if math.isfinite(ra) and math.isfinite(dec):
        near = client.sources_near(ra, dec, MATCH_RADIUS_ARCSEC, includeLabellers=True)
        return _nearest(near, ra, dec)
    return None


def _file_targets(table: pd.DataFrame, source: str) -> list[tuple[str | None, float, float]]:
    has_id = "obj_id" in table.columns
    has_position = {"ra", "dec"} <= set(table.columns)
    if not (has_id or has_position):
        raise DownloadInputError(f"{source}: needs an 'obj_id' column or 'ra' and 'dec' columns")
    ids = table["obj_id"].astype(object).where(table["obj_id"].notna(), None) if has_id else None
    ra = pd.to_numeric(table["ra"], errors="coerce") if has_position else None
    dec = pd.to_numeric(table["dec"], errors="coerce") if has_position else None
    targets = []
    for i in range(len(table)):
        obj_id = str(ids.iloc[i]) if ids is not None and ids.iloc[i] is not None else None
        r = float(ra.iloc[i]) if ra is not None else math.nan
        d = float(dec.iloc[i]) if dec is not None else math.nan
        if obj_id is None and not (math.isfinite(r) and math.isfinite(d)):
            raise DownloadInputError(f"{source}: row {i} has neither obj_id nor ra/dec")
        targets.append((obj_id, r, d))
    return targets


def file_sources(
    client: FritzClient,
    table: pd.DataFrame,
    source: str,
    votes: bool,
    pool: ThreadPoolExecutor,
    progress: Callable[[int], None] | None = None,
) -> pd.DataFrame:
    """One row per source found for the table's rows (rows without a match are left out)."""
    targets = _file_targets(table, source)

    def fetch(target: tuple[str | None, float, float]) -> dict[str, Any] | None:
        found = _file_source(client, *target)
        if progress is not None:
            progress(1)
        return _with_votes(client, found) if found is not None and votes else found

    found = [s for s in pool.map(fetch, targets) if s is not None]
    rows = list({s["id"]: source_row(s, votes) for s in found}.values())
    return pd.DataFrame(rows, columns=SOURCE_COLUMNS)


def download_path(options: DownloadOptions) -> Path:
    """Where the per-source table goes (SCoPe's names)."""
    out = Path(options.output_dir)
    if options.parse_mode:
        tail = f"_continued_page_{options.start}" if options.start and options.start > 1 else ""
        return out / f"parse_fritzDownload{tail}{options.suffix}"
    return out / f"{Path(options.file).stem}_fritzDownload{options.suffix}"


def download_sources(
    client: FritzClient,
    options: DownloadOptions,
    progress: Callable[[int], None] | None = None,
) -> tuple[pd.DataFrame, Path]:
    """Fetch the sources (see the module docstring), write their table; (table, path)."""
    table = None
    if options.parse_mode:
        if not options.group_ids:
            raise DownloadInputError("--file parse needs --group-ids")
        if options.start is not None and options.start < 1:
            raise DownloadInputError(f"--start {options.start}: pages are numbered from 1")
    else:
        table = read_table(options.file)
    if options.group_ids:
        check_groups(client, options.group_ids)
    votes = options.update_training_set
    with ThreadPoolExecutor(max_workers=max(1, options.parallel)) as pool:
        if table is None:
            sources = parse_group_sources(
                client, options.group_ids, options.start or 1, votes, pool, progress
            )
        else:
            sources = file_sources(client, table, options.file, votes, pool, progress)
    path = download_path(options)
    sources.attrs = {
        "scope_code_version": __version__,
        "fritz_download_dateTime_utc": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S"),
        "fritz_download_group_ids": list(options.group_ids),
        "fritz_download_source": options.file,
    }
    write_table(sources, path)
    return sources, path
