"""GCN commands: scope-download-gcn-sources → generate-features --doSpecificIDs → the
get_all_preds script / run-inference on <label>_specific_ids → combine-preds --merge-dnn-xgb."""

from __future__ import annotations

import json
import shlex

import numpy as np
import pandas as pd
import pytest
from conftest_emulator import EMULATOR_FRITZ_TOKEN
from gcn_support import (
    _gcn_emulator,  # noqa: F401 - fixture
    _gcn_sky,  # noqa: F401 - fixture
)

from scope_assets.cli.features import main as generate_features_main
from scope_assets.cli.gcn_tools import download_gcn_sources_main
from scope_assets.cli.inference_tools import (
    combine_preds_main,
    create_inference_script_main,
    run_inference_main,
)
from scope_assets.io import read_parquet
from scope_assets.ml.inference.combine_predictions import CombineError
from scope_assets.ml.inference.gcn_merge import classes_above, merge_dnn_xgb
from scope_assets.testing.gcn_sky import post_candidates, post_event, recent_dateobs, split_sky


@pytest.fixture
def fritz_env(gcn_emulator, monkeypatch):
    monkeypatch.setenv("FRITZ_URL", gcn_emulator.fritz_url)
    monkeypatch.setenv("FRITZ_TOKEN", EMULATOR_FRITZ_TOKEN)
    return gcn_emulator


def script_arguments(script, field: str) -> list[str]:
    """The run-inference arguments of a get_all_preds script, with $1 = ``field``."""
    command = next(line for line in script.read_text().splitlines() if line.startswith("run-"))
    words = shlex.split(command.replace('"$1"', field))
    assert words[0] == "run-inference"
    return words[1:]


def test_specific_ids_chain_from_a_gcn_event(fritz_env, gcn_sky, tmp_path, capsys):
    key = recent_dateobs(6)
    label = key.replace(":", "-")
    stars = split_sky(gcn_sky.stars, 4)[1]
    post_event(fritz_env.fritz_url, key, ["GW"], stars)
    names = post_candidates(fritz_env.fritz_url, key, stars, "ZTF26cli")
    data = tmp_path / "data"
    common = ["--data-dir", str(data)]
    assert (
        download_gcn_sources_main(
            ["--dateobs", key, "--archive-dir", str(gcn_sky.archive), "--rate-limit", "0", *common]
        )
        == 0
    )
    ids_file = data / "fritzDownload" / f"specific_ids_GCN_sources.{label}.parquet"
    ids = read_parquet(ids_file)
    assert list(ids.columns) == ["ztf_id", "coordinates", "fritz_name"]
    assert set(ids["fritz_name"]) == set(names)
    saved = json.loads(ids_file.with_suffix(".json").read_text())
    assert set(saved) == {str(i) for i in ids["ztf_id"]}
    assert set(next(iter(saved.values()))) == {"fritz_name", "radec_geojson"}

    flags = ["--archive", str(gcn_sky.archive), "--config", str(gcn_sky.config), *common]
    assert generate_features_main(["--doSpecificIDs", "--fg-dataset", str(ids_file), *flags]) == 0
    field = f"specific_ids_GCN_sources.{label}_specific_ids"
    assert f"run-inference --field {field}" in capsys.readouterr().out

    script = tmp_path / "get_all_preds_xgb.sh"
    assert create_inference_script_main(["--filename", str(script), "--algorithm", "xgb"]) == 0
    config = ["--config-path", str(gcn_sky.config)]
    assert run_inference_main([*script_arguments(script, field), *common, *config]) == 0
    assert run_inference_main(["--field", field, "--algorithm", "dnn", *common, *config]) == 0
    preds = read_parquet(data / "preds_xgb" / f"field_{field}" / f"field_{field}.parquet")
    assert set(preds["obj_id"]) == set(names)

    assert combine_preds_main(["--merge-dnn-xgb", "--specific-field", field, *common]) == 0
    merged = read_parquet(data / "preds_dnn_xgb" / f"merged_{field}.parquet")
    assert sorted(merged["obj_id"]) == sorted(names)
    meta = json.loads((data / "preds_dnn_xgb" / f"merged_{field}_meta.json").read_text())
    assert set(meta) == set(names)


def test_run_inference_names_the_missing_specific_ids_file(tmp_path, capsys):
    status = run_inference_main(["--field", "x_specific_ids", "--data-dir", str(tmp_path)])
    assert status == 2
    err = capsys.readouterr().err
    assert "gen_features_x_specific_ids.parquet" in err
    assert "generate-features --doSpecificIDs" in err


def test_combine_preds_dateobs_reads_the_event_field(tmp_path, capsys):
    status = combine_preds_main(
        ["--merge-dnn-xgb", "--dateobs", "2026-11-30T12:00:00", "--data-dir", str(tmp_path)]
    )
    assert status == 2
    assert "field_2026-11-30T12-00-00_specific_ids" in capsys.readouterr().err


def _preds(algorithm: str, obj_ids: list[str], vnv: list[float], rrab: list[float]):
    n = len(obj_ids)
    return pd.DataFrame(
        {
            "_id": np.arange(n, dtype=np.int64) + 10**13,
            "obj_id": obj_ids,
            "Gaia_EDR3___id": [0, 5, 0, 0][:n],
            "AllWISE___id": [7, 0, 0, 0][:n],
            "PS1_DR1___id": [0, 0, 9, 0][:n],
            "ra": np.linspace(10, 11, n),
            "dec": np.linspace(-5, -4, n),
            "period": np.linspace(1, 2, n),
            f"vnv_{algorithm}": vnv,
            f"rrab_{algorithm}": rrab,
        }
    )


def test_merge_dnn_xgb_mean_and_max_per_fritz_source():
    dnn = _preds("dnn", ["A", "A", "B"], [0.2, 0.4, 0.9], [0.9, 0.7, 0.1])
    xgb = _preds("xgb", ["A", "A", "B", "C"], [0.6, 0.8, 0.7, 1.0], [0.5, 0.3, 0.3, 1.0])
    merged = merge_dnn_xgb(dnn, xgb, "mean")
    assert list(merged.columns) == [
        "obj_id",
        "survey_id",
        "_id",
        "ra",
        "dec",
        "period",
        "vnv",
        "rrab",
    ]
    assert list(merged["obj_id"]) == ["A", "B"]  # C was scored by XGB only
    a, b = merged.iloc[0], merged.iloc[1]
    assert a["vnv"] == pytest.approx(0.5) and a["rrab"] == pytest.approx(0.6)
    assert b["vnv"] == pytest.approx(0.8) and b["rrab"] == pytest.approx(0.2)
    assert a["survey_id"] == "AllWISE___7" and b["survey_id"] == "PS1_DR1___9"
    assert merge_dnn_xgb(dnn, xgb, "max").iloc[0]["vnv"] == pytest.approx(0.8)
    assert classes_above(merged, 0.7) == {"A": [], "B": ["vnv"]}


def test_merge_needs_fritz_names():
    dnn = _preds("dnn", ["A"], [0.2], [0.9]).drop(columns="obj_id")
    with pytest.raises(CombineError, match="fritz_name"):
        merge_dnn_xgb(dnn, _preds("xgb", ["A"], [0.2], [0.9]))


def test_cron_job_names_find_each_other(gcn_sky, tmp_path, capsys):
    """SCoPe's GCN names: --dirname generated_features_GCN_sources --filename
    gen_gcn_features_<label>, then run-inference --field <label>_specific_ids."""
    from scope_assets.lightcurves.archive import LocalArchive

    ids = LocalArchive(gcn_sky.archive).source_ids(296)["_id"].head(3)
    ids_file = tmp_path / "ids.parquet"
    pd.DataFrame({"ztf_id": ids, "fritz_name": ["ZTF26a", "ZTF26a", "ZTF26b"]}).to_parquet(ids_file)
    data = ["--data-dir", str(tmp_path / "data")]
    flags = ["--archive", str(gcn_sky.archive), "--config", str(gcn_sky.config), *data]
    names = ["--dirname", "generated_features_GCN_sources", "--filename", "gen_gcn_features_L1"]
    assert (
        generate_features_main(["--doSpecificIDs", "--fg-dataset", str(ids_file), *flags, *names])
        == 0
    )
    assert "run-inference --field L1_specific_ids" in capsys.readouterr().out
    directory = ["--feature-directory", "generated_features_GCN_sources"]
    assert (
        run_inference_main(["--field", "L1_specific_ids", "--algorithm", "xgb", *directory, *data])
        == 0
    )
    preds = read_parquet(
        tmp_path / "data" / "preds_xgb" / "field_L1_specific_ids" / "field_L1_specific_ids.parquet"
    )
    assert sorted(set(preds["obj_id"])) == ["ZTF26a", "ZTF26b"]
