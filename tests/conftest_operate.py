"""pytest fixtures for operating the platform (a plugin module; tests/conftest.py imports it).

``tiny_demo`` runs ``scope-demo`` once per session, as a user would (a subprocess), on a tiny
sky (two fields of a dozen light curves, a coarse period grid), into a temporary data root
with its own ``DAGSTER_HOME``. The demo, staleness and browser tests read what it left.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from scope_assets.testing.fast_config import FAST_CONFIG

PROJECT_ROOT = Path(__file__).resolve().parents[1]
TINY_FIELDS = ("296", "297")
TINY_SOURCES = 12


@dataclass(frozen=True)
class TinyDemo:
    root: Path
    home: Path
    env: dict[str, str]
    output: str

    def instance(self):
        import dagster as dg
        from dagster._core.instance.ref import InstanceRef

        return dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(self.home)))


def operate_env(root: Path) -> dict[str, str]:
    """Environment of a subprocess working on the data root ``root`` with the fast config."""
    config = root / "fast.yaml"
    (root / "dagster_home").mkdir(parents=True, exist_ok=True)
    config.write_text(FAST_CONFIG)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCOPE")}
    return env | {
        "SCOPE_DATA_DIR": str(root),
        "SCOPE_CONFIG": str(config),
        "DAGSTER_HOME": str(root / "dagster_home"),
        "PYTHONPATH": str(PROJECT_ROOT),
    }


@pytest.fixture(scope="session")
def tiny_demo(tmp_path_factory) -> TinyDemo:
    root = tmp_path_factory.mktemp("tiny_demo") / "data"
    env = operate_env(root)
    command = [sys.executable, "-m", "scope_assets.cli.demo", "--fields", *TINY_FIELDS]
    command += ["--n-sources", str(TINY_SOURCES)]
    done = subprocess.run(
        command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=1200
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return TinyDemo(root, Path(env["DAGSTER_HOME"]), env, done.stdout)
