"""The field pipeline against Kowalski (the emulator over real HTTP) equals the local archive."""

import dagster as dg
import pandas as pd
import pytest

from resources.execution import ExecutionResource
from resources.kowalski import KowalskiResource
from resources.sky import SkySourceResource
from resources.storage import StorageResource
from scope_assets.defs.field_assets import FIELD_ASSETS
from scope_assets.emulator.runtime import start_emulator
from scope_assets.features.field_steps import read_field_features
from scope_assets.io import DataLayout
from scope_assets.sim import simulate_field

FAST_CONFIG = "feature_generation:\n  max_freq: 8.0\n  samples_per_peak: 2\n  top_n_periods: 5\n"


def run_field(root, config, sky: SkySourceResource) -> pd.DataFrame:
    resources = {
        "storage": StorageResource(data_dir=str(root), config_path=str(config)),
        "sky": sky,
        "execution": ExecutionResource(),
    }
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            FIELD_ASSETS, partition_key="296", resources=resources, instance=instance
        )
    assert result.success
    return read_field_features(296, DataLayout(root)).sort_values("_id").reset_index(drop=True)


def test_kowalski_source_gives_the_archive_features(tmp_path):
    archive = tmp_path / "archive"
    simulate_field(archive, field=296, n_sources=30, seed=5)
    config = tmp_path / "scope.yaml"
    config.write_text(FAST_CONFIG)
    local = run_field(tmp_path / "local", config, SkySourceResource(archive_dir=str(archive)))
    with start_emulator(archive, kowalski_users={"tester": "pw-123"}) as emu:
        kowalski = KowalskiResource(
            protocol="http",
            host=emu.kowalski.host,
            port=emu.kowalski.port,
            username="tester",
            password="pw-123",
            timeout_s=30,
        )
        remote = run_field(
            tmp_path / "remote", config, SkySourceResource(source="kowalski", kowalski=kowalski)
        )
    assert len(local) > 0
    numeric = [c for c in local.columns if c != "dmdt"]
    pd.testing.assert_frame_equal(local[numeric], remote[numeric], check_dtype=False)
    for a, b in zip(local["dmdt"], remote["dmdt"], strict=True):
        assert pd.DataFrame(list(a)).equals(pd.DataFrame(list(b)))


def test_kowalski_source_needs_its_resource():
    with pytest.raises(ValueError, match="kowalski resource"):
        SkySourceResource(source="kowalski").get_source()
