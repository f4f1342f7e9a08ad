"""Training: labels, the training set, the split, XGB/DNN training and the manifest round trip."""

import numpy as np
import pandas as pd
import pytest

from scope_assets.config import load_config
from scope_assets.features.imputation import ImputationReference
from scope_assets.features.xmatch import ALERT_STAT_COLUMNS
from scope_assets.ml.backends.registry import ALGORITHMS, BACKENDS, backend_for
from scope_assets.ml.model_errors import ModelError
from scope_assets.ml.model_files.manifest import ModelManifest
from scope_assets.ml.model_files.project_layout import load_model_dir
from scope_assets.ml.training.labels import (
    DEMO_TAGS,
    SIM_CLASS_LABELS,
    label_columns,
    labels_for_classes,
    sim_classes_of_tag,
    trainable_tags,
)
from scope_assets.ml.training.model_training import train_model
from scope_assets.ml.training.survey_training_rows import (
    ZTF_WITHOUT_CATALOGUES_SURVEY,
    without_catalogues,
)
from scope_assets.ml.training.training_data import (
    prepare_training_data,
    self_imputation_reference,
    split_indices,
)
from scope_assets.ml.training.training_set import TrainingSetError, build_training_set
from scope_assets.testing.quick_models import quick_options, tiny_training_set, train_tiny
from scope_assets.testing.synthetic_features import synthetic_features, synthetic_truth

CONFIG = load_config(environ={})


@pytest.fixture(scope="module")
def training_set():
    return tiny_training_set(CONFIG, n=900, seed=3)


def test_label_mapping_sets_class_and_parents():
    labels = labels_for_classes(["rrab", "wuma", "ea", "nonvar", "fla"])
    assert (
        labels.loc[0, ["RR Lyrae ab", "RR Lyrae", "pulsator", "periodic", "variable"]].eq(1).all()
    )
    assert labels.loc[0, "RR Lyrae c"] == 0.0 and labels.loc[0, "non-variable"] == 0.0
    assert labels.loc[1, ["W UMa", "EW", "eclipsing", "binary star"]].eq(1).all()
    assert labels.loc[2, ["EA", "detached eclipsing MS-MS", "eclipsing"]].eq(1).all()
    assert labels.loc[3].sum() == 1.0 and labels.loc[3, "non-variable"] == 1.0
    assert labels.loc[4, ["flaring", "irregular", "variable"]].eq(1).all()
    assert set(label_columns()) == {lab for labs in SIM_CLASS_LABELS.values() for lab in labs}
    with pytest.raises(ValueError, match="unknown simulated classes"):
        labels_for_classes(["rrab", "blazar"])


def test_demo_tags_are_trainable_and_map_to_sim_classes():
    assert set(DEMO_TAGS) <= set(trainable_tags(CONFIG))
    assert sim_classes_of_tag("rrab", CONFIG) == ["rrab"]
    assert set(sim_classes_of_tag("vnv", CONFIG)) == set(SIM_CLASS_LABELS) - {"nonvar"}
    assert set(sim_classes_of_tag("puls", CONFIG)) == {"rrab", "rrc", "dscu", "ceph"}


def test_build_training_set_joins_truth_and_rejects_unlabelled_rows():
    truth = synthetic_truth(50, seed=1)
    features = synthetic_features(truth, CONFIG, seed=2)
    ts = build_training_set(features.iloc[::-1].reset_index(drop=True), truth)
    by_id = ts.set_index("_id")
    for row in truth.itertuples():
        assert by_id.loc[row._1, "sim_class"] == row._2
        assert by_id.loc[row._1, SIM_CLASS_LABELS[row._2][0]] == 1.0
    assert len(ts.attrs["training_set_fingerprint"]) == 16
    with pytest.raises(TrainingSetError, match="no truth entry"):
        build_training_set(features, truth.iloc[1:])


def test_split_is_81_9_10_and_common_to_every_class(training_set):
    reference = self_imputation_reference(training_set, CONFIG, max_rows=300)
    tests = []
    for tag in ("rrab", "vnv", "ea"):
        data = prepare_training_data(training_set, tag, CONFIG, reference)
        n = {p: len(data.parts[p].y) for p in ("train", "val", "test")}
        total = sum(n.values())
        assert abs(n["test"] / total - 0.10) < 0.01
        assert abs(n["val"] / total - 0.09) < 0.01
        assert data.split == "common"
        tests.append(set(data.parts["test"].ids))
        # target: label > 0.7
        label = training_set.set_index("_id")[CONFIG.classes[tag].label]
        assert np.array_equal(
            data.parts["test"].y, (label.loc[data.parts["test"].ids] > 0.7).astype(int)
        )
        # scaled with stored stats: train part within [0, 1] (min-max over all imputed rows)
        assert data.parts["train"].X.min() >= -1e-6 and data.parts["train"].X.max() <= 1 + 1e-6
    assert tests[0] == tests[1] == tests[2]
    # the split is reproducible
    a = split_indices(500, np.zeros(500, int) + (np.arange(500) % 7 == 0), seed=42)
    b = split_indices(500, np.zeros(500, int) + (np.arange(500) % 7 == 0), seed=42)
    assert all(np.array_equal(x, y) for x, y in zip(a[:3], b[:3], strict=True))


def test_xgb_training_writes_model_manifest_and_stats(tmp_path, training_set):
    result = train_model(training_set, "rrab", "xgb", CONFIG, tmp_path, options=quick_options())
    model_dir = tmp_path / "xgb" / "demo" / "rrab"
    assert result.model_dir == model_dir
    assert (model_dir / "rrab.json").exists() and (model_dir / "manifest.json").exists()
    for set_name in ("val", "test"):
        stats = list(model_dir.glob(f"rrab.*_plots/{set_name}/rrab.*_stats.json"))
        assert len(stats) == 1
        assert len(list(model_dir.glob(f"rrab.*_plots/{set_name}/rrab.*_impvars.json"))) == 1
    params = result.manifest.params
    for key, value in {
        "max_depth": 3,
        "min_child_weight": 1,
        "eta": 0.3,
        "subsample": 0.6,
        "colsample_bytree": 0.6,
        "objective": "binary:logistic",
        "eval_metric": ["auc", "logloss"],
    }.items():
        assert params[key] == value
    n_pos = result.manifest.metrics["train"]["n_positive"]
    n_neg = result.manifest.metrics["train"]["n"] - n_pos
    assert params["scale_pos_weight"] == pytest.approx(n_neg / n_pos)
    assert result.manifest.metrics["test"]["roc_auc"] > 0.9


def test_algorithms_are_backends_looked_up_by_name(tmp_path, training_set):
    assert tuple(BACKENDS) == ALGORITHMS == ("xgb", "dnn")
    assert backend_for("dnn").uses_dmdt and not backend_for("xgb").uses_dmdt
    with pytest.raises(ModelError, match="unknown algorithm 'svm'; expected one of"):
        train_model(training_set, "rrab", "svm", CONFIG, tmp_path)
    assert not any(tmp_path.iterdir())


def test_manifest_round_trip(tmp_path, training_set):
    result = train_model(training_set, "vnv", "xgb", CONFIG, tmp_path, options=quick_options())
    manifest = ModelManifest.from_json(result.model_dir)
    assert manifest == result.manifest
    assert manifest.tag == "vnv" and manifest.algorithm == "xgb" and manifest.group == "demo"
    assert manifest.features == CONFIG.class_columns("vnv")  # 35 phenomenological, in order
    assert manifest.period_suffix == "ELS_ECE_EAOV" and manifest.label == "variable"
    assert manifest.threshold == 0.7 and manifest.scaling_method == "log_min_max"
    assert set(manifest.scaling_stats) == set(manifest.features)
    for stats in manifest.scaling_stats.values():
        assert set(stats) == {"min", "max", "median", "mean", "std"}
    assert manifest.training_set_fingerprint == training_set.attrs["training_set_fingerprint"]
    assert manifest.created_utc and manifest.code_version and manifest.time_tag
    reference = ImputationReference.from_json(result.model_dir / manifest.imputation_reference)
    assert reference.fingerprint == manifest.imputation_fingerprint
    model = load_model_dir(result.model_dir)
    assert (
        model.features == manifest.features
        and model.imputation.fingerprint == reference.fingerprint
    )
    # a corrupted manifest is an error naming the file
    (result.model_dir / "manifest.json").write_text("{not json")
    with pytest.raises(ModelError, match=str(result.model_dir / "manifest.json")):
        load_model_dir(result.model_dir)


def test_dnn_architecture_and_learning_rate_applied(tmp_path, training_set):
    from scope_assets.ml.backends.dnn import DNNOptions, build_dnn, train_dnn

    model = build_dnn(61)
    names = {layer.name for layer in model.layers}
    assert {
        "features",
        "dmdt",
        "dense_fc_1",
        "dense_fc_2",
        "conv_conv_1",
        "conv_conv_2",
        "conv_conv_3",
        "conv_conv_4",
        "fc_1",
        "score",
    } <= names
    assert model.get_layer("dense_fc_1").units == 256 and model.get_layer("dense_fc_2").units == 32
    assert (
        model.get_layer("conv_conv_1").filters == 16
        and model.get_layer("conv_conv_4").filters == 32
    )
    assert model.get_layer("score").activation.__name__ == "sigmoid"
    reference = self_imputation_reference(training_set, CONFIG, max_rows=300)
    data = prepare_training_data(training_set, "rrab", CONFIG, reference, with_dmdt=True)
    result = train_dnn(data, DNNOptions(epochs=1, learning_rate=1.234e-3, batch_size=256))
    assert float(result.model.optimizer.learning_rate) == pytest.approx(1.234e-3)


def test_dnn_training_is_reproducible_and_saved_small(tmp_path, training_set):
    a = train_tiny(
        tmp_path / "a", CONFIG, training_set=training_set, tags=("rrab",), algorithms=("dnn",)
    )
    b = train_tiny(
        tmp_path / "b", CONFIG, training_set=training_set, tags=("rrab",), algorithms=("dnn",)
    )
    assert a[0].model_path.suffix == ".keras" and a[0].model_path.stat().st_size < 200_000
    ma, mb = load_model_dir(a[0].model_dir), load_model_dir(b[0].model_dir)
    for wa, wb in zip(ma._impl.get_weights(), mb._impl.get_weights(), strict=True):
        np.testing.assert_array_equal(wa, wb)
    assert a[0].manifest.metrics["test"] == b[0].manifest.metrics["test"]


def test_without_catalogues_blanks_cross_matches_of_a_seeded_share():
    config = load_config(environ={})
    truth = synthetic_truth(600, seed=5)
    features = synthetic_features(truth, config, seed=5).assign(survey="ztf")
    features.attrs = {"training_set_source": "synthetic"}
    out = without_catalogues(features, 1 / 3, seed=11)
    blanked = (out["survey"] == ZTF_WITHOUT_CATALOGUES_SURVEY).to_numpy()
    assert 150 < blanked.sum() < 250  # 200 expected, binomial σ ≈ 12
    catalogue = [c for c in out.columns if "__" in c or c in ALERT_STAT_COLUMNS]
    assert len(catalogue) > 20 and "AllWISE___id" in catalogue
    assert out.loc[blanked, catalogue].isna().all().all()
    pd.testing.assert_frame_equal(out.loc[~blanked], features.loc[~blanked])
    rest = [c for c in out.columns if c not in catalogue and c not in ("survey", "dmdt")]
    pd.testing.assert_frame_equal(out[rest], features[rest])
    assert list(out.dtypes) == list(features.dtypes)
    assert out.attrs == features.attrs
    again = without_catalogues(features, 1 / 3, seed=11)
    assert (again["survey"] == out["survey"]).all()
    other = without_catalogues(features, 1 / 3, seed=12)
    assert (other["survey"] != out["survey"]).any()
