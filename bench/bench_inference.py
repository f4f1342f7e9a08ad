"""Inference throughput and peak memory: this project vs SCoPe 0.9.5.

Scores synthetic fields (the ``imputed_features`` shape: 61 ontological features + 26x26 dm-dt)
with every demo model of each algorithm, through the same ``run_inference`` the assets and
``run-inference`` use. Each (algorithm, size, missing-fraction) case runs in a fresh subprocess
that reports its own peak RSS (``ru_maxrss``), so memory figures are not polluted by other cases.

SCoPe reference figures (SCoPe 0.9.5 ``run_inference`` on a 2-core machine, 100k-row batches;
SCoPe is not installable next to this project's Keras 3 / xgboost 3 stack, so they were measured
separately and are quoted here, not re-measured in this run):

- XGB, complete rows: ~6,300 rows/s; with missing cross-matches SCoPe re-fits a KNN imputer on
  every batch: ~69 rows/s.
- DNN, complete rows: ~2,100 rows/s (the Keras model is reloaded for every batch).

Targets: >= 10x SCoPe on complete rows, >= 100x with missing values, flat memory with field size.

Usage::

    .venv/bin/python bench/bench_inference.py                  # 200k and 1M rows
    .venv/bin/python bench/bench_inference.py --sizes 50000    # quick look
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCOPE_ROWS_PER_S = {("xgb", False): 6300.0, ("xgb", True): 69.0, ("dnn", False): 2100.0}
MISSING_FRACTION = 0.1  # per survey: ~27 % of the rows lack at least one cross-match


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def child(args: argparse.Namespace) -> None:
    """One measured case (runs in its own process)."""
    sys.path.insert(0, str(REPO))
    from scope_assets.config import load_config
    from scope_assets.ml.inference.field_inference import run_inference
    from scope_assets.ml.model_files.project_layout import load_models

    config = load_config(environ={})
    started = time.perf_counter()
    tags = None if args.tags == "all" else args.tags.split(",")
    models = load_models(args.models_dir, args.algorithm, args.group, tags=tags, config=config)
    load_s = time.perf_counter() - started
    rss_loaded = _rss_mb()
    out_dir = Path(tempfile.mkdtemp(prefix="bench_out_", dir=args.workdir))
    started = time.perf_counter()
    result = run_inference(
        models,
        [args.input],
        out_dir / "field.parquet",
        algorithm=args.algorithm,
        field=296,
        config=config,
        batch_size=args.batch_size,
        flagged_path=out_dir / "field_flagged.json",
    )
    seconds = time.perf_counter() - started
    print(
        json.dumps(
            {
                "rows": result.rows_in,
                "rows_out": result.rows_out,
                "models": len(models),
                "seconds": seconds,
                "load_seconds": load_s,
                "rows_per_s": result.rows_in / seconds,
                "rss_loaded_mb": rss_loaded,
                "peak_rss_mb": _rss_mb(),
            }
        )
    )


def make_field(path: Path, n: int, missing: float) -> None:
    """Write the synthetic field in a subprocess (generation memory never counts)."""
    code = (
        f"import sys; sys.path.insert(0, {str(REPO)!r})\n"
        "from scope_assets.config import load_config\n"
        "from scope_assets.testing.synthetic_features import write_synthetic_field\n"
        f"write_synthetic_field({str(path)!r}, {n}, load_config(environ={{}}), seed=7, "
        f"missing_xmatch={missing!r})\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def run_case(args, algorithm: str, path: Path, workdir: Path, tags: str) -> dict:
    cmd = [sys.executable, __file__, "--child", "--algorithm", algorithm, "--input", str(path)]
    cmd += ["--models-dir", str(args.models_dir), "--group", args.group, "--tags", tags]
    cmd += ["--batch-size", str(args.batch_size), "--workdir", str(workdir)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[200_000, 1_000_000])
    parser.add_argument("--algorithms", nargs="+", default=["xgb", "dnn"])
    parser.add_argument(
        "--models-dir", help="models root (default $SCOPE_MODELS_DIR or the repository's models/)"
    )
    parser.add_argument("--group", default="demo")
    parser.add_argument(
        "--single-tag",
        default="vnv",
        help="the one-model cases (SCoPe's reference ran its single anchor model, vnv)",
    )
    parser.add_argument("--batch-size", type=int, default=100_000)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--algorithm", help=argparse.SUPPRESS)
    parser.add_argument("--input", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    parser.add_argument("--tags", default="all", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args)
        return 0
    sys.path.insert(0, str(REPO))
    from scope_assets.ml.model_files.models_root import resolve_models_root

    args.models_dir = resolve_models_root(args.models_dir)

    print(
        f"CPUs: {os.cpu_count()}, models: {args.models_dir} (group {args.group}), batch size "
        f"{args.batch_size}; missing x-match case: {MISSING_FRACTION:.0%} per survey"
    )
    first = args.sizes[0]
    # (rows, missing fraction, tags): one model at every size (vs SCoPe), the group at the first
    cases = []
    for n in args.sizes:
        cases.append((n, 0.0, args.single_tag))
        if n == first:
            cases += [(n, MISSING_FRACTION, args.single_tag), (n, 0.0, "all")]
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench_inference_") as tmp:
        workdir = Path(tmp)
        for n, missing in sorted({(n, m) for n, m, _ in cases}):
            path = workdir / f"field_{n}_{missing}.parquet"
            make_field(path, n, missing)
            for algorithm in args.algorithms:
                for tags in [t for c_n, c_m, t in cases if (c_n, c_m) == (n, missing)]:
                    if algorithm == "dnn" and missing:
                        continue  # SCoPe's DNN reference has no missing-value figure
                    result = run_case(args, algorithm, path, workdir, tags)
                    one = tags != "all"
                    reference = SCOPE_ROWS_PER_S.get((algorithm, bool(missing))) if one else None
                    ratio = result["rows_per_s"] / reference if reference else float("nan")
                    rows.append((algorithm, n, missing, tags, result, ratio))
                    versus = (
                        f" | SCoPe {reference:,.0f} rows/s → {ratio:,.1f}x" if reference else ""
                    )
                    print(
                        f"{algorithm} {n:>9,} rows, missing x-match {missing:>4.0%}, "
                        f"{result['models']} model(s): {result['rows_per_s']:>9,.0f} rows/s "
                        f"({result['seconds']:.1f} s), peak RSS {result['peak_rss_mb']:,.0f} MB "
                        f"(after model load {result['rss_loaded_mb']:,.0f} MB){versus}",
                        flush=True,
                    )
            path.unlink()
    print("\nSummary (ratio = this project / SCoPe 0.9.5 reference, one model):")
    for algorithm, n, missing, _tags, result, ratio in rows:
        label = "missing x-matches" if missing else "complete rows"
        what = f"{result['models']} model" + ("s" if result["models"] > 1 else "")
        model_rows = result["rows_per_s"] * result["models"]
        ratio_text = f"{ratio:>7,.1f}x" if ratio == ratio else "       -"
        print(
            f"  {algorithm:<4} {n:>9,} {label:<18} {what:<9} {result['rows_per_s']:>9,.0f} rows/s "
            f"({model_rows:>9,.0f} model-rows/s) {ratio_text}  peak {result['peak_rss_mb']:,.0f} MB"
        )
    for algorithm in args.algorithms:
        points = [
            (n, r["peak_rss_mb"])
            for a, n, m, t, r, _ in rows
            if a == algorithm and not m and t != "all"
        ]
        if len(points) > 1:
            (n0, m0), (n1, m1) = points[0], points[-1]
            print(
                f"  memory {algorithm}: {n0:,} → {n1:,} rows ({n1 / n0:.0f}x): peak RSS "
                f"{m0:,.0f} → {m1:,.0f} MB ({m1 / m0:.2f}x)"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
