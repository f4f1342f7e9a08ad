"""Bad input to scope-upload-classification: a clear error naming the problem, exit status 2,
nothing sent to Fritz (no request at all when the input alone is wrong), no result file."""

from __future__ import annotations

import json

import numpy as np
import pytest
from fritz_tools_support import (
    READ_FLAGS,
    TARGET_GROUP,
    run_cli,
    writes,
)

from scope_assets.io import read_table, write_parquet


def _edited(fritz_sky, tmp_path, edit) -> str:
    table = read_table(fritz_sky.predictions)
    table = edit(table) if edit else table
    path = tmp_path / "input.parquet"
    write_parquet(table, path)
    return str(path)


def _set(column, row, value):
    def edit(table):
        table[column] = table[column].astype(float if isinstance(value, float) else object)
        table.loc[row, column] = value
        return table

    return edit


CASES = {
    "missing column": (
        lambda t: t.drop(columns=["dec"]),
        [],
        "missing columns ['dec']",
    ),
    "unknown mapper label": (
        None,
        ["--classification", "vnv", "nosuchclass", "--taxonomy-map", "fritz_mapper.json"],
        "--classification ['nosuchclass']: not in the taxonomy map",
    ),
    "missing score column": (
        lambda t: t.drop(columns=["rrab_dnn", "rrab_xgb"]),
        ["--classification", "vnv", "rrab", "--taxonomy-map", "fritz_mapper.json"],
        "missing columns ['rrab'] (named by --classification)",
    ),
    "probability above 1": (
        _set("rrc_xgb", 7, 1.5),
        READ_FLAGS,
        "column 'rrc_xgb' has probabilities outside [0, 1] (rows [7], e.g. 1.5)",
    ),
    "negative probability": (
        _set("vnv_dnn", 3, -0.2),
        READ_FLAGS,
        "column 'vnv_dnn' has probabilities outside [0, 1] (rows [3]",
    ),
    "NaN coordinates": (
        _set("ra", 11, float("nan")),
        READ_FLAGS,
        "ra/dec missing (NaN) or out of range in rows [11]",
    ),
    "start beyond the file": (
        None,
        [*READ_FLAGS, "--start", "60"],
        "--start 60 is beyond the file (60 rows: 0..59)",
    ),
    "stop before start": (
        None,
        [*READ_FLAGS, "--start", "5", "--stop", "2"],
        "--stop 2 is before --start 5",
    ),
    "no field for photometry": (
        lambda t: t.drop(columns=["field", "_id"]),
        READ_FLAGS,
        "photometry needs a 'field' or '_id' column",
    ),
    "classification without mapper": (
        None,
        ["--classification", "vnv"],
        "--classification needs --taxonomy-map",
    ),
    "empty file": (
        lambda t: t.iloc[:0],
        READ_FLAGS,
        "the file has no rows",
    ),
}
#: Checks that need Fritz (GET only): mapper or None (READ_FLAGS), --group-ids, message
FRITZ_CASES = {
    "mapper label unknown to Fritz": (
        {"vnv": {"fritz_label": "Variable", "taxonomy_id": 1017}},
        [TARGET_GROUP],
        "entry 'vnv': Fritz label 'Variable' is not a class of taxonomy 1017",
    ),
    "unknown group": (
        None,
        [9999, TARGET_GROUP],
        "--group-ids [9999]: not a Fritz group of this token's user",
    ),
}


def _upload_flags(file, *flags: str, groups=(TARGET_GROUP,)) -> list[str]:
    return ["--file", str(file), "--group-ids", *map(str, groups), *flags]


def _mapper_flags(tmp_path, mapper: dict) -> list[str]:
    """Read-mode flags with ``mapper`` as the taxonomy map."""
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(mapper))
    return ["--classification", "read", "--taxonomy-map", str(path)]


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_is_refused_before_any_request(case, fritz_emulator, fritz_sky, tmp_path, capsys):
    edit, flags, message = CASES[case]
    file = _edited(fritz_sky, tmp_path, edit)
    assert run_cli(fritz_emulator, tmp_path, *_upload_flags(file, *flags)) == 2
    assert message in capsys.readouterr().err
    assert fritz_emulator.fritz.requests() == []


def test_unknown_mapper_column_is_refused_before_any_request(
    fritz_emulator, fritz_sky, tmp_path, capsys
):
    mapper = {
        "vnv": {"fritz_label": "variable", "taxonomy_id": 1017},
        "foo": {"fritz_label": "variable", "taxonomy_id": 1017},
    }
    flags = ["--skip-phot", *_mapper_flags(tmp_path, mapper)]
    assert run_cli(fritz_emulator, tmp_path, *_upload_flags(fritz_sky.predictions, *flags)) == 2
    assert "entries ['foo']: unknown column" in capsys.readouterr().err
    assert fritz_emulator.fritz.requests() == []


@pytest.mark.parametrize("case", list(FRITZ_CASES))
def test_what_fritz_refuses_stops_before_any_write(
    case, fritz_emulator, fritz_sky, tmp_path, capsys
):
    mapper, groups, message = FRITZ_CASES[case]
    flags = [*(_mapper_flags(tmp_path, mapper) if mapper else READ_FLAGS), "--skip-phot"]
    file = fritz_sky.predictions
    assert run_cli(fritz_emulator, tmp_path, *_upload_flags(file, *flags, groups=groups)) == 2
    assert message in capsys.readouterr().err
    assert writes(fritz_emulator) == []
    assert {r.method for r in fritz_emulator.fritz.requests()} <= {"GET"}
    assert not (tmp_path / "fritzUpload").exists()


def test_missing_file_is_refused_before_any_request(fritz_emulator, tmp_path, capsys):
    flags = _upload_flags(tmp_path / "nope.parquet", *READ_FLAGS)
    assert run_cli(fritz_emulator, tmp_path, *flags) == 2
    assert "nope.parquet does not exist" in capsys.readouterr().err
    assert fritz_emulator.fritz.requests() == []


def test_token_is_not_a_flag(fritz_emulator, tmp_path, capsys):
    with pytest.raises(SystemExit):
        run_cli(fritz_emulator, tmp_path, "--file", "x.csv", "--group-ids", "1", "--token", "abc")
    assert "unrecognized arguments: --token" in capsys.readouterr().err
    assert np.isfinite(1.0)
