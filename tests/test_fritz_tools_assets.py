"""The Fritz Dagster assets against the emulators: fritz_classifications (per field) with its
check, fritz_training_set, and the resource switch."""

from __future__ import annotations

import shutil
import warnings

import dagster as dg
import pytest
from conftest_emulator import EMULATOR_FRITZ_TOKEN
from fritz_tools_support import (
    FIELD,
    TARGET_GROUP,
    classifications_on_fritz,
    refuse_one_source,
    upload,
)

from resources.fritz import FritzResource
from resources.kowalski import KowalskiResource
from resources.services import service_resources
from resources.sky import SkySourceResource
from resources.storage import StorageResource
from scope_assets.defs.fritz_assets import (
    FRITZ_ASSETS,
    FRITZ_CHECKS,
    FritzDownloadConfig,
    FritzUploadConfig,
    fritz_classifications,
    fritz_classifications_all_rows_uploaded,
    fritz_training_set,
)
from scope_assets.io import read_table

warnings.filterwarnings("ignore", category=dg.PreviewWarning)


@pytest.fixture
def resources(fritz_emulator, fritz_sky, tmp_path):
    data = tmp_path / "data"
    (data / "preds_dnn_xgb").mkdir(parents=True)
    shutil.copy(fritz_sky.predictions, data / "preds_dnn_xgb" / f"field_{FIELD}.parquet")
    user, password = next(iter(fritz_emulator.kowalski_users.items()))
    return {
        "storage": StorageResource(data_dir=str(data)),
        "sky": SkySourceResource(archive_dir=str(fritz_sky.archive)),
        "fritz": FritzResource(
            base_url=fritz_emulator.fritz_url,
            token=EMULATOR_FRITZ_TOKEN,
            rate_limit_per_s=0,
            backoff_s=0.01,
            max_backoff_s=0.05,
        ),
        "kowalski": KowalskiResource(
            protocol="http",
            host=fritz_emulator.kowalski.host,
            port=fritz_emulator.kowalski.port,
            username=user,
            password=password,
            timeout_s=10,
        ),
    }


def _upload_config(**overrides) -> dg.RunConfig:
    return dg.RunConfig(
        ops={"fritz_classifications": FritzUploadConfig(group_ids=[TARGET_GROUP], **overrides)}
    )


def _materialize(resources, run_config):
    return dg.materialize(
        [fritz_classifications, fritz_classifications_all_rows_uploaded],
        partition_key=str(FIELD),
        resources=resources,
        run_config=run_config,
    )


def test_fritz_classifications_posts_then_sends_nothing(fritz_emulator, resources):
    first = _materialize(resources, _upload_config())
    assert first.success
    metadata = first.asset_materializations_for_node("fritz_classifications")[0].metadata
    assert metadata["rows_posted"].value > 0 and metadata["rows_failed"].value == 0
    assert metadata["p_threshold"].value == 0.7  # the config's training threshold
    assert metadata["result_file"].value.endswith(
        f"fritzUpload/field_{FIELD}_fritzUpload_results.parquet"
    )
    [check] = first.get_asset_check_evaluations()
    assert check.passed
    posted = classifications_on_fritz(fritz_emulator)
    assert len(posted) == len(set(posted)) > 0
    second = _materialize(resources, _upload_config())
    metadata = second.asset_materializations_for_node("fritz_classifications")[0].metadata
    assert metadata["rows_posted"].value == 0 and metadata["rows_skipped"].value == 60
    assert classifications_on_fritz(fritz_emulator) == posted


def test_check_fails_when_a_row_failed(fritz_emulator, fritz_sky, resources, tmp_path):
    refuse_one_source(fritz_emulator, fritz_sky, tmp_path)
    result = _materialize(resources, _upload_config())
    assert result.success  # the upload itself finished: the failure is data, and checked
    [check] = result.get_asset_check_evaluations()
    assert not check.passed and check.metadata["failed_rows"].value == 2


def test_fritz_training_set_downloads_and_merges(fritz_emulator, fritz_sky, resources, tmp_path):
    upload(fritz_emulator, fritz_sky.predictions, tmp_path)
    result = dg.materialize(
        [fritz_training_set],
        resources=resources,
        run_config=dg.RunConfig(
            ops={"fritz_training_set": FritzDownloadConfig(group_ids=[TARGET_GROUP])}
        ),
    )
    assert result.success
    metadata = result.asset_materializations_for_node("fritz_training_set")[0].metadata
    path = metadata["path"].value
    assert path.endswith("fritzDownload/merged_classifications_features.parquet")
    merged = read_table(path)
    assert len(merged) == metadata["dagster/row_count"].value > 0
    assert {"obj_id", "variable", "filter"} <= set(merged.columns) and merged.columns[
        -1
    ] == "ztf_id"


def test_definitions_with_fritz_assets_load():
    from scope_assets.defs.definitions import default_resources
    from scope_assets.defs.field_assets import FIELD_ASSETS, FIELD_CHECKS
    from scope_assets.defs.ml_assets import ML_ASSETS, ML_CHECKS
    from scope_assets.defs.report_assets import REPORT_ASSETS

    defs = dg.Definitions(
        assets=[*FIELD_ASSETS, *ML_ASSETS, *REPORT_ASSETS, *FRITZ_ASSETS],
        asset_checks=[*FIELD_CHECKS, *ML_CHECKS, *FRITZ_CHECKS],
        resources={**default_resources(), **service_resources({})},
    )
    dg.Definitions.validate_loadable(defs)


def test_service_switch():
    emulator = service_resources({})
    assert emulator["fritz"].base_url.startswith("http://127.0.0.1:")
    production = service_resources({"SCOPE_SERVICES": "production"})
    assert production["fritz"].base_url == "https://fritz.science"
    assert production["kowalski"].host == "kowalski.caltech.edu"
    with pytest.raises(ValueError, match="SCOPE_SERVICES='staging'"):
        service_resources({"SCOPE_SERVICES": "staging"})
