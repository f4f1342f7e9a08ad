"""The Fritz emulator against spec/services.md §B, over raw HTTP (requests)."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta

import pytest
import requests
from conftest_emulator import EMULATOR_FRITZ_TOKEN, fixture_positions

from scope_assets.emulator.fritz import MALFORMED

AUTH = {"Authorization": f"token {EMULATOR_FRITZ_TOKEN}"}


class Fritz:
    """Tiny raw-HTTP helper: returns (status, body json) so tests see exactly what the server sent."""

    def __init__(self, url: str, headers: dict | None = None) -> None:
        self.url = url
        self.headers = AUTH if headers is None else headers

    def __call__(
        self, method: str, path: str, headers: dict | None = None, **kwargs
    ) -> tuple[int, dict]:
        headers = {**self.headers, **(headers or {})}
        reply = requests.request(method, self.url + path, headers=headers, timeout=5, **kwargs)
        return reply.status_code, reply.json()


@pytest.fixture
def fritz(emulator) -> Fritz:
    return Fritz(emulator.fritz_url)


@pytest.fixture
def obj(emulator) -> str:
    """An object saved to the Sitewide group."""
    _, _, ra, dec = fixture_positions()[0]
    emulator.fritz_service.add_object("ZTFJ064000.00+200000.0", ra, dec)
    return "ZTFJ064000.00+200000.0"


def classification(obj_id: str, label: str = "RRab", **extra) -> dict:
    return {
        "obj_id": obj_id,
        "classification": label,
        "taxonomy_id": 1015,
        "probability": 0.9,
        "origin": "SCoPe",
        **extra,
    }


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
    status, body = Fritz(emulator.fritz_url, {"Authorization": "token expired-token"})(
        "GET", "/api/groups"
    )
    assert status == 403 and "expired" in body["message"]
    reader = Fritz(emulator.fritz_url, {"Authorization": "token reader-token"})
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


def test_classification_single_batch_votes_and_labels(fritz, obj):
    status, body = fritz("POST", "/api/classification", json=classification(obj))
    assert status == 200 and "classification_id" in body["data"]
    ids = fritz(
        "POST",
        "/api/classification",
        json={
            "classifications": [
                classification(obj),
                classification(obj, "variable", taxonomy_id=1017),
            ]
        },
    )[1]["data"]["classification_ids"]
    assert len(ids) == 2
    source = fritz("GET", f"/api/sources/{obj}", params={"includeLabellers": "true"})[1]["data"]
    assert len(source["classifications"]) == 3  # duplicates are accepted
    assert all(c["votes"][0]["vote"] == 1 for c in source["classifications"])
    assert source["labellers"][0]["username"] == "scope-user-1"
    listing = fritz("GET", "/api/sources", params={"includeLabellers": True})[1]["data"]["sources"]
    listed = next(s for s in listing if s["id"] == obj)
    assert all(c["votes"] == [] for c in listed["classifications"])
    assert {"id", "obj_id", "labeller_id", "group_id"} == set(listed["labellers"][0])
    cid = ids[0]
    assert fritz("POST", f"/api/classification/votes/{cid}", json={"vote": -1})[0] == 200
    votes = fritz("GET", f"/api/classification/{cid}")[1]["data"]["votes"]
    assert [v["vote"] for v in votes] == [-1]


def test_classification_validation(fritz, obj):
    assert (
        fritz("POST", "/api/classification", json=classification(obj, "rrab"))[0] == 400
    )  # case-sensitive
    assert fritz("POST", "/api/classification", json=classification(obj, taxonomy_id=9))[0] == 400
    assert fritz("POST", "/api/classification", json=classification(obj, probability=1.5))[0] == 400
    assert fritz("POST", "/api/classification", json=classification("ZTFnothing"))[0] == 400


def test_batch_commits_item_by_item(fritz, obj):
    batch = [
        classification(obj),
        classification(obj, "RRc"),
        classification(obj, "not a class"),
        classification(obj),
    ]
    status, body = fritz("POST", "/api/classification", json={"classifications": batch})
    assert status == 400 and body["message"].startswith("Error posting classification:")
    kept = fritz("GET", f"/api/sources/{obj}/classifications")[1]["data"]
    assert [c["classification"] for c in kept] == ["RRab", "RRc"]


def test_injected_batch_failure_at_item_k(emulator, fritz, obj):
    requests.post(f"{emulator.fritz_url}/_emulator/batch_failure", json={"item": 1}, timeout=5)
    status, body = fritz(
        "POST", "/api/classification", json={"classifications": [classification(obj)] * 3}
    )
    assert status == 400 and "injected failure at item 1" in body["message"]
    assert len(fritz("GET", f"/api/sources/{obj}/classifications")[1]["data"]) == 1
    assert (
        fritz("POST", "/api/classification", json={"classifications": [classification(obj)] * 3})[0]
        == 200
    )


def test_delete_classifications(emulator, fritz, obj):
    cid = fritz("POST", "/api/classification", json=classification(obj))[1]["data"][
        "classification_id"
    ]
    emulator.fritz_service.add_user("other", "other-token")
    other = Fritz(emulator.fritz_url, {"Authorization": "token other-token"})
    status, body = other("DELETE", f"/api/classification/{cid}", json={"label": False})
    assert (status, body["message"]) == (400, f"Cannot find a classification with ID: {cid}.")
    assert fritz("DELETE", f"/api/classification/{cid}", json={"label": False})[0] == 200
    fritz("POST", "/api/classification", json=classification(obj))
    assert fritz("DELETE", f"/api/sources/{obj}/classifications", json={"label": True})[0] == 200
    assert fritz("GET", f"/api/sources/{obj}/classifications")[1]["data"] == []
    listing = fritz("GET", "/api/classification", params={"numPerPage": 10})[1]["data"]
    assert listing == {"classifications": [], "totalMatches": 0}


def test_annotations_unique_per_origin_and_put_replaces(emulator, fritz, obj):
    status, body = fritz(
        "POST",
        f"/api/sources/{obj}/annotations",
        json={"origin": "uploadedperiod", "data": {"period": 0.5}},
    )
    aid = body["data"]["annotation_id"]
    status, body = fritz(
        "POST",
        f"/api/sources/{obj}/annotations",
        json={"origin": "uploadedperiod", "data": {"period": 1}},
    )
    assert status == 400 and body["message"].startswith("Annotation already exists")
    assert (
        fritz(
            "PUT",
            f"/api/sources/{obj}/annotations/{aid}",
            json={"data": {"survey_id": "x"}, "obj_id": aid},
        )[0]
        == 200
    )
    annotations = fritz("GET", f"/api/sources/{obj}/annotations")[1]["data"]
    assert [a["data"] for a in annotations] == [{"survey_id": "x"}]
    assert (
        fritz(
            "POST", "/api/sources/ZTFnothing/annotations", json={"origin": "x", "data": {"a": 1}}
        )[0]
        == 404
    )
    emulator.fritz_service.add_user("other", "other-token", group_ids=[])
    other = Fritz(emulator.fritz_url, {"Authorization": "token other-token"})
    assert other("PUT", f"/api/sources/{obj}/annotations/{aid}", json={"data": {}})[0] == 403
    status, body = other("GET", f"/api/sources/{obj}/annotations")
    assert (status, body["message"]) == (403, "Could not find any accessible annotations.")
    assert fritz("DELETE", f"/api/sources/{obj}/annotations/{aid}")[0] == 200


def test_nan_in_stored_data_comes_back_as_null(fritz, obj):
    fritz(
        "POST",
        f"/api/sources/{obj}/annotations",
        data='{"origin": "nan_test", "data": {"x": NaN}}',
        headers={"Content-Type": "application/json"},
    )
    annotations = fritz("GET", f"/api/sources/{obj}/annotations")[1]["data"]
    assert annotations[0]["data"] == {"x": None}


def test_photometry_post_rejects_duplicates_and_put_is_idempotent(fritz, obj):
    body = {
        "obj_id": obj,
        "instrument_id": 1,
        "mjd": [59000.1, 59001.2],
        "mag": [17.1, 17.2],
        "magerr": [0.02, 0.03],
        "limiting_mag": 23.9,
        "magsys": "ab",
        "filter": "ztfr",
        "group_ids": [1],
    }
    status, first = fritz("POST", "/api/photometry", json=body)
    assert status == 200 and len(first["data"]["ids"]) == 2
    status, again = fritz("POST", "/api/photometry", json=body)
    assert status == 400 and "already exists" in again["message"]
    assert fritz("PUT", "/api/photometry", json=body)[1]["data"]["ids"] == first["data"]["ids"]
    assert fritz("PUT", "/api/photometry", json={**body, "filter": "ztfq"})[0] == 400
    too_many = {**body, "mjd": [59000.0 + i for i in range(10_001)], "mag": 17.0, "magerr": 0.1}
    assert fritz("PUT", "/api/photometry", json=too_many)[0] == 400


def test_comments_repost_returns_same_id_and_attachments_are_checked(fritz, obj):
    png = "data:image/png;base64," + base64.b64encode(b"\x89PNG fake").decode()
    body = {"text": "ZTF source within 2 arcsec", "attachment": {"body": png, "name": "lc.png"}}
    cid = fritz("POST", f"/api/sources/{obj}/comments", json=body)[1]["data"]["comment_id"]
    status, again = fritz("POST", f"/api/sources/{obj}/comments", json=body)
    assert (again["data"]["comment_id"], again["message"]) == (cid, "Same comment already exists.")
    comments = fritz("GET", f"/api/sources/{obj}/comments")[1]["data"]
    assert [c["attachment_name"] for c in comments] == ["lc.png"]
    bad = {"text": "x", "attachment": {"body": "%%% not base64", "name": "a.png"}}
    assert fritz("POST", f"/api/sources/{obj}/comments", json=bad)[0] == 400


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
        requests.get(emulator.fritz_url + "/api/groups", headers=AUTH, timeout=5) for _ in range(4)
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
