"""Per-job overhead of running a heavy step on SLURM instead of in the Dagster process.

The step is the demo field's XGB scoring (every demo model over a synthetic ``imputed_features``
table), run through ``ExecutionResource.run`` exactly as the patched ``xgb_predictions`` asset
does, inside ``dg.materialize``:

- in-process, warm: the run process already imported everything (the strictest baseline);
- in-process, fresh process: the same materialization in a new Python process, which is what a
  Dagster run worker pays for imports anyway;
- SLURM: ``mode="slurm"`` on the local one-node cluster (scripts/slurm-up.sh): submission,
  scheduling, a new interpreter with its imports in the job, Pipes, polling.

Cases alternate (warm, fresh, SLURM, warm, ...) so machine load hits them alike; the medians and
the SLURM-minus-in-process differences are printed. Target: SLURM adds < 5 s per job.

Usage::

    .venv/bin/python bench/bench_slurm.py                 # 20,000 rows, 3 rounds
    .venv/bin/python bench/bench_slurm.py --rows 100000 --rounds 5
"""

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FIELD = 297
TARGET_S = 5.0


def prepare(data: Path, rows: int) -> None:
    """A synthetic imputed-features file for the field."""
    import pyarrow.parquet as pq

    from scope_assets.config import load_config
    from scope_assets.io import DataLayout
    from scope_assets.testing.synthetic_features import synthetic_features_table, synthetic_truth

    path = DataLayout(data).imputed_features_file(FIELD)
    path.parent.mkdir(parents=True, exist_ok=True)
    truth = synthetic_truth(rows, field=FIELD, seed=1)
    pq.write_table(synthetic_features_table(truth, load_config(environ={}), seed=2), path)


def materialize(data: Path, mode: str, work: Path) -> dict[str, float]:
    """Score the field once through the execution switch; seconds and the job's figures."""
    import dagster as dg

    from resources.execution import ExecutionResource
    from resources.storage import REPO_MODELS_DIR
    from scope_assets.config import load_config
    from scope_assets.hpc.steps import predict_field_with_group
    from scope_assets.io import DataLayout

    @dg.asset(partitions_def=dg.StaticPartitionsDefinition([str(FIELD)]))
    def xgb_predictions(context: dg.AssetExecutionContext, execution: ExecutionResource):
        scored = execution.call(
            context,
            predict_field_with_group,
            DataLayout(data),
            FIELD,
            "xgb",
            REPO_MODELS_DIR,
            "demo",
            load_config(environ={}),
            batch_size=100_000,
            flag_ids=True,
            write_csv=False,
        )
        return dg.MaterializeResult(metadata={"rows": scored.inference.rows_out})

    execution = ExecutionResource(mode=mode, work_dir=str(work), memory="2G")
    started = time.perf_counter()
    result = dg.materialize(
        [xgb_predictions], partition_key=str(FIELD), resources={"execution": execution}
    )
    seconds = time.perf_counter() - started
    metadata = result.asset_materializations_for_node("xgb_predictions")[0].metadata
    job = {k: metadata[k].value for k in ("job_seconds", "slurm_wall_seconds") if k in metadata}
    return {"seconds": seconds, **job}


def fresh_process(data: Path, work: Path) -> float:
    """The in-process materialization in a new interpreter (imports included)."""
    code = (
        f"import sys; sys.path.insert(0, {str(REPO)!r}); sys.path.insert(0, {str(REPO / 'bench')!r})\n"
        "from pathlib import Path; from bench_slurm import materialize\n"
        f"materialize(Path({str(data)!r}), 'in_process', Path({str(work)!r}))\n"
    )
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, cwd=REPO)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    from scope_assets.hpc.cluster import sbatch_available

    if not sbatch_available():
        print("sbatch is not on PATH: start the local cluster with scripts/slurm-up.sh")
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        data, work = Path(tmp) / "data", Path(tmp) / "slurm"
        prepare(data, args.rows)
        materialize(data, "in_process", work)  # warm-up: imports and first model loads
        warm, fresh, slurm = [], [], []
        for k in range(args.rounds):
            warm.append(materialize(data, "in_process", work)["seconds"])
            fresh.append(fresh_process(data, work))
            slurm.append(materialize(data, "slurm", work))
            print(
                f"round {k + 1}: in-process {warm[-1]:.2f} s, fresh process {fresh[-1]:.2f} s, "
                f"SLURM {slurm[-1]['seconds']:.2f} s (job compute {slurm[-1]['job_seconds']:.2f} s)"
            )
    warm_s, fresh_s = statistics.median(warm), statistics.median(fresh)
    slurm_s = statistics.median(s["seconds"] for s in slurm)
    compute_s = statistics.median(s["job_seconds"] for s in slurm)
    print(f"\nXGB scoring of {args.rows:,} rows, field {FIELD}, medians of {args.rounds} rounds:")
    print(f"  in-process (warm)        {warm_s:6.2f} s")
    print(f"  in-process (new process) {fresh_s:6.2f} s")
    print(
        f"  SLURM job                {slurm_s:6.2f} s   (compute inside the job {compute_s:.2f} s)"
    )
    print(
        f"  SLURM adds {slurm_s - warm_s:+.2f} s per job vs warm in-process, "
        f"{slurm_s - fresh_s:+.2f} s vs a new process (target < {TARGET_S:.0f} s)"
    )
    return 0 if slurm_s - warm_s < TARGET_S else 2


if __name__ == "__main__":
    sys.exit(main())
