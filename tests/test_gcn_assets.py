"""The GCN assets materialized in-process for one event partition against the emulator: the
SCoPe files at each step, metadata, and the classifications on the candidates in Fritz."""

from __future__ import annotations

import warnings

import dagster as dg
import pytest
from conftest_emulator import EMULATOR_FRITZ_TOKEN
from gcn_support import (
    GW_GROUP,
    _gcn_sky,  # noqa: F401 - fixture
    gcn_resources,
)

from scope_assets.defs.gcn_assets import GCN_ASSETS, gcn_fritz_classifications
from scope_assets.emulator import start_emulator
from scope_assets.fritz.fritz_client import FritzClient
from scope_assets.io import read_parquet
from scope_assets.testing.gcn_sky import post_candidates, post_event, recent_dateobs, split_sky

warnings.filterwarnings("ignore", category=dg.PreviewWarning)
N_CANDIDATES = 6


@pytest.fixture(scope="module")
def module_emulator(gcn_sky):
    with start_emulator(
        gcn_sky.archive, catalogs=gcn_sky.catalogs, fritz_tokens=[EMULATOR_FRITZ_TOKEN]
    ) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("gcn_assets") / "data"


@pytest.fixture(scope="module")
def scored_event(module_emulator, gcn_sky, data_dir):
    """One GW event with 6 candidates, materialized once for the module."""
    gcn_emulator = module_emulator
    key = recent_dateobs(12)
    stars = split_sky(gcn_sky.stars, N_CANDIDATES)[0]
    post_event(gcn_emulator.fritz_url, key, ["GW"], stars)
    names = post_candidates(gcn_emulator.fritz_url, key, stars, "ZTF26cand")
    resources = gcn_resources(gcn_emulator, gcn_sky, data_dir)
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("gcn_events", [key])
    result = dg.materialize(GCN_ASSETS, partition_key=key, resources=resources, instance=instance)
    return key, names, resources, instance, result


def metadata(result, asset: str) -> dict:
    return {
        k: v.value for k, v in result.asset_materializations_for_node(asset)[0].metadata.items()
    }


def test_event_chain_writes_scope_files_and_reports(scored_event, data_dir):
    key, names, _, _, result = scored_event
    assert result.success
    label = key.replace(":", "-")
    data = data_dir
    sources = metadata(result, "gcn_sources")
    assert sources["fritz_sources"] == N_CANDIDATES
    assert sources["light_curves"] >= N_CANDIDATES
    assert sources["path"] == str(
        data / "fritzDownload" / f"specific_ids_GCN_sources.{label}.parquet"
    )
    features = read_parquet(
        data / "generated_features" / "specific_ids" / f"gen_features_{label}_specific_ids.parquet"
    )
    assert set(features["fritz_name"]) == set(names)
    for algorithm in ("xgb", "dnn"):
        preds = data / f"preds_{algorithm}" / f"field_{label}_specific_ids"
        assert (preds / f"field_{label}_specific_ids.parquet").exists()
        scored = metadata(result, f"gcn_{algorithm}_predictions")
        assert scored["scored"] == len(features)
    combined = metadata(result, "gcn_combined_predictions")
    assert combined["sources"] == N_CANDIDATES
    merged = read_parquet(data / "GCN_dnn_xgb" / label / f"merged_GCN_sources_{label}.parquet")
    assert list(merged.columns[:6]) == ["obj_id", "survey_id", "_id", "ra", "dec", "period"]
    assert "| class | obj_id | score |" in combined["top_candidates"]


def test_classifications_land_on_the_candidates_in_the_event_groups(
    scored_event, module_emulator, data_dir
):
    key, names, resources, instance, result = scored_event
    upload = metadata(result, "gcn_fritz_classifications")
    assert upload["group_ids"] == [GW_GROUP]
    label = key.replace(":", "-")
    merged = read_parquet(data_dir / "GCN_dnn_xgb" / label / f"merged_GCN_sources_{label}.parquet")
    stored = list(module_emulator.fritz_service.classifications.values())
    posted = {name: [c for c in stored if c["obj_id"] == name] for name in names}
    token = resources["fritz"].token
    with FritzClient(module_emulator.fritz_url, token, rate_limit_per_s=None) as client:
        comments = {name: client.get_comments(name) for name in names}
    scores = merged.set_index("obj_id").drop(columns=["survey_id", "_id", "ra", "dec", "period"])
    for name in names:
        expected = int((scores.loc[name] >= 0.7).sum()) + int(scores.loc[name, "vnv"] <= 0.3)
        assert len(posted[name]) == expected, name
        assert all(c["origin"] == "SCoPe" for c in posted[name])
        assert all(c["group_ids"] == [GW_GROUP] for c in posted[name])
        assert any("time series" in c["text"] for c in comments[name])
    again = dg.materialize(
        [gcn_fritz_classifications],
        partition_key=key,
        resources=resources,
        instance=instance,
        selection=[gcn_fritz_classifications],
    )
    rerun = metadata(again, "gcn_fritz_classifications")
    assert rerun.get("rows_posted", 0) == 0
