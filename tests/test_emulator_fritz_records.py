"""The Fritz emulator's records against spec/services.md §B, over raw HTTP: classifications,
annotations, photometry and comments."""

from __future__ import annotations

import base64

import requests
from conftest_emulator import (
    FritzHttp,
    classification,
)


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
    other = FritzHttp(emulator.fritz_url, {"Authorization": "token other-token"})
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
    other = FritzHttp(emulator.fritz_url, {"Authorization": "token other-token"})
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
