"""kill -9 in the middle of feature generation and of inference, then a rerun: the outputs equal
those of an uninterrupted run, and no temporary file or scratch copy is left."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from test_generate_features import FAST, sinusoid_table

from scope_assets.config import load_config
from scope_assets.io import DataLayout
from scope_assets.testing.quick_models import shared_tiny_models
from scope_assets.testing.synthetic_features import synthetic_features_table, synthetic_truth

WORKTREE = Path(__file__).resolve().parents[1]
CONFIG = load_config(environ={})
VOLATILE_ATTRS = ("generated_utc", "inference_dateTime_utc")
"""Run timestamps: the only metadata two runs may differ in."""


def _command(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def _run(command: list[str]) -> None:
    env = os.environ | {"PYTHONPATH": str(WORKTREE)}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]


def _kill_when(command: list[str], started, timeout: float = 300.0) -> None:
    """Start ``command``; ``kill -9`` it as soon as ``started()`` is true (mid-run)."""
    env = os.environ | {"PYTHONPATH": str(WORKTREE)}
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + timeout
    try:
        while not started():
            assert process.poll() is None, "the run ended before it could be killed"
            assert time.monotonic() < deadline, "the run never got going"
            time.sleep(0.005)
    finally:
        process.kill()
        process.wait()


def _temporaries(root: Path) -> list[Path]:
    return [
        p
        for p in root.rglob("*")
        if p.name.endswith(".tmp") or p.name.startswith(".staging-") or p.parent.name == ".scratch"
    ]


def _table(path: Path) -> tuple:
    table = pq.read_table(path)
    attrs = json.loads(table.schema.metadata[b"scope"])
    for key in VOLATILE_ATTRS:
        attrs.pop(key, None)
    return table.replace_schema_metadata(None), attrs


def test_feature_generation_killed_then_rerun(tmp_path):
    source = tmp_path / "lcs.csv"
    sinusoid_table(16, n_points=150, seed=3).to_csv(source, index=False)
    data = tmp_path / "data"

    def generate(output: Path) -> list[str]:
        argv = ["--lightcurves", str(source), "--output", str(output), "--data-dir", str(data)]
        argv += ["--batch-size", "2", *FAST]
        return _command(
            f"from scope_assets.cli.features import main; raise SystemExit(main({argv!r}))"
        )

    _run(generate(tmp_path / "reference.parquet"))
    output = tmp_path / "out" / "features.parquet"
    _kill_when(generate(output), lambda: any(output.parent.glob(".*.tmp")))
    assert not output.exists() and _temporaries(tmp_path)  # killed mid-run, leftovers behind
    _run(generate(output))
    reference, reference_attrs = _table(tmp_path / "reference.parquet")
    result, attrs = _table(output)
    assert result.equals(reference)
    assert attrs == reference_attrs
    assert _temporaries(tmp_path) == []


@pytest.fixture(scope="module")
def models_root(tmp_path_factory):
    return shared_tiny_models(tmp_path_factory.getbasetemp(), CONFIG)


def test_inference_killed_then_rerun(tmp_path, models_root):
    table = synthetic_features_table(synthetic_truth(30_000, seed=5), CONFIG, seed=6)
    data = tmp_path / "data"

    def infer() -> list[str]:
        argv = ["--field", "296", "--algorithm", "xgb", "--whole-field", "--batch-size", "500"]
        argv += ["--write-csv", "--data-dir", str(data), "--models-dir", str(models_root)]
        return _command(
            "from scope_assets.cli.inference_tools import run_inference_main; "
            f"raise SystemExit(run_inference_main({argv!r}))"
        )

    layout = DataLayout(data)
    layout.imputed_features_file(296).parent.mkdir(parents=True)
    pq.write_table(table, layout.imputed_features_file(296), row_group_size=2_000)
    out_dir = layout.preds_dir("xgb", 296)
    _run(infer())
    reference = {p.name: p.read_bytes() for p in out_dir.iterdir() if not p.name.startswith(".")}
    reference_table = _table(layout.preds_file("xgb", 296))
    for path in out_dir.iterdir():
        path.unlink()

    def writing() -> bool:
        return any(p.stat().st_size > 0 for p in out_dir.glob(".staging-*/*"))

    _kill_when(infer(), writing)
    assert _temporaries(data)  # killed mid-run: its staging directory is still there
    assert not layout.preds_file("xgb", 296).exists()
    _run(infer())
    result = {p.name: p.read_bytes() for p in out_dir.iterdir() if not p.name.startswith(".")}
    assert sorted(result) == sorted(reference)
    assert _table(layout.preds_file("xgb", 296)) == reference_table
    for name in ("field_296.csv", "field_296_flagged.json", "meta.json"):
        assert result[name] == reference[name], name
    assert _temporaries(data) == []
