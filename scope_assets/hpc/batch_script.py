"""SLURM batch scripts: ``#SBATCH`` resource lines, environment activation, the commands.

One writer for every script the project submits (the Dagster Pipes jobs and SCoPe's
``slurm.sub`` / ``slurm_submission.sub``), so a resource request means the same everywhere.
No site-specific ``module`` lines: a site adds its own through ``extra_sbatch`` / ``setup``.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class BatchSettings:
    """What a job asks SLURM for; empty strings leave the cluster's defaults."""

    job_name: str
    partition: str = ""
    account: str = ""
    time: str = ""
    """Wall-time limit in SLURM's syntax, e.g. ``"30"``, ``"1:00:00"``, ``"2-00:00:00"``."""
    memory: str = ""
    """``--mem`` per node in SLURM's syntax, e.g. ``"4G"`` or ``"500M"``."""
    cpus: int = 1
    """``--cpus-per-task``."""
    nodes: int = 1
    """``--nodes``, written only when not 1 (SLURM's default)."""
    gpus: int = 0
    mail_user: str = ""
    output: str = ""
    """stdout file (``%j`` is the job id); empty: SLURM's ``slurm-%j.out`` in the workdir."""
    error: str = ""
    workdir: str = ""
    extra_sbatch: tuple[str, ...] = ()
    """More directives, with or without the ``#SBATCH`` prefix, e.g. ``"--qos=short"``."""
    python_env: str = ""
    """A virtualenv directory (``source <dir>/bin/activate``) or a conda environment name."""
    setup: tuple[str, ...] = ()
    """Shell lines run before the commands (e.g. a site's ``module load``)."""


def sbatch_directives(settings: BatchSettings) -> list[str]:
    """The ``#SBATCH`` lines of ``settings``, in a fixed order."""
    options = [f"--job-name={settings.job_name}"]
    optional = {
        "--partition": settings.partition,
        "--account": settings.account,
        "--time": settings.time,
        "--mem": settings.memory,
        "--output": settings.output,
        "--error": settings.error,
        "--chdir": settings.workdir,
    }
    options += [f"{flag}={value}" for flag, value in optional.items() if value]
    # An explicit --nodes=1 made the local cluster run one such job at a time: omit the default.
    if settings.nodes != 1:
        options.append(f"--nodes={settings.nodes}")
    options.append(f"--cpus-per-task={settings.cpus}")
    if settings.gpus:
        options.append(f"--gpus={settings.gpus}")
    if settings.mail_user:
        options += ["--mail-type=ALL", f"--mail-user={settings.mail_user}"]
    options += [line.removeprefix("#SBATCH").strip() for line in settings.extra_sbatch]
    return [f"#SBATCH {option}" for option in options if option]


def activation_lines(python_env: str) -> list[str]:
    """Shell lines that activate ``python_env``: a virtualenv path or a conda environment."""
    if not python_env:
        return []
    if os.sep in python_env or python_env.startswith("."):
        return [f"source {shlex.quote(str(Path(python_env) / 'bin' / 'activate'))}"]
    return ['eval "$(conda shell.bash hook)"', f"conda activate {shlex.quote(python_env)}"]


def render_batch_script(
    settings: BatchSettings, commands: Sequence[str], exports: Mapping[str, str] | None = None
) -> str:
    """The script text: directives, ``set -eo pipefail``, exports, activation, commands."""
    exports = exports or {}
    lines = ["#!/bin/bash", *sbatch_directives(settings), "set -eo pipefail"]
    lines += [f"export {name}={shlex.quote(value)}" for name, value in exports.items()]
    lines += [*settings.setup, *activation_lines(settings.python_env), *commands]
    return "\n".join(lines) + "\n"


def write_batch_script(
    path: Path,
    settings: BatchSettings,
    commands: Sequence[str],
    exports: Mapping[str, str] | None = None,
) -> Path:
    """Write the script (mode 0700: it may carry Dagster Pipes parameters) and return its path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_batch_script(settings, commands, exports))
    path.chmod(0o700)
    return path
