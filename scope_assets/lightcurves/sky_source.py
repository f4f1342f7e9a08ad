"""One interface over every place light curves come from: the local archive or Kowalski.

The field pipeline only talks to a :class:`SkySource`. :class:`ArchiveSkySource` serves the
local archive (the simulated sky or a user's IRSA files) and cross-matches against the
archive's catalogue tables; ``scope_assets.kowalski.kowalski_sky.KowalskiSkySource`` serves the same
methods from Kowalski.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol, runtime_checkable

import pandas as pd

from scope_assets.features.xmatch import XMATCH_COLUMNS, alert_stats, crossmatch, pairs_within
from scope_assets.lightcurves.archive import LocalArchive
from scope_assets.lightcurves.raw import RawLightCurves


@runtime_checkable
class SkySource(Protocol):
    """What the field pipeline needs from a light-curve service."""

    def fields(self) -> list[int]: ...

    def source_ids(
        self, field: int, ccd: int | None = None, quad: int | None = None, min_nobs: int = 0
    ) -> pd.DataFrame: ...

    def iter_light_curves(
        self,
        field: int,
        ids: list[int] | None = None,
        ccd: int | None = None,
        quad: int | None = None,
        batch_size: int = 1000,
    ) -> Iterator[RawLightCurves]: ...

    def crossmatch(self, sources: pd.DataFrame, radius_arcsec: float = 2.0) -> pd.DataFrame: ...

    def cone_ids(self, positions: pd.DataFrame, radius_arcsec: float) -> pd.DataFrame: ...

    def alert_stats(self, sources: pd.DataFrame, radius_arcsec: float = 2.0) -> pd.DataFrame: ...


class ArchiveSkySource:
    """A :class:`SkySource` over a :class:`LocalArchive` directory."""

    def __init__(self, archive: LocalArchive) -> None:
        self.archive = archive
        self._catalogs: dict[str, pd.DataFrame] = {}
        self._alerts: pd.DataFrame | None = None
        self._positions: pd.DataFrame | None = None

    def fields(self) -> list[int]:
        return self.archive.fields()

    def source_ids(
        self, field: int, ccd: int | None = None, quad: int | None = None, min_nobs: int = 0
    ) -> pd.DataFrame:
        return self.archive.source_ids(field, ccd=ccd, quad=quad, min_nobs=min_nobs)

    def iter_light_curves(
        self,
        field: int,
        ids: list[int] | None = None,
        ccd: int | None = None,
        quad: int | None = None,
        batch_size: int = 1000,
    ) -> Iterator[RawLightCurves]:
        return self.archive.iter_light_curves(
            field, ids=ids, ccd=ccd, quad=quad, batch_size=batch_size
        )

    def _catalog(self, name: str) -> pd.DataFrame | None:
        if name not in self._catalogs:
            self._catalogs[name] = self.archive.xmatch_catalog(name)
        return self._catalogs[name]

    def crossmatch(self, sources: pd.DataFrame, radius_arcsec: float = 2.0) -> pd.DataFrame:
        """``<Cat>__<col>`` and ``<Cat>___id`` columns for every catalogue, aligned with ``sources``."""
        parts = []
        for name, columns in XMATCH_COLUMNS.items():
            catalog = self._catalog(name)
            parts.append(crossmatch(sources, catalog, name, radius_arcsec, columns))
        return pd.concat(parts, axis=1)

    def cone_ids(self, positions: pd.DataFrame, radius_arcsec: float) -> pd.DataFrame:
        """Every light curve within the radius of each position (any field): ``row`` (the
        position's index label), ``_id``, ``ra``, ``dec``; ordered by row, then ``_id``."""
        if self._positions is None:
            frames = [self.source_ids(f)[["_id", "ra", "dec"]] for f in self.fields()]
            self._positions = pd.concat(frames, ignore_index=True).sort_values("_id")
        catalog = self._positions.reset_index(drop=True)
        rows, hits = pairs_within(positions, catalog, radius_arcsec)
        found = catalog.iloc[hits].reset_index(drop=True)
        found.insert(0, "row", positions.index[rows])
        return found

    def alert_stats(self, sources: pd.DataFrame, radius_arcsec: float = 2.0) -> pd.DataFrame:
        if self._alerts is None:
            self._alerts = self.archive.alerts()
        return alert_stats(sources, self._alerts, radius_arcsec)
