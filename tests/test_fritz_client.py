"""FritzClient (and FritzResource) against the Fritz emulator: retries, limits, errors, no token leaks."""

from __future__ import annotations

import logging
import time

import dagster as dg
import pytest
from conftest_emulator import EMULATOR_FRITZ_TOKEN

from resources.fritz import FritzResource
from scope_assets.fritz.fritz_client import FritzClient
from scope_assets.fritz.fritz_transport import (
    FritzAuthError,
    FritzError,
    RateLimiter,
    encode_params,
)

GROUPS = "/api/groups"


def wait_for(condition, timeout_s: float = 5.0, interval_s: float = 0.01) -> None:
    """Poll ``condition`` until it is true or the deadline passes (then fail)."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {timeout_s} s")
        time.sleep(interval_s)


def fast_client(emulator, **overrides) -> FritzClient:
    settings = dict(
        timeout_s=2.0, max_retries=3, backoff_s=0.01, max_backoff_s=0.05, rate_limit_per_s=None
    )
    return FritzClient(emulator.fritz_url, EMULATOR_FRITZ_TOKEN, **{**settings, **overrides})


def test_list_parameters_are_comma_joined_and_booleans_spelled_out(emulator, emulator_fritz_client):
    assert encode_params({"group_ids": [48, 1544], "includeLabellers": True, "skip": None}) == {
        "group_ids": "48,1544",
        "includeLabellers": "true",
    }
    emulator.fritz_service.add_object("ZTFgrb", 10.0, 5.0, group_ids=[48])
    emulator.fritz_service.add_object("ZTFgw", 11.0, 5.0, group_ids=[1544])
    found = list(emulator_fritz_client.iter_sources({"group_ids": [48, 1544]}))
    assert {s["id"] for s in found} == {"ZTFgrb", "ZTFgw"}
    sent = emulator.fritz.requests("GET", "/api/sources")[0]
    assert sent.query["group_ids"] == ["48,1544"]
    assert sent.headers["Authorization"] == f"token {EMULATOR_FRITZ_TOKEN}"


def test_pagination_visits_every_source_once(emulator, emulator_fritz_client):
    for i in range(23):
        emulator.fritz_service.add_object(f"ZTFpage{i:03d}", 10.0 + i, 5.0, group_ids=[48])
    pages = list(
        emulator_fritz_client.paginate(
            "/api/sources", "sources", {"group_ids": [48]}, num_per_page=5
        )
    )
    assert [number for number, _ in pages] == [1, 2, 3, 4, 5]
    ids = [s["id"] for _, items in pages for s in items]
    assert sorted(ids) == [f"ZTFpage{i:03d}" for i in range(23)]


def test_a_429_storm_slows_the_client_but_loses_nothing(emulator):
    client = fast_client(emulator, max_retries=8)
    emulator.fritz.faults.set_rate_limit(rate=20.0, burst=2)
    results = [client.get(GROUPS) for _ in range(12)]
    assert all("user_groups" in r for r in results)
    statuses = [r.status for r in emulator.fritz.requests("GET", GROUPS)]
    assert statuses.count(200) == 12 and 429 in statuses


def test_html_429_and_5xx_pages_are_retried(emulator, emulator_fritz_client):
    emulator.fritz.inject(429, count=1)
    emulator.fritz.inject(502, count=1)
    emulator.fritz.inject(503, count=1, headers={"Retry-After": "0"})
    assert "user_groups" in emulator_fritz_client.get(GROUPS)
    assert [r.status for r in emulator.fritz.requests()] == [429, 502, 503, 200]


def test_retries_exhausted_raise_with_the_service_message(emulator, emulator_fritz_client):
    emulator.fritz.inject(500, count=None)
    with pytest.raises(FritzError) as caught:
        emulator_fritz_client.get(GROUPS)
    assert caught.value.status == 500 and "gave up after 4 attempts" in str(caught.value)
    assert str(caught.value).startswith("Fritz GET /api/groups: HTTP 500: Internal Server Error")
    assert len(emulator.fritz.requests()) == 4


def test_401_fails_fast_naming_the_service(emulator):
    client = FritzClient(emulator.fritz_url, "wrong-token", backoff_s=0.01, rate_limit_per_s=None)
    with pytest.raises(
        FritzAuthError, match=r"^Fritz GET /api/groups: HTTP 401: HTTP 401: Unauthorized"
    ):
        client.get(GROUPS)
    assert len(emulator.fritz.requests()) == 1


@pytest.mark.parametrize("status", [401, 403])
def test_injected_auth_faults_are_not_retried(emulator, emulator_fritz_client, status):
    emulator.fritz.inject(status, count=1)
    with pytest.raises(FritzAuthError, match=f"HTTP {status}"):
        emulator_fritz_client.get(GROUPS)
    assert len(emulator.fritz.requests()) == 1


def test_permanent_4xx_is_not_retried(emulator, emulator_fritz_client):
    with pytest.raises(FritzError, match="Invalid API endpoint"):
        emulator_fritz_client.get("/api/nothing")
    assert len(emulator.fritz.requests()) == 1


def test_slow_get_is_retried_then_surfaces_a_timeout(emulator):
    client = fast_client(emulator, timeout_s=0.1, max_retries=1)
    emulator.fritz.inject(delay_s=0.4, count=None, path_regex=GROUPS)
    with pytest.raises(FritzError, match="no answer within 0.1 s"):
        client.get(GROUPS)
    wait_for(lambda: len(emulator.fritz.requests("GET", GROUPS)) == 2)


def test_slow_post_is_not_retried(emulator, emulator_fritz_client):
    emulator.fritz_service.add_object("ZTFslow", 10.0, 5.0)
    client = fast_client(emulator, timeout_s=0.2)
    emulator.fritz.inject(delay_s=0.6, count=None, method="POST")
    item = {"obj_id": "ZTFslow", "classification": "RRab", "taxonomy_id": 1015, "probability": 1.0}
    with pytest.raises(FritzError, match="not retried"):
        client.post_classifications([item])
    wait_for(lambda: len(emulator.fritz.requests("POST")) == 1)
    emulator.fritz.faults.clear()
    assert len(emulator_fritz_client.get_classifications("ZTFslow")) == 1  # the server did it once


def test_batch_failure_at_item_k_keeps_the_earlier_items(emulator, emulator_fritz_client):
    emulator.fritz_service.add_object("ZTFbatch", 10.0, 5.0)
    emulator.fritz_service.fail_classification_batch(item=2)
    items = [
        {
            "obj_id": "ZTFbatch",
            "classification": label,
            "taxonomy_id": 1015,
            "probability": 0.8,
            "origin": "SCoPe",
        }
        for label in ("RRab", "RRc", "Mira", "YSO")
    ]
    with pytest.raises(
        FritzError, match="Error posting classification: injected failure at item 2"
    ) as caught:
        emulator_fritz_client.post_classifications(items)
    assert caught.value.status == 400
    kept = emulator_fritz_client.get_classifications("ZTFbatch")
    assert [c["classification"] for c in kept] == ["RRab", "RRc"]
    assert len(emulator_fritz_client.post_classifications(items)) == 4


def test_get_source_is_none_when_missing_in_both_server_versions(emulator, emulator_fritz_client):
    assert emulator_fritz_client.get_source("ZTFnothing") is None
    emulator.fritz_service.control("version", {"not_found_status": 400})
    assert emulator_fritz_client.get_source("ZTFnothing") is None
    assert emulator_fritz_client.get_source("ZTF20emu0000")["id"] == "ZTF20emu0000"


def test_endpoint_helpers_round_trip(emulator, emulator_fritz_client):
    client = emulator_fritz_client
    assert client.instrument_id("ZTF") == 1
    client.post_source("ZTFJ000001.00+000001.0", 0.1, 0.2, group_ids=[1458], origin="Fritz")
    client.save_to_groups("ZTFJ000001.00+000001.0", [48])
    aid = client.post_annotation("ZTFJ000001.00+000001.0", "uploadedperiod", {"period": 0.3})
    client.put_annotation("ZTFJ000001.00+000001.0", aid, {"period": 0.3, "survey_id": 5})
    assert client.get_annotations("ZTFJ000001.00+000001.0")[0]["data"] == {
        "period": 0.3,
        "survey_id": 5,
    }
    phot = {
        "obj_id": "ZTFJ000001.00+000001.0",
        "instrument_id": 1,
        "mjd": [59000.0],
        "mag": [17.0],
        "magerr": [0.1],
        "limiting_mag": 23.9,
        "magsys": "ab",
        "filter": "ztfg",
    }
    assert client.put_photometry(phot)["ids"] == client.put_photometry(phot)["ids"]
    first = client.post_comment("ZTFJ000001.00+000001.0", "hello")
    assert client.post_comment("ZTFJ000001.00+000001.0", "hello") == first
    assert [c["text"] for c in client.get_comments("ZTFJ000001.00+000001.0")] == ["hello"]
    assert {t["id"] for t in client.get_taxonomies()} >= {1015, 1017}
    assert len(list(client.iter_gcn_events())) == 2
    dateobs = next(client.iter_gcn_events())["dateobs"]
    assert client.get_gcn_event(dateobs)["dateobs"] == dateobs
    assert "user_groups" in client.get_groups()


def test_client_side_rate_limit_spaces_requests(emulator):
    client = fast_client(emulator, rate_limit_per_s=40.0, rate_limit_burst=1)
    started = time.monotonic()
    for _ in range(5):
        client.get(GROUPS)
    assert time.monotonic() - started >= 4 / 40.0 * 0.9


def test_rate_limiter_refills_over_time():
    now = [0.0]
    limiter = RateLimiter(rate=2.0, burst=2, clock=lambda: now[0])
    limiter.acquire()
    limiter.acquire()
    now[0] = 0.5  # one token back after half a second at 2/s
    limiter.acquire()
    assert limiter._tokens < 1.0


def test_no_token_in_logs_errors_or_repr(emulator, caplog):
    caplog.set_level(logging.DEBUG)
    client = fast_client(emulator)
    emulator.fritz.inject(503, count=2)
    client.get(GROUPS)
    emulator.fritz.inject(401, count=1)
    with pytest.raises(FritzAuthError) as caught:
        client.get(GROUPS)
    emulator.fritz.inject(
        500, count=None, body=f'{{"status": "error", "message": "echo {EMULATOR_FRITZ_TOKEN}"}}'
    )
    with pytest.raises(FritzError) as echoed:
        client.get(GROUPS)
    assert "retry" in caplog.text
    for text in (caplog.text, str(caught.value), str(echoed.value), repr(client)):
        assert EMULATOR_FRITZ_TOKEN not in text
    assert "<hidden>" in str(echoed.value)


def test_fritz_resource_builds_a_client_from_env(emulator, monkeypatch):
    monkeypatch.setenv("FRITZ_TOKEN", EMULATOR_FRITZ_TOKEN)
    resource = FritzResource(
        base_url=emulator.fritz_url, token=dg.EnvVar("FRITZ_TOKEN"), rate_limit_per_s=0
    )

    @dg.asset
    def groups(fritz: FritzResource) -> dg.MaterializeResult:
        client = fritz.get_client()
        return dg.MaterializeResult(metadata={"n_groups": len(client.get_groups()["user_groups"])})

    result = dg.materialize([groups], resources={"fritz": resource})
    assert result.success
    metadata = result.asset_materializations_for_node("groups")[0].metadata
    assert metadata["n_groups"].value >= 4
    assert EMULATOR_FRITZ_TOKEN not in repr(resource.get_client())
    assert EMULATOR_FRITZ_TOKEN not in "\n".join(str(event) for event in result.all_events)
