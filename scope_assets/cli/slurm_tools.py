"""SCoPe's SLURM inference commands (see :mod:`scope_assets.hpc.inference_jobs`).

- ``run-inference-slurm``           write ``slurm.sub`` and ``slurm_submission.sub`` for a group
                                    and algorithm (creating the group's inference script first
                                    if it does not exist)
- ``run-inference-job-submission``  submit ``slurm.sub`` once per field still to do, at most
                                    ``--max-instances`` queued at a time; safe to rerun
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _parser(prog: str, description: str) -> argparse.ArgumentParser:
    """A parser with the flags both commands share: paths, algorithm and queue pacing."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--algorithm", choices=["xgb", "dnn"], default="dnn")
    parser.add_argument(
        "--dirname", default="inference", help="scripts and logs go to <data root>/<alg>_<dirname>"
    )
    parser.add_argument("--data-dir", help="data root (default $SCOPE_DATA_DIR or ./data)")
    parser.add_argument("--config-path", help="scope.yaml (inference.fields_to_run/_exclude)")
    parser.add_argument("--max-instances", type=int, default=20, help="jobs queued at most")
    parser.add_argument(
        "--wait-time-minutes", type=float, default=5.0, help="wait between queue checks"
    )
    return parser


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 1


# --------------------------------------------------------------------------- run-inference-slurm


def inference_slurm_parser() -> argparse.ArgumentParser:
    parser = _parser(
        "run-inference-slurm",
        "Write slurm.sub (one field, $FID) and slurm_submission.sub for a group.",
    )
    parser.add_argument("--group-name", default="demo", help="model group (new script only)")
    parser.add_argument("--models-dir", help="models root (for a new inference script)")
    parser.add_argument("--generated-script-name", help="default get_all_preds_<alg>.sh")
    parser.add_argument("--path-to-main", default=".", help="directory of the inference script")
    parser.add_argument("--job-name", default="run_inference")
    parser.add_argument("--partition-type", default="", help="partition of the field jobs")
    parser.add_argument("--submit-partition-type", default="", help="partition of the submitter")
    parser.add_argument("--nodes", type=int, default=1)
    parser.add_argument("--cpus", type=int, default=1, help="CPUs per field job")
    parser.add_argument("--gpus", type=int, default=0)
    parser.add_argument("--memory-GB", type=int, default=0, help="0: the cluster's default")
    parser.add_argument("--submit-memory-GB", type=int, default=0)
    parser.add_argument("--time", default="24:00:00", help="wall-time limit of each job")
    parser.add_argument("--account", default="")
    parser.add_argument("--mail-user", default="")
    parser.add_argument("--python-env-name", default="", help="virtualenv path or conda env")
    parser.add_argument(
        "--extra-sbatch",
        action="append",
        default=[],
        help="one more #SBATCH option, e.g. --extra-sbatch=--qos=short (repeatable)",
    )
    parser.add_argument("--fields-file", help="field list handed to the submitter")
    return parser


def _inference_script(args: argparse.Namespace) -> Path:
    """The group's inference script; written with create-inference-script if missing."""
    name = args.generated_script_name or f"get_all_preds_{args.algorithm}.sh"
    path = (Path(args.path_to_main) / name).resolve()
    if path.exists():
        return path
    from scope_assets.config import load_config
    from scope_assets.ml.inference.inference_script import create_inference_script
    from scope_assets.ml.model_files.models_root import resolve_models_root

    models_root = resolve_models_root(args.models_dir)
    config = load_config(args.config_path)
    create_inference_script(
        path, models_root, args.algorithm, args.group_name, config=config, data_dir=args.data_dir
    )
    print(f"wrote {path} (create-inference-script, group {args.group_name!r})")
    return path


def _submission_command(args: argparse.Namespace, root: Path) -> list[str]:
    options = {
        "--algorithm": args.algorithm,
        "--dirname": args.dirname,
        "--data-dir": str(root),
        "--max-instances": str(args.max_instances),
        "--wait-time-minutes": f"{args.wait_time_minutes:g}",
        "--config-path": args.config_path and str(Path(args.config_path).resolve()),
        "--fields-file": args.fields_file and str(Path(args.fields_file).resolve()),
    }
    pairs = [(flag, value) for flag, value in options.items() if value]
    return ["run-inference-job-submission", *(item for pair in pairs for item in pair)]


def run_inference_slurm_main(argv: list[str] | None = None) -> int:
    args = inference_slurm_parser().parse_args(argv)
    from scope_assets.config import data_root
    from scope_assets.hpc.batch_script import BatchSettings
    from scope_assets.hpc.inference_jobs import write_inference_slurm_scripts
    from scope_assets.ml.model_errors import ModelError

    root = data_root(args.data_dir)
    try:
        script = _inference_script(args)
    except (ModelError, FileExistsError) as exc:
        return _fail(str(exc))
    common = {
        "account": args.account,
        "time": args.time,
        "mail_user": args.mail_user,
        "python_env": args.python_env_name,
        "extra_sbatch": tuple(args.extra_sbatch),
    }
    field_job = BatchSettings(
        job_name=f"{args.job_name}_{args.algorithm}",
        partition=args.partition_type,
        memory=f"{args.memory_GB}G" if args.memory_GB else "",
        cpus=args.cpus,
        nodes=args.nodes,
        gpus=args.gpus,
        **common,
    )
    submission_job = BatchSettings(
        job_name=f"{args.job_name}_{args.algorithm}_submit",
        partition=args.submit_partition_type,
        memory=f"{args.submit_memory_GB}G" if args.submit_memory_GB else "",
        **common,
    )
    paths = write_inference_slurm_scripts(
        root,
        args.algorithm,
        field_job,
        submission_job,
        script,
        _submission_command(args, root),
        args.dirname,
    )
    for path in paths:
        print(f"wrote {path}")
    return 0


# --------------------------------------------------------------------------- job submission


def job_submission_parser() -> argparse.ArgumentParser:
    parser = _parser(
        "run-inference-job-submission",
        "Submit slurm.sub once per field without predictions; safe to rerun.",
    )
    parser.add_argument("--fields", type=int, nargs="+", help="fields (default: config/file)")
    parser.add_argument("--fields-file", help="text file of field numbers")
    parser.add_argument("--fields-to-exclude", type=int, nargs="+", default=[])
    return parser


def _field_list(args: argparse.Namespace, config) -> list[int]:
    from scope_assets.hpc.inference_jobs import fields_to_run, read_field_list

    if args.fields:
        fields = args.fields
    elif args.fields_file:
        fields = read_field_list(Path(args.fields_file))
    else:
        fields = config.inference.fields_to_run
    return fields_to_run(fields, [*args.fields_to_exclude, *config.inference.fields_to_exclude])


def run_inference_job_submission_main(argv: list[str] | None = None) -> int:
    args = job_submission_parser().parse_args(argv)
    from scope_assets.config import ConfigError, data_root, load_config
    from scope_assets.hpc.cluster import SlurmError
    from scope_assets.hpc.inference_jobs import field_script_path, submit_field_jobs
    from scope_assets.io import DataLayout

    root = data_root(args.data_dir)
    field_script = field_script_path(root, args.algorithm, args.dirname)
    if not field_script.exists():
        return _fail(f"{field_script} does not exist (write it with run-inference-slurm)")
    try:
        fields = _field_list(args, load_config(args.config_path))
    except (ConfigError, OSError, ValueError) as exc:
        return _fail(str(exc))
    if not fields:
        return _fail("no fields: give --fields, --fields-file or inference.fields_to_run")
    try:
        submitted = submit_field_jobs(
            fields,
            field_script,
            DataLayout(root),
            args.algorithm,
            max_instances=args.max_instances,
            wait_s=60.0 * args.wait_time_minutes,
        )
    except (SlurmError, ValueError) as exc:
        return _fail(str(exc))
    print(f"submitted {len(submitted)} jobs; follow them with squeue")
    return 0
