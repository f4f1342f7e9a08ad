"""create-inference-script: a shell script running inference for every model of a group.

The script pins the model files (absolute paths) and their class names in column order, and
takes the field as ``$1``, as SCoPe's ``get_all_preds_<alg>.sh`` scripts do. It is never
overwritten: an existing file is an error that names it.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path

from scope_assets.config import ScopeConfig
from scope_assets.ml.inference.prediction_writing import DEFAULT_BATCH_SIZE
from scope_assets.ml.model_files.either_layout import group_model_paths


def create_inference_script(
    filename: str | Path,
    models_root: str | Path,
    algorithm: str,
    group: str,
    *,
    config: ScopeConfig | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    write_csv: bool = False,
    data_dir: str | Path | None = None,
    feature_directory: str | None = None,
    feature_stats: str | Path | None = None,
    training_set: str | Path | None = None,
    scale_features: str | None = None,
    period_suffix: str | None = None,
) -> Path:
    """Write the script; raises ``FileExistsError`` if ``filename`` exists."""
    path = Path(filename)
    if path.exists():
        raise FileExistsError(
            f"{path} already exists; not overwriting it (remove it or pick another name)"
        )
    paths, tags = group_model_paths(models_root, algorithm, group, config)
    args = ["run-inference", "--algorithm", algorithm, "--paths-models", *map(str, paths)]
    args += ["--model-class-names", *tags]
    command = " ".join(shlex.quote(a) for a in args)
    command += ' --field "$1" --whole-field --flag-ids'
    command += f" --batch-size {int(batch_size)}"
    optional = [  # (flag, value, a path to resolve)
        ("--data-dir", data_dir, True),
        ("--feature-directory", feature_directory, False),
        ("--feature-stats", feature_stats, True),
        ("--training-set", training_set, True),
        ("--scale-features", scale_features, False),
        ("--period-suffix", period_suffix, False),
    ]
    for flag, value, is_path in optional:
        if value:
            command += f" {flag} {shlex.quote(str(Path(value).resolve()) if is_path else value)}"
    if write_csv:
        command += " --write-csv"
    text = (
        "#!/usr/bin/env bash\n"
        f"# {algorithm} inference with every model of group {group!r} ({len(tags)} classes:\n"
        f"# {' '.join(tags)}).\n"
        f"# Usage: {path.name} <field>\n"
        "set -euo pipefail\n"
        'if [ $# -lt 1 ]; then echo "usage: $0 <field>" >&2; exit 2; fi\n'
        f"{command}\n"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    # exclusive create: never replaces a file that appeared meanwhile
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o755)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    return path
