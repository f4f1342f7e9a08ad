"""scope-download-classification against the emulators over HTTP, and the upload → download
round trip of field 296's combined predictions."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from fritz_tools_support import (
    READ_FLAGS,
    TARGET_GROUP,
    classifications_on_fritz,
    expected_uploads,
    run_cli,
    upload,
    writes,
)

from scope_assets.cli.fritz_tools import download_main
from scope_assets.config import load_config
from scope_assets.io import read_parquet, read_table, write_parquet
from scope_assets.lightcurves.ids import decode_id

PARSE = ["--file", "parse", "--group-ids", str(TARGET_GROUP)]
#: The header of SCoPe's downloaded tables
SCOPE_HEADER = (
    "obj_id,ra,dec,classification,taxonomy_id,probability,sum_votes,period_origin,period,labellers"
)


def downloaded(path) -> set[tuple[str, str, float]]:
    """(obj_id, label, probability) triples of a downloaded per-source table."""
    table = read_table(path)
    triples = set()
    for row in table.itertuples():
        if not row.classification:
            continue
        for label, p in zip(row.classification.split(";"), row.probability.split(";"), strict=True):
            triples.add((row.obj_id, label, float(p)))
    return triples


def upload_field_flags(file, *extra: str) -> list[str]:
    """The issue's upload: combined predictions, read mode, fritz_mapper.json, p >= 0.7."""
    flags = ["--file", str(file), "--group-ids", str(TARGET_GROUP), *READ_FLAGS]
    return [*flags, "--p-threshold", "0.7", "--skip-phot", *extra]


def test_round_trip_upload_then_download(fritz_emulator, fritz_sky, tmp_path):
    upload_flags = upload_field_flags(fritz_sky.predictions)
    assert run_cli(fritz_emulator, tmp_path, *upload_flags) == 0
    results = read_parquet(tmp_path / "fritzUpload/field_296_fritzUpload_results.parquet")
    uploaded = expected_uploads(read_table(fritz_sky.predictions), results, 0.7)
    assert run_cli(fritz_emulator, tmp_path, *PARSE, main=download_main) == 0
    parse_file = tmp_path / "fritzDownload" / "parse_fritzDownload.parquet"
    assert downloaded(parse_file) == uploaded
    assert len(classifications_on_fritz(fritz_emulator)) == len(uploaded)

    fritz_emulator.fritz.log.clear()
    assert run_cli(fritz_emulator, tmp_path, *upload_flags) == 0
    assert writes(fritz_emulator) == []  # the second upload posts nothing

    changed = read_table(fritz_sky.predictions)
    rows = changed.index[(changed["rrab_dnn"] >= 0.75) & (changed["rrab_xgb"] >= 0.75)]
    changed.loc[rows, ["rrab_dnn", "rrab_xgb"]] = 0.99
    changed_file = tmp_path / "changed" / "field_296.parquet"
    write_parquet(changed, changed_file)
    upload_flags[1] = str(changed_file)
    assert run_cli(fritz_emulator, tmp_path, *upload_flags) == 0
    assert run_cli(fritz_emulator, tmp_path, *PARSE, main=download_main) == 0
    assert downloaded(parse_file) == expected_uploads(changed, results, 0.7)
    assert {r.method for r in writes(fritz_emulator)} == {"PUT"}


def test_parse_rows_follow_scopes_layout(fritz_emulator, fritz_sky, tmp_path):
    upload(fritz_emulator, fritz_sky.predictions, tmp_path, stop=5)
    assert (
        run_cli(fritz_emulator, tmp_path, *PARSE, "--output-format", "csv", main=download_main) == 0
    )
    table = read_table(tmp_path / "fritzDownload" / "parse_fritzDownload.csv")
    assert ",".join(table.columns) == SCOPE_HEADER
    row = table.iloc[0]
    n = len(row["classification"].split(";"))
    assert len(str(row["taxonomy_id"]).split(";")) == len(row["probability"].split(";")) == n
    assert row["period_origin"] == "uploadedperiod" and float(row["period"]) > 0
    assert pd.isna(row["sum_votes"])  # votes are only fetched when they matter


def test_file_mode_by_obj_id_or_position(fritz_emulator, fritz_sky, tmp_path):
    summary = upload(fritz_emulator, fritz_sky.predictions, tmp_path, stop=10)
    results = read_parquet(summary.result_path)
    names = results.loc[results["obj_id"] != "", "obj_id"].unique()[:3]
    predictions = read_table(fritz_sky.predictions)
    first_rows = results.groupby("obj_id")["row"].min()
    query = pd.DataFrame(
        {
            "obj_id": [names[0], None, "ZTFJnowhere"],
            "ra": [np.nan, predictions.loc[first_rows[names[1]], "ra"], 1.0],
            "dec": [np.nan, predictions.loc[first_rows[names[1]], "dec"], 1.0],
        }
    )
    query_path = tmp_path / "wanted.csv"
    query.to_csv(query_path, index=False)
    assert run_cli(fritz_emulator, tmp_path, "--file", str(query_path), main=download_main) == 0
    table = read_table(tmp_path / "fritzDownload" / "wanted_fritzDownload.parquet")
    assert table["obj_id"].tolist() == [names[0], names[1]]


def test_merge_features_labels_and_training_set_update(fritz_emulator, fritz_sky, tmp_path):
    first = upload(fritz_emulator, fritz_sky.predictions, tmp_path, post_upvote=True, stop=20)
    upvoted = set(read_parquet(first.result_path)["obj_id"])
    upload(fritz_emulator, fritz_sky.predictions, tmp_path, start=21, stop=40)  # no upvotes
    config = load_config()
    training = (
        read_table(fritz_sky.predictions)
        .iloc[:3][["_id", "ra", "dec"]]
        .rename(columns={"_id": "ztf_id"})
    )
    training["obj_id"] = ["old-a", "old-b", "old-c"]
    training_path = tmp_path / "training_set.parquet"
    write_parquet(training, training_path)
    flags = [
        *PARSE,
        "--merge-features",
        "--get-ztf-filters",
        "--impute-missing-features",
        "--update-training-set",
        "--min-vote-diff",
        "1",
        "--training-set",
        str(training_path),
    ]
    assert run_cli(fritz_emulator, tmp_path, *flags, main=download_main) == 0
    out = tmp_path / "fritzDownload"
    sources = read_table(out / "sources_fritzDownload.parquet")
    labelled = sources[
        sources[["variable", "RR Lyrae ab", "non-variable"]].to_numpy().max(axis=1) > 0
    ]
    assert len(labelled) and set(labelled["obj_id"]) <= upvoted  # net votes >= 1 or no label
    merged = read_table(out / "updated_AL_merged_classifications_features.parquet")
    assert len(merged) > len(sources) and merged.columns[-1] == "ztf_id"
    assert (merged["filter"] == decode_id(merged["ztf_id"].to_numpy()).filter).all()
    for column in config.feature_columns("ontological"):
        assert merged[column].notna().all()
    updated = read_table(out / "updated_AL_training_set.parquet")
    assert updated["ztf_id"].is_unique
    assert set(training["obj_id"]) & set(updated["obj_id"]) == set(
        training.loc[training["ztf_id"].isin(updated["ztf_id"]), "obj_id"]
    )
    kept = updated.set_index("ztf_id").loc[training["ztf_id"], "obj_id"].tolist()
    assert kept == ["old-a", "old-b", "old-c"]  # a light curve in both keeps its old name


def test_merge_gives_each_light_curve_to_its_nearest_source(fritz_emulator, fritz_sky, tmp_path):
    summary = upload(fritz_emulator, fritz_sky.predictions, tmp_path)
    flags = [*PARSE, "--merge-features"]
    assert run_cli(fritz_emulator, tmp_path, *flags, main=download_main) == 0
    merged = read_table(tmp_path / "fritzDownload" / "merged_classifications_features.parquet")
    assert merged["ztf_id"].is_unique
    results = read_parquet(summary.result_path)
    predictions = read_table(fritz_sky.predictions)
    owner = dict(zip(predictions["_id"], results.sort_values("row")["obj_id"], strict=True))
    labelled = merged[merged["obj_id"].isin(set(owner.values()))]
    assert all(owner[z] == o for z, o in zip(labelled["ztf_id"], labelled["obj_id"], strict=True))
    assert {"variable", "non-variable", "RR Lyrae ab"} <= set(merged.columns)
    assert ((merged["variable"] == 0.0) | (merged["variable"] >= 0.7)).all()


def test_unknown_group_or_bad_file_writes_nothing(fritz_emulator, tmp_path, capsys):
    status = run_cli(
        fritz_emulator, tmp_path, "--file", "parse", "--group-ids", "4242", main=download_main
    )
    assert status == 2 and "--group-ids [4242]" in capsys.readouterr().err
    bad = tmp_path / "bad.csv"
    pd.DataFrame({"x": [1]}).to_csv(bad, index=False)
    assert run_cli(fritz_emulator, tmp_path, "--file", str(bad), main=download_main) == 2
    assert "needs an 'obj_id' column or 'ra' and 'dec'" in capsys.readouterr().err
    assert run_cli(fritz_emulator, tmp_path, "--file", "parse", main=download_main) == 2
    assert "--file parse needs --group-ids" in capsys.readouterr().err
    assert not (tmp_path / "fritzDownload").exists()


def test_merge_validates_the_mapper_first(fritz_emulator, tmp_path, capsys):
    mapper = tmp_path / "m.json"
    mapper.write_text(json.dumps({"variable": {"fritz_label": "Variable", "taxonomy_id": 1017}}))
    flags = [*PARSE, "--merge-features", "--taxonomy-map", str(mapper)]
    assert run_cli(fritz_emulator, tmp_path, *flags, main=download_main) == 2
    assert "entry 'variable': Fritz label 'Variable'" in capsys.readouterr().err
    assert not (tmp_path / "fritzDownload").exists()


def test_round_trip_under_faults(fritz_emulator, fritz_sky, tmp_path):
    fritz = fritz_emulator.fritz
    fritz.inject(429, count=3, method="POST", path_regex="/api/classification$")
    fritz.inject(503, count=2, method="GET", path_regex="/api/sources$")
    fritz.inject(502, count=1, method="POST", path_regex="/api/sources$")
    fritz.inject(None, count=2, method="POST", path_regex="/annotations$", delay_s=0.3)
    fritz_emulator.fritz_service.fail_classification_batch(item=5)
    upload_flags = upload_field_flags(fritz_sky.predictions, "--batch-size", "40")
    assert run_cli(fritz_emulator, tmp_path, *upload_flags) == 0
    fritz.inject(429, count=2, method="GET", path_regex="/api/sources$")
    assert run_cli(fritz_emulator, tmp_path, *PARSE, main=download_main) == 0
    results = read_parquet(tmp_path / "fritzUpload/field_296_fritzUpload_results.parquet")
    uploaded = expected_uploads(read_table(fritz_sky.predictions), results, 0.7)
    assert downloaded(tmp_path / "fritzDownload" / "parse_fritzDownload.parquet") == uploaded
    on_fritz = classifications_on_fritz(fritz_emulator)
    assert len(on_fritz) == len(set(on_fritz)) == len(uploaded)
