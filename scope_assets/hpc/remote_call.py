"""A domain-function call shipped to a batch job: written by the launcher, run by the job.

The function travels by reference (module and name), so the job runs the very function the
asset calls in-process; the arguments (paths, the resolved config, the sky source) travel by
value. Callbacks (``progress``, ``log``) stay behind: the job gives the function its own, which
report through Dagster Pipes. Both ends are this package in the same environment on a shared
filesystem, in a directory only the user can read, so pickle is safe here and keeps argument
and result types exact without a codec per step.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CALLBACKS = ("progress", "log")
"""Keyword arguments that are callbacks: supplied in the job, never shipped."""


@dataclass(frozen=True)
class RemoteCall:
    function: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    callbacks: tuple[str, ...]
    """Names of the callbacks the caller passed; the job passes its own under these names."""

    @property
    def name(self) -> str:
        return f"{self.function.__module__}.{self.function.__qualname__}"


def prepare_call(function: Callable[..., Any], args: tuple, kwargs: dict[str, Any]) -> RemoteCall:
    """The call without its callbacks; the function must be importable (module level)."""
    if "<" in function.__qualname__:
        raise ValueError(
            f"{function.__qualname__} cannot run in a batch job: only module-level functions "
            "travel (the job imports them by name)"
        )
    callbacks = tuple(name for name in CALLBACKS if kwargs.get(name) is not None)
    kept = {key: value for key, value in kwargs.items() if key not in CALLBACKS}
    return RemoteCall(function, tuple(args), kept, callbacks)


def write_pickle(value: Any, path: Path) -> Path:
    """Pickle ``value`` to ``path`` (owner-only permissions)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
    path.chmod(0o600)
    return path


def read_pickle(path: Path) -> Any:
    """The object a launcher or job of this package wrote with :func:`write_pickle`."""
    with path.open("rb") as handle:
        return pickle.load(handle)


def result_path(call_path: Path) -> Path:
    """Where the job leaves the return value of the call stored at ``call_path``."""
    return call_path.with_name("result.pkl")
