"""The batch recipe of the README, run as a user runs it (no webserver, no daemon): scope-sim adds
the fields, then one ``dg launch --job field_pipeline --partition <field>`` per field."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest
from conftest_operate import PROJECT_ROOT, operate_env
from dagster._core.instance.ref import InstanceRef

FIELDS = ["296", "297"]
DG = Path(sys.executable).with_name("dg")


def _run(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    done = subprocess.run(
        command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return done


@pytest.mark.skipif(not DG.exists(), reason=f"dg (dagster-dg-cli, the dev extra) not at {DG}")
def test_fields_one_run_each_without_webserver_or_daemon(tmp_path):
    root = tmp_path / "data"
    env = operate_env(root)
    sim = [sys.executable, "-m", "scope_assets.cli.sim", "--fields", *FIELDS, "--n-sources", "8"]
    _run(sim, env)
    for field in FIELDS:
        launch = ["launch", "--job", "field_pipeline", "--partition", field]
        _run([str(DG), *launch, "-f", "definitions.py"], env)

    instance = dg.DagsterInstance.from_ref(InstanceRef.from_dir(env["DAGSTER_HOME"]))
    runs = instance.get_runs(dg.RunsFilter(job_name="field_pipeline"))
    assert sorted(r.tags["dagster/partition"] for r in runs) == FIELDS
    assert all(r.is_success for r in runs)
    for field in FIELDS:
        assert (root / "preds_dnn_xgb" / f"field_{field}.parquet").is_file()


def test_a_partition_range_needs_splitting(tmp_path):
    """The field assets run one field per run (no single-run backfill policy), so
    ``--partition-range`` is refused with Dagster's explanation: the recipe splits the range."""
    env = operate_env(tmp_path / "data")
    dagster = str(Path(sys.executable).with_name("dagster"))
    command = [dagster, "asset", "materialize", "-f", "definitions.py", "--select", "quad_ids"]
    command += ["--partition-range", "296...297"]
    done = subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True)
    assert done.returncode != 0 and "single_run" in done.stderr
