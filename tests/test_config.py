"""Configuration: packaged defaults, user overrides and errors that name the bad key."""

import pytest

from scope_assets.config import ConfigError, data_root, load_config


def test_defaults_hold_scope_feature_sets():
    config = load_config(environ={})
    phenom = config.feature_columns("phenomenological")
    onto = config.feature_columns("ontological")
    assert len(phenom) == 35 and len(onto) == 61
    assert set(phenom) <= set(onto)
    assert "f1_power_ELS_ECE_EAOV" in phenom and "period_ELS_ECE_EAOV" in onto
    assert "n" not in phenom
    strategies = config.impute_strategies()
    counts = {s: list(strategies.values()).count(s) for s in set(strategies.values())}
    assert counts == {"none": 37, "regress": 13, "median": 9, "zero": 2}
    assert config.classes["rrab"].fritz_label == "RRab"
    assert config.classes["vnv"].taxonomy_id == 1017
    assert len(config.classes) == 52


def test_phenomenological_order_matches_scope_written_booster():
    """SCoPe's scope-train stored these names (in this order) in a real vnv booster."""
    head = ["ad", "chi2red", "f1_BIC_ELS_ECE_EAOV", "f1_a_ELS_ECE_EAOV", "f1_amp_ELS_ECE_EAOV"]
    tail = ["stetson_j", "stetson_k", "sw", "welch_i", "wmean", "wstd"]
    cols = load_config(environ={}).feature_columns("phenomenological")
    assert cols[:5] == head and cols[-6:] == tail


def test_user_file_overrides_and_typo_is_named(tmp_path):
    good = tmp_path / "scope.yaml"
    good.write_text("feature_generation:\n  max_freq: 24\n  min_n_lc_points: 30\n")
    config = load_config(good, environ={})
    assert config.feature_generation.max_freq == 24
    assert config.feature_generation.min_n_lc_points == 30
    assert config.feature_generation.samples_per_peak == 10

    typo = tmp_path / "typo.yaml"
    typo.write_text("feature_generation:\n  max_frq: 24\n")
    with pytest.raises(ConfigError, match=r"feature_generation\.max_frq: unknown key"):
        load_config(typo, environ={})


def test_bad_values_and_files(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("feature_generation:\n  max_freq: -1\n")
    with pytest.raises(ConfigError, match="feature_generation.max_freq"):
        load_config(bad, environ={})
    bad.write_text("features:\n  sets:\n    phenomenological: [no_such_feature]\n")
    with pytest.raises(ConfigError, match="no_such_feature"):
        load_config(bad, environ={})
    bad.write_text("[1, 2")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad, environ={})
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "absent.yaml", environ={})


def test_environment_overrides():
    config = load_config(environ={"SCOPE__FEATURE_GENERATION__TOP_N_PERIODS": "10"})
    assert config.feature_generation.top_n_periods == 10
    with pytest.raises(ConfigError, match="unknown key"):
        load_config(environ={"SCOPE__FEATURE_GENERATION__TOPN": "10"})


def test_unknown_class_tag_is_named():
    with pytest.raises(ConfigError, match="nosuch"):
        load_config(environ={}).class_columns("nosuch")


def test_data_root_explicit_then_environment_then_data(monkeypatch, tmp_path):
    tmp_path = tmp_path.resolve()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SCOPE_DATA_DIR", str(tmp_path / "env"))
    assert data_root(tmp_path / "given") == tmp_path / "given"
    assert data_root() == tmp_path / "env"
    monkeypatch.setenv("SCOPE_DATA_DIR", "")
    assert data_root() == tmp_path / "data"
    monkeypatch.delenv("SCOPE_DATA_DIR")
    assert data_root() == tmp_path / "data"
