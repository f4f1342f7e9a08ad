"""The Fritz emulator against spec/services.md §B, over raw HTTP (requests): auth, envelopes,
sources, groups, GCN events, rate limit and reset."""

from __future__ import annotations

from datetime import datetime, timedelta

import requests
from conftest_emulator import (
    EMULATOR_FRITZ_TOKEN,
    FRITZ_AUTH,
    FritzHttp,
    classification,
    fixture_positions,
)

from scope_assets.emulator.fritz import MALFORMED


def test_auth_header_must_be_token_form(emulator):
    url = emulator.fritz_url + "/api/sources"
    assert requests.get(url, timeout=5).json()["message"] == MALFORMED
    bearer = requests.get(
        url, headers={"Authorization": f"Bearer {EMULATOR_FRITZ_TOKEN}"}, timeout=5
    )
    assert (bearer.status_code, bearer.json()["message"]) == (401, MALFORMED)
    unknown = requests.get(url, headers={"Authorization": "token nope"}, timeout=5)
    assert (unknown.status_code, unknown.json()) == (
        401,
        {"status": "error", "message": "HTTP 401: Unauthorized", "data": {}, "version": "1.4.0"},
    )


def test_inactive_user_is_403_and_missing_acl_is_401(emulator, obj):
    emulator.fritz_service.add_user("gone", "expired-token", active=False)
    emulator.fritz_service.add_user("reader", "reader-token", acls=[])
    status, body = FritzHttp(emulator.fritz_url, {"Authorization": "token expired-token"})(
        "GET", "/api/groups"
    )
    assert status == 403 and "expired" in body["message"]
    reader = FritzHttp(emulator.fritz_url, {"Authorization": "token reader-token"})
    assert reader("GET", f"/api/sources/{obj}")[0] == 200
    assert reader("POST", "/api/classification", json=classification(obj))[0] == 401


def test_envelopes_and_unknown_endpoints(fritz):
    status, body = fritz("GET", "/api/instrument", params={"name": "ZTF"})
    assert status == 200 and body["status"] == "success" and body["version"] == "1.4.0"
    assert body["data"][0]["filters"] == ["ztfg", "ztfr", "ztfi"]
    status, body = fritz("GET", "/api/no_such_thing")
    assert (status, body["message"], body["data"]) == (400, "Invalid API endpoint", {})
    assert fritz("PATCH", "/api/sources")[0] == 405


def test_source_not_found_is_404_or_400_in_older_versions(emulator, fritz):
    status, body = fritz("GET", "/api/sources/ZTF00nothing")
    assert (status, body["message"], body["data"]) == (404, "Source not found", {})
    emulator.fritz_service.control("version", {"not_found_status": 400})
    assert fritz("GET", "/api/sources/ZTF00nothing")[0] == 400


def test_datetimes_are_naive_utc_and_microseconds_can_be_dropped(emulator, fritz, obj):
    created = fritz("GET", f"/api/sources/{obj}")[1]["data"]["modified"]
    assert datetime.fromisoformat(created).tzinfo is None
    emulator.fritz_service.control("version", {"microseconds": False})
    assert "." not in fritz("GET", f"/api/sources/{obj}")[1]["data"]["modified"]


def test_archive_alert_objects_are_seeded(fritz):
    status, body = fritz("GET", "/api/sources/ZTF20emu0000")
    assert status == 200 and {g["name"] for g in body["data"]["groups"]} == {
        "Sitewide Group",
        "SCoPe training set",
    }


def test_sources_pagination_caps_and_stable_order(emulator, fritz):
    for i in range(12):
        emulator.fritz_service.add_object(
            f"ZTFpage{i:03d}", 10.0 + i, 5.0, created_at=datetime(2021, 1, 1) + timedelta(hours=i)
        )
    status, body = fritz("GET", "/api/sources", params={"numPerPage": 1000})
    assert status == 200 and body["data"]["numPerPage"] == 500
    total = body["data"]["totalMatches"]
    ids = [s["id"] for s in body["data"]["sources"]]
    assert len(ids) == total == len(set(ids))
    pages = []
    for page in range(1, total // 5 + 2):
        data = fritz("GET", "/api/sources", params={"numPerPage": 5, "pageNumber": page})[1]["data"]
        assert data["totalMatches"] == total and data["pageNumber"] == page
        pages += [s["id"] for s in data["sources"]]
    assert pages == ids
    assert (
        fritz("GET", "/api/sources", params={"numPerPage": 5, "pageNumber": 99})[1]["data"][
            "sources"
        ]
        == []
    )
    assert fritz("GET", "/api/sources", params={"pageNumber": 0})[0] == 400


def test_repeated_list_parameter_keeps_the_last_value_and_commas_list(emulator, fritz):
    emulator.fritz_service.add_object("ZTFgrb", 10.0, 5.0, group_ids=[48])
    emulator.fritz_service.add_object("ZTFgw", 11.0, 5.0, group_ids=[1544])
    repeated = fritz("GET", "/api/sources?group_ids=48&group_ids=1544")[1]["data"]["sources"]
    assert [s["id"] for s in repeated] == ["ZTFgw"]
    both = fritz("GET", "/api/sources", params={"group_ids": "48,1544"})[1]["data"]["sources"]
    assert {s["id"] for s in both} == {"ZTFgrb", "ZTFgw"}


def test_cone_parameters_are_in_degrees(emulator, fritz, obj):
    _, _, ra, dec = fixture_positions()[0]
    near = fritz("GET", "/api/sources", params={"ra": ra, "dec": dec, "radius": 2 / 3600})[1][
        "data"
    ]["sources"]
    assert {s["id"] for s in near} == {obj, "ZTF20emu0000"}  # the seeded alert object is 0.2" away
    far = fritz("GET", "/api/sources", params={"ra": ra + 0.01, "dec": dec, "radius": 2 / 3600})
    assert far[1]["data"]["sources"] == []


def test_post_source_is_an_upsert_and_source_groups(emulator, fritz):
    body = {
        "id": "ZTFJ000001.00+000001.0",
        "ra": 0.1,
        "dec": 0.2,
        "group_ids": [1458],
        "origin": "Fritz",
    }
    assert fritz("POST", "/api/sources", json=body) == (
        200,
        {
            "status": "success",
            "data": {"id": body["id"], "saved_to_groups": [1458]},
            "version": "1.4.0",
        },
    )
    assert fritz("POST", "/api/sources", json=body)[0] == 200
    assert fritz("POST", "/api/sources", json={**body, "id": "bad id!"})[0] == 400
    status, reply = fritz(
        "POST", "/api/source_groups", json={"objId": body["id"], "inviteGroupIds": [1458]}
    )
    assert status == 400 and reply["message"] == "Source already saved to group w/ ID 1458"
    assert (
        fritz("POST", "/api/source_groups", json={"objId": body["id"], "inviteGroupIds": [48]})[0]
        == 200
    )
    groups = fritz("GET", f"/api/sources/{body['id']}/groups")[1]["data"]
    assert {g["id"] for g in groups} == {48, 1458}
    assert (
        fritz("POST", "/api/source_groups", json={"objId": "nope", "inviteGroupIds": [48]})[0]
        == 404
    )
    assert fritz("POST", "/api/source_groups", json={"objId": body["id"]})[0] == 400


def test_groups_and_taxonomies(fritz):
    groups = fritz("GET", "/api/groups")[1]["data"]
    assert {1, 48, 1458, 1544} <= {g["id"] for g in groups["user_groups"]}
    assert fritz("GET", "/api/groups", params={"name": "Sitewide Group"})[1]["data"][0]["id"] == 1
    taxonomies = fritz("GET", "/api/taxonomy")[1]["data"]
    assert {1011, 1012, 1015, 1017} <= {t["id"] for t in taxonomies}
    tree = {"class": "root", "subclasses": [{"class": "leaf"}]}
    body = {"name": "test tax", "version": "1", "hierarchy": tree}
    tid = fritz("POST", "/api/taxonomy", json=body)[1]["data"]["taxonomy_id"]
    assert fritz("GET", f"/api/taxonomy/{tid}")[1]["data"]["isLatest"] is True
    assert fritz("POST", "/api/taxonomy", json=body)[0] == 400
    status, reply = fritz(
        "POST", "/api/taxonomy", json={**body, "version": "2", "hierarchy": {"klass": "x"}}
    )
    assert (status, reply["message"]) == (400, "Hierarchy does not validate against the schema.")
    yaml_body = {
        "name": "test tax",
        "version": "3",
        "hierarchy_file": "class: root\nsubclasses:\n  - class: other\n",
    }
    newer = fritz("POST", "/api/taxonomy", json=yaml_body)[1]["data"]["taxonomy_id"]
    assert fritz("GET", f"/api/taxonomy/{tid}")[1]["data"]["isLatest"] is False
    assert fritz("GET", f"/api/taxonomy/{newer}")[1]["data"]["hierarchy"]["subclasses"] == [
        {"class": "other"}
    ]
    assert fritz("POST", "/api/taxonomy", json={**body, "version": "4", "colour": "red"})[0] == 400


def test_gcn_events_and_localization_queries(emulator, fritz):
    events = fritz("GET", "/api/gcn_event")[1]["data"]
    assert events["totalMatches"] == 2 and [e["tags"] for e in events["events"]] == [
        ["GRB", "Fermi"],
        ["GW"],
    ]
    gw = events["events"][1]
    one = fritz("GET", f"/api/gcn_event/{gw['dateobs']}")[1]["data"]
    assert one["localizations"][0]["localization_name"] == "bayestar.fits.gz"
    assert fritz("GET", "/api/gcn_event/2001-01-01T00:00:00")[0] == 404
    assert fritz("GET", "/api/gcn_event/not-a-date")[0] == 400
    dateobs = datetime.fromisoformat(gw["dateobs"])
    params = {"localizationDateobs": gw["dateobs"], "numPerPage": 100, "pageNumber": 1}
    assert fritz("GET", "/api/sources", params=params)[0] == 400
    window = {
        "startDate": dateobs.isoformat(),
        "endDate": (dateobs + timedelta(days=7)).isoformat(),
    }
    found = fritz("GET", "/api/sources", params={**params, **window})[1]["data"]["sources"]
    assert found and all(s["id"].startswith("ZTF20emu") for s in found)
    unknown = fritz(
        "GET",
        "/api/sources",
        params={**params, **window, "localizationDateobs": "2001-01-01T00:00:00"},
    )
    assert unknown[0] == 400 and unknown[1]["message"].startswith("Cannot retrieve sources")


def test_rate_limit_answers_nginx_html_429_without_retry_after(emulator):
    emulator.fritz.faults.set_rate_limit(rate=0.5, burst=3)
    replies = [
        requests.get(emulator.fritz_url + "/api/groups", headers=FRITZ_AUTH, timeout=5)
        for _ in range(4)
    ]
    assert [r.status_code for r in replies] == [200, 200, 200, 429]
    assert (
        replies[-1].headers["Content-Type"] == "text/html"
        and "Retry-After" not in replies[-1].headers
    )
    assert "<title>429 Too Many Requests</title>" in replies[-1].text
    other = requests.get(
        emulator.fritz_url + "/api/groups", headers={"Authorization": "token x"}, timeout=5
    )
    assert other.status_code == 401  # buckets are per Authorization value


def test_reset_restores_the_seeded_state(emulator, fritz, obj):
    fritz("POST", "/api/classification", json=classification(obj))
    requests.post(f"{emulator.fritz_url}/_emulator/reset", timeout=5)
    assert fritz("GET", f"/api/sources/{obj}")[0] == 404
    assert fritz("GET", "/api/sources/ZTF20emu0000")[0] == 200
    assert len(emulator.fritz.requests()) == 2  # the log was cleared by the reset
