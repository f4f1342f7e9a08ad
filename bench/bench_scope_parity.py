"""run-inference on SCoPe's own working directory (scope-anchor) vs SCoPe 0.9.5's speed.

Runs SCoPe's ``run_golden.sh`` command lines (SCoPe's spellings, cwd = a copy of
``../shared/data/scope-anchor``, ``--config-path config.yaml``) through this project's
``run-inference``, each in a fresh process, on the anchor's field tiled ``--repeat`` times:

- XGB, rows with missing values: the field as it is (91 % of its rows miss at least one of the
  61 ontological inputs, so they go through imputation);
- XGB, complete rows: only the rows missing none of the 61 inputs;
- DNN, complete rows.

Each case runs the one ontological model (rrlyr, the SCoPe reference figures are for one model)
and, for information, the whole group (pnp, vnv, rrlyr). Printed: scoring rows/s (the rate
run-inference reports: reading, imputation, scaling, scoring, writing), end-to-end rows/s (the
whole process: start-up, model and training-set loading included) and the ratio of the scoring
rate to SCoPe 0.9.5 on this machine type (README: XGB ≈ 69 rows/s with missing values, ≈ 6,300
complete; DNN ≈ 2,100). Targets: ≥ 100× with missing values, ≥ 10× on complete rows.
Each line also gives the process's CPU seconds and the 1-minute load average when it started:
the SCoPe figures are for an otherwise idle machine, so rates measured under a load above the
CPU count understate ours.

Usage::

    .venv/bin/python bench/bench_scope_parity.py              # 100,000 rows per case
    .venv/bin/python bench/bench_scope_parity.py --repeat 2   # quick look (20,000 rows)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from scope_assets.testing import shared_path  # noqa: E402

ENTRY_POINT = (
    "scope_assets.cli.inference_tools",
    "run_inference_main",
)  # run-inference's main function
ANCHOR = shared_path("data", "scope-anchor")
FIELD = 297
FEATURE_FILE = Path("features") / f"field_{FIELD}" / f"field_{FIELD}_iter_0.parquet"
COPIED = ["config.yaml", "models_xgb", "models_dnn", "tools"]
SCOPE_ROWS_PER_S = {"xgb, missing values": 69.0, "xgb, complete rows": 6300.0, "dnn": 2100.0}
TARGETS = {"xgb, missing values": 100.0, "xgb, complete rows": 10.0, "dnn": 10.0}
SINGLE_TAG = "rrlyr"
RATE = re.compile(r"in ([\d.]+) s \(([\d,]+) rows/s\)")


def golden_command_lines() -> dict[str, list[str]]:
    """algorithm → arguments of each ``run-inference`` line of ``run_golden.sh``."""
    lines = (ANCHOR / "run_golden.sh").read_text().splitlines()
    commands = [shlex.split(line)[1:] for line in lines if line.startswith("run-inference ")]
    return {("xgb" if "--xgb-model" in argv else "dnn"): argv for argv in commands}


def option_span(argv: list[str], flag: str) -> tuple[int, int]:
    """Index range of ``flag``'s values in ``argv`` (``nargs='+'`` options included)."""
    start = end = argv.index(flag) + 1
    while end < len(argv) and not argv[end].startswith("--"):
        end += 1
    return start, end


def with_option(argv: list[str], flag: str, values: list[str]) -> list[str]:
    """``argv`` with ``flag``'s values replaced."""
    start, end = option_span(argv, flag)
    return argv[:start] + values + argv[end:]


def one_model(argv: list[str], tag: str) -> list[str]:
    """The command line restricted to the model of ``tag``."""
    tags = argv[slice(*option_span(argv, "--model-class-names"))]
    paths = argv[slice(*option_span(argv, "--paths-models"))]
    argv = with_option(argv, "--paths-models", [paths[tags.index(tag)]])
    return with_option(argv, "--model-class-names", [tag])


def copy_writable(source: Path, target: Path) -> None:
    """Copy a file or a tree without its (read-only) permissions."""
    files = [source] if source.is_file() else sorted(p for p in source.rglob("*") if p.is_file())
    for path in files:
        destination = target / path.relative_to(source) if source.is_dir() else target
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, destination)


def complete_rows(table: pa.Table, columns: list[str]) -> pa.Table:
    values = np.column_stack([table.column(c).to_numpy(zero_copy_only=False) for c in columns])
    return table.filter(pa.array(np.isfinite(values.astype(np.float64)).all(axis=1)))


def write_field(workdir: Path, name: str, table: pa.Table, rows: int) -> str:
    """``<workdir>/<name>/field_<f>/`` holding ``table`` tiled to ``rows`` rows; returns name.

    Each copy gets its own ``_id`` sequence numbers (+20,000 per copy), since inference refuses
    duplicate ids."""
    copies = []
    for k in range(rows // table.num_rows + 1):
        ids = pc.add(table.column("_id"), pa.scalar(k * 20_000, pa.int64()))
        copies.append(table.set_column(table.schema.get_field_index("_id"), "_id", ids))
    tiled = pa.concat_tables(copies).slice(0, rows)
    target = workdir / name / f"field_{FIELD}" / FEATURE_FILE.name
    target.parent.mkdir(parents=True)
    pq.write_table(tiled, target)
    return name


def run_case(workdir: Path, argv: list[str], rows: int) -> dict:
    """One run-inference process; its scoring rate (as it prints it) and end-to-end rate."""
    module, function = ENTRY_POINT
    code = f"import sys; from {module} import {function} as main; sys.exit(main(sys.argv[1:]))"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCOPE")}
    env["PYTHONPATH"] = str(REPO)
    load = os.getloadavg()[0]
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code, *argv, "--config-path", "config.yaml"],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - started
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = sum(getattr(cpu_after, f) - getattr(cpu_before, f) for f in ("ru_utime", "ru_stime"))
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["(no message)"])[-1]}
    match = RATE.search(done.stdout)
    scoring = float(match.group(2).replace(",", "")) if match else float("nan")
    return {"scoring": scoring, "end_to_end": rows / wall, "wall": wall, "cpu": cpu, "load": load}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--repeat", type=int, default=10, help="tile the 10,000-row field this many times"
    )
    args = parser.parse_args(argv)
    if not ANCHOR.exists():
        print(f"SCoPe parity fixture absent: {ANCHOR}")
        return 1
    golden = json.loads((ANCHOR / "golden" / f"field_{FIELD}_stages_xgb.json").read_text())
    field = pq.read_table(ANCHOR / FEATURE_FILE)
    complete = complete_rows(field, golden["ontological_inputs"])
    rows = field.num_rows * args.repeat
    commands = golden_command_lines()
    print(
        f"CPUs: {os.cpu_count()}; {rows:,} rows per case; the anchor field has "
        f"{field.num_rows - complete.num_rows:,} of {field.num_rows:,} rows with missing inputs"
    )
    with tempfile.TemporaryDirectory(prefix="bench_scope_parity_") as tmp:
        workdir = Path(tmp)
        for name in COPIED:
            copy_writable(ANCHOR / name, workdir / name)
        cases = {
            "xgb, missing values": ("xgb", write_field(workdir, "features_missing", field, rows)),
            "xgb, complete rows": (
                "xgb",
                write_field(workdir, "features_complete", complete, rows),
            ),
            "dnn": ("dnn", "features_complete"),
        }
        for case, (algorithm, directory) in cases.items():
            full = with_option(commands[algorithm], "--feature-directory", [directory])
            for label, command in ((SINGLE_TAG, one_model(full, SINGLE_TAG)), ("3 models", full)):
                result = run_case(workdir, command, rows)
                if "error" in result:
                    print(f"{case:<20} {label:<8} FAILED: {result['error']}", flush=True)
                    continue
                versus = ""
                if label == SINGLE_TAG:
                    ratio = result["scoring"] / SCOPE_ROWS_PER_S[case]
                    verdict = "meets" if ratio >= TARGETS[case] else "MISSES"
                    versus = (
                        f" | SCoPe {SCOPE_ROWS_PER_S[case]:,.0f} rows/s → {ratio:,.0f}× "
                        f"({verdict} the {TARGETS[case]:.0f}× target)"
                    )
                print(
                    f"{case:<20} {label:<8} scoring {result['scoring']:>9,.0f} rows/s, end to end "
                    f"{result['end_to_end']:>8,.0f} rows/s ({result['wall']:.1f} s, CPU "
                    f"{result['cpu']:.1f} s, load {result['load']:.1f}){versus}",
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
