"""A running GCN automation for the end-to-end test and the latency benchmark: ``scope-emulator``
and ``dagster-daemon`` as subprocesses on a temporary ``DAGSTER_HOME``.

The daemon loads a small definitions file written here (the GCN assets, job, sensors and a
rescan schedule with the given cron) pointed at the emulator's Fritz and the local archive.
Every process is started in its own session and stopped (with its children) by :meth:`stop`.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import requests

from scope_assets.emulator.runtime import DEMO_FRITZ_TOKENS

T = TypeVar("T")
REPO_ROOT = Path(__file__).resolve().parents[2]
DEFS_TEMPLATE = """\
import dagster as dg

from resources.fritz import FritzResource
from resources.gcn import GcnResource
from resources.sky import SkySourceResource
from resources.storage import StorageResource
from scope_assets.defs.gcn_assets import GCN_ASSETS
from scope_assets.defs.gcn_automation import (
    GCN_JOBS,
    build_gcn_rescan,
    gcn_event_sensor,
    gcn_run_failure_sensor,
)

defs = dg.Definitions(
    assets=GCN_ASSETS,
    jobs=GCN_JOBS,
    sensors=[gcn_event_sensor, gcn_run_failure_sensor],
    schedules=[build_gcn_rescan({cron!r})],
    resources={{
        "storage": StorageResource(data_dir={data!r}, config_path={config!r}),
        "sky": SkySourceResource(archive_dir={archive!r}),
        "fritz": FritzResource(base_url={fritz_url!r}, token={token!r}, rate_limit_per_s=0),
        "gcn": GcnResource(post_phot_as_comment={phot!r}),
    }},
)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(
    check: Callable[[], T | None], timeout_s: float, what: str, interval_s: float = 2.0
) -> T:
    """Poll ``check`` until it returns something truthy; TimeoutError naming ``what``."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout_s:.0f} s")
        time.sleep(interval_s)


def ticked_since(instance, name: str, since: float) -> bool:
    """The sensor or schedule ``name`` finished a tick that started after ``since`` (epoch s)."""
    from dagster._core.scheduler.instigation import TickStatus

    finished = [TickStatus.SKIPPED, TickStatus.SUCCESS, TickStatus.FAILURE]
    return any(
        instance.get_ticks(
            state.instigator_origin_id, state.selector_id, after=since, statuses=finished
        )
        for state in instance.all_instigator_state()
        if state.instigator_name == name
    )


def _reachable(url: str) -> bool:
    with contextlib.suppress(requests.RequestException):
        return requests.get(url, timeout=1).status_code == 200
    return False


@dataclass
class GcnStack:
    """The running processes and where they keep their state."""

    workdir: Path
    home: Path
    data: Path
    fritz_url: str
    token: str
    processes: list[subprocess.Popen] = field(default_factory=list)

    def instance(self):
        import dagster as dg

        return dg.DagsterInstance.from_config(str(self.home))

    def log(self, name: str) -> str:
        path = self.workdir / f"{name}.log"
        return path.read_text() if path.exists() else ""

    def stop(self) -> None:
        """SIGTERM each process group this stack started, then SIGKILL what is left."""
        for process in reversed(self.processes):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in reversed(self.processes):
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        self.processes.clear()

    def __enter__(self) -> GcnStack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _spawn(stack: GcnStack, name: str, command: list[str], env: dict[str, str]) -> None:
    log = open(stack.workdir / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
    stack.processes.append(
        subprocess.Popen(
            command,
            cwd=stack.workdir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    )


def write_instance_files(stack: GcnStack, archive: Path, config: Path, cron: str, phot: bool):
    from scope_assets.defs.gcn_automation import RUN_QUEUE_YAML

    stack.home.mkdir(parents=True, exist_ok=True)
    (stack.home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n" + RUN_QUEUE_YAML)
    defs = DEFS_TEMPLATE.format(
        cron=cron,
        data=str(stack.data),
        config=str(config),
        archive=str(archive),
        fritz_url=stack.fritz_url,
        token=stack.token,
        phot=phot,
    )
    (stack.workdir / "gcn_defs.py").write_text(defs)
    create_storage(stack.home)


def create_storage(home: Path) -> None:
    """Create the instance's SQLite storage here, before the daemon and its code server open it:
    processes creating it at once can stamp its schema version twice, and then none loads
    ("alembic_version has more than one head", dagster-io/dagster#27390)."""
    import dagster as dg

    with dg.DagsterInstance.from_config(str(home)) as instance:
        instance.get_runs(limit=1)


def start_gcn_stack(
    workdir: Path,
    archive: Path,
    config: Path,
    *,
    cron: str = "* * * * *",
    post_phot_as_comment: bool = False,
    startup_timeout_s: float = 60.0,
) -> GcnStack:
    """Start the emulator over ``archive`` and the daemon; returns once the emulator answers."""
    workdir.mkdir(parents=True, exist_ok=True)
    fritz_port = free_port()
    stack = GcnStack(
        workdir,
        workdir / "dagster_home",
        workdir / "data",
        f"http://127.0.0.1:{fritz_port}",
        DEMO_FRITZ_TOKENS[0],
    )
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "DAGSTER_HOME": str(stack.home)}
    try:
        emulator = [sys.executable, "-m", "scope_assets.emulator.cli", "--archive", str(archive)]
        ports = ["--fritz-port", str(fritz_port), "--kowalski-port", str(free_port())]
        _spawn(stack, "emulator", [*emulator, *ports], env)
        wait_for(
            lambda: _reachable(f"{stack.fritz_url}/__emulator__/requests"),
            startup_timeout_s,
            "scope-emulator answering",
            0.5,
        )
        write_instance_files(stack, archive, config, cron, post_phot_as_comment)
        daemon = str(Path(sys.executable).with_name("dagster-daemon"))
        _spawn(stack, "daemon", [daemon, "run", "-f", "gcn_defs.py"], env)
    except BaseException:
        stack.stop()
        raise
    return stack
