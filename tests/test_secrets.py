"""Secrets never leak: tokens and passwords with control characters, spaces or unicode never
appear in any log, error, metadata or result file (issue 14).

Each run captures stdout, stderr and every log record at DEBUG, then greps them and every file
the run wrote for every representation of the secret (raw, repr escapes, URL- and JSON-encoded).
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from conftest_emulator import (
    EMULATOR_FRITZ_TOKEN,
    EMULATOR_KOWALSKI_PASSWORD,
    EMULATOR_KOWALSKI_USER,
    kowalski_token,
)

from scope_assets.cli.fritz_tools import manage_annotation_main
from scope_assets.cli.kowalski_tools import get_features_main, get_quad_ids_main
from scope_assets.credentials import MIN_REDACTED_LENGTH, redact, representations

QUAD = ["--field", "296", "--ccd-range", "1", "1", "--quad-range", "1", "1", "--whole-field"]


def forms(secret: str) -> set[str]:
    """Every text form of ``secret`` (and of its stripped core) worth searching for."""
    found = set(representations(secret)) | set(representations(secret.strip()))
    return {f for f in found if len(f) >= MIN_REDACTED_LENGTH}


def assert_secret_absent(secret: str, texts: list[str], root: Path) -> None:
    written = [p for p in root.rglob("*") if p.is_file()]
    contents = [p.read_bytes().decode("latin-1") for p in written]
    for form in forms(secret):
        for text in texts:
            assert form not in text, f"secret form {form!r} in captured output"
        for path, content in zip(written, contents, strict=True):
            assert form not in content, f"secret form {form!r} in {path}"
            assert form.encode().decode("latin-1") not in content, path


def captured(capsys, caplog) -> list[str]:
    out = capsys.readouterr()
    return [out.out, out.err, caplog.text, *(r.getMessage() for r in caplog.records)]


@pytest.fixture
def kowalski_url(emulator, monkeypatch):
    monkeypatch.setenv("KOWALSKI_URL", emulator.kowalski_url)
    monkeypatch.setenv("KOWALSKI_TIMEOUT", "5")
    for name in ("KOWALSKI_TOKEN", "KOWALSKI_USERNAME", "KOWALSKI_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    return emulator


@pytest.mark.parametrize(
    "wrap", ["{}\r\n", "  {}\n", "\t{} "], ids=["crlf-end", "spaces-newline", "tab-space"]
)
def test_kowalski_token_from_an_env_file_works_and_never_leaks(
    wrap, kowalski_url, tmp_path, capsys, caplog, monkeypatch
):
    caplog.set_level(logging.DEBUG)
    token = kowalski_token(kowalski_url)
    monkeypatch.setenv("KOWALSKI_TOKEN", wrap.format(token))
    argv = [*QUAD, "--output-dir", str(tmp_path)]
    assert get_quad_ids_main(argv) == 0
    assert get_features_main(argv) == 0
    assert any(tmp_path.rglob("*.parquet"))
    assert_secret_absent(token, captured(capsys, caplog), tmp_path)


@pytest.mark.parametrize(
    "bad",
    ["{}\nX-Injected: 1", "{} trailing-word", "{}é", "\x07{}", "{}\x1b[31m"],
    ids=["inner-newline", "inner-space", "unicode", "bell", "escape-sequence"],
)
def test_kowalski_malformed_token_is_refused_without_echo(
    bad, kowalski_url, tmp_path, capsys, caplog, monkeypatch
):
    caplog.set_level(logging.DEBUG)
    secret = bad.format(kowalski_token(kowalski_url))
    monkeypatch.setenv("KOWALSKI_TOKEN", secret)
    assert get_quad_ids_main([*QUAD, "--output-dir", str(tmp_path)]) == 2
    texts = captured(capsys, caplog)
    assert "KOWALSKI_TOKEN" in texts[1]
    assert_secret_absent(secret, texts, tmp_path)
    assert not [r for r in kowalski_url.kowalski.requests() if "/api/queries" in r.path]


@pytest.mark.parametrize("password", ["{}\r\n", "{}\n"], ids=["password-crlf", "password-newline"])
def test_kowalski_password_from_an_env_file(
    password, kowalski_url, tmp_path, capsys, caplog, monkeypatch
):
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("KOWALSKI_USERNAME", EMULATOR_KOWALSKI_USER)
    monkeypatch.setenv("KOWALSKI_PASSWORD", password.format(EMULATOR_KOWALSKI_PASSWORD))
    assert get_quad_ids_main([*QUAD, "--output-dir", str(tmp_path)]) == 0
    assert_secret_absent(EMULATOR_KOWALSKI_PASSWORD, captured(capsys, caplog), tmp_path)


def test_wrong_kowalski_password_is_not_echoed(kowalski_url, tmp_path, capsys, caplog, monkeypatch):
    caplog.set_level(logging.DEBUG)
    wrong = "wrong pässword\twith-tab"
    monkeypatch.setenv("KOWALSKI_USERNAME", EMULATOR_KOWALSKI_USER)
    monkeypatch.setenv("KOWALSKI_PASSWORD", wrong)
    assert get_quad_ids_main([*QUAD, "--output-dir", str(tmp_path)]) == 2
    assert_secret_absent(wrong, captured(capsys, caplog), tmp_path)


ANNOTATE = ["--action", "post", "--source", "ZTF99zzzzzzz", "--origin", "o", "--key", "k"]


@pytest.mark.parametrize(
    "token,code",
    [
        (f"{EMULATOR_FRITZ_TOKEN}\r\n", 1),
        (f" {EMULATOR_FRITZ_TOKEN}\n", 1),
        (f"{EMULATOR_FRITZ_TOKEN}\r\nX-Injected: 1", 2),
        (f"{EMULATOR_FRITZ_TOKEN} extra", 2),
        (f"{EMULATOR_FRITZ_TOKEN}ü", 2),
        ("unknown-token-4242", 1),
    ],
    ids=["crlf-end", "space-newline", "header-injection", "inner-space", "unicode", "rejected"],
)
def test_fritz_token_never_leaks(token, code, emulator, tmp_path, capsys, caplog, monkeypatch):
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("FRITZ_URL", emulator.fritz_url)
    monkeypatch.setenv("FRITZ_TOKEN", token)
    monkeypatch.chdir(tmp_path)
    assert manage_annotation_main([*ANNOTATE, "--value", "1", "--rate-limit", "0"]) == code
    texts = captured(capsys, caplog)
    assert_secret_absent(token, texts, tmp_path)
    assert_secret_absent(EMULATOR_FRITZ_TOKEN, texts, tmp_path)


def test_redact_hides_every_representation():
    secret = "tök en\r\n/+%"
    for form in representations(secret):
        assert secret not in redact(f"header {form!r} and {form}", [secret])
        assert form not in redact(f"header {form}", [secret])
