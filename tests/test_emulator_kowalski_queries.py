"""The Kowalski emulator's query types against spec/services.md §A, through penquins."""

from __future__ import annotations

import math

import requests
from bson import ObjectId
from conftest_emulator import (
    EMULATOR_SOURCES,
    GAIA_BIG_ID,
    fixture_id,
    fixture_positions,
    kowalski_token,
    run_query,
)
from penquins import Kowalski


def test_find_filters_any_array_element_without_trimming_data(emulator_penquins):
    reply = run_query(
        emulator_penquins,
        "find",
        {
            "catalog": EMULATOR_SOURCES,
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
    query = {
        "catalog": EMULATOR_SOURCES,
        "filter": {"field": 296},
        "projection": {"_id": 0, "nobs": 1},
    }
    everything = run_query(emulator_penquins, "find", query, {"limit": 0, "sort": [["nobs", -1]]})[
        "data"
    ]
    assert len(everything) == 24 and all(set(d) == {"nobs"} for d in everything)
    assert [d["nobs"] for d in everything] == sorted((d["nobs"] for d in everything), reverse=True)
    only_ids = run_query(
        emulator_penquins, "find", {**query, "projection": {"_id": 1}}, {"sort": [["_id", 1]]}
    )["data"]
    assert all(set(d) == {"_id"} for d in only_ids)
    ids = [d["_id"] for d in only_ids]
    page = run_query(
        emulator_penquins,
        "find",
        {**query, "projection": {"_id": 1}},
        {"sort": [["_id", 1]], "skip": 5, "limit": 3},
    )
    assert [d["_id"] for d in page["data"]] == ids[5:8]


def test_find_without_filter_is_a_400_with_class_prefix(emulator_penquins):
    reply = run_query(emulator_penquins, "find", {"catalog": EMULATOR_SOURCES})
    assert reply["status"] == "error" and reply["message"].startswith("ValueError: ")


def test_find_one_without_a_match_omits_data_and_ignores_projection(emulator_penquins):
    nothing = run_query(
        emulator_penquins, "find_one", {"catalog": EMULATOR_SOURCES, "filter": {"_id": 1}}
    )
    assert nothing["status"] == "success" and "data" not in nothing
    one = run_query(
        emulator_penquins,
        "find_one",
        {"catalog": EMULATOR_SOURCES, "filter": {}, "projection": {"_id": 1}},
    )
    assert {"data", "coordinates", "nobs"} <= set(one["data"])
    point = one["data"]["data"][0]
    assert {"hjd", "mag", "magerr", "catflags", "programid", "expid", "uexpid"} <= set(point)
    assert "fid" not in point


def test_counts_ignore_skip_and_limit(emulator_penquins):
    count = run_query(
        emulator_penquins,
        "count_documents",
        {"catalog": EMULATOR_SOURCES, "filter": {"ccd": 1}},
        {"limit": 1, "skip": 3},
    )
    assert count["data"] == 16
    assert (
        run_query(emulator_penquins, "estimated_document_count", {"catalog": EMULATOR_SOURCES})[
            "data"
        ]
        == 24
    )


def test_missing_collection_is_empty(emulator):
    kowalski = Kowalski(
        token=kowalski_token(emulator),
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
    reply = run_query(
        emulator_penquins, "aggregate", {"catalog": EMULATOR_SOURCES, "pipeline": pipeline}
    )
    assert reply["data"] == [{"_id": 2, "n": 8}]
    forbidden = run_query(
        emulator_penquins, "aggregate", {"catalog": EMULATOR_SOURCES, "pipeline": [{"$out": "x"}]}
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
    data = run_query(emulator_penquins, "cone_search", query)["data"]["Gaia_EDR3"]
    assert data["far"] == [] and [d["_id"] for d in data["obj_1"]] == [str(GAIA_BIG_ID)]
    query["object_coordinates"]["cone_search_radius"] = 2.0 / 60
    query["object_coordinates"]["cone_search_unit"] = "arcmin"
    assert (
        len(run_query(emulator_penquins, "cone_search", query)["data"]["Gaia_EDR3"]["obj_1"]) == 2
    )
    query["catalogs"]["Gaia_EDR3"]["filter"] = {"phot_g_mean_mag": {"$gt": 18}}
    assert [
        d["_id"]
        for d in run_query(emulator_penquins, "cone_search", query)["data"]["Gaia_EDR3"]["obj_1"]
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
    data = run_query(emulator_penquins, "cone_search", query)["data"]["Gaia_EDR3"]
    assert list(data) == [str([ra, dec]).replace(".", "_")]
    query["object_coordinates"]["radec"] = "06:40:00.0 +20:00:00.0"
    assert list(run_query(emulator_penquins, "cone_search", query)["data"]["Gaia_EDR3"]) == [
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
    hits = run_query(emulator_penquins, "near", query)["data"]["Gaia_EDR3"]["target"]
    assert [h["_id"] for h in hits] == [str(GAIA_BIG_ID + 20), str(GAIA_BIG_ID + 21)]
    nearest = run_query(emulator_penquins, "near", query, {"limit": 1})["data"]["Gaia_EDR3"][
        "target"
    ]
    assert [h["_id"] for h in nearest] == [str(GAIA_BIG_ID + 20)]
    default_radius = {k: v for k, v in query.items() if k not in ("max_distance", "distance_units")}
    assert (
        len(run_query(emulator_penquins, "near", default_radius)["data"]["Gaia_EDR3"]["target"])
        == 2
    )  # 1′


def test_info_commands_and_unknown_query_type(emulator_penquins):
    index = emulator_penquins.api(
        "post",
        "api/queries",
        {"query_type": "info", "query": {"command": "index_info", "catalog": EMULATOR_SOURCES}},
    )
    assert index["data"]["_id_"] == {"v": 2, "key": [["_id", 1]]}
    assert any(v["key"] == [["field", 1], ["ccd", 1], ["quad", 1]] for v in index["data"].values())
    for command in ("catalog_info", "db_info"):
        info = emulator_penquins.api(
            "post",
            "api/queries",
            {"query_type": "info", "query": {"command": command, "catalog": EMULATOR_SOURCES}},
        )
        assert info["status"] == "success" and info["data"]
    unknown = emulator_penquins.api("post", "api/queries", {"query_type": "skymap", "query": {}})
    assert unknown["status"] == "error" and unknown["message"].startswith("KeyError: ")


def test_extended_json_types_and_silent_kwarg_filtering(emulator):
    headers = {"Authorization": kowalski_token(emulator)}
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
            "catalog": EMULATOR_SOURCES,
            "filter": {"_id": fixture_id(0, 1, 1)},
            "projection": {"data.mag": 1},
        },
    }
    text = requests.post(
        f"{emulator.kowalski_url}/api/queries", json=nan_body, headers=headers, timeout=5
    ).text
    assert '{"$numberDouble": "NaN"}' in text


def test_penquins_decodes_objectid_nan_and_large_ints(emulator_penquins):
    alert = run_query(
        emulator_penquins,
        "find_one",
        {"catalog": "ZTF_alerts", "filter": {"objectId": "ZTF20emu0001"}},
    )["data"]
    assert isinstance(alert["_id"], ObjectId) and alert["classifications"] == {}
    doc = run_query(
        emulator_penquins,
        "find",
        {
            "catalog": EMULATOR_SOURCES,
            "filter": {"_id": fixture_id(0, 1, 1)},
            "projection": {"data.mag": 1},
        },
    )
    assert math.isnan(doc["data"][0]["data"][2]["mag"])
    gaia = run_query(
        emulator_penquins, "find", {"catalog": "Gaia_EDR3", "filter": {"_id": str(GAIA_BIG_ID)}}
    )["data"]
    assert gaia[0]["_id"] == str(GAIA_BIG_ID)


def test_max_time_ms_and_emulated_cost(emulator, emulator_penquins):
    query = {"catalog": EMULATOR_SOURCES, "filter": {}}
    assert run_query(emulator_penquins, "find", query, {"max_time_ms": 0})["status"] == "error"
    emulator.kowalski.service.control("cost", {"ms_per_document": 10})
    slow = run_query(emulator_penquins, "find", query, {"max_time_ms": 100})
    assert slow["status"] == "error" and slow["message"].startswith("ExecutionTimeout")
    assert run_query(emulator_penquins, "find", query, {"max_time_ms": 1000})["status"] == "success"
