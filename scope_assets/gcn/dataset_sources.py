"""Sources of a user's table for ``run-scope-local``: ZTF light-curve ids or positions, plus an
object id, found by SCoPe's column aliases (case-insensitive).

Rows with ``ztf_id`` use it; rows with only ``ra``/``dec`` get every light curve within the cone
radius. Without an object id a row is named ``ZTF_<ztf_id>`` or by its IAU name
(``ZTFJhhmmss.ss±ddmmss.s``). The result is SCoPe's ids table (``ztf_id``, ``fritz_name``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from scope_assets.fritz.source_names import radec_to_iau_name
from scope_assets.gcn.specific_ids import SpecificIdsError
from scope_assets.io import read_table

ALIASES = {
    "ztf_id": ("ztf_id", "ztfid", "_id", "lc_id", "light_curve_id"),
    "obj_id": ("obj_id", "objid", "object_id", "fritz_name", "source_id", "name", "id"),
    "ra": ("ra", "ra_deg", "radeg", "raj2000", "ra_j2000", "right_ascension"),
    "dec": ("dec", "dec_deg", "decdeg", "dej2000", "decj2000", "dec_j2000", "declination"),
}


def find_columns(columns: list[str]) -> dict[str, str]:
    """Standard name → the table's column, for each alias group present (first alias wins)."""
    lowered = {c.lower(): c for c in columns}
    found = {}
    for name, aliases in ALIASES.items():
        column = next((lowered[a] for a in aliases if a in lowered), None)
        if column is not None:
            found[name] = column
    return found


def read_dataset_sources(path: str | Path) -> pd.DataFrame:
    """``obj_id`` (str) and ``ztf_id`` (Int64, NA when absent) / ``ra``, ``dec`` of each row."""
    table = read_table(path)
    columns = find_columns(list(table.columns))
    has_position = {"ra", "dec"} <= set(columns)
    if "ztf_id" not in columns and not has_position:
        raise SpecificIdsError(
            f"{path}: no ZTF id column ({', '.join(ALIASES['ztf_id'])}) and no ra/dec columns"
        )
    out = pd.DataFrame(index=table.index)
    ztf_ids = table[columns["ztf_id"]] if "ztf_id" in columns else pd.Series(pd.NA, table.index)
    out["ztf_id"] = pd.to_numeric(ztf_ids, errors="coerce").astype("Int64")
    for name in ("ra", "dec"):
        out[name] = pd.to_numeric(table[columns[name]], errors="coerce") if has_position else np.nan
    names = table[columns["obj_id"]].astype(object) if "obj_id" in columns else None
    out["obj_id"] = [_name(out, i, names) for i in range(len(out))]
    return out.reset_index(drop=True)


def _name(rows: pd.DataFrame, i: int, names: pd.Series | None) -> str:
    given = None if names is None else names.iloc[i]
    if given is not None and not pd.isna(given) and str(given).strip():
        return str(given).strip()
    ztf_id = rows["ztf_id"].iloc[i]
    if not pd.isna(ztf_id):
        return f"ZTF_{int(ztf_id)}"
    return radec_to_iau_name(rows["ra"].iloc[i], rows["dec"].iloc[i])


def dataset_ids(sources: pd.DataFrame, sky, radius_arcsec: float) -> pd.DataFrame:
    """SCoPe's ids table for the sources: given ids as they are, positions by cone search."""
    with_id = sources[sources["ztf_id"].notna()]
    ids = pd.DataFrame(
        {"ztf_id": with_id["ztf_id"].astype("int64"), "fritz_name": with_id["obj_id"]}
    )
    by_position = sources[sources["ztf_id"].isna()].reset_index(drop=True)
    if len(by_position):
        hits = sky.cone_ids(by_position[["ra", "dec"]], radius_arcsec)
        found = pd.DataFrame(
            {
                "ztf_id": hits["_id"].astype("int64").to_numpy(),
                "fritz_name": by_position["obj_id"].to_numpy()[hits["row"].to_numpy("int64")],
            }
        )
        ids = pd.concat([ids, found], ignore_index=True)
    return ids.drop_duplicates("ztf_id").reset_index(drop=True)
