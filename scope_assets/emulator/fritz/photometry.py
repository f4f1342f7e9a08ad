"""Photometry uploads: POST rejects duplicates, PUT de-duplicates."""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping
from typing import Any

from scope_assets.emulator.fritz.common import (
    MAX_PHOTOMETRY_ROWS,
    ZTF_ZP,
    ApiError,
    User,
    parse_id_list,
    utcnow,
)
from scope_assets.emulator.fritz.state import FritzState
from scope_assets.emulator.server import Request


class PhotometryApi(FritzState):
    """Photometry uploads: POST rejects duplicates, PUT de-duplicates."""

    def _photometry_rows(self, body: Mapping[str, Any]) -> list[dict[str, Any]]:
        per_row = {k: v for k, v in body.items() if k not in ("group_ids", "altdata")}
        lengths = {len(v) for v in per_row.values() if isinstance(v, list)}
        if len(lengths) > 1:
            raise ApiError(400, "All photometry columns must have the same length")
        n = lengths.pop() if lengths else 1
        if n > MAX_PHOTOMETRY_ROWS:
            raise ApiError(
                400,
                f"Maximum number of photometry rows to post exceeded: {n} > {MAX_PHOTOMETRY_ROWS}",
            )
        rows = [
            {k: (v[i] if isinstance(v, list) else v) for k, v in per_row.items()} for i in range(n)
        ]
        for row in rows:
            self._check_photometry_row(row)
        return rows

    def _check_photometry_row(self, row: dict[str, Any]) -> None:
        for key in ("obj_id", "instrument_id", "mjd", "filter", "magsys"):
            if row.get(key) is None:
                raise ApiError(400, f"Invalid/missing parameters: {key} is required")
        if row["obj_id"] not in self.objs:
            raise ApiError(400, f"Invalid/missing parameters: object {row['obj_id']} not found")
        instrument = self.instruments.get(int(row["instrument_id"]))
        if instrument is None:
            raise ApiError(400, f"Invalid instrument ID: {row['instrument_id']}")
        if row["filter"] not in instrument["filters"]:
            raise ApiError(400, f"Instrument {instrument['name']} has no filter {row['filter']}")
        if row.get("flux") is None and row.get("mag") is None and row.get("limiting_mag") is None:
            raise ApiError(400, "Invalid/missing parameters: give mag/limiting_mag or flux")

    @staticmethod
    def _flux(row: Mapping[str, Any]) -> tuple[float | None, float | None]:
        if row.get("flux") is not None or row.get("fluxerr") is not None:
            zp = float(row.get("zp") or ZTF_ZP)
            scale = 10 ** (-0.4 * (zp - ZTF_ZP))
            flux = None if row.get("flux") is None else float(row["flux"]) / scale
            return flux, float(row["fluxerr"]) / scale
        mag, magerr = row.get("mag"), row.get("magerr")
        if mag is not None and not (isinstance(mag, float) and math.isnan(mag)):
            flux = 10 ** (-0.4 * (float(mag) - ZTF_ZP))
            return flux, float(magerr or 0.0) * flux * math.log(10) / 2.5
        limit = float(row["limiting_mag"])
        return None, 10 ** (-0.4 * (limit - ZTF_ZP)) / 5.0

    def _photometry_key(self, row: Mapping[str, Any]) -> tuple:
        flux, fluxerr = self._flux(row)

        def rounded(value: float | None) -> float | None:
            return None if value is None else float(f"{value:.10g}")

        return (
            row["obj_id"],
            int(row["instrument_id"]),
            row.get("origin"),
            float(row["mjd"]),
            rounded(flux),
            rounded(fluxerr),
        )

    def _insert_photometry(
        self, row: dict[str, Any], key: tuple, group_ids: list[int], upload_id: str
    ) -> int:
        pid = self._next_id("photometry")
        flux, fluxerr = self._flux(row)
        self.photometry[pid] = {
            "id": pid,
            "obj_id": row["obj_id"],
            "instrument_id": int(row["instrument_id"]),
            "mjd": float(row["mjd"]),
            "mag": row.get("mag"),
            "magerr": row.get("magerr"),
            "limiting_mag": row.get("limiting_mag"),
            "magsys": row["magsys"],
            "filter": row["filter"],
            "flux": flux,
            "fluxerr": fluxerr,
            "ra": row.get("ra"),
            "dec": row.get("dec"),
            "origin": row.get("origin"),
            "upload_id": upload_id,
            "group_ids": group_ids,
            "created_at": utcnow(),
        }
        self._photometry_keys[key] = pid
        return pid

    def _upload_photometry(self, request: Request, user: User, deduplicate: bool) -> dict[str, Any]:
        body = self._body(request)
        rows = self._photometry_rows(body)
        group_ids = self._user_group_ids(user, parse_id_list(body.get("group_ids")))
        keys = [self._photometry_key(row) for row in rows]
        existing = [k for k in keys if k in self._photometry_keys]
        if existing and not deduplicate:
            raise ApiError(
                400, f"The following photometry already exists in the database: {existing[:10]}"
            )
        upload_id = uuid.uuid4().hex
        ids = []
        for row, key in zip(rows, keys, strict=True):
            pid = self._photometry_keys.get(key)
            ids.append(
                pid if pid is not None else self._insert_photometry(row, key, group_ids, upload_id)
            )
        return {"ids": ids, "upload_id": upload_id}

    def _post_photometry(self, request: Request, user: User) -> dict[str, Any]:
        return self._upload_photometry(request, user, deduplicate=False)

    def _put_photometry(self, request: Request, user: User) -> dict[str, Any]:
        return self._upload_photometry(request, user, deduplicate=True)
