"""The Kowalski emulator's HTTP side against spec/services.md §A (auth, routes, limits, faults),
driven by the real penquins client."""

from __future__ import annotations

import pytest
import requests
from conftest_emulator import (
    EMULATOR_KOWALSKI_PASSWORD,
    EMULATOR_KOWALSKI_USER,
    EMULATOR_SOURCES,
    FIXTURE_CENTRE,
    fixture_id,
    fixture_positions,
    kowalski_auth,
    kowalski_token,
    run_query,
)
from penquins import Kowalski

from scope_assets.emulator import start_emulator
from scope_assets.emulator.kowalski_service import encode_token


def test_penquins_logs_in_and_caches_catalog_names_in_reverse_order(emulator_penquins):
    catalogs = emulator_penquins.instances["default"]["catalogs"]
    assert catalogs == sorted(catalogs, reverse=True)
    assert {
        EMULATOR_SOURCES,
        "ZTF_source_features_DR16",
        "Gaia_EDR3",
        "AllWISE",
        "PS1_DR1",
        "ZTF_alerts",
    } <= set(catalogs)
    assert emulator_penquins.ping()


def test_auth_errors_follow_the_spec(emulator):
    url = emulator.kowalski_url
    assert kowalski_auth(url, username=EMULATOR_KOWALSKI_USER, password="wrong").status_code == 401
    assert kowalski_auth(url, username=EMULATOR_KOWALSKI_USER, password="wrong").json() == {
        "status": "error",
        "message": "Unauthorized",
    }
    missing = kowalski_auth(url, password="x")
    assert (missing.status_code, missing.json()["message"]) == (400, "missing username")
    old = kowalski_auth(
        url,
        username=EMULATOR_KOWALSKI_USER,
        password=EMULATOR_KOWALSKI_PASSWORD,
        **{"penquins.__version__": "1.0.3"},
    )
    assert old.status_code == 400 and "unsupported version of penquins" in old.json()["message"]

    query = {"query_type": "info", "query": {"command": "catalog_names"}}
    garbage = requests.post(
        f"{url}/api/queries", json=query, headers={"Authorization": "abc.def.ghi"}, timeout=5
    )
    assert (garbage.status_code, garbage.json()["message"]) == (400, "token is invalid")
    assert requests.post(f"{url}/api/queries", json=query, timeout=5).status_code == 401
    bearer = requests.post(
        f"{url}/api/queries",
        json=query,
        headers={"Authorization": f"Bearer {kowalski_token(emulator)}"},
        timeout=5,
    )
    assert bearer.status_code == 200 and EMULATOR_SOURCES in bearer.json()["data"]


def test_expired_token_is_a_400(emulator):
    service = emulator.kowalski.service
    expired = encode_token(
        {"user_id": EMULATOR_KOWALSKI_USER, "exp": 1_000_000_000}, service.secret
    )
    reply = requests.get(emulator.kowalski_url + "/", headers={"Authorization": expired}, timeout=5)
    assert (reply.status_code, reply.json()["message"]) == (400, "token has expired")
    greeting = requests.get(
        emulator.kowalski_url + "/", headers={"Authorization": kowalski_token(emulator)}, timeout=5
    )
    assert greeting.json() == {"status": "success", "message": "greetings from Kowalski!"}


def test_penquins_with_a_wrong_password_fails_to_add_the_instance(emulator):
    with pytest.raises(ValueError, match="Failed to add instance default"):
        Kowalski(
            username=EMULATOR_KOWALSKI_USER,
            password="wrong",
            protocol="http",
            host="127.0.0.1",
            port=emulator.kowalski.port,
            verbose=False,
        )


def test_unknown_path_is_404_json_and_wrong_method_405_text(emulator):
    missing = requests.get(f"{emulator.kowalski_url}/api/nothing", timeout=5)
    assert (missing.status_code, missing.json()["message"]) == (404, "Not Found")
    wrong = requests.get(f"{emulator.kowalski_url}/api/queries", timeout=5)
    assert wrong.status_code == 405 and wrong.headers["Content-Type"].startswith("text/plain")


def test_body_over_one_mebibyte_is_413_plain_text(emulator, emulator_penquins):
    radec = {str(i): [FIXTURE_CENTRE[0], FIXTURE_CENTRE[1]] for i in range(60_000)}
    body = {
        "query_type": "cone_search",
        "query": {
            "object_coordinates": {
                "radec": radec,
                "cone_search_radius": 1,
                "cone_search_unit": "arcsec",
            },
            "catalogs": {"Gaia_EDR3": {}},
        },
    }
    raw = requests.post(
        f"{emulator.kowalski_url}/api/queries",
        json=body,
        headers={"Authorization": kowalski_token(emulator)},
        timeout=5,
    )
    assert raw.status_code == 413 and raw.headers["Content-Type"].startswith("text/plain")
    with pytest.raises(ValueError):  # penquins cannot decode a non-JSON body
        emulator_penquins.query(query=body)


def test_penquins_retries_5xx_and_429_then_succeeds(emulator, emulator_penquins):
    emulator.kowalski.log.clear()  # forget penquins' login queries
    emulator.kowalski.inject(503, count=2, path_regex="/api/queries")
    emulator.kowalski.inject(429, count=1, path_regex="/api/queries")
    reply = run_query(
        emulator_penquins, "count_documents", {"catalog": EMULATOR_SOURCES, "filter": {}}
    )
    assert reply["data"] == 24
    statuses = [r.status for r in emulator.kowalski.requests(path_regex="/api/queries")]
    assert statuses == [503, 503, 429, 200]


def test_penquins_gives_up_after_max_retries_with_retry_error(emulator, emulator_penquins):
    emulator.kowalski.log.clear()
    emulator.kowalski.inject(500, count=None, path_regex="/api/queries")
    with pytest.raises(requests.exceptions.RetryError):
        run_query(emulator_penquins, "count_documents", {"catalog": EMULATOR_SOURCES, "filter": {}})
    assert len(emulator.kowalski.requests(path_regex="/api/queries")) == 3 + 1  # max_retries + 1


def test_penquins_batch_returns_in_completion_order(emulator, emulator_penquins):
    ids = [fixture_id(0, 1, k) for k in range(4)]
    emulator.kowalski.inject(delay_s=0.3, body_regex=str(ids[0]))
    queries = [
        {
            "query_type": "find",
            "query": {"catalog": EMULATOR_SOURCES, "filter": {"_id": i}, "projection": {"_id": 1}},
        }
        for i in ids
    ]
    answers = emulator_penquins.query(queries=queries, use_batch_query=True, max_n_threads=4)[
        "default"
    ]
    returned = [a["data"][0]["_id"] for a in answers]
    assert sorted(returned) == ids and returned[-1] == ids[0]


@pytest.mark.parametrize("prefix", ["__emulator__", "_emulator"])
def test_control_routes_over_http(emulator, prefix):
    base = f"{emulator.kowalski_url}/{prefix}"
    added = requests.post(
        f"{base}/faults", json={"status": 502, "count": 1, "path_regex": "^/$"}, timeout=5
    )
    assert added.json()["data"][0]["status"] == 502
    assert requests.get(emulator.kowalski_url + "/", timeout=5).status_code == 502
    assert requests.get(emulator.kowalski_url + "/", timeout=5).status_code == 401
    log = requests.get(f"{base}/log", timeout=5).json()["data"]
    assert log == requests.get(f"{base}/requests", timeout=5).json()["data"]
    assert [(e["path"], e["status"], e["injected"]) for e in log] == [
        ("/", 502, True),
        ("/", 401, False),
    ]
    assert requests.post(f"{base}/faults", json={"nonsense": 1}, timeout=5).status_code == 400
    requests.post(f"{base}/reset", timeout=5)
    assert requests.get(f"{base}/requests", timeout=5).json()["data"] == []


def test_collections_split_over_two_instances(emulator_archive, emulator_catalogs):
    split = {
        "kowalski": ["ZTF_alerts", "Gaia_EDR3", "AllWISE", "PS1_DR1"],
        "melman": [EMULATOR_SOURCES, "ZTF_source_features_DR16"],
    }
    with start_emulator(
        emulator_archive, catalogs=emulator_catalogs, kowalski_instances=split, seed_fritz=False
    ) as emu:
        kowalski = Kowalski(instances=emu.penquins_instances(), verbose=False, timeout=5)
        count = kowalski.query(
            query={
                "query_type": "count_documents",
                "query": {"catalog": EMULATOR_SOURCES, "filter": {}},
            }
        )
        assert count == {
            "melman": {"status": "success", "message": "Successfully executed query", "data": 24}
        }
        _, _, ra, dec = fixture_positions()[0]
        cone = {
            "query_type": "cone_search",
            "query": {
                "object_coordinates": {
                    "radec": {"x": [ra, dec]},
                    "cone_search_radius": 2,
                    "cone_search_unit": "arcsec",
                },
                "catalogs": {
                    "Gaia_EDR3": {"projection": {"_id": 1}},
                    EMULATOR_SOURCES: {"projection": {"_id": 1}},
                },
            },
        }
        answers = kowalski.query(query=cone)
        assert set(answers) == {"kowalski", "melman"}
        assert len(answers["melman"]["data"][EMULATOR_SOURCES]["x"]) == 2
        assert emu.kowalski_servers["melman"].requests(path_regex="queries")
