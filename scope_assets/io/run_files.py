"""Files a run writes besides its outputs: temporaries, scratch copies, locks, staged sets.

Every temporary name carries the writing process's id (``.<name>.<pid>-<hex>.tmp``,
``.scratch/<pid>-<hex>/``, ``.staging-<pid>-<hex>/``), so a later run can tell the leftovers
of a killed run (process gone) from the files of a live one and remove only the former.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

from scope_assets.errors import ScopeError

LOCK_NAME = ".scope-write.lock"
SCRATCH_DIRNAME = ".scratch"
_OWNED = re.compile(r"^\.(?:.+\.)?(\d+)-[0-9a-f]{32}\.tmp$|^(?:\.staging-)?(\d+)-[0-9a-f]{32}$")


class OutputBusyError(ScopeError, ValueError):
    """Another process is writing the same output directory (a ``ValueError`` so CLIs report it
    as a usage error, not a bug)."""


def pid_alive(pid: int) -> bool:
    """True if process ``pid`` exists on this host."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def owned_name(prefix: str = "", suffix: str = "") -> str:
    """``<prefix><pid>-<hex><suffix>``: a fresh temporary name owned by this process."""
    return f"{prefix}{os.getpid()}-{uuid.uuid4().hex}{suffix}"


def temporary_file_name(target: Path) -> Path:
    """The temporary sibling of ``target`` that :func:`atomic_path` writes first."""
    return target.parent / owned_name(f".{target.name}.", ".tmp")


def _owner(name: str) -> int | None:
    match = _OWNED.match(name)
    if match is None:
        return None
    return int(match.group(1) or match.group(2))


def remove_stale_temporaries(directory: Path) -> list[Path]:
    """Remove temporaries in ``directory`` whose writing process is gone; returns them."""
    removed = []
    if not directory.is_dir():
        return removed
    for path in directory.iterdir():
        owner = _owner(path.name)
        if owner is None or owner == os.getpid() or pid_alive(owner):
            continue
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        removed.append(path)
    return removed


@contextlib.contextmanager
def scratch_directory(root: Path) -> Iterator[Path]:
    """A private directory under ``<root>/.scratch`` for temporary copies, removed on exit.

    Under the data root, not the system temp directory: copies can be as large as the input, and
    a killed run's copy is removed by the next run (:func:`remove_stale_temporaries`).
    """
    parent = Path(root) / SCRATCH_DIRNAME
    parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(parent)
    path = parent / owned_name()
    path.mkdir()
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def locked_directory(directory: Path) -> Iterator[Path]:
    """Hold an exclusive lock on ``directory`` (created if needed) for the block.

    A second writer gets an :class:`OutputBusyError` at once instead of interleaving its files.
    The lock is an ``flock`` on ``.scope-write.lock``: the system releases it when the holder
    exits, even on ``kill -9``.
    """
    directory.mkdir(parents=True, exist_ok=True)
    handle = open(directory / LOCK_NAME, "a+")  # noqa: SIM115 - closed in finally
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise OutputBusyError(
                f"{directory} is being written by {holder}; wait for that run to finish"
            ) from None
        handle.truncate(0)
        handle.write(f"process {os.getpid()}\n")
        handle.flush()
        remove_stale_temporaries(directory)
        yield directory
    finally:
        handle.close()


class StagedOutputs:
    """Files written under a staging directory, then moved over their targets together.

    :meth:`path` gives where to write each target; :meth:`publish` moves every staged file into
    place and deletes the targets listed with :meth:`remove` (outputs of an earlier run that this
    run does not write, so no stale file is left beside fresh ones).
    """

    def __init__(self, staging: Path) -> None:
        self.staging = staging
        self._staged: dict[Path, Path] = {}
        self._removed: list[Path] = []

    def path(self, target: Path) -> Path:
        staged = self.staging / f"{len(self._staged)}-{target.name}"
        self._staged[target] = staged
        return staged

    def staged(self, target: Path) -> Path:
        """Where :meth:`path` put ``target`` (to read a staged file back)."""
        return self._staged[target]

    def remove(self, target: Path) -> None:
        self._removed.append(target)

    def publish(self) -> None:
        for target, staged in self._staged.items():
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staged, target)
        for target in self._removed:
            target.unlink(missing_ok=True)


@contextlib.contextmanager
def staged_outputs(directory: Path) -> Iterator[StagedOutputs]:
    """Lock ``directory``, stage the run's files in it, publish them when the block succeeds.

    A failure publishes nothing and removes the staging directory; a killed run's staging
    directory is removed by the next run that locks ``directory``.
    """
    with locked_directory(directory):
        staging = directory / owned_name(".staging-")
        staging.mkdir()
        try:
            outputs = StagedOutputs(staging)
            yield outputs
            outputs.publish()
        finally:
            shutil.rmtree(staging, ignore_errors=True)
