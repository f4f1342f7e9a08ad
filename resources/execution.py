"""Where the heavy steps run: in the Dagster run process, or as SLURM jobs — one switch.

The heavy assets (``features``, ``xgb_predictions``, ``dnn_predictions``) call their domain
function through :meth:`ExecutionResource.run`; ``mode`` decides where that same call happens.
A backfill of N fields then submits N jobs and the cluster decides how many run at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, TypeVar

import dagster as dg

from resources.slurm import SlurmResource

T = TypeVar("T")


class ExecutionResource(dg.ConfigurableResource):
    """``mode="in_process"`` (the default) or ``"slurm"`` (jobs configured by ``slurm``)."""

    mode: Literal["in_process", "slurm"] = "in_process"
    slurm: SlurmResource | None = None

    def run(
        self,
        context: dg.AssetExecutionContext,
        function: Callable[..., T],
        *args: Any,
        **kwargs: Any,
    ) -> T:
        """``function(*args, **kwargs)`` here, or the same call in a SLURM job."""
        if self.mode == "slurm":
            return (self.slurm or SlurmResource()).call(context, function, *args, **kwargs)
        return function(*args, **kwargs)
