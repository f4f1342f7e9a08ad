"""Photometry for Fritz sources from the sky source, and its plots as PNG comment attachments.

The light curves within the upload radius of each source are read from the project's sky
source (the local archive, Kowalski or the emulator), once per field for the whole upload.
Points are kept as SCoPe keeps them: unflagged (``catflags == 0``), finite, programid 1–3, HJD
up to the data release's end; magnitudes are AB with zero point 23.9, ``mjd = HJD − 2400000.5``,
and repeated (filter, mjd) points are dropped.
"""

from __future__ import annotations

import base64
import io
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from scope_assets.fritz.fritz_snapshot import chord, unit_vectors
from scope_assets.lightcurves.raw import HJD_OFFSET
from scope_assets.lightcurves.sky_source import SkySource

FRITZ_FILTERS = {1: "ztfg", 2: "ztfr", 3: "ztfi"}
ZTF_ZERO_POINT = 23.9
PROGRAM_IDS = (1, 2, 3)
PLOT_STYLE = {"ztfg": ("green", "."), "ztfr": ("red", "D"), "ztfi": ("gold", "s")}
PHASE_T0_MJD = 58000.0
_RENDER_LOCK = threading.Lock()


@dataclass(frozen=True)
class Photometry:
    """Points of one source, ready for ``PUT /api/photometry``."""

    mjd: np.ndarray
    mag: np.ndarray
    magerr: np.ndarray
    filter: np.ndarray
    ra: np.ndarray
    dec: np.ndarray

    def __len__(self) -> int:
        return len(self.mjd)

    def payload(self, obj_id: str, instrument_id: int, group_ids: Sequence[int]) -> dict:
        return {
            "obj_id": obj_id,
            "instrument_id": instrument_id,
            "mjd": self.mjd.tolist(),
            "mag": self.mag.tolist(),
            "magerr": self.magerr.tolist(),
            "limiting_mag": ZTF_ZERO_POINT,
            "magsys": "ab",
            "filter": self.filter.tolist(),
            "ra": self.ra.tolist(),
            "dec": self.dec.tolist(),
            "group_ids": list(group_ids),
        }


def _merge(parts: list[Photometry]) -> Photometry:
    names = ("mjd", "mag", "magerr", "filter", "ra", "dec")
    joined = {n: np.concatenate([getattr(p, n) for p in parts]) for n in names}
    keys = np.char.add(joined["filter"].astype(str), joined["mjd"].astype(str))
    _, first = np.unique(keys, return_index=True)
    keep = np.sort(first)
    keep = keep[np.argsort(joined["mjd"][keep], kind="stable")]
    return Photometry(**{n: joined[n][keep] for n in names})


class LightCurveLookup:
    """Photometry near positions, read from a :class:`SkySource` once per field."""

    def __init__(
        self, sky: SkySource, radius_arcsec: float, max_timestamp_hjd: float | None = None
    ) -> None:
        self.sky = sky
        self.radius_arcsec = radius_arcsec
        self.max_timestamp_hjd = max_timestamp_hjd

    def _curve(self, raw, i: int) -> Photometry:
        a, b = int(raw.batch.offsets[i]), int(raw.batch.offsets[i + 1])
        t, mag, magerr = raw.batch.t[a:b], raw.batch.mag[a:b], raw.batch.magerr[a:b]
        keep = (
            (raw.catflags[a:b] == 0)
            & np.isin(raw.programid[a:b], PROGRAM_IDS)
            & np.isfinite(t)
            & np.isfinite(mag)
            & np.isfinite(magerr)
        )
        if self.max_timestamp_hjd is not None:
            keep &= t <= self.max_timestamp_hjd
        n = int(keep.sum())
        meta = raw.meta.iloc[i]
        return Photometry(
            mjd=t[keep] - HJD_OFFSET,
            mag=mag[keep],
            magerr=magerr[keep],
            filter=np.full(n, FRITZ_FILTERS[int(meta["filter"])]),
            ra=np.full(n, float(meta["ra"])),
            dec=np.full(n, float(meta["dec"])),
        )

    def _field(self, field: int, targets: list[tuple[str, float, float]]) -> dict[str, Photometry]:
        meta = self.sky.source_ids(field)
        if meta.empty:
            return {}
        tree = cKDTree(unit_vectors(meta["ra"].to_numpy(), meta["dec"].to_numpy()))
        points = unit_vectors(np.array([t[1] for t in targets]), np.array([t[2] for t in targets]))
        near = tree.query_ball_point(points, chord(self.radius_arcsec))
        ids_of = {
            key: meta["_id"].to_numpy()[idx].tolist()
            for (key, _, _), idx in zip(targets, near, strict=True)
        }
        wanted = sorted({i for ids in ids_of.values() for i in ids})
        curves: dict[int, Photometry] = {}
        for raw in self.sky.iter_light_curves(field, ids=wanted) if wanted else []:
            for i, lc_id in enumerate(raw.meta["_id"].to_numpy()):
                curves[int(lc_id)] = self._curve(raw, i)
        return {
            key: _merge([curves[i] for i in ids if i in curves])
            for key, ids in ids_of.items()
            if any(i in curves for i in ids)
        }

    def photometry(self, targets: Iterable[tuple[str, int, float, float]]) -> dict[str, Photometry]:
        """(key, field, ra, dec) → merged photometry of the light curves within the radius."""
        by_field: dict[int, list[tuple[str, float, float]]] = {}
        for key, field, ra, dec in targets:
            by_field.setdefault(int(field), []).append((key, ra, dec))
        found: dict[str, Photometry] = {}
        for field, items in sorted(by_field.items()):
            found.update(self._field(field, items))
        return found


def render_plot(phot: Photometry, title: str, period: float | None = None) -> bytes:
    """A PNG of the time series (or, with ``period``, the phase-folded curve)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    with _RENDER_LOCK:
        fig = Figure(figsize=(6, 4))
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        for name, (color, marker) in PLOT_STYLE.items():
            band = phot.filter == name
            if not band.any():
                continue
            x = phot.mjd[band] - PHASE_T0_MJD
            if period is not None:
                x = np.mod(x / period, 1.0)
            ax.scatter(x, phot.mag[band], s=3, color=color, marker=marker, label=name)
        ax.invert_yaxis()
        ax.set_ylabel("AB mag")
        ax.set_xlabel("Phase" if period is not None else f"MJD - {PHASE_T0_MJD:.0f}")
        ax.set_title(title, fontsize=10)
        ax.legend(ncol=3, fontsize=8)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    return buffer.getvalue()


def attachment(png: bytes, name: str) -> dict[str, str]:
    """A comment attachment: base64 body and file name."""
    return {"body": base64.b64encode(png).decode("ascii"), "name": name}
