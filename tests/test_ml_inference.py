"""Inference: SCoPe's layout and columns, batch-size independence, row alignment, model loading
(this project's layout and SCoPe's, incl. the real SCoPe files), clear errors, combine-preds and
create-inference-script."""

import json
import os
import shutil

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from scope_assets.config import load_config
from scope_assets.features.imputation import build_imputation_reference, impute_features
from scope_assets.io import DataLayout, read_parquet, write_parquet
from scope_assets.lightcurves.ids import decode_id, decode_id_unchecked, is_scope_id
from scope_assets.ml.inference.combine_predictions import combine_field_predictions
from scope_assets.ml.inference.field_inference import predict_field, run_inference
from scope_assets.ml.inference.inference_script import create_inference_script
from scope_assets.ml.inference.matrix_imputer import MatrixImputer
from scope_assets.ml.inference.prediction_format import prediction_format_problems
from scope_assets.ml.model_errors import InputError, ModelError
from scope_assets.ml.model_files.either_layout import load_model_paths
from scope_assets.ml.model_files.project_layout import load_model_dir, load_models
from scope_assets.ml.model_files.scaling import FeatureStats
from scope_assets.ml.model_files.scope_layout import load_scope_models
from scope_assets.testing import shared_path
from scope_assets.testing.quick_models import shared_tiny_models, tiny_training_set
from scope_assets.testing.synthetic_features import (
    synthetic_features,
    synthetic_features_table,
    synthetic_truth,
)

CONFIG = load_config(environ={})
SCOPE_MODELS = shared_path("data", "scope-models")
HEAD = ["_id", "Gaia_EDR3___id", "AllWISE___id", "PS1_DR1___id", "ra", "dec", "period"]
HEAD += ["field", "ccd", "quad", "filter"]


@pytest.fixture(scope="module")
def training_set():
    return tiny_training_set(CONFIG, n=900, seed=5)


@pytest.fixture(scope="module")
def models_root(tmp_path_factory):
    return shared_tiny_models(tmp_path_factory.getbasetemp(), CONFIG)


@pytest.fixture(scope="module")
def field_file(tmp_path_factory):
    """A 400-row field with missing cross-matches and some rows missing a light-curve feature."""
    path = tmp_path_factory.mktemp("field") / "features.parquet"
    truth = synthetic_truth(400, seed=11)
    table = synthetic_features_table(truth, CONFIG, seed=12, missing_xmatch=0.25, missing_none=0.05)
    pq.write_table(table, path, row_group_size=150)
    return path


def _run(models, field_file, out_dir, batch_size, algorithm):
    return run_inference(
        models,
        [field_file],
        out_dir / "field_296.parquet",
        algorithm=algorithm,
        field=296,
        config=CONFIG,
        batch_size=batch_size,
        flagged_path=out_dir / "field_296_flagged.json",
    )


@pytest.mark.parametrize("algorithm", ["xgb", "dnn"])
def test_scores_do_not_depend_on_batch_size(tmp_path, models_root, field_file, algorithm):
    models = load_models(models_root, algorithm, "demo", config=CONFIG)
    outputs = []
    for batch_size in (7, 64, 100_000) if algorithm == "xgb" else (90, 100_000):
        result = _run(models, field_file, tmp_path / str(batch_size), batch_size, algorithm)
        outputs.append(
            (read_parquet(result.path), json.loads(result.flagged_path.read_text()), result.batches)
        )
    assert outputs[0][2] > outputs[-1][2]  # really several batches
    for df, flagged, _ in outputs[1:]:
        pd.testing.assert_frame_equal(df, outputs[0][0])
        assert flagged == outputs[0][1]


def test_prediction_file_layout_and_columns(tmp_path, models_root, field_file):
    models = load_models(models_root, "xgb", "demo", config=CONFIG)
    assert [m.tag for m in models] == ["vnv", "rrab"]  # config class order
    result = _run(models, field_file, tmp_path, 100, "xgb")
    df = read_parquet(result.path)
    assert list(df.columns) == HEAD + ["vnv_xgb", "rrab_xgb"]
    assert prediction_format_problems(result.path, "xgb") == []
    assert df[["Gaia_EDR3___id", "AllWISE___id", "PS1_DR1___id"]].notna().all().all()
    assert df["_id"].dtype == np.int64 and df["Gaia_EDR3___id"].dtype == np.int64
    raw = pq.read_table(field_file).to_pandas().set_index("_id")
    ids = df["_id"].to_numpy()
    missing_gaia = raw.loc[ids, "Gaia_EDR3___id"].isna().to_numpy()
    assert missing_gaia.any() and (df.loc[missing_gaia, "Gaia_EDR3___id"] == 0).all()
    scores = df[["vnv_xgb", "rrab_xgb"]].to_numpy()
    assert ((scores >= 0) & (scores <= 1)).all()
    np.testing.assert_array_equal(scores, np.round(scores, 2))
    assert df.attrs["inference_scope_code_version"] and df.attrs["inference_dateTime_utc"]
    meta = json.loads(result.meta_path.read_text())
    assert meta == {"field": 296, "xgb_models": [str(m.path) for m in models], "total": len(df)}
    _run(models, field_file, tmp_path, 100, "xgb")  # again: no duplicate appends
    assert json.loads(result.meta_path.read_text())["xgb_models"] == meta["xgb_models"]
    flagged = json.loads(result.flagged_path.read_text())
    assert set(flagged) == {str(i) for i in raw.index}  # every id, before any row drop
    gaia_missing_id = str(raw.index[raw["Gaia_EDR3___id"].isna()][0])
    assert "Gaia_EDR3__parallax" in flagged[gaia_missing_id]


def test_rows_dropped_by_imputation_keep_columns_aligned(tmp_path, models_root, field_file):
    for algorithm in ("xgb", "dnn"):
        models = load_models(models_root, algorithm, "demo", config=CONFIG)
        result = _run(models, field_file, tmp_path / algorithm, 50, algorithm)
        df = read_parquet(result.path).set_index("_id")
        raw = pq.read_table(field_file).to_pandas()
        none_cols = [c for c, s in CONFIG.impute_strategies().items() if s == "none"]
        dropped = raw[none_cols].isna().any(axis=1).to_numpy()
        assert dropped.sum() > 5 and result.rows_dropped == dropped.sum()
        assert list(df.index) == raw.loc[~dropped, "_id"].tolist()  # order kept
        kept = raw.loc[~dropped].set_index("_id")
        for column, source in (
            ("ra", "ra"),
            ("dec", "dec"),
            ("period", "period_ELS_ECE_EAOV"),
            ("ccd", "ccd"),
            ("quad", "quad"),
        ):
            np.testing.assert_array_equal(df[column].to_numpy(), kept[source].to_numpy())
        # each row's score equals the score of the same row scored alone
        alone_path = tmp_path / f"alone_{algorithm}.parquet"
        pq.write_table(pq.read_table(field_file).filter(pa.array(~dropped)), alone_path)
        alone = run_inference(
            models,
            [alone_path],
            tmp_path / f"alone_{algorithm}" / "out.parquet",
            algorithm=algorithm,
            field=296,
            config=CONFIG,
            batch_size=1000,
        )
        pd.testing.assert_frame_equal(read_parquet(alone.path).set_index("_id"), df)


def test_location_columns_come_from_any_id_when_absent(tmp_path, models_root, field_file):
    """Without field/ccd/quad/filter columns they come from the ``_id`` digits, also (no error)
    for ids that are not SCoPe's."""
    table = pq.read_table(field_file).drop_columns(["field", "ccd", "quad", "filter"])
    ids = table.column("_id").to_numpy().copy()
    ids[::50] = np.arange(len(ids[::50])) * 7 + 12345  # not 14-digit SCoPe ids
    path = tmp_path / "no_location.parquet"
    pq.write_table(table.set_column(0, "_id", pa.array(ids)), path)
    models = load_models(models_root, "xgb", "demo", config=CONFIG)
    out = run_inference(
        models, [path], tmp_path / "p.parquet", algorithm="xgb", field=1, config=CONFIG
    )
    df = read_parquet(out.path)
    assert list(df.columns) == HEAD[:-1] + ["vnv_xgb", "rrab_xgb"]  # no filter column
    scope = is_scope_id(df["_id"])
    assert scope.any() and not scope.all()
    digits = decode_id_unchecked(df["_id"].to_numpy())
    for column in ("field", "ccd", "quad"):
        np.testing.assert_array_equal(df[column], getattr(digits, column))
    raw = pq.read_table(field_file).to_pandas().set_index("_id")
    np.testing.assert_array_equal(df.loc[scope, "ccd"], raw.loc[df.loc[scope, "_id"], "ccd"])
    np.testing.assert_array_equal(df.loc[scope, "field"], decode_id(df.loc[scope, "_id"]).field)


def test_fast_imputation_equals_impute_features(training_set):
    reference = build_imputation_reference(training_set, CONFIG, max_rows=300)
    truth = synthetic_truth(300, seed=21)
    df = synthetic_features(truth, CONFIG, seed=22, missing_xmatch=0.3, missing_none=0.05)
    df.loc[::9, "n_ztf_alerts"] = pd.NA
    df.loc[::7, "AllWISE__w3mpro"] = np.nan  # partial survey gaps too
    columns = list(reference.strategies)
    expected, kept = impute_features(df[columns], reference)
    matrix = df[columns].apply(pd.to_numeric).to_numpy(dtype=float)
    got, got_kept = MatrixImputer(reference, columns).transform(matrix)
    np.testing.assert_array_equal(got_kept, kept)
    np.testing.assert_allclose(got[got_kept], expected[columns].to_numpy(dtype=float), rtol=1e-12)


# --------------------------------------------------------------------------- SCoPe's layout


def _scope_layout(tmp_path, training_set, models_root):
    """Copy our tiny models into SCoPe's file conventions (booster json+params, Keras .h5)."""
    import xgboost as xgb

    root = tmp_path / "scope"
    ours = load_model_dir(models_root / "xgb" / "demo" / "rrab")
    tag_dir = root / "models_xgb" / "grp" / "rrab"
    tag_dir.mkdir(parents=True)
    booster = ours._impl
    for time_tag in ("20240101_000000", "20250101_000000"):
        booster.save_model(tag_dir / f"rrab.{time_tag}.json")
        (tag_dir / f"rrab.{time_tag}.params").write_text(booster.save_config())
    (tag_dir / "rrab.20240101_000000.json").write_text("{}")  # the older file is never read
    dnn = load_model_dir(models_root / "dnn" / "demo" / "rrab")
    dnn_dir = root / "models_dnn" / "grp" / "rrab"
    dnn_dir.mkdir(parents=True)
    dnn._impl.save(dnn_dir / "rrab.20250101_000000.h5")
    ts_path = tmp_path / "training_set.parquet"
    write_parquet(training_set, ts_path)
    return root, ts_path, xgb


def test_scope_layout_models_load_newest_and_scale_from_training_set(
    tmp_path, training_set, models_root, field_file
):
    root, ts_path, xgb = _scope_layout(tmp_path, training_set, models_root)
    models = load_scope_models(root, "xgb", "grp", CONFIG, training_set=ts_path)
    assert [m.tag for m in models] == ["rrab"] and models[0].layout == "scope"
    assert models[0].path.name == "rrab.20250101_000000.json"
    assert models[0].features == CONFIG.class_columns("rrab")
    # SCoPe's scaling: nan-aware min/max of the raw training set
    stats = FeatureStats.from_frame(training_set, models[0].features)
    col = models[0].features[3]
    assert models[0].scaler.shift[3] == stats.stats[col]["min"]
    result = run_inference(
        models,
        [field_file],
        tmp_path / "out" / "p.parquet",
        algorithm="xgb",
        field=296,
        config=CONFIG,
    )
    df = read_parquet(result.path)
    # equal to SCoPe's computation: imputed raw features, min-max scaled, DMatrix predict
    raw = pq.read_table(field_file).to_pandas()
    imputed, _ = impute_features(raw, models[0].imputation)
    X = imputed[models[0].features].to_numpy(float)
    lo = np.array([stats.stats[c]["min"] for c in models[0].features])
    hi = np.array([stats.stats[c]["max"] for c in models[0].features])
    scaled = pd.DataFrame((X - lo) / (hi - lo), columns=models[0].features)
    expected = models[0]._impl.predict(xgb.DMatrix(scaled))
    np.testing.assert_allclose(df["rrab_xgb"], np.round(expected, 2), atol=1e-12)
    dnn = load_scope_models(root, "dnn", "grp", CONFIG, training_set=ts_path)
    assert dnn[0].path.suffix == ".h5" and dnn[0].uses_dmdt


@pytest.mark.skipif(
    not SCOPE_MODELS.exists(), reason=f"SCoPe model fixtures absent: {SCOPE_MODELS}"
)
def test_real_scope_models_load_and_score(tmp_path, training_set, field_file):
    import xgboost as xgb

    stats = FeatureStats.from_frame(training_set, CONFIG.feature_columns("ontological")).to_dict()
    for algorithm in ("xgb", "dnn"):
        models = load_scope_models(SCOPE_MODELS, algorithm, "anchor", CONFIG, feature_stats=stats)
        assert [m.tag for m in models] == ["vnv"] and len(models[0].features) == 35
        result = run_inference(
            models,
            [field_file],
            tmp_path / algorithm / "p.parquet",
            algorithm=algorithm,
            field=296,
            config=CONFIG,
        )
        df = read_parquet(result.path)
        assert list(df.columns) == HEAD + [f"vnv_{algorithm}"] and len(df) == result.rows_out
        assert df[f"vnv_{algorithm}"].between(0, 1).all()
        if algorithm == "xgb":  # the booster + .params reproduce SCoPe's DMatrix predictions
            raw = pq.read_table(field_file).to_pandas()
            none_cols = [c for c, s in CONFIG.impute_strategies().items() if s == "none"]
            raw = raw[~raw[none_cols].isna().any(axis=1)]
            X = models[0].prepare(raw[models[0].features].to_numpy(float))
            booster = xgb.Booster()
            booster.load_model(models[0].path)
            booster.load_config(models[0].path.with_suffix(".params").read_text())
            dm = xgb.DMatrix(pd.DataFrame(X, columns=models[0].features))
            expected = np.round(booster.predict(dm), 2)  # float32, as SCoPe writes scores
            np.testing.assert_array_equal(df["vnv_xgb"], expected)


# --------------------------------------------------------------------------- errors


def test_corrupt_model_files_name_the_file(tmp_path, models_root):
    shutil.copytree(models_root / "imputation", tmp_path / "imputation")
    for algorithm, name in (("xgb", "rrab.json"), ("dnn", "rrab.keras")):
        copy = tmp_path / algorithm / "demo" / "rrab"
        shutil.copytree(models_root / algorithm / "demo" / "rrab", copy)
        (copy / name).write_bytes(b"\x00garbage, not a model")
        with pytest.raises(ModelError, match=f"{copy / name}: not a readable"):
            load_model_dir(copy)


def test_wrong_feature_count_names_the_file(tmp_path, models_root):
    import xgboost as xgb

    rng = np.random.default_rng(0)
    booster = xgb.train(
        {"objective": "binary:logistic"},
        xgb.DMatrix(rng.random((50, 10)), label=rng.integers(0, 2, 50)),
        3,
    )
    tag_dir = tmp_path / "models_xgb" / "grp" / "rrab"
    tag_dir.mkdir(parents=True)
    booster.save_model(tag_dir / "rrab.20250101_000000.json")
    with pytest.raises(ModelError, match=r"rrab\.20250101_000000\.json.*10 input features but 61"):
        load_scope_models(tmp_path, "xgb", "grp", CONFIG, scale_features=None)
    with pytest.raises(
        ModelError, match=r"rrab\.20250101_000000\.json: SCoPe models store no scaling"
    ):
        load_scope_models(tmp_path, "xgb", "grp", CONFIG)
    # a manifest whose feature list does not match the network
    copy = tmp_path / "dnn" / "demo" / "rrab"
    shutil.copytree(models_root / "dnn" / "demo" / "rrab", copy)
    shutil.copytree(models_root / "imputation", tmp_path / "imputation")
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["features"] = manifest["features"][:35]
    (copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match=r"rrab\.keras.*takes 61 input features but 35"):
        load_model_dir(copy)


def test_missing_models_and_inputs_name_what_is_missing(tmp_path, models_root, field_file):
    with pytest.raises(ModelError, match=str(tmp_path / "xgb" / "nogroup")):
        load_models(tmp_path, "xgb", "nogroup")
    with pytest.raises(ModelError, match="no xgb model for tags \\['ceph'\\]"):
        load_models(models_root, "xgb", "demo", tags=["ceph"])
    with pytest.raises(ModelError, match="does not exist"):
        load_model_paths([tmp_path / "nope.json"], ["rrab"], "xgb", CONFIG)
    copy = tmp_path / "copy"
    shutil.copytree(models_root / "xgb" / "demo" / "vnv", copy / "xgb" / "demo" / "vnv")
    shutil.copytree(models_root / "imputation", copy / "imputation")
    (copy / "xgb" / "demo" / "vnv" / "vnv.json").unlink()
    with pytest.raises(
        ModelError, match=f"model file {copy / 'xgb' / 'demo' / 'vnv' / 'vnv.json'} does not exist"
    ):
        load_models(copy, "xgb", "demo")
    # an input lacking a feature column
    table = pq.read_table(field_file).drop_columns(["wstd"])
    bad = tmp_path / "bad.parquet"
    pq.write_table(table, bad)
    models = load_models(models_root, "xgb", "demo", config=CONFIG)
    with pytest.raises(InputError, match=f"{bad}: missing columns.*wstd"):
        run_inference(
            models, [bad], tmp_path / "o.parquet", algorithm="xgb", field=1, config=CONFIG
        )
    assert not (tmp_path / "o.parquet").exists()
    corrupt = tmp_path / "corrupt.parquet"
    corrupt.write_bytes(b"PAR1 not really parquet")
    with pytest.raises(InputError, match=f"{corrupt}: not a readable Parquet file"):
        run_inference(
            models, [corrupt], tmp_path / "o.parquet", algorithm="xgb", field=1, config=CONFIG
        )


# --------------------------------------------------------------------------- combine, script, field


def test_predict_field_and_combine(tmp_path, models_root, field_file):
    layout = DataLayout(tmp_path / "data")
    target = layout.imputed_features_file(296)
    target.parent.mkdir(parents=True)
    shutil.copy(field_file, target)
    for algorithm in ("xgb", "dnn"):
        models = load_models(models_root, algorithm, "demo", config=CONFIG)
        result = predict_field(
            layout, 296, algorithm, models, CONFIG, batch_size=128, write_csv=True
        )
        assert result.path == layout.preds_file(algorithm, 296) and result.csv_path.exists()
        assert layout.flagged_file(algorithm, 296).exists()
    combined = combine_field_predictions(layout, 296)
    assert combined.path == layout.combined_file(296)
    df = read_parquet(combined.path)
    assert list(df.columns) == HEAD + ["vnv_dnn", "rrab_dnn", "vnv_xgb", "rrab_xgb"]
    assert len(df) == combined.rows_dnn == combined.rows_xgb
    assert json.loads((layout.combined_dir() / "fields.json").read_text()) == [296]


def test_create_inference_script_refuses_to_overwrite(tmp_path, models_root):
    path = tmp_path / "get_all_preds_xgb.sh"
    create_inference_script(path, models_root, "xgb", "demo", config=CONFIG, batch_size=5000)
    text = path.read_text()
    assert '--field "$1"' in text and "--model-class-names vnv rrab" in text
    assert str((models_root / "xgb" / "demo" / "rrab").resolve()) in text
    assert os.access(path, os.X_OK)
    with pytest.raises(FileExistsError, match=str(path)):
        create_inference_script(path, models_root, "xgb", "demo", config=CONFIG)
    assert path.read_text() == text

    from scope_assets.cli.inference_tools import create_inference_script_main

    argv = ["--filename", str(path), "--models-dir", str(models_root), "--algorithm", "xgb"]
    assert create_inference_script_main(argv) == 2
