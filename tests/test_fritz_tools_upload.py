"""scope-upload-classification against the Fritz emulator over HTTP: what is posted, idempotency,
updates, replacement, thresholds, row ranges, photometry and plots, obj_id reuse, result files."""

from __future__ import annotations

import base64
import json
import math
import threading

import numpy as np
import pandas as pd
from conftest_emulator import EMULATOR_FRITZ_TOKEN
from fritz_tools_support import (
    FIELD,
    READ_FLAGS,
    TARGET_GROUP,
    classifications_on_fritz,
    expected_uploads,
    run_cli,
    upload,
    upload_with_photometry,
    writes,
)

from scope_assets.fritz.fritz_client import FritzClient
from scope_assets.fritz.source_names import radec_to_iau_name
from scope_assets.io import read_parquet, read_table, write_parquet

RESULTS = f"fritzUpload/field_{FIELD}_fritzUpload_results.parquet"


def test_cli_upload_posts_the_scores_above_threshold(fritz_emulator, fritz_sky, tmp_path):
    flags = ["--file", str(fritz_sky.predictions), "--group-ids", str(TARGET_GROUP), *READ_FLAGS]
    assert run_cli(fritz_emulator, tmp_path, *flags, "--p-threshold", "0.7", "--skip-phot") == 0
    predictions = read_table(fritz_sky.predictions)
    results = read_parquet(tmp_path / RESULTS)
    assert list(results.columns) == [
        "row",
        "obj_id",
        "status",
        "posted",
        "updated",
        "deleted",
        "unchanged",
        "failed",
        "detail",
    ]
    assert results["row"].tolist() == list(range(len(predictions)))
    assert set(results["status"]) <= {"posted", "skipped"}
    on_fritz = classifications_on_fritz(fritz_emulator)
    assert set(on_fritz) == expected_uploads(predictions, results, 0.7)
    assert len(on_fritz) == len(set(on_fritz)) == results["posted"].sum()
    # SCoPe's payload fields, origin and taxonomy ids from the mapper
    stored = list(fritz_emulator.fritz_service.classifications.values())
    assert {c["origin"] for c in stored} == {"SCoPe"} and all(c["ml"] for c in stored)
    assert {c["group_ids"][0] for c in stored} == {TARGET_GROUP}
    variable = [c for c in stored if c["classification"] == "variable"]
    assert variable and {c["taxonomy_id"] for c in variable} == {1017}


def test_new_sources_get_coordinate_names_and_rows_of_a_star_share_one(
    fritz_emulator, fritz_sky, tmp_path
):
    summary = upload(fritz_emulator, fritz_sky.predictions, tmp_path)
    predictions = read_table(fritz_sky.predictions)
    results = read_parquet(summary.result_path)
    service = fritz_emulator.fritz_service
    for obj_id, rows in results[results["obj_id"] != ""].groupby("obj_id")["row"]:
        first = predictions.iloc[rows.min()]
        assert obj_id == radec_to_iau_name(first["ra"], first["dec"])
        assert service.objs[obj_id]["origin"] == "Fritz"
        assert TARGET_GROUP in service._obj_group_ids(obj_id)
        star = predictions.iloc[rows.to_numpy()]
        assert np.ptp(star["ra"]) < 1e-6 and np.ptp(star["dec"]) < 1e-6  # g/r/i of one star
    assert summary.sources_created == results.loc[results["obj_id"] != "", "obj_id"].nunique()


def test_second_upload_sends_nothing_and_reports_unchanged(fritz_emulator, fritz_sky, tmp_path):
    first = upload(fritz_emulator, fritz_sky.predictions, tmp_path)
    before = classifications_on_fritz(fritz_emulator)
    fritz_emulator.fritz.log.clear()
    second = upload(fritz_emulator, fritz_sky.predictions, tmp_path)
    assert writes(fritz_emulator) == []
    assert classifications_on_fritz(fritz_emulator) == before
    assert second.classifications["unchanged"] == first.classifications["posted"]
    assert second.rows_by_status == {"posted": 0, "updated": 0, "skipped": 60, "failed": 0}
    # a re-upload needs no per-row request: the group's sources are read in pages
    assert len(fritz_emulator.fritz.requests("GET")) <= 6


def test_changed_probability_updates_in_place(fritz_emulator, fritz_sky, tmp_path):
    upload(fritz_emulator, fritz_sky.predictions, tmp_path)
    predictions = read_table(fritz_sky.predictions)
    changed = predictions.copy()
    rows = changed.index[(changed["vnv_dnn"] >= 0.8) & (changed["vnv_xgb"] >= 0.8)][:3]
    changed.loc[rows, ["vnv_dnn", "vnv_xgb"]] = 0.95
    path = tmp_path / "changed.parquet"
    write_parquet(changed, path)
    ids_before = set(fritz_emulator.fritz_service.classifications)
    fritz_emulator.fritz.log.clear()
    summary = upload(fritz_emulator, path, tmp_path)
    assert set(fritz_emulator.fritz_service.classifications) == ids_before  # updated, not added
    puts = [r for r in writes(fritz_emulator) if r.method == "PUT"]
    assert len(puts) == summary.classifications["updated"] > 0
    assert all(json.loads(r.body) == {"probability": 0.95} for r in puts)
    results = read_parquet(summary.result_path)
    assert set(classifications_on_fritz(fritz_emulator)) == expected_uploads(changed, results, 0.7)


def test_replace_classifications_deletes_and_reposts(fritz_emulator, fritz_sky, tmp_path):
    upload(fritz_emulator, fritz_sky.predictions, tmp_path)
    predictions = read_table(fritz_sky.predictions)
    changed = predictions.assign(vnv_dnn=0.99, vnv_xgb=0.99)
    path = tmp_path / "replaced.parquet"
    write_parquet(changed, path)
    summary = upload(fritz_emulator, path, tmp_path, replace_classifications=True)
    assert summary.classifications["deleted"] > 0 and summary.ok
    results = read_parquet(summary.result_path)
    on_fritz = classifications_on_fritz(fritz_emulator)
    assert set(on_fritz) == expected_uploads(changed, results, 0.7)
    assert len(on_fritz) == len(set(on_fritz))
    again = upload(fritz_emulator, path, tmp_path, replace_classifications=True)
    assert again.classifications["posted"] == again.classifications["deleted"] == 0


def test_threshold_is_greater_or_equal(fritz_emulator, fritz_sky, tmp_path):
    table = read_table(fritz_sky.predictions).iloc[[0, 3]].reset_index(drop=True)
    scores = [c for c in table.columns if c.endswith(("_dnn", "_xgb"))]
    table[scores] = 0.1
    table[["vnv_dnn", "vnv_xgb"]] = 0.5  # nonvar = 0.5 too
    table.loc[0, ["ea_dnn", "ea_xgb"]] = 0.7
    table.loc[1, ["ea_dnn", "ea_xgb"]] = 0.69
    table.loc[1, "ra"] += 0.1
    path = tmp_path / "edge.parquet"
    write_parquet(table, path)
    summary = upload(fritz_emulator, path, tmp_path)
    assert [c[1:] for c in classifications_on_fritz(fritz_emulator)] == [("EA", 0.7)]
    detail = read_parquet(summary.result_path)["detail"].tolist()
    assert detail[1] == "nothing to post: no class >= 0.7"
    assert fritz_emulator.fritz_service.objs.keys().isdisjoint(
        {radec_to_iau_name(table.loc[1, "ra"], table.loc[1, "dec"])}
    )  # nothing to post: no source created either


def test_start_stop_then_full_run_continue_without_duplicates(fritz_emulator, fritz_sky, tmp_path):
    part = upload(fritz_emulator, fritz_sky.predictions, tmp_path, start=10, stop=29)
    assert read_parquet(part.result_path)["row"].tolist() == list(range(10, 30))
    full = upload(fritz_emulator, fritz_sky.predictions, tmp_path)
    on_fritz = classifications_on_fritz(fritz_emulator)
    assert len(on_fritz) == len(set(on_fritz))
    results = read_parquet(full.result_path)
    assert set(on_fritz) == expected_uploads(read_table(fritz_sky.predictions), results, 0.7)
    assert full.classifications["unchanged"] >= part.classifications["posted"] > 0


def test_classifications_are_posted_in_batches(fritz_emulator, fritz_sky, tmp_path):
    summary = upload(fritz_emulator, fritz_sky.predictions, tmp_path, batch_size=20)
    posts = fritz_emulator.fritz.requests("POST", "/api/classification$")
    assert all("classifications" in json.loads(r.body) for r in posts)
    assert len(posts) <= math.ceil(summary.classifications["posted"] / 20) + 4  # + tails
    assert (
        sum(len(json.loads(r.body)["classifications"]) for r in posts)
        == summary.classifications["posted"]
    )


class CountingClient(FritzClient):
    """Counts requests in flight at once."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.in_flight = self.most = 0
        self._count_lock = threading.Lock()

    def request(self, *args, **kwargs):
        with self._count_lock:
            self.in_flight += 1
            self.most = max(self.most, self.in_flight)
        try:
            return super().request(*args, **kwargs)
        finally:
            with self._count_lock:
                self.in_flight -= 1


def test_parallelism_is_bounded(fritz_emulator, fritz_sky, tmp_path):
    fritz_emulator.fritz.inject(
        None, count=None, method="GET", path_regex="/api/sources$", delay_s=0.02
    )
    client = CountingClient(
        fritz_emulator.fritz_url, EMULATOR_FRITZ_TOKEN, timeout_s=2, rate_limit_per_s=None
    )
    with client:
        upload(fritz_emulator, fritz_sky.predictions, tmp_path, client=client, parallel=3)
    assert 2 <= client.most <= 3


def test_photometry_plots_and_period_annotation(fritz_emulator, fritz_sky, tmp_path):
    summary = upload_with_photometry(
        fritz_emulator,
        fritz_sky,
        tmp_path,
        post_phasefolded_phot=True,
        comment="uploaded by the tests",
    )
    assert summary.ok
    service = fritz_emulator.fritz_service
    objs = {o for o, *_ in classifications_on_fritz(fritz_emulator)}
    with_phot = {p["obj_id"] for p in service.photometry.values()}
    assert objs <= with_phot
    point = next(iter(service.photometry.values()))
    assert point["filter"] in {"ztfg", "ztfr", "ztfi"} and point["magsys"] == "ab"
    assert 58000 < point["mjd"] < 60000
    for obj_id in objs:
        comments = [c for c in service.comments.values() if c["obj_id"] == obj_id]
        texts = sorted(c["text"] for c in comments)
        assert texts[0].endswith(": phase-folded") and texts[1].endswith(": time series")
        assert "uploaded by the tests" in texts
        for c in comments:
            if c["attachment_name"]:
                assert c["attachment_bytes"][:8] == b"\x89PNG\r\n\x1a\n"
        assert (tmp_path / "phot_plots" / f"{obj_id}.png").exists()
        periods = [a for a in service.annotations.values() if a["obj_id"] == obj_id]
        assert [a["origin"] for a in periods] == ["uploadedperiod"]
    fritz_emulator.fritz.log.clear()
    upload_with_photometry(fritz_emulator, fritz_sky, tmp_path)
    assert writes(fritz_emulator) == []


def test_existing_obj_ids_are_used_and_saved_to_the_group(fritz_emulator, fritz_sky, tmp_path):
    seeded = sorted(fritz_emulator.fritz_service.objs)[:3]
    table = read_table(fritz_sky.predictions).iloc[:3].copy()
    table["obj_id"] = seeded
    path = tmp_path / "gcn.parquet"
    write_parquet(table, path)
    summary = upload(fritz_emulator, path, tmp_path, use_existing_obj_id=True, write_obj_id=True)
    assert summary.sources_created == 0
    labelled = {o for o, *_ in classifications_on_fritz(fritz_emulator)}
    assert labelled and labelled <= set(seeded)
    for obj_id in labelled:
        assert TARGET_GROUP in fritz_emulator.fritz_service._obj_group_ids(obj_id)
    copy = read_parquet(summary.obj_id_path)
    assert copy["obj_id"].tolist() == seeded


def test_survey_ids_are_annotated_and_matched(fritz_emulator, fritz_sky, tmp_path):
    table = read_table(fritz_sky.predictions).iloc[:2].copy()
    table.loc[1, "ra"] += 0.01
    table["survey_id"] = ["Gaia_EDR3___111", "Gaia_EDR3___222"]
    path = tmp_path / "ids.parquet"
    write_parquet(table, path)
    first = upload(fritz_emulator, path, tmp_path, post_survey_id=True)
    annotations = [
        a
        for a in fritz_emulator.fritz_service.annotations.values()
        if a["origin"] == "SCoPe_xmatch"
    ]
    assert sorted(a["data"]["survey_id"] for a in annotations) == [
        "Gaia_EDR3___111",
        "Gaia_EDR3___222",
    ]
    second = upload(fritz_emulator, path, tmp_path, post_survey_id=True, match_ids=True)
    assert second.classifications["unchanged"] == first.classifications["posted"]
    assert (
        read_parquet(second.result_path)["obj_id"].tolist()
        == read_parquet(first.result_path)["obj_id"].tolist()
    )


def test_token_never_in_results_or_output(fritz_emulator, fritz_sky, tmp_path, capsys, caplog):
    fritz_emulator.fritz.inject(429, count=3, method="POST", path_regex="/api/classification")
    flags = ["--file", str(fritz_sky.predictions), "--group-ids", str(TARGET_GROUP), *READ_FLAGS]
    assert run_cli(fritz_emulator, tmp_path, *flags, "--skip-phot", "--result-format", "csv") == 0
    captured = capsys.readouterr()
    for text in (captured.out, captured.err, caplog.text):
        assert EMULATOR_FRITZ_TOKEN not in text
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert EMULATOR_FRITZ_TOKEN.encode() not in path.read_bytes()
    assert (tmp_path / f"fritzUpload/field_{FIELD}_fritzUpload_results.csv").exists()
    assert not list(tmp_path.rglob("*.journal.jsonl"))


def test_combined_catalogue_scores_are_the_dnn_xgb_mean_and_nonvar_is_derived(
    fritz_emulator, fritz_sky, tmp_path
):
    table = read_table(fritz_sky.predictions).iloc[:1].copy()
    scores = [c for c in table.columns if c.endswith(("_dnn", "_xgb"))]
    table[scores] = 0.0
    table[["rrab_dnn", "rrab_xgb", "vnv_dnn", "vnv_xgb"]] = [0.8, 0.9, 0.2, 0.2]
    path = tmp_path / "one.parquet"
    write_parquet(table, path)
    upload(fritz_emulator, path, tmp_path)
    assert [c[1:] for c in classifications_on_fritz(fritz_emulator)] == [
        ("RRab", 0.85),
        ("non-variable", 0.8),
    ]


def test_plot_attachments_decode(fritz_emulator, fritz_sky, tmp_path):
    upload_with_photometry(fritz_emulator, fritz_sky, tmp_path, stop=2)
    posts = fritz_emulator.fritz.requests("POST", "/comments$")
    bodies = [json.loads(r.body) for r in posts]
    png = base64.b64decode(bodies[0]["attachment"]["body"])
    assert png.startswith(b"\x89PNG") and bodies[0]["attachment"]["name"].endswith(".png")
    assert pd.notna(bodies[0]["text"])


SCOPE_UPLOAD_FLAGS = """--file --group-ids --classification --taxonomy-map --comment --start --stop
--classification-origin --skip-phot --post-survey-id --survey-id-origin --p-threshold --match-ids
--use-existing-obj-id --post-upvote --check-labelled-box --write-obj-id --result-dir
--result-filetag --result-format --replace-classifications --radius-arcsec --no-ml
--post-phot-as-comment --post-phasefolded-phot --phot-dirname --instrument-name""".split()


def test_all_27_scope_flags_are_accepted():
    from scope_assets.cli.fritz_tools import upload_parser

    options = {o for action in upload_parser()._actions for o in action.option_strings}
    assert len(SCOPE_UPLOAD_FLAGS) == 27 and set(SCOPE_UPLOAD_FLAGS) <= options
