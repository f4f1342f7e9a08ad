"""The light-curve source of the field pipeline, chosen by configuration."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from resources.kowalski import KowalskiResource
from scope_assets.config import data_root
from scope_assets.io import DataLayout
from scope_assets.lightcurves.archive import LocalArchive
from scope_assets.lightcurves.sky_source import ArchiveSkySource, SkySource


class SkySourceResource(dg.ConfigurableResource):
    """Where light curves, catalogues and alerts come from.

    ``source="archive"`` (the default) reads the local archive at ``archive_dir`` (default
    ``<data root>/archive``: the simulated sky that ``scope-sim`` writes, or IRSA files).
    ``source="kowalski"`` queries Kowalski (or the emulator) through ``kowalski``; both give
    the same columns, so the downstream assets do not change.
    """

    source: str = "archive"
    archive_dir: str = ""
    kowalski: KowalskiResource | None = None

    def archive_path(self) -> Path:
        return Path(self.archive_dir) if self.archive_dir else DataLayout(data_root()).archive_dir

    def get_source(self) -> SkySource:
        if self.source == "archive":
            return ArchiveSkySource(LocalArchive(self.archive_path()))
        if self.source == "kowalski":
            if self.kowalski is None:
                raise ValueError("sky source 'kowalski' needs the kowalski resource configured")
            return self.kowalski.get_sky_source()
        raise ValueError(f"unknown sky source {self.source!r}; expected 'archive' or 'kowalski'")
