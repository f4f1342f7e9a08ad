"""Taxonomy mappers generated from the config, their validation against Fritz, source names,
connection settings and scope-post-taxonomy (Fritz emulator over HTTP)."""

from __future__ import annotations

import json

import pytest
import yaml
from conftest_emulator import EMULATOR_FRITZ_TOKEN

from scope_assets.cli.fritz_tools import post_taxonomy_main, taxonomy_map_main
from scope_assets.config import load_config
from scope_assets.fritz.fritz_settings import FritzSettingsError, fritz_url_and_token
from scope_assets.fritz.source_names import radec_to_iau_name
from scope_assets.fritz.taxonomy_mappers import (
    MAPPER_FILES,
    MapperEntry,
    MapperError,
    TaxonomyMapper,
    build_mapper,
    known_columns,
    load_mapper,
    packaged_mapper_path,
    validate_mapper,
)


@pytest.fixture(scope="module")
def config():
    return load_config()


@pytest.mark.parametrize("kind", list(MAPPER_FILES))
def test_shipped_mappers_are_the_generated_ones(config, kind):
    shipped = json.loads(packaged_mapper_path(MAPPER_FILES[kind]).read_text())
    assert shipped == build_mapper(config, kind).to_json()


def test_mapper_contents_follow_the_class_table(config):
    fritz = build_mapper(config, "fritz")
    published = [t for t, spec in config.classes.items() if spec.published]
    assert fritz.columns == [*published, "nonvar"]
    assert len(fritz) == 45  # SCoPe's fritz_mapper.json: 44 published tags + nonvar
    assert fritz.entry("rrab") == MapperEntry("rrab", "RRab", 1015)
    assert fritz.entry("nonvar") == MapperEntry("nonvar", "non-variable", 1017)
    golden = build_mapper(config, "training")
    assert golden.entry("RR Lyrae ab").fritz_label == "RRab"
    assert "ccd artifact" in golden  # unpublished classes are training labels too
    assert golden.entry("non-variable").taxonomy_id == 1017
    assert build_mapper(config, "dnn").columns == [f"{c}_dnn" for c in fritz.columns]
    assert build_mapper(config, "xgb").entry("vnv_xgb").fritz_label == "variable"


def test_generated_mappers_validate_against_fritz(emulator_fritz_client, config):
    taxonomies = emulator_fritz_client.get_taxonomies()
    for kind in MAPPER_FILES:
        validate_mapper(build_mapper(config, kind), taxonomies, known_columns(config))


def test_validation_names_every_bad_entry(emulator_fritz_client, config):
    mapper = TaxonomyMapper(
        (
            MapperEntry("vnv", "variable", 1017),
            MapperEntry("rrab", "RR ab", 1015),
            MapperEntry("ea", "EA", 999),
            MapperEntry("foo", "variable", 1017),
            MapperEntry("nice", "None", -1),
        ),
        source="my_mapper.json",
    )
    with pytest.raises(MapperError) as err:
        validate_mapper(mapper, emulator_fritz_client.get_taxonomies(), known_columns(config))
    text = str(err.value)
    assert "my_mapper.json" in text
    assert "entry 'rrab': Fritz label 'RR ab' is not a class of taxonomy 1015" in text
    assert "entry 'ea': taxonomy id 999 is not on Fritz" in text
    assert "entry 'foo': unknown column" in text
    assert "'vnv'" not in text
    assert "taxonomy id -1" not in text  # "None" entries are never posted: label not checked


def test_labels_are_case_sensitive(emulator_fritz_client):
    mapper = TaxonomyMapper((MapperEntry("rrab", "rrab", 1015),))
    with pytest.raises(MapperError, match="'rrab' is not a class"):
        validate_mapper(mapper, emulator_fritz_client.get_taxonomies())


def test_load_mapper_checks_structure_and_finds_shipped_files(tmp_path):
    assert len(load_mapper("fritz_mapper.json")) == 45  # shipped file by SCoPe's name
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"vnv": {"fritz_label": "variable"}}))
    with pytest.raises(MapperError, match="bad.json: entry 'vnv' must be"):
        load_mapper(bad)
    bad.write_text(json.dumps({"vnv": {"fritz_label": "variable", "taxonomy_id": "1017"}}))
    with pytest.raises(MapperError, match="taxonomy_id must be an integer"):
        load_mapper(bad)
    bad.write_text("{not json")
    with pytest.raises(MapperError, match="not valid JSON"):
        load_mapper(bad)
    with pytest.raises(MapperError, match="does not exist"):
        load_mapper(tmp_path / "missing.json")


def test_scope_taxonomy_map_cli_writes_the_shipped_file(tmp_path, capsys):
    out = tmp_path / "m.json"
    assert taxonomy_map_main(["--kind", "dnn", "--output", str(out)]) == 0
    assert out.read_text() == packaged_mapper_path("DNN_AL_mapper.json").read_text()
    assert "45 entries" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("ra", "dec", "name"),
    [
        (0.0, 0.0, "ZTFJ000000.00+000000.0"),
        (105.890629, 2.404226, "ZTFJ070333.75+022415.2"),
        (280.5, -12.25, "ZTFJ184200.00-121500.0"),
        (359.9999999, -0.00001, "ZTFJ000000.00+000000.0"),  # rounding carries, no "60.00"
        (15.0 * (59.996 / 3600), 89.99999, "ZTFJ000100.00+900000.0"),
    ],
)
def test_coordinate_names(ra, dec, name):
    assert radec_to_iau_name(ra, dec) == name


def test_coordinate_names_reject_bad_positions():
    for ra, dec in [(360.0, 0.0), (-1.0, 0.0), (10.0, 91.0), (float("nan"), 0.0)]:
        with pytest.raises(ValueError):
            radec_to_iau_name(ra, dec)


def test_settings_from_environment_or_scope_config(tmp_path):
    env = {"FRITZ_URL": "http://localhost:1/", "FRITZ_TOKEN": "t-env"}
    assert fritz_url_and_token(None, env) == ("http://localhost:1", "t-env")
    cfg = tmp_path / "config.yaml"
    cfg.write_text(yaml.safe_dump({"fritz": {"protocol": "http", "host": "h:9", "token": "t-cfg"}}))
    assert fritz_url_and_token(cfg, {}) == ("http://h:9", "t-cfg")
    assert fritz_url_and_token(cfg, {"FRITZ_TOKEN": "t-env"})[1] == "t-env"
    with pytest.raises(FritzSettingsError, match="set FRITZ_TOKEN"):
        fritz_url_and_token(None, {})


def test_profile_names_the_tokens_user(emulator_fritz_client):
    profile = emulator_fritz_client.get("/api/internal/profile")
    assert profile["username"] == "scope-user-1" and isinstance(profile["id"], int)


def test_post_taxonomy_once(emulator, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("FRITZ_URL", emulator.fritz_url)
    monkeypatch.setenv("FRITZ_TOKEN", EMULATOR_FRITZ_TOKEN)
    tax = tmp_path / "tax.yaml"
    tax.write_text(
        yaml.safe_dump({"class": "Test", "subclasses": [{"class": "a"}, {"class": "b"}]})
    )
    args = ["--taxonomy", str(tax), "--name", "T", "--version", "1.0", "--provenance", "x"]
    assert post_taxonomy_main([*args, "--rate-limit", "0"]) == 0
    assert post_taxonomy_main([*args, "--rate-limit", "0"]) == 0
    out = capsys.readouterr().out
    assert "(already on Fritz)" in out
    assert len(emulator.fritz.requests("POST", "/api/taxonomy")) == 1
    tax.write_text("- just a list")
    assert post_taxonomy_main([*args, "--rate-limit", "0"]) == 2
    assert "not a tdtax hierarchy" in capsys.readouterr().err
