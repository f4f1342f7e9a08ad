"""Shared fixtures of the GCN tests: a small simulated sky served by the emulator, and the GCN
resources (events and candidates come from :mod:`scope_assets.testing.gcn_sky`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest_emulator import EMULATOR_FRITZ_TOKEN

from resources.fritz import FritzResource
from resources.gcn import GcnResource
from resources.sky import SkySourceResource
from resources.storage import StorageResource
from scope_assets.emulator import Emulator, start_emulator
from scope_assets.testing.gcn_sky import GcnSky, simulated_sky

GW_GROUP, GRB_GROUP = 1544, 48


@pytest.fixture(name="gcn_sky", scope="session")
def _gcn_sky(tmp_path_factory: pytest.TempPathFactory) -> GcnSky:
    """A simulated field 296 of 60 light curves (about 30 stars)."""
    return simulated_sky(tmp_path_factory.mktemp("gcn_sky"), 60)


@pytest.fixture(name="gcn_emulator")
def _gcn_emulator(gcn_sky: GcnSky) -> Iterator[Emulator]:
    with start_emulator(
        gcn_sky.archive, catalogs=gcn_sky.catalogs, fritz_tokens=[EMULATOR_FRITZ_TOKEN]
    ) as emulator:
        yield emulator


def fritz_resource(emulator: Emulator, **overrides) -> FritzResource:
    settings = dict(
        base_url=emulator.fritz_url,
        token=EMULATOR_FRITZ_TOKEN,
        rate_limit_per_s=0,
        max_retries=1,
        backoff_s=0.01,
        max_backoff_s=0.02,
        timeout_s=2.0,
    )
    return FritzResource(**{**settings, **overrides})


def gcn_resources(emulator: Emulator, sky: GcnSky, data: Path, **gcn) -> dict:
    """Every resource the GCN assets, sensor and schedule need (local archive, emulator Fritz)."""
    return {
        "storage": StorageResource(data_dir=str(data), config_path=str(sky.config)),
        "sky": SkySourceResource(archive_dir=str(sky.archive)),
        "fritz": fritz_resource(emulator),
        "gcn": GcnResource(**gcn),
    }
