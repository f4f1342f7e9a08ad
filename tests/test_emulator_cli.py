"""scope-emulator as a process: starts, prints where it listens, serves, stops on SIGTERM."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time

import pytest
import requests

from scope_assets.emulator.cli import describe, main


def read_until(process: subprocess.Popen, pattern: str, timeout_s: float = 30.0) -> str:
    """Stdout of ``process`` up to the first line matching ``pattern`` (fails at the deadline)."""
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(
        target=lambda: [lines.put(line) for line in process.stdout], daemon=True
    ).start()
    seen = ""
    deadline = time.monotonic() + timeout_s
    while (remaining := deadline - time.monotonic()) > 0:
        try:
            line = lines.get(timeout=remaining)
        except queue.Empty:
            break
        seen += line
        if re.search(pattern, line):
            return seen
    pytest.fail(f"no line matching {pattern!r} within {timeout_s} s; output so far:\n{seen}")


def test_cli_serves_both_apis_until_terminated(emulator_archive):
    command = [
        sys.executable,
        "-m",
        "scope_assets.emulator.cli",
        "--archive",
        str(emulator_archive),
        "--kowalski-user",
        "alice:secret-pw",
        "--fritz-token",
        "tok-123",
    ]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    try:
        output = read_until(process, r"^Ctrl-C to stop")
        kowalski = re.search(r"Kowalski emulator: (\S+)", output).group(1)
        fritz = re.search(r"Fritz emulator:\s+(\S+)", output).group(1)
        assert (
            "secret-pw" not in output and "tok-123" not in output
        )  # only demo secrets are printed
        auth = requests.post(
            f"{kowalski}/api/auth", json={"username": "alice", "password": "secret-pw"}, timeout=5
        )
        assert auth.status_code == 200 and auth.json()["token"]
        groups = requests.get(
            f"{fritz}/api/groups", headers={"Authorization": "token tok-123"}, timeout=5
        )
        assert groups.status_code == 200
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0


def test_demo_credentials_are_printed_only_when_none_are_given(emulator):
    demo = describe(emulator, demo_kowalski=True, demo_fritz=True)
    assert (
        f"KOWALSKI_URL={emulator.kowalski_url}" in demo
        and f"FRITZ_URL={emulator.fritz_url}" in demo
    )
    assert emulator.fritz_tokens[0] in demo
    own = describe(emulator, demo_kowalski=False, demo_fritz=False)
    assert emulator.fritz_tokens[0] not in own and "KOWALSKI_PASSWORD" not in own


def test_cli_rejects_a_missing_archive(tmp_path, capsys):
    assert main(["--archive", str(tmp_path / "nope")]) == 2
    assert "does not exist" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--archive", str(tmp_path), "--kowalski-user", "no-colon"])
