"""Where the heavy steps run: in the Dagster run process, or as SLURM jobs — one switch.

The heavy assets (``features``, ``xgb_predictions``, ``dnn_predictions``) make their domain call
through :meth:`ExecutionResource.call`; ``mode`` decides where that same call happens, and the
SLURM settings sit beside it, so one resource configures both (in code or at launch:
``resources: {execution: {config: {mode: slurm, partition: ..., time: ...}}}``). A backfill of
N fields then submits N jobs and the cluster decides how many run at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, TypeVar

import dagster as dg

from resources.slurm import SlurmResource

T = TypeVar("T")


class ExecutionResource(SlurmResource):
    """``mode="in_process"`` (the default) or ``"slurm"``, plus :class:`SlurmResource`'s settings."""

    mode: Literal["in_process", "slurm"] = "in_process"

    def call(
        self,
        context: dg.AssetExecutionContext,
        function: Callable[..., T],
        *args: Any,
        **kwargs: Any,
    ) -> T:
        """``function(*args, **kwargs)`` here, or the same call in a SLURM job."""
        if self.mode == "slurm":
            return super().call(context, function, *args, **kwargs)
        return function(*args, **kwargs)
