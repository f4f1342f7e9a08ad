"""Uploads under injected faults (emulator over HTTP): 429 HTML bursts and a live rate limit, 5xx
(JSON and HTML), a batch failing at item k, slow and timed-out responses, a permanently bad
source. Nothing is lost, nothing duplicated, failures are reported per row, no token leaks."""

from __future__ import annotations

import logging

import pytest
from conftest_emulator import EMULATOR_FRITZ_TOKEN
from fritz_tools_support import (
    READ_FLAGS,
    TARGET_GROUP,
    classifications_on_fritz,
    expected_uploads,
    fast_client,
    refuse_one_source,
    run_cli,
    upload,
    upload_with_photometry,
)

from scope_assets.io import read_parquet, read_table

CLASSIFY = "/api/classification$"


def assert_complete(emulator, fritz_sky, summary) -> None:
    """Fritz holds exactly the expected classifications, each once."""
    on_fritz = classifications_on_fritz(emulator)
    results = read_parquet(summary.result_path)
    assert len(on_fritz) == len(set(on_fritz)), "duplicated classifications"
    assert set(on_fritz) == expected_uploads(read_table(fritz_sky.predictions), results, 0.7)
    assert summary.ok and (results["status"] != "failed").all()


def patient_client(emulator, **overrides):
    return fast_client(emulator, **{"max_retries": 12, "max_backoff_s": 0.1, **overrides})


def test_429_html_bursts_everywhere(fritz_emulator, fritz_sky, tmp_path):
    for path in (
        CLASSIFY,
        "/api/sources$",
        "/api/photometry",
        "/comments$",
        "/api/internal/profile",
    ):
        fritz_emulator.fritz.inject(429, count=4, path_regex=path)
    with patient_client(fritz_emulator) as client:
        summary = upload_with_photometry(fritz_emulator, fritz_sky, tmp_path, client=client)
    assert_complete(fritz_emulator, fritz_sky, summary)
    injected = [r for r in fritz_emulator.fritz.requests() if r.injected]
    assert len(injected) == 20 and {r.status for r in injected} == {429}


def test_live_rate_limit_of_the_server(fritz_emulator, fritz_sky, tmp_path):
    fritz_emulator.fritz.faults.set_rate_limit(rate=40, burst=5, enabled=True)
    with patient_client(fritz_emulator, backoff_s=0.05, max_backoff_s=0.5) as client:
        summary = upload(fritz_emulator, fritz_sky.predictions, tmp_path, client=client, parallel=4)
    assert_complete(fritz_emulator, fritz_sky, summary)
    assert any(r.status == 429 for r in fritz_emulator.fritz.requests())


def test_a_user_rate_limit_below_the_servers_avoids_429(fritz_emulator, fritz_sky, tmp_path):
    fritz_emulator.fritz.faults.set_rate_limit(rate=40, burst=5, enabled=True)
    with fast_client(fritz_emulator, rate_limit_per_s=30, rate_limit_burst=5) as client:
        summary = upload(fritz_emulator, fritz_sky.predictions, tmp_path, client=client, parallel=4)
    assert_complete(fritz_emulator, fritz_sky, summary)
    assert not any(r.status == 429 for r in fritz_emulator.fritz.requests())


def test_a_failed_lookup_fails_its_row_only(fritz_emulator, fritz_sky, tmp_path):
    fritz_emulator.fritz.inject(
        503, count=None, method="GET", path_regex="/api/sources$", body_regex="", skip=1
    )  # the prefetch passes, every cone fails
    summary = upload(fritz_emulator, fritz_sky.predictions, tmp_path, stop=4)
    results = read_parquet(summary.result_path)
    assert (results["status"] == "failed").all() and not summary.ok
    assert results["detail"].str.startswith("could not look the source up: 503").all()
    assert classifications_on_fritz(fritz_emulator) == []


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_retried(fritz_emulator, fritz_sky, tmp_path, status):
    for path in (CLASSIFY, "/api/sources$", "/api/groups"):
        fritz_emulator.fritz.inject(status, count=2, path_regex=path)
    summary = upload(fritz_emulator, fritz_sky.predictions, tmp_path)
    assert_complete(fritz_emulator, fritz_sky, summary)


def test_batch_failing_at_item_k(fritz_emulator, fritz_sky, tmp_path):
    fritz_emulator.fritz_service.fail_classification_batch(item=7, count=2)
    summary = upload(fritz_emulator, fritz_sky.predictions, tmp_path, batch_size=25)
    assert_complete(fritz_emulator, fritz_sky, summary)
    singles = [
        r
        for r in fritz_emulator.fritz.requests("POST", CLASSIFY)
        if b'"classifications"' not in r.body
    ]
    assert singles, "the items after k are posted again one by one"


def test_slow_and_timed_out_responses(fritz_emulator, fritz_sky, tmp_path):
    fritz_emulator.fritz.inject(
        None, count=3, method="GET", path_regex="/api/sources$", delay_s=0.3
    )
    fritz_emulator.fritz.inject(None, count=1, method="POST", path_regex=CLASSIFY, delay_s=1.0)
    with fast_client(fritz_emulator, timeout_s=0.5) as client:
        summary = upload(
            fritz_emulator, fritz_sky.predictions, tmp_path, client=client, batch_size=30
        )
    assert_complete(fritz_emulator, fritz_sky, summary)  # the late batch was not posted twice


def test_a_timed_out_source_post_fails_its_rows_and_a_rerun_completes(
    fritz_emulator, fritz_sky, tmp_path
):
    fritz_emulator.fritz.inject(
        None, count=1, method="POST", path_regex="/api/sources$", delay_s=1.0
    )
    with fast_client(fritz_emulator, timeout_s=0.5) as client:
        first = upload(fritz_emulator, fritz_sky.predictions, tmp_path, client=client)
    results = read_parquet(first.result_path)
    failed = results[results["status"] == "failed"]
    assert not first.ok and len(failed) >= 1
    assert failed["detail"].str.contains("no answer within 0.5 s").all()
    assert (results["status"] != "failed").sum() > len(failed)  # the other rows went on
    second = upload(fritz_emulator, fritz_sky.predictions, tmp_path)
    assert_complete(fritz_emulator, fritz_sky, second)


def test_a_permanently_refused_source_is_reported_and_the_rest_posted(
    fritz_emulator, fritz_sky, tmp_path, capsys, caplog
):
    caplog.set_level(logging.DEBUG)
    refused = '{"status": "error", "message": "Error posting classification: refused", "data": {}}'
    victim = refuse_one_source(fritz_emulator, fritz_sky, tmp_path, body=refused)
    flags = ["--file", str(fritz_sky.predictions), "--group-ids", str(TARGET_GROUP), *READ_FLAGS]
    assert run_cli(fritz_emulator, tmp_path, *flags, "--p-threshold", "0.7", "--skip-phot") == 1
    results = read_parquet(tmp_path / "fritzUpload/field_296_fritzUpload_results.parquet")
    failed = results[results["status"] == "failed"]
    assert set(failed["obj_id"]) == {victim}
    assert failed["detail"].str.contains("refused").all()
    on_fritz = classifications_on_fritz(fritz_emulator)
    assert victim not in {o for o, *_ in on_fritz}
    expected = {
        t
        for t in expected_uploads(read_table(fritz_sky.predictions), results, 0.7)
        if t[0] != victim
    }
    assert set(on_fritz) == expected and len(on_fritz) == len(expected)
    captured = capsys.readouterr()
    assert "some rows failed" in captured.err and f"{len(failed)} failed;" in captured.out
    for text in (captured.out, captured.err, caplog.text, results.to_csv()):
        assert EMULATOR_FRITZ_TOKEN not in text


def test_a_failing_duplicate_check_still_writes_the_results(fritz_emulator, fritz_sky, tmp_path):
    fritz_emulator.fritz.inject(503, count=None, method="GET", path_regex=CLASSIFY)
    summary = upload(fritz_emulator, fritz_sky.predictions, tmp_path)
    assert not summary.ok and "503" in summary.check_error
    assert "run the upload again" in summary.describe()
    assert read_parquet(summary.result_path)["posted"].sum() == len(
        classifications_on_fritz(fritz_emulator)
    )
