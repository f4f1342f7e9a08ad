"""The classifier algorithms by name, like astropy's Lomb-Scargle ``METHODS``: training and
model loading look up a :class:`~scope_assets.ml.backends.backend_api.Backend` here instead of
branching on the algorithm."""

from __future__ import annotations

from scope_assets.ml.backends import dnn, xgb
from scope_assets.ml.backends.backend_api import Backend
from scope_assets.ml.model_errors import ModelError

BACKENDS: dict[str, Backend] = {"xgb": xgb.BACKEND, "dnn": dnn.BACKEND}
ALGORITHMS: tuple[str, ...] = tuple(BACKENDS)


def backend_for(algorithm: str) -> Backend:
    """The backend of ``algorithm``; a :class:`ModelError` for an unknown name."""
    try:
        return BACKENDS[algorithm]
    except KeyError:
        raise ModelError(f"unknown algorithm {algorithm!r}; expected one of {ALGORITHMS}") from None
