"""The Kowalski emulator against spec/services.md §A, driven by the real penquins client."""

from __future__ import annotations

import math

import pytest
import requests
from bson import ObjectId
from conftest_emulator import (
    EMULATOR_KOWALSKI_PASSWORD,
    EMULATOR_KOWALSKI_USER,
    FIXTURE_CENTRE,
    GAIA_BIG_ID,
    fixture_id,
    fixture_positions,
)
from penquins import Kowalski

from scope_assets.emulator import start_emulator
from scope_assets.emulator.kowalski_service import encode_token

SOURCES = "ZTF_sources_20240515"


def run(kowalski: Kowalski, query_type: str, query: dict, kwargs: dict | None = None) -> dict:
    body = {"query_type": query_type, "query": query}
    if kwargs is not None:
        body["kwargs"] = kwargs
    return kowalski.query(query=body)["default"]


def auth(url: str, **body) -> requests.Response:
    return requests.post(f"{url}/api/auth", json=body, timeout=5)


def token_of(emulator) -> str:
    reply = auth(
        emulator.kowalski_url, username=EMULATOR_KOWALSKI_USER, password=EMULATOR_KOWALSKI_PASSWORD
    )
    return reply.json()["token"]


def test_penquins_logs_in_and_caches_catalog_names_in_reverse_order(emulator_penquins):
    catalogs = emulator_penquins.instances["default"]["catalogs"]
    assert catalogs == sorted(catalogs, reverse=True)
    assert {
        SOURCES,
        "ZTF_source_features_DR16",
        "Gaia_EDR3",
        "AllWISE",
        "PS1_DR1",
        "ZTF_alerts",
    } <= set(catalogs)
    assert emulator_penquins.ping()


def test_auth_errors_follow_the_spec(emulator):
    url = emulator.kowalski_url
    assert auth(url, username=EMULATOR_KOWALSKI_USER, password="wrong").status_code == 401
    assert auth(url, username=EMULATOR_KOWALSKI_USER, password="wrong").json() == {
        "status": "error",
        "message": "Unauthorized",
    }
    missing = auth(url, password="x")
    assert (missing.status_code, missing.json()["message"]) == (400, "missing username")
    old = auth(
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
        headers={"Authorization": f"Bearer {token_of(emulator)}"},
        timeout=5,
    )
    assert bearer.status_code == 200 and SOURCES in bearer.json()["data"]


def test_expired_token_is_a_400(emulator):
    service = emulator.kowalski.service
    expired = encode_token(
        {"user_id": EMULATOR_KOWALSKI_USER, "exp": 1_000_000_000}, service.secret
    )
    reply = requests.get(emulator.kowalski_url + "/", headers={"Authorization": expired}, timeout=5)
    assert (reply.status_code, reply.json()["message"]) == (400, "token has expired")
    greeting = requests.get(
        emulator.kowalski_url + "/", headers={"Authorization": token_of(emulator)}, timeout=5
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


def test_find_filters_any_array_element_without_trimming_data(emulator_penquins):
    reply = run(
        emulator_penquins,
        "find",
        {
            "catalog": SOURCES,
            "filter": {"data.catflags": 32768, "ccd": 1, "quad": 1},
            "projection": {"data.catflags": 1},
        },
    )
    assert reply["status"] == "success" and reply["message"] == "Successfully executed query"
    docs = reply["data"]
    assert len(docs) == 8
    for doc in docs:
        assert set(doc) == {"_id", "data"}
        assert set(doc["data"][0]) == {"catflags"}
        assert 0 in {p["catflags"] for p in doc["data"]}  # data not trimmed to the matching points


def test_find_projection_skip_limit_sort(emulator_penquins):
    query = {"catalog": SOURCES, "filter": {"field": 296}, "projection": {"_id": 0, "nobs": 1}}
    everything = run(emulator_penquins, "find", query, {"limit": 0, "sort": [["nobs", -1]]})["data"]
    assert len(everything) == 24 and all(set(d) == {"nobs"} for d in everything)
    assert [d["nobs"] for d in everything] == sorted((d["nobs"] for d in everything), reverse=True)
    only_ids = run(
        emulator_penquins, "find", {**query, "projection": {"_id": 1}}, {"sort": [["_id", 1]]}
    )["data"]
    assert all(set(d) == {"_id"} for d in only_ids)
    ids = [d["_id"] for d in only_ids]
    page = run(
        emulator_penquins,
        "find",
        {**query, "projection": {"_id": 1}},
        {"sort": [["_id", 1]], "skip": 5, "limit": 3},
    )
    assert [d["_id"] for d in page["data"]] == ids[5:8]


def test_find_without_filter_is_a_400_with_class_prefix(emulator_penquins):
    reply = run(emulator_penquins, "find", {"catalog": SOURCES})
    assert reply["status"] == "error" and reply["message"].startswith("ValueError: ")


def test_find_one_without_a_match_omits_data_and_ignores_projection(emulator_penquins):
    nothing = run(emulator_penquins, "find_one", {"catalog": SOURCES, "filter": {"_id": 1}})
    assert nothing["status"] == "success" and "data" not in nothing
    one = run(
        emulator_penquins, "find_one", {"catalog": SOURCES, "filter": {}, "projection": {"_id": 1}}
    )
    assert {"data", "coordinates", "nobs"} <= set(one["data"])
    point = one["data"]["data"][0]
    assert {"hjd", "mag", "magerr", "catflags", "programid", "expid", "uexpid"} <= set(point)
    assert "fid" not in point


def test_counts_ignore_skip_and_limit(emulator_penquins):
    count = run(
        emulator_penquins,
        "count_documents",
        {"catalog": SOURCES, "filter": {"ccd": 1}},
        {"limit": 1, "skip": 3},
    )
    assert count["data"] == 16
    assert run(emulator_penquins, "estimated_document_count", {"catalog": SOURCES})["data"] == 24


def test_missing_collection_is_empty(emulator):
    kowalski = Kowalski(
        token=token_of(emulator),
        protocol="http",
        host="127.0.0.1",
        port=emulator.kowalski.port,
        verbose=False,
    )
    reply = kowalski.api(
        "post",
        "api/queries",
        {"query_type": "find", "query": {"catalog": "nothing_here", "filter": {}}},
    )
    assert reply == {"status": "success", "message": "Successfully executed query", "data": []}


def test_aggregate_subset(emulator_penquins):
    pipeline = [
        {"$match": {"field": 296}},
        {"$group": {"_id": "$ccd", "n": {"$sum": 1}, "nobs": {"$sum": "$nobs"}}},
        {"$sort": {"_id": 1}},
        {"$project": {"n": 1}},
        {"$skip": 1},
        {"$limit": 5},
    ]
    reply = run(emulator_penquins, "aggregate", {"catalog": SOURCES, "pipeline": pipeline})
    assert reply["data"] == [{"_id": 2, "n": 8}]
    forbidden = run(
        emulator_penquins, "aggregate", {"catalog": SOURCES, "pipeline": [{"$out": "x"}]}
    )
    assert forbidden["status"] == "error"


def test_cone_search_keys_every_object_and_units(emulator_penquins):
    _, _, ra, dec = fixture_positions()[0]
    query = {
        "object_coordinates": {
            "radec": {"obj.1": [ra, dec], "far": [ra + 1.0, dec]},
            "cone_search_radius": 1.0,
            "cone_search_unit": "arcsec",
        },
        "catalogs": {"Gaia_EDR3": {"filter": {}, "projection": {"_id": 1}}},
    }
    data = run(emulator_penquins, "cone_search", query)["data"]["Gaia_EDR3"]
    assert data["far"] == [] and [d["_id"] for d in data["obj_1"]] == [str(GAIA_BIG_ID)]
    query["object_coordinates"]["cone_search_radius"] = 2.0 / 60
    query["object_coordinates"]["cone_search_unit"] = "arcmin"
    assert len(run(emulator_penquins, "cone_search", query)["data"]["Gaia_EDR3"]["obj_1"]) == 2
    query["catalogs"]["Gaia_EDR3"]["filter"] = {"phot_g_mean_mag": {"$gt": 18}}
    assert [
        d["_id"] for d in run(emulator_penquins, "cone_search", query)["data"]["Gaia_EDR3"]["obj_1"]
    ] == [str(GAIA_BIG_ID + 1)]


def test_cone_search_list_and_string_radec_forms(emulator_penquins):
    _, _, ra, dec = fixture_positions()[0]
    query = {
        "object_coordinates": {
            "radec": [[ra, dec]],
            "cone_search_radius": 2,
            "cone_search_unit": "arcsec",
        },
        "catalogs": {"Gaia_EDR3": {"projection": {"_id": 1}}},
    }
    data = run(emulator_penquins, "cone_search", query)["data"]["Gaia_EDR3"]
    assert list(data) == [str([ra, dec]).replace(".", "_")]
    query["object_coordinates"]["radec"] = "06:40:00.0 +20:00:00.0"
    assert list(run(emulator_penquins, "cone_search", query)["data"]["Gaia_EDR3"]) == [
        "06:40:00_0 +20:00:00_0"
    ]


def test_near_sorts_nearest_first(emulator_penquins):
    _, _, ra, dec = fixture_positions()[2]
    query = {
        "radec": {"target": [ra, dec]},
        "catalogs": {"Gaia_EDR3": {"filter": {}, "projection": {"_id": 1}}},
        "max_distance": 3,
        "distance_units": "arcsec",
    }
    hits = run(emulator_penquins, "near", query)["data"]["Gaia_EDR3"]["target"]
    assert [h["_id"] for h in hits] == [str(GAIA_BIG_ID + 20), str(GAIA_BIG_ID + 21)]
    nearest = run(emulator_penquins, "near", query, {"limit": 1})["data"]["Gaia_EDR3"]["target"]
    assert [h["_id"] for h in nearest] == [str(GAIA_BIG_ID + 20)]
    default_radius = {k: v for k, v in query.items() if k not in ("max_distance", "distance_units")}
    assert (
        len(run(emulator_penquins, "near", default_radius)["data"]["Gaia_EDR3"]["target"]) == 2
    )  # 1′


def test_info_commands_and_unknown_query_type(emulator_penquins):
    index = emulator_penquins.api(
        "post",
        "api/queries",
        {"query_type": "info", "query": {"command": "index_info", "catalog": SOURCES}},
    )
    assert index["data"]["_id_"] == {"v": 2, "key": [["_id", 1]]}
    assert any(v["key"] == [["field", 1], ["ccd", 1], ["quad", 1]] for v in index["data"].values())
    for command in ("catalog_info", "db_info"):
        info = emulator_penquins.api(
            "post",
            "api/queries",
            {"query_type": "info", "query": {"command": command, "catalog": SOURCES}},
        )
        assert info["status"] == "success" and info["data"]
    unknown = emulator_penquins.api("post", "api/queries", {"query_type": "skymap", "query": {}})
    assert unknown["status"] == "error" and unknown["message"].startswith("KeyError: ")


def test_extended_json_types_and_silent_kwarg_filtering(emulator):
    headers = {"Authorization": token_of(emulator)}
    body = {
        "query_type": "find",
        "query": {
            "catalog": "ZTF_alerts",
            "filter": {},
            "projection": {"classifications": 1, "candid": 1},
        },
        "kwargs": {"limit": 2, "not_a_kwarg": True, "sort": [["candid", 1]]},
    }
    raw = requests.post(
        f"{emulator.kowalski_url}/api/queries", json=body, headers=headers, timeout=5
    )
    assert raw.status_code == 200 and '"$oid"' in raw.text
    docs = raw.json()["data"]
    assert len(docs) == 2 and docs[0]["candid"] == 2_000_000_000_000_000_000
    nan_body = {
        "query_type": "find",
        "query": {
            "catalog": SOURCES,
            "filter": {"_id": fixture_id(0, 1, 1)},
            "projection": {"data.mag": 1},
        },
    }
    text = requests.post(
        f"{emulator.kowalski_url}/api/queries", json=nan_body, headers=headers, timeout=5
    ).text
    assert '{"$numberDouble": "NaN"}' in text


def test_penquins_decodes_objectid_nan_and_large_ints(emulator_penquins):
    alert = run(
        emulator_penquins,
        "find_one",
        {"catalog": "ZTF_alerts", "filter": {"objectId": "ZTF20emu0001"}},
    )["data"]
    assert isinstance(alert["_id"], ObjectId) and alert["classifications"] == {}
    doc = run(
        emulator_penquins,
        "find",
        {"catalog": SOURCES, "filter": {"_id": fixture_id(0, 1, 1)}, "projection": {"data.mag": 1}},
    )
    assert math.isnan(doc["data"][0]["data"][2]["mag"])
    gaia = run(
        emulator_penquins, "find", {"catalog": "Gaia_EDR3", "filter": {"_id": str(GAIA_BIG_ID)}}
    )["data"]
    assert gaia[0]["_id"] == str(GAIA_BIG_ID)


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
        headers={"Authorization": token_of(emulator)},
        timeout=5,
    )
    assert raw.status_code == 413 and raw.headers["Content-Type"].startswith("text/plain")
    with pytest.raises(ValueError):  # penquins cannot decode a non-JSON body
        emulator_penquins.query(query=body)


def test_max_time_ms_and_emulated_cost(emulator, emulator_penquins):
    query = {"catalog": SOURCES, "filter": {}}
    assert run(emulator_penquins, "find", query, {"max_time_ms": 0})["status"] == "error"
    emulator.kowalski.service.control("cost", {"ms_per_document": 10})
    slow = run(emulator_penquins, "find", query, {"max_time_ms": 100})
    assert slow["status"] == "error" and slow["message"].startswith("ExecutionTimeout")
    assert run(emulator_penquins, "find", query, {"max_time_ms": 1000})["status"] == "success"


def test_penquins_retries_5xx_and_429_then_succeeds(emulator, emulator_penquins):
    emulator.kowalski.log.clear()  # forget penquins' login queries
    emulator.kowalski.inject(503, count=2, path_regex="/api/queries")
    emulator.kowalski.inject(429, count=1, path_regex="/api/queries")
    reply = run(emulator_penquins, "count_documents", {"catalog": SOURCES, "filter": {}})
    assert reply["data"] == 24
    statuses = [r.status for r in emulator.kowalski.requests(path_regex="/api/queries")]
    assert statuses == [503, 503, 429, 200]


def test_penquins_gives_up_after_max_retries_with_retry_error(emulator, emulator_penquins):
    emulator.kowalski.log.clear()
    emulator.kowalski.inject(500, count=None, path_regex="/api/queries")
    with pytest.raises(requests.exceptions.RetryError):
        run(emulator_penquins, "count_documents", {"catalog": SOURCES, "filter": {}})
    assert len(emulator.kowalski.requests(path_regex="/api/queries")) == 3 + 1  # max_retries + 1


def test_penquins_batch_returns_in_completion_order(emulator, emulator_penquins):
    ids = [fixture_id(0, 1, k) for k in range(4)]
    emulator.kowalski.inject(delay_s=0.3, body_regex=str(ids[0]))
    queries = [
        {
            "query_type": "find",
            "query": {"catalog": SOURCES, "filter": {"_id": i}, "projection": {"_id": 1}},
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
        "melman": [SOURCES, "ZTF_source_features_DR16"],
    }
    with start_emulator(
        emulator_archive, catalogs=emulator_catalogs, kowalski_instances=split, seed_fritz=False
    ) as emu:
        kowalski = Kowalski(instances=emu.penquins_instances(), verbose=False, timeout=5)
        count = kowalski.query(
            query={"query_type": "count_documents", "query": {"catalog": SOURCES, "filter": {}}}
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
                    SOURCES: {"projection": {"_id": 1}},
                },
            },
        }
        answers = kowalski.query(query=cone)
        assert set(answers) == {"kowalski", "melman"}
        assert len(answers["melman"]["data"][SOURCES]["x"]) == 2
        assert emu.kowalski_servers["melman"].requests(path_regex="queries")
