"""SCoPe's config.yaml: model inputs in SCoPe's order, validation, boosters' stored names."""

import json
from types import SimpleNamespace

import pytest
import yaml

from scope_assets.config import load_config
from scope_assets.config.scope_yaml import (
    ModelInputsError,
    ScopeYamlError,
    booster_input_order,
    looks_like_scope_yaml,
    read_scope_yaml,
)
from scope_assets.testing import shared_path

ANCHOR = shared_path("data", "scope-anchor")
needs_anchor = pytest.mark.skipif(
    not ANCHOR.exists(), reason=f"SCoPe parity fixture absent: {ANCHOR}"
)

TOY = {
    "features": {
        "info": {"period_suffix": "LS"},
        "phenomenological": {
            "wstd": {"include": True, "periodic": False},
            "f1_a": {"include": "true", "periodic": True},
            "ad": {"include": True, "periodic": False},
            "ra": {"include": False},
        },
        "ontological": {
            "wstd": {"include": True, "periodic": False, "impute_strategy": "None"},
            "f1_a": {"include": True, "periodic": True, "impute_strategy": "None"},
            "ad": {"include": True, "periodic": False, "impute_strategy": "None"},
            "period": {"include": True, "periodic": True, "impute_strategy": "None"},
            "AllWISE__w1mpro": {"include": True, "periodic": False, "impute_strategy": "regress"},
            "Gaia_EDR3__parallax_error": {
                "include": True,
                "periodic": False,
                "impute_strategy": "Median",
            },
            "_id": {"include": False, "impute_strategy": "None"},
        },
    },
    "training": {
        "dataset": "tools/train.parquet",
        "classes": {
            "vnv": {"label": "variable", "features": "phenomenological", "threshold": 0.7},
            "newcls": {"label": "New class", "features": "ontological"},
        },
    },
}


def _write(tmp_path, data, name="config.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _booster(names, n=None):
    return SimpleNamespace(feature_names=names, num_features=lambda: len(names) if n is None else n)


def test_class_inputs_keep_the_config_order_and_suffix_periodic_names(tmp_path):
    scope = read_scope_yaml(_write(tmp_path, TOY))
    assert scope.class_inputs("vnv") == ["wstd", "f1_a_LS", "ad"]
    assert scope.class_inputs("newcls") == [
        "wstd",
        "f1_a_LS",
        "ad",
        "period_LS",
        "AllWISE__w1mpro",
        "Gaia_EDR3__parallax_error",
    ]
    assert scope.class_inputs("vnv", period_suffix="ELS_ECE_EAOV")[1] == "f1_a_ELS_ECE_EAOV"
    assert scope.class_inputs("vnv", period_suffix="None")[1] == "f1_a"
    assert scope.training_set_path(tmp_path) == tmp_path / "tools" / "train.parquet"
    with pytest.raises(ScopeYamlError, match=r"config\.yaml: unknown class tag 'rrab'"):
        scope.class_inputs("rrab")


def test_project_config_from_scope_yaml_keeps_scope_order(tmp_path):
    scope = read_scope_yaml(_write(tmp_path, TOY))
    config = scope.to_project_config(load_config(environ={}))
    assert config.class_columns("newcls") == scope.class_inputs("newcls")
    assert config.class_columns("vnv") == scope.class_inputs("vnv")
    assert config.period_suffix == "LS"
    assert config.impute_strategies()["Gaia_EDR3__parallax_error"] == "median"
    assert config.classes["newcls"].taxonomy_id == 1015 and not config.classes["newcls"].published
    assert config.classes["vnv"].fritz_label == "variable"
    assert "rrab" in config.classes  # classes SCoPe's file lacks stay available
    other = scope.to_project_config(load_config(environ={}), period_suffix="ELS")
    assert other.class_columns("vnv")[1] == "f1_a_ELS"


def test_missing_keys_are_all_named_with_the_file(tmp_path):
    broken = json.loads(json.dumps(TOY))
    del broken["features"]["info"]["period_suffix"]
    del broken["features"]["ontological"]["ad"]["periodic"]
    broken["features"]["phenomenological"]["wstd"] = {"periodic": False}
    broken["training"]["classes"]["bad"] = {"label": "Bad"}
    path = _write(tmp_path, broken)
    with pytest.raises(ScopeYamlError) as info:
        read_scope_yaml(path)
    message = str(info.value)
    assert message.startswith(f"{path}: not a usable SCoPe config")
    for missing in (
        "features.info.period_suffix",
        "features.ontological.ad.periodic",
        "features.phenomenological.wstd.include",
        "training.classes.bad.features",
    ):
        assert missing in message
    with pytest.raises(ScopeYamlError, match=r"training: missing"):
        read_scope_yaml(_write(tmp_path, {"features": TOY["features"]}, "no_training.yaml"))
    unknown_set = json.loads(json.dumps(TOY))
    unknown_set["training"]["classes"]["vnv"]["features"] = "exotic"
    with pytest.raises(ScopeYamlError, match=r"features\.exotic: missing"):
        read_scope_yaml(_write(tmp_path, unknown_set, "exotic.yaml"))
    with pytest.raises(ScopeYamlError, match="does not exist"):
        read_scope_yaml(tmp_path / "absent.yaml")


def test_scope_yaml_is_told_apart_from_this_projects_config(tmp_path):
    assert looks_like_scope_yaml(_write(tmp_path, TOY))
    ours = _write(tmp_path, {"feature_generation": {"max_freq": 24}}, "scope.yaml")
    assert not looks_like_scope_yaml(ours)
    assert not looks_like_scope_yaml(tmp_path / "absent.yaml")


def test_booster_input_order_prefers_stored_names():
    configured = ["a", "b", "c"]
    assert booster_input_order(_booster(["c", "a", "b"]), configured, "m.json") == ["c", "a", "b"]
    assert booster_input_order(_booster(["c", "a", "b"]), None, "m.json") == ["c", "a", "b"]
    assert booster_input_order(_booster(None, 3), configured, "m.json") == configured
    with pytest.raises(ModelInputsError, match=r"m\.json: the booster's inputs differ.*\['x'\]"):
        booster_input_order(_booster(["a", "b", "x"]), configured, "m.json")
    with pytest.raises(ModelInputsError, match=r"m\.json: the booster has 10 input features but 3"):
        booster_input_order(_booster(None, 10), configured, "m.json")
    with pytest.raises(ModelInputsError, match=r"m\.json: the booster stores no feature names"):
        booster_input_order(_booster(None, 3), None, "m.json")


@needs_anchor
def test_scope_anchor_inputs_equal_scope_and_its_boosters():
    """The anchor's config gives, per class, exactly the inputs SCoPe built and its boosters store."""
    import xgboost as xgb

    golden = json.loads((ANCHOR / "golden" / "field_297_stages_xgb.json").read_text())
    scope = read_scope_yaml(ANCHOR / "config.yaml")
    config = scope.to_project_config(load_config(environ={}))
    assert golden["tags"] == ["pnp", "vnv", "rrlyr"]
    for tag, model in zip(golden["tags"], golden["paths_models"], strict=True):
        expected = golden["inputs_per_class"][tag]
        assert scope.class_inputs(tag) == expected
        assert config.class_columns(tag) == expected
        booster = xgb.Booster()
        booster.load_model(str(ANCHOR / model.removeprefix("<workdir>/")))
        assert booster.feature_names == expected
        assert booster_input_order(booster, scope.class_inputs(tag), model) == expected
    assert scope.set_inputs("ontological") == golden["ontological_inputs"]
    assert len(golden["inputs_per_class"]["rrlyr"]) == 61
    assert sorted(golden["ontological_inputs"]) != golden["ontological_inputs"]  # not a sort
    assert scope.period_suffix == "ELS_ECE_EAOV"
    assert scope.training_set_path(ANCHOR).exists()
    assert set(scope.feature_stats) >= {"ad", "f1_power", "AllWISE__w1mpro"}
