"""KowalskiClient (and KowalskiResource) against the Kowalski emulator."""

from __future__ import annotations

import logging

import dagster as dg
import pytest
from conftest_emulator import (
    EMULATOR_KOWALSKI_PASSWORD,
    EMULATOR_KOWALSKI_USER,
    EMULATOR_SOURCES,
    kowalski_client_for,
    kowalski_token,
)

from resources.kowalski import KowalskiResource
from scope_assets.kowalski.client import KowalskiAuthError, KowalskiClient, KowalskiError


def test_query_returns_data_and_batch_returns_every_answer(emulator_kowalski_client):
    assert (
        emulator_kowalski_client.query(
            "count_documents", {"catalog": EMULATOR_SOURCES, "filter": {"ccd": 2}}
        )
        == 8
    )
    assert (
        emulator_kowalski_client.query(
            "find_one", {"catalog": EMULATOR_SOURCES, "filter": {"_id": 1}}
        )
        is None
    )
    queries = [
        {
            "query_type": "count_documents",
            "query": {"catalog": EMULATOR_SOURCES, "filter": {"quad": q}},
        }
        for q in (1, 2, 3)
    ]
    assert sorted(emulator_kowalski_client.batch(queries)) == [8, 8, 8]
    assert "Gaia_EDR3" in emulator_kowalski_client.catalog_names()


def test_failed_query_raises_with_the_service_message(emulator_kowalski_client):
    with pytest.raises(
        KowalskiError, match=r"Kowalski find ZTF_sources_20240515 failed: ValueError"
    ):
        emulator_kowalski_client.query("find", {"catalog": EMULATOR_SOURCES})


def test_one_failing_batch_query_is_never_silent(emulator, emulator_kowalski_client):
    emulator.kowalski.inject(500, count=None, body_regex='"quad": 2')
    queries = [
        {
            "query_type": "count_documents",
            "query": {"catalog": EMULATOR_SOURCES, "filter": {"quad": q}},
        }
        for q in (1, 2, 3)
    ]
    with pytest.raises(KowalskiError, match="gave up after retries"):
        emulator_kowalski_client.batch(queries)


def test_wrong_password_is_an_auth_error_without_the_password(emulator):
    with pytest.raises(KowalskiAuthError) as caught:
        kowalski_client_for(emulator, password="not-the-password-123")
    assert "Unauthorized" in str(caught.value) and "not-the-password-123" not in str(caught.value)


def test_token_login_works_and_a_bad_token_fails_at_construction(emulator):
    token = kowalski_token(emulator)
    client = kowalski_client_for(emulator, username=None, password=None, token=token)
    assert client.query("estimated_document_count", {"catalog": EMULATOR_SOURCES}) == 24
    with pytest.raises(KowalskiAuthError, match="rejected the token") as caught:
        kowalski_client_for(emulator, username=None, password=None, token=token + "x")
    assert token not in str(caught.value)


def test_missing_credentials_are_a_clear_error():
    with pytest.raises(ValueError, match="KOWALSKI_TOKEN"):
        KowalskiClient(host="127.0.0.1", port=1)


def test_unreachable_instance_is_a_kowalski_error():
    with pytest.raises(KowalskiError, match="Kowalski"):
        KowalskiClient(
            protocol="http", host="127.0.0.1", port=9, token="t", timeout_s=0.5, max_retries=0
        )


def test_5xx_retried_then_exhausted(emulator, emulator_kowalski_client):
    emulator.kowalski.log.clear()
    emulator.kowalski.inject(502, count=1)
    assert (
        emulator_kowalski_client.query("estimated_document_count", {"catalog": EMULATOR_SOURCES})
        == 24
    )
    emulator.kowalski.inject(503, count=None)
    with pytest.raises(KowalskiError, match="gave up after retries"):
        emulator_kowalski_client.query("estimated_document_count", {"catalog": EMULATOR_SOURCES})
    assert [r.status for r in emulator.kowalski.requests()] == [502, 200, 503, 503, 503]


def test_injected_401_fails_fast_as_an_auth_error(emulator, emulator_kowalski_client):
    emulator.kowalski.log.clear()
    emulator.kowalski.inject(401, count=1, path_regex="queries")
    with pytest.raises(KowalskiAuthError, match="failed: Unauthorized"):
        emulator_kowalski_client.query("estimated_document_count", {"catalog": EMULATOR_SOURCES})
    assert len(emulator.kowalski.requests()) == 1


def test_slow_answers_become_a_kowalski_error(emulator):
    client = kowalski_client_for(emulator, timeout_s=0.2, max_retries=0)
    emulator.kowalski.inject(delay_s=0.6, count=1, path_regex="queries")
    with pytest.raises(KowalskiError, match="no answer"):
        client.query("estimated_document_count", {"catalog": EMULATOR_SOURCES})


def test_413_text_answer_is_a_kowalski_error(emulator_kowalski_client):
    radec = {str(i): [100.0, 20.0] for i in range(60_000)}
    query = {
        "object_coordinates": {
            "radec": radec,
            "cone_search_radius": 1,
            "cone_search_unit": "arcsec",
        },
        "catalogs": {"Gaia_EDR3": {}},
    }
    with pytest.raises(KowalskiError, match="not JSON"):
        emulator_kowalski_client.query("cone_search", query)


def test_multi_instance_cone_search_is_merged(emulator_archive, emulator_catalogs):
    from scope_assets.emulator import start_emulator

    split = {
        "kowalski": ["Gaia_EDR3", "AllWISE", "PS1_DR1", "ZTF_alerts"],
        "melman": [EMULATOR_SOURCES],
    }
    with start_emulator(
        emulator_archive, catalogs=emulator_catalogs, kowalski_instances=split, seed_fritz=False
    ) as emu:
        client = KowalskiClient(instances=emu.penquins_instances(), timeout_s=5, max_retries=0)
        query = {
            "object_coordinates": {
                "radec": {"x": [100.0, 20.0]},
                "cone_search_radius": 2,
                "cone_search_unit": "arcsec",
            },
            "catalogs": {
                "Gaia_EDR3": {"projection": {"_id": 1}},
                EMULATOR_SOURCES: {"projection": {"_id": 1}},
            },
        }
        data = client.query("cone_search", query)
        assert (
            set(data) == {"Gaia_EDR3", EMULATOR_SOURCES} and len(data[EMULATOR_SOURCES]["x"]) == 2
        )


def test_from_env_reads_url_and_credentials(emulator):
    env = {
        "KOWALSKI_URL": emulator.kowalski_url,
        "KOWALSKI_USERNAME": EMULATOR_KOWALSKI_USER,
        "KOWALSKI_PASSWORD": EMULATOR_KOWALSKI_PASSWORD,
        "KOWALSKI_TIMEOUT": "5",
    }
    client = KowalskiClient.from_env(env)
    assert client.addresses == {"default": f"127.0.0.1:{emulator.kowalski.port}"}
    assert client.query("estimated_document_count", {"catalog": EMULATOR_SOURCES}) == 24


def test_no_secret_in_logs(emulator, caplog):
    caplog.set_level(logging.DEBUG)
    client = kowalski_client_for(emulator)
    client.query("estimated_document_count", {"catalog": EMULATOR_SOURCES})
    session_token = client._kowalski.instances["default"]["token"]  # the token the client uses
    with pytest.raises(KowalskiAuthError) as rejected:
        kowalski_client_for(emulator, username=None, password=None, token="bad.token.value")
    assert session_token and "bad.token.value" not in str(rejected.value)
    for secret in (EMULATOR_KOWALSKI_PASSWORD, session_token, "bad.token.value"):
        assert secret not in caplog.text
        assert secret not in repr(client) and secret not in str(client)


def test_kowalski_resource_from_env(emulator, monkeypatch):
    monkeypatch.setenv("KOWALSKI_USERNAME", EMULATOR_KOWALSKI_USER)
    monkeypatch.setenv("KOWALSKI_PASSWORD", EMULATOR_KOWALSKI_PASSWORD)
    resource = KowalskiResource(
        protocol="http",
        host=emulator.kowalski.host,
        port=emulator.kowalski.port,
        username=dg.EnvVar("KOWALSKI_USERNAME"),
        password=dg.EnvVar("KOWALSKI_PASSWORD"),
        timeout_s=5,
    )

    @dg.asset
    def quad_count(kowalski: KowalskiResource) -> dg.MaterializeResult:
        ids = kowalski.get_sky_source().source_ids(296, ccd=1, quad=1)
        return dg.MaterializeResult(metadata={"n": len(ids)})

    result = dg.materialize([quad_count], resources={"kowalski": resource})
    assert result.success
    assert result.asset_materializations_for_node("quad_count")[0].metadata["n"].value == 8
    assert EMULATOR_KOWALSKI_PASSWORD not in "\n".join(str(event) for event in result.all_events)
