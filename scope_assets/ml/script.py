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
from scope_assets.ml.manifest import ModelError
from scope_assets.ml.models import _tag_order, find_model_dirs, newest_scope_model_file


def group_model_paths(
    models_root: str | Path, algorithm: str, group: str, config: ScopeConfig | None = None
) -> tuple[list[Path], list[str]]:
    """(model paths, tags) of a group: this project's layout, else SCoPe's ``models_<alg>``."""
    root = Path(models_root)
    if (root / algorithm / group).is_dir():
        dirs = find_model_dirs(root, algorithm, group, config=config)
        return [d.resolve() for d in dirs], [d.name for d in dirs]
    scope_dir = root / f"models_{algorithm}" / group
    if scope_dir.is_dir():
        tags = _tag_order([p.name for p in scope_dir.iterdir() if p.is_dir()], config)
        return [newest_scope_model_file(scope_dir / t, algorithm).resolve() for t in tags], tags
    raise ModelError(
        f"no {algorithm} model group {group!r}: neither {root / algorithm / group} nor "
        f"{scope_dir} exists"
    )


def create_inference_script(
    filename: str | Path,
    models_root: str | Path,
    algorithm: str,
    group: str,
    *,
    config: ScopeConfig | None = None,
    batch_size: int = 100_000,
    write_csv: bool = False,
    data_dir: str | Path | None = None,
    feature_directory: str | None = None,
    feature_stats: str | Path | None = None,
    training_set: str | Path | None = None,
    scale_features: str | None = None,
) -> Path:
    """Write the script; raises ``FileExistsError`` if ``filename`` exists."""
    path = Path(filename)
    if path.exists():
        raise FileExistsError(
            f"{path} already exists; not overwriting it (remove it or pick another name)"
        )
    paths, tags = group_model_paths(models_root, algorithm, group, config)
    args = [
        "run-inference",
        "--algorithm", algorithm,
        "--paths-models", *map(str, paths),
        "--model-class-names", *tags,
    ]  # fmt: skip
    command = " ".join(shlex.quote(a) for a in args)
    command += ' --field "$1" --whole-field --flag-ids'
    command += f" --batch-size {int(batch_size)}"
    if data_dir:
        command += f" --data-dir {shlex.quote(str(Path(data_dir).resolve()))}"
    if feature_directory:
        command += f" --feature-directory {shlex.quote(feature_directory)}"
    if feature_stats:
        command += f" --feature-stats {shlex.quote(str(Path(feature_stats).resolve()))}"
    if training_set:
        command += f" --training-set {shlex.quote(str(Path(training_set).resolve()))}"
    if scale_features:
        command += f" --scale-features {shlex.quote(scale_features)}"
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
