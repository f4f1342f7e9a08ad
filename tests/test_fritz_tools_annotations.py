"""scope-manage-annotation against the Fritz emulator over HTTP."""

from __future__ import annotations

import json

import pandas as pd
from fritz_tools_support import (
    run_cli,
    writes,
)

from scope_assets.cli.fritz_tools import manage_annotation_main
from scope_assets.fritz.annotation_tool import coerce_value


def annotations(emulator, origin="scope_test"):
    return {
        a["obj_id"]: a["data"]
        for a in emulator.fritz_service.annotations.values()
        if a["origin"] == origin
    }


def run(emulator, tmp_path, *flags):
    return run_cli(
        emulator, tmp_path, *flags, "--origin", "scope_test", main=manage_annotation_main
    )


def test_post_one_source_then_rerun_sends_nothing(fritz_emulator, tmp_path, capsys):
    obj = sorted(fritz_emulator.fritz_service.objs)[0]
    flags = ["--action", "post", "--source", obj, "--key", "period", "--value", "0.5"]
    assert run(fritz_emulator, tmp_path, *flags) == 0
    assert annotations(fritz_emulator) == {obj: {"period": 0.5}}
    fritz_emulator.fritz.log.clear()
    assert run(fritz_emulator, tmp_path, *flags) == 0
    assert writes(fritz_emulator) == [] and "1 unchanged" in capsys.readouterr().out


def test_table_values_update_and_merge_keys(fritz_emulator, tmp_path):
    objs = sorted(fritz_emulator.fritz_service.objs)[:3]
    table = tmp_path / "periods.csv"
    pd.DataFrame({"obj_id": objs, "period": [1.5, 2, 3.25]}).to_csv(table, index=False)
    flags = ["--action", "post", "--source", str(table), "--key", "period"]
    assert run(fritz_emulator, tmp_path, *flags) == 0
    other = ["--action", "post", "--source", objs[0], "--key", "note", "--value", "check"]
    assert run(fritz_emulator, tmp_path, *other) == 0
    pd.DataFrame({"obj_id": objs, "period": [1.5, 9, 3.25]}).to_csv(table, index=False)
    fritz_emulator.fritz.log.clear()
    assert (
        run(
            fritz_emulator,
            tmp_path,
            "--action",
            "update",
            "--source",
            str(table),
            "--key",
            "period",
        )
        == 0
    )
    puts = [r for r in writes(fritz_emulator) if r.method == "PUT"]
    assert len(puts) == 1 and json.loads(puts[0].body) == {
        "data": {"period": 9},
        "origin": "scope_test",
    }
    assert annotations(fritz_emulator) == {
        objs[0]: {"period": 1.5, "note": "check"},
        objs[1]: {"period": 9},
        objs[2]: {"period": 3.25},
    }


def test_update_needs_an_existing_annotation_and_unknown_sources_fail(
    fritz_emulator, tmp_path, capsys
):
    obj = sorted(fritz_emulator.fritz_service.objs)[0]
    flags = ["--action", "update", "--source", obj, "--key", "period", "--value", "1"]
    assert run(fritz_emulator, tmp_path, *flags) == 1
    assert "no annotation with origin 'scope_test'" in capsys.readouterr().err
    flags = ["--action", "post", "--source", "ZTFJnotthere", "--key", "period", "--value", "1"]
    assert run(fritz_emulator, tmp_path, *flags) == 1
    assert "ZTFJnotthere: Source not found" in capsys.readouterr().err


def test_delete_removes_the_key_and_empty_annotations(fritz_emulator, tmp_path):
    obj_a, obj_b = sorted(fritz_emulator.fritz_service.objs)[:2]
    for obj, key in ((obj_a, "period"), (obj_a, "note"), (obj_b, "period")):
        assert (
            run(
                fritz_emulator,
                tmp_path,
                "--action",
                "post",
                "--source",
                obj,
                "--key",
                key,
                "--value",
                "1",
            )
            == 0
        )
    for obj in (obj_a, obj_b):
        assert (
            run(fritz_emulator, tmp_path, "--action", "delete", "--source", obj, "--key", "period")
            == 0
        )
    assert annotations(fritz_emulator) == {obj_a: {"note": 1}}
    fritz_emulator.fritz.log.clear()
    assert (
        run(fritz_emulator, tmp_path, "--action", "delete", "--source", obj_b, "--key", "period")
        == 0
    )
    assert writes(fritz_emulator) == []


def test_bad_table_is_refused(fritz_emulator, tmp_path, capsys):
    table = tmp_path / "t.csv"
    pd.DataFrame({"obj_id": ["x"]}).to_csv(table, index=False)
    assert (
        run(fritz_emulator, tmp_path, "--action", "post", "--source", str(table), "--key", "period")
        == 2
    )
    assert "missing columns ['period']" in capsys.readouterr().err
    assert fritz_emulator.fritz.requests() == []


def test_value_coercion():
    assert (
        coerce_value("3") == 3 and coerce_value("0.25") == 0.25 and coerce_value("RRab") == "RRab"
    )
