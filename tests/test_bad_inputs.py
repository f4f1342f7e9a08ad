"""Bad input to every tool: exit code 2, one ``error:`` line naming the input and the problem,
no traceback, and no output or temporary file left behind (issue 14).

Each case is one named parametrized id; the helpers :func:`expect_refusal` and
:func:`files_under` do the common checks.
"""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import requests
from conftest_emulator import EMULATOR_KOWALSKI_PASSWORD, EMULATOR_KOWALSKI_USER

from scope_assets.cli.features import main as generate_features
from scope_assets.cli.fritz_tools import manage_annotation_main
from scope_assets.cli.inference_tools import (
    combine_preds_main,
    create_inference_script_main,
    eval_main,
    run_inference_main,
)
from scope_assets.cli.kowalski_tools import get_features_main, get_quad_ids_main
from scope_assets.cli.training_tools import train_main
from scope_assets.config import load_config
from scope_assets.emulator.cli import main as emulator_main
from scope_assets.emulator.faults import Fault
from scope_assets.io import DataLayout
from scope_assets.io.table_metadata import MAX_METADATA_BYTES
from scope_assets.sim import simulate_field
from scope_assets.testing.quick_models import shared_tiny_models
from scope_assets.testing.synthetic_features import synthetic_features_table, synthetic_truth

CONFIG = load_config(environ={})
GZIP_BYTES = gzip.compress(b"_id,hjd,mag,magerr\n" + b"1,2458200.5,15.0,0.01\n" * 200)


# --------------------------------------------------------------------------- helpers


def files_under(*roots: Path) -> set[Path]:
    return {p for root in roots if root.exists() for p in root.rglob("*") if p.is_file()}


def expect_refusal(capsys, code: int, *needles: str) -> str:
    """Exit code 2, ``error:`` naming every needle, no traceback, no raw binary; the message."""
    err = capsys.readouterr().err
    assert code == 2, err
    assert "error: " in err, err
    assert "Traceback" not in err, err
    for needle in needles:
        assert needle in err, f"{needle!r} not in {err!r}"
    assert "\ufffd" not in err and "\x1f\x8b" not in err and "\x00" not in err, err
    return err


def assert_nothing_new(before: set[Path], *roots: Path) -> None:
    new = files_under(*roots) - before
    assert not new, f"left behind: {sorted(map(str, new))}"


def write_with_metadata(table: pa.Table, path: Path, key: bytes, raw: bytes) -> Path:
    metadata = dict(table.schema.metadata or {})
    metadata[key] = raw
    pq.write_table(table.replace_schema_metadata(metadata), path)
    return path


def light_curve_table() -> pa.Table:
    return pa.table(
        {
            "_id": [1, 1, 2, 2],
            "hjd": [2458200.5, 2458201.5, 2458200.5, 2458201.5],
            "mag": [15.0, 15.1, 16.0, 16.1],
            "magerr": [0.01] * 4,
        }
    )


# --------------------------------------------------------------------------- configuration

CONFIG_FILES = {
    "config-not-yaml": (b"feature_generation: [unclosed\n", "is not valid YAML"),
    "config-not-a-mapping": (b"- just\n- a list\n", "must hold a mapping"),
    "config-unknown-key": (b"feature_generation:\n  max_freqq: 3\n", "max_freqq"),
    "config-binary-gzip": (GZIP_BYTES, "is not UTF-8 text"),
    "config-wrong-type": (b"training:\n  seed: many\n", "training.seed"),
    "config-section-scalar": (b"imputation: 3\n", "imputation"),
}


@pytest.mark.parametrize("case", list(CONFIG_FILES), ids=list(CONFIG_FILES))
def test_bad_config_file_in_ml_cli(case, tmp_path, capsys):
    content, problem = CONFIG_FILES[case]
    config = tmp_path / "scope.yaml"
    config.write_bytes(content)
    before = files_under(tmp_path)
    argv = ["--field", "296", "--data-dir", str(tmp_path), "--config-path", str(config)]
    expect_refusal(capsys, run_inference_main(argv), problem)
    assert_nothing_new(before, tmp_path)


@pytest.mark.parametrize("kind", ["missing", "directory"], ids=["config-missing", "config-is-dir"])
def test_config_path_that_is_not_a_file(kind, tmp_path, capsys):
    config = tmp_path / "scope.yaml"
    if kind == "directory":
        config.mkdir()
    argv = ["--lightcurves", str(tmp_path / "x.csv"), "--config", str(config)]
    problem = "does not exist" if kind == "missing" else "cannot be read"
    expect_refusal(capsys, generate_features(argv), str(config), problem)


ENV_CASES = {
    "env-empty": ({"SCOPE__TRAINING__SEED": ""}, ["SCOPE__TRAINING__SEED", "is empty"]),
    "env-blank": ({"SCOPE__TRAINING__SEED": "  \n"}, ["SCOPE__TRAINING__SEED", "is empty"]),
    "env-not-yaml": ({"SCOPE__TRAINING__SEED": "[1,"}, ["SCOPE__TRAINING__SEED", "not valid YAML"]),
    "env-deep": ({"SCOPE__TRAINING__SEED": "[" * 5000}, ["SCOPE__TRAINING__SEED", "nested"]),
    "env-section-scalar": ({"SCOPE__FEATURE_GENERATION": "3"}, ["feature_generation"]),
    "env-section-and-key": (
        {"SCOPE__FEATURES": "3", "SCOPE__FEATURES__CATALOG": "{}"},
        ["SCOPE__FEATURES ", "SCOPE__FEATURES__CATALOG", "keep one"],
    ),
    "env-section-and-key-reversed": (
        {"SCOPE__FEATURES__CATALOG": "{}", "SCOPE__FEATURES": "3"},
        ["SCOPE__FEATURES ", "SCOPE__FEATURES__CATALOG", "keep one"],
    ),
    "env-no-key": ({"SCOPE__": "1"}, ["SCOPE__", "names no configuration key"]),
}


@pytest.mark.parametrize("case", list(ENV_CASES), ids=list(ENV_CASES))
def test_bad_environment_override(case, tmp_path, capsys, monkeypatch):
    env, needles = ENV_CASES[case]
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    argv = ["--lightcurves", str(tmp_path / "x.csv"), "--output", str(tmp_path / "o.parquet")]
    expect_refusal(capsys, generate_features(argv), *needles)
    assert not (tmp_path / "o.parquet").exists()


def test_env_override_message_does_not_depend_on_order():
    from scope_assets.config import ConfigError

    messages = set()
    for env in ({"SCOPE__A": "1", "SCOPE__A__B": "2"}, {"SCOPE__A__B": "2", "SCOPE__A": "1"}):
        with pytest.raises(ConfigError) as caught:
            load_config(environ=env)
        messages.add(str(caught.value))
    assert len(messages) == 1


# --------------------------------------------------------------------------- generate-features


def gzip_named(path: Path) -> Path:
    path.write_bytes(GZIP_BYTES)
    return path


def metadata_file(key: bytes, raw: bytes):
    return lambda path: write_with_metadata(light_curve_table(), path, key, raw)


LIGHT_CURVE_CASES = {
    "lc-gzip-named-csv": ("lcs.csv", gzip_named, "not a readable CSV"),
    "lc-gzip-named-parquet": ("lcs.parquet", gzip_named, "Parquet"),
    "lc-pandas-metadata-not-json": ("lcs.parquet", metadata_file(b"pandas", b"{not json"), ""),
    "lc-missing-mag": (
        "lcs.parquet",
        lambda p: pq.write_table(light_curve_table().drop(["mag"]), p),
        "mag",
    ),
    "lc-no-rows": (
        "lcs.parquet",
        lambda p: pq.write_table(light_curve_table().slice(0, 0), p),
        "has no rows",
    ),
}


@pytest.mark.parametrize("case", list(LIGHT_CURVE_CASES), ids=list(LIGHT_CURVE_CASES))
def test_bad_light_curve_table(case, tmp_path, capsys):
    name, make, problem = LIGHT_CURVE_CASES[case]
    source = tmp_path / "in" / name
    source.parent.mkdir()
    make(source)
    out = tmp_path / "out"
    argv = ["--lightcurves", str(source), "--output", str(out / "features.parquet")]
    expect_refusal(capsys, generate_features(argv), str(source), problem)
    assert_nothing_new(set(), out)


@pytest.mark.parametrize(
    "flags,problem",
    [(["--max-freq", "-1"], "max_freq"), (["--samples-per-peak", "0"], "samples_per_peak")],
    ids=["flag-negative-max-freq", "flag-zero-samples-per-peak"],
)
def test_out_of_range_flag(flags, problem, tmp_path, capsys):
    argv = ["--lightcurves", str(tmp_path / "x.csv"), *flags]
    expect_refusal(capsys, generate_features(argv), problem)


@pytest.fixture(scope="module")
def small_sky(tmp_path_factory):
    root = tmp_path_factory.mktemp("bad_sky")
    simulate_field(root / "archive", field=296, n_sources=8, seed=3)
    return root


def test_field_not_in_archive(small_sky, tmp_path, capsys):
    argv = ["--field", "999", "--archive", str(small_sky / "archive"), "--data-dir", str(tmp_path)]
    expect_refusal(capsys, generate_features(argv), "field 999 not in archive", "available: [296]")
    assert_nothing_new(set(), tmp_path)


# --------------------------------------------------------------------------- run-inference


@pytest.fixture(scope="module")
def inference_root(tmp_path_factory):
    models = shared_tiny_models(tmp_path_factory.getbasetemp(), CONFIG)
    data = tmp_path_factory.mktemp("bad_inference")
    layout = DataLayout(data)
    table = synthetic_features_table(synthetic_truth(60, seed=4), CONFIG, seed=5)
    path = layout.imputed_features_file(296)
    path.parent.mkdir(parents=True)
    pq.write_table(table, path)
    return {"models": models, "data": data, "table": table}


def inference_argv(root, *extra: str, data: Path | None = None, models: Path | None = None):
    return [
        "--data-dir",
        str(data or root["data"]),
        "--models-dir",
        str(models or root["models"]),
        *extra,
    ]


FIELD_LABELS = {
    "field-escapes-root": ("296/../../escaped", "'296/../../escaped'"),
    "field-parent-specific-ids": ("../x_specific_ids", "'../x_specific_ids'"),
    "field-absolute-path": ("/tmp/x_specific_ids", "'/tmp/x_specific_ids'"),
    "field-not-a-label": ("M31", "'M31'"),
    "field-negative": ("-3", "'-3'"),
}


@pytest.mark.parametrize("case", list(FIELD_LABELS), ids=list(FIELD_LABELS))
def test_run_inference_refuses_unsafe_field(case, inference_root, tmp_path, capsys):
    label, shown = FIELD_LABELS[case]
    before = files_under(inference_root["data"], tmp_path.parent)
    argv = inference_argv(inference_root, "--field", label, "--algorithm", "xgb")
    expect_refusal(capsys, run_inference_main(argv), shown, "expected a field number")
    assert_nothing_new(before, inference_root["data"], tmp_path.parent)


def copied_models(inference_root, tmp_path) -> Path:
    models = tmp_path / "models"
    shutil.copytree(inference_root["models"], models)
    return models


def truncate_keras(models: Path) -> Path:
    path = next((models / "dnn").rglob("*.keras"))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def edit_manifest(key: str, value: str):
    def edit(models: Path) -> Path:
        path = next((models / "xgb").rglob("manifest.json"))
        manifest = json.loads(path.read_text())
        manifest[key] = value
        path.write_text(json.dumps(manifest))
        return path

    return edit


def corrupt_manifest(models: Path) -> Path:
    path = next((models / "xgb").rglob("manifest.json"))
    path.write_text('{"format": "scope-assets-model/1", ')
    return path


MODEL_CASES = {
    "model-truncated-keras": ("dnn", truncate_keras, "truncated or corrupt .keras archive"),
    "manifest-imputation-outside-root": (
        "xgb",
        edit_manifest("imputation_reference", "../../../../../../etc/passwd"),
        "leads outside",
    ),
    "manifest-model-file-path": (
        "xgb",
        edit_manifest("model_file", "../../other/model.json"),
        "model_file",
    ),
    "manifest-not-json": ("xgb", corrupt_manifest, "not valid JSON"),
}


@pytest.mark.parametrize("case", list(MODEL_CASES), ids=list(MODEL_CASES))
def test_run_inference_bad_model_files(case, inference_root, tmp_path, capsys):
    algorithm, damage, problem = MODEL_CASES[case]
    models = copied_models(inference_root, tmp_path)
    damaged = damage(models)
    data = tmp_path / "data"
    shutil.copytree(inference_root["data"], data)
    before = files_under(data)
    argv = inference_argv(
        inference_root, "--field", "296", "--algorithm", algorithm, data=data, models=models
    )
    err = expect_refusal(capsys, run_inference_main(argv), problem)
    assert str(damaged) in err or damaged.name in err
    assert "File not found" not in err
    assert_nothing_new(before, data)


FEATURE_CASES = {
    "features-scope-metadata-too-large": (
        b"scope",
        json.dumps({"blob": "x" * (MAX_METADATA_BYTES + 10)}).encode(),
        "bytes (limit",
    ),
    "features-scope-metadata-not-json": (b"scope", b"{oops", "'scope' metadata is not JSON"),
    "features-scope-metadata-not-object": (b"scope", b"[1, 2]", "not an object"),
    "features-scope-metadata-deep": (b"scope", b'{"a":' * 200 + b"1" + b"}" * 200, "nested"),
    "features-pandas-metadata-not-json": (b"pandas", b"{oops", "'pandas' metadata is not JSON"),
    "features-pandas-metadata-not-object": (b"pandas", b'"text"', "not an object"),
}


@pytest.mark.parametrize("case", list(FEATURE_CASES), ids=list(FEATURE_CASES))
def test_run_inference_bad_feature_metadata(case, inference_root, tmp_path, capsys):
    key, raw, problem = FEATURE_CASES[case]
    data = tmp_path / "data"
    path = DataLayout(data).imputed_features_file(296)
    path.parent.mkdir(parents=True)
    write_with_metadata(inference_root["table"], path, key, raw)
    before = files_under(data)
    argv = inference_argv(inference_root, "--field", "296", "--algorithm", "xgb", data=data)
    expect_refusal(capsys, run_inference_main(argv), str(path), problem)
    assert_nothing_new(before, data)


def test_run_inference_gzip_features_file(inference_root, tmp_path, capsys):
    data = tmp_path / "data"
    path = DataLayout(data).imputed_features_file(296)
    path.parent.mkdir(parents=True)
    path.write_bytes(GZIP_BYTES)
    argv = inference_argv(inference_root, "--field", "296", "--algorithm", "xgb", data=data)
    expect_refusal(capsys, run_inference_main(argv), path.name)
    assert_nothing_new({path}, data)


# --------------------------------------------------------------------------- combine-preds

COMBINE_CASES = {
    "combine-field-escapes": (["--field", "../../etc"], "'../../etc'"),
    "combine-dnn-directory-escapes": (["--dnn-directory", "../outside"], "--dnn-directory"),
    "combine-output-dirname-path": (
        ["--combined-preds-dirname", "a/b"],
        "--combined-preds-dirname",
    ),
    "combine-nothing-to-combine": ([], "no field has both"),
}


@pytest.mark.parametrize("case", list(COMBINE_CASES), ids=list(COMBINE_CASES))
def test_combine_preds_refuses(case, tmp_path, capsys):
    flags, problem = COMBINE_CASES[case]
    data = tmp_path / "data"
    data.mkdir()
    expect_refusal(capsys, combine_preds_main(["--data-dir", str(data), *flags]), problem)
    assert_nothing_new(set(), tmp_path)


def test_combine_preds_corrupt_prediction_file(tmp_path, capsys):
    layout = DataLayout(tmp_path)
    for algorithm in ("dnn", "xgb"):
        layout.preds_file(algorithm, 296).parent.mkdir(parents=True)
        layout.preds_file(algorithm, 296).write_bytes(GZIP_BYTES)
    before = files_under(tmp_path)
    code = combine_preds_main(["--data-dir", str(tmp_path), "--field", "296"])
    expect_refusal(capsys, code, "field_296.parquet")
    assert_nothing_new(before, tmp_path)


# --------------------------------------------------------------------------- Kowalski tools


QUAD = ["--field", "296", "--ccd-range", "1", "1", "--quad-range", "1", "1"]


def test_get_quad_ids_reversed_range(tmp_path, capsys):
    argv = [
        "--field",
        "296",
        "--ccd-range",
        "3",
        "1",
        "--multi-quads",
        "--output-dir",
        str(tmp_path),
    ]
    expect_refusal(capsys, get_quad_ids_main(argv), "--ccd-range", "above last value")
    assert_nothing_new(set(), tmp_path)


@pytest.mark.parametrize(
    "token", ["tok\nen-1234", "tok en-1234", "tökén-1234"], ids=["newline", "space", "unicode"]
)
def test_get_quad_ids_refuses_malformed_token(token, kowalski_env, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("KOWALSKI_TOKEN", token)
    code = get_quad_ids_main([*QUAD, "--output-dir", str(tmp_path)])
    err = expect_refusal(capsys, code, "KOWALSKI_TOKEN", "printable ASCII")
    assert token not in err and token.strip() not in err
    assert_nothing_new(set(), tmp_path)


def test_get_quad_ids_wrong_password_is_named(kowalski_env, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("KOWALSKI_PASSWORD", "wrong-password-77")
    code = get_quad_ids_main([*QUAD, "--output-dir", str(tmp_path)])
    err = expect_refusal(capsys, code, "get-quad-ids", "Kowalski")
    assert "wrong-password-77" not in err and "not available" not in err
    assert_nothing_new(set(), tmp_path)


def test_get_quad_ids_catalogue_refused_403_is_named(kowalski_env, tmp_path, capsys):
    kowalski_env.kowalski.faults.add(Fault(status=403, path_regex="/api/queries", count=2))
    code = get_quad_ids_main([*QUAD, "--output-dir", str(tmp_path)])
    err = expect_refusal(capsys, code, "HTTP 403", "refused the credentials")
    assert "not available" not in err


@pytest.mark.parametrize(
    "tool", ["get-quad-ids", "get-features"], ids=["ids-meta-gzip", "features-meta-gzip"]
)
def test_rerun_with_corrupt_meta_json(tool, kowalski_env, tmp_path, capsys):
    argv = [*QUAD, "--whole-field", "--output-dir", str(tmp_path)]
    assert get_quad_ids_main(argv) == 0
    if tool == "get-features":
        assert get_features_main(argv) == 0
        meta = tmp_path / "features" / "field_296" / "meta.json"
    else:
        meta = DataLayout(tmp_path).ids_dir(296) / "meta.json"
    meta.write_bytes(GZIP_BYTES)
    before = files_under(tmp_path)
    capsys.readouterr()
    main = get_features_main if tool == "get-features" else get_quad_ids_main
    expect_refusal(capsys, main(argv), str(meta), "not UTF-8")
    assert_nothing_new(before, tmp_path)


# --------------------------------------------------------------------------- Fritz client

FRITZ_TOKENS = {
    "fritz-token-newline": ("fritz-tok\nen-5150", ["FRITZ_TOKEN", "printable ASCII"]),
    "fritz-token-carriage-return": ("fritz-\rtoken-5150", ["FRITZ_TOKEN", "printable ASCII"]),
    "fritz-token-space": ("fritz token-5150", ["FRITZ_TOKEN", "printable ASCII"]),
    "fritz-token-unicode": ("fritz-tökén-5150", ["FRITZ_TOKEN", "printable ASCII"]),
    "fritz-token-missing": ("", ["no Fritz token", "FRITZ_TOKEN"]),
}


@pytest.mark.parametrize("case", list(FRITZ_TOKENS), ids=list(FRITZ_TOKENS))
def test_fritz_tool_refuses_bad_token(case, tmp_path, capsys, monkeypatch):
    token, needles = FRITZ_TOKENS[case]
    monkeypatch.setenv("FRITZ_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("FRITZ_TOKEN", token)
    monkeypatch.chdir(tmp_path)
    argv = ["--action", "post", "--source", "ZTF20aaaaaaa", "--origin", "o", "--key", "k"]
    err = expect_refusal(capsys, manage_annotation_main([*argv, "--value", "1"]), *needles)
    if token:
        assert token not in err and token.strip() not in err and repr(token)[1:-1] not in err
    assert_nothing_new(set(), tmp_path)


def test_fritz_config_section_not_yaml(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("FRITZ_TOKEN", raising=False)
    config = tmp_path / "config.yaml"
    config.write_text("fritz: {token: [unclosed\n")
    argv = ["--action", "post", "--source", "ZTF20aaaaaaa", "--origin", "o", "--key", "k"]
    code = manage_annotation_main([*argv, "--value", "1", "--config-path", str(config)])
    expect_refusal(capsys, code, str(config), "not valid YAML")


# --------------------------------------------------------------------------- emulator


def test_emulator_refuses_non_loopback_host(tmp_path, capsys):
    (tmp_path / "archive").mkdir()
    code = emulator_main(["--archive", str(tmp_path / "archive"), "--host", "0.0.0.0"])
    expect_refusal(capsys, code, "--host 0.0.0.0", "--allow-remote")


@pytest.mark.parametrize(
    "field", ["path_regex", "body_regex"], ids=["fault-bad-path-regex", "fault-bad-body-regex"]
)
def test_emulator_refuses_fault_with_bad_regex(field, emulator):
    with pytest.raises(ValueError, match="is not a regular expression"):
        Fault(status=500, **{field: "(unclosed"})
    reply = requests.post(
        f"{emulator.fritz_url}/_emulator/faults", json={"status": 500, field: "[z-a]"}, timeout=5
    )
    assert reply.status_code == 400 and "not a regular expression" in reply.json()["message"]
    assert not emulator.fritz.faults.active()


def test_emulator_request_log_hides_credentials(emulator):
    requests.post(
        f"{emulator.kowalski_url}/api/auth",
        json={"username": EMULATOR_KOWALSKI_USER, "password": EMULATOR_KOWALSKI_PASSWORD},
        timeout=5,
    )
    fritz_token = emulator.fritz_tokens[0]
    requests.get(
        f"{emulator.fritz_url}/api/groups", headers={"Authorization": f"token {fritz_token}"}
    )
    for url in (emulator.kowalski_url, emulator.fritz_url):
        text = requests.get(f"{url}/_emulator/requests", timeout=5).text
        assert EMULATOR_KOWALSKI_PASSWORD not in text and fritz_token not in text
        assert "<redacted>" in text


# --------------------------------------------------------------------------- every ML CLI, one handler

ML_MAINS = {
    "run-inference": (run_inference_main, ["--field", "296"]),
    "scope-eval": (eval_main, ["--field", "296"]),
    "scope-train": (train_main, ["--tag", "vnv"]),
    "create-inference-script": (create_inference_script_main, ["--filename", "x.sh"]),
}


@pytest.mark.parametrize("tool", list(ML_MAINS), ids=[f"bad-config-{t}" for t in ML_MAINS])
def test_bad_config_in_every_ml_cli(tool, tmp_path, capsys, monkeypatch):
    main, argv = ML_MAINS[tool]
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "scope.yaml"
    config.write_text("training: {seed: [unclosed\n")
    common = ["--data-dir", str(tmp_path / "data"), "--config-path", str(config)]
    expect_refusal(capsys, main([*argv, *common]), str(config), "not valid YAML")
    assert_nothing_new({config}, tmp_path)


def test_only_a_bug_keeps_its_traceback():
    from scope_assets.cli.error_exit import cli_main

    @cli_main
    def buggy(argv=None) -> int:
        raise KeyError("a bug")

    with pytest.raises(KeyError):
        buggy([])


def test_scope_train_names_an_eros1_folder_without_its_files(tmp_path, capsys):
    real = tmp_path / "real"
    (real / "eros1_ramp").mkdir(parents=True)
    (real / "eros1_ramp" / "train.csv").write_text("id,type\n")
    data = tmp_path / "data"
    models = tmp_path / "models"
    argv = ["--all-demo", "--eros1-dir", str(real), "--data-dir", str(data)]
    argv += ["--models-dir", str(models), "--n-sources", "12", "--workers", "1"]
    before = files_under(tmp_path)
    expect_refusal(
        capsys, train_main(argv), str(real / "eros1_ramp"), "train_varlength_features.csv.gz"
    )
    assert_nothing_new(before, tmp_path)
