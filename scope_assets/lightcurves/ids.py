"""The 14-digit SCoPe light-curve ``_id``: ``1`` + field(4) + rcid(2) + filter(1) + seq(6).

One codec for the whole package: encode, decode, validate, and the readout channel of a
(ccd, quad) pair.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class IdParts(NamedTuple):
    """Fields of SCoPe ``_id`` values (arrays shaped like the input)."""

    field: np.ndarray
    ccd: np.ndarray
    quad: np.ndarray
    filter: np.ndarray
    seq: np.ndarray


def rcid_of(ccd: np.ndarray | int, quad: np.ndarray | int) -> np.ndarray:
    """ZTF readout channel 0..63 of (ccd 1..16, quad 1..4)."""
    return (np.asarray(ccd, dtype=np.int64) - 1) * 4 + (np.asarray(quad, dtype=np.int64) - 1)


def encode_id(field, ccd, quad, filterid, seq) -> np.ndarray:
    """SCoPe ``_id`` = ``1`` + field(4) + rcid(2) + filter(1) + seq(6), as int64."""
    field, ccd, quad, filterid, seq = (
        np.asarray(v, dtype=np.int64) for v in (field, ccd, quad, filterid, seq)
    )
    for name, value, low, high in [
        ("field", field, 1, 9999),
        ("ccd", ccd, 1, 16),
        ("quad", quad, 1, 4),
        ("filter", filterid, 1, 3),
        ("seq", seq, 0, 999_999),
    ]:
        if np.any((value < low) | (value > high)):
            raise ValueError(f"{name} must be in {low}..{high} to encode a SCoPe _id")
    rcid = rcid_of(ccd, quad)
    return 10**13 + field * 10**9 + rcid * 10**7 + filterid * 10**6 + seq


def is_scope_id(ids) -> np.ndarray:
    """True where ``ids`` are well-formed 14-digit SCoPe ``_id`` values."""
    ids = np.asarray(ids, dtype=np.int64)
    rcid = ids // 10**7 % 100
    filterid = ids // 10**6 % 10
    return (ids >= 10**13) & (ids < 2 * 10**13) & (rcid <= 63) & (filterid >= 1) & (filterid <= 3)


def decode_id(ids) -> IdParts:
    """Split SCoPe ``_id`` values into field, ccd, quad, filter and sequence number."""
    ids = np.asarray(ids, dtype=np.int64)
    bad = ~is_scope_id(ids)
    if np.any(bad):
        raise ValueError(f"not a 14-digit SCoPe _id: {np.atleast_1d(ids[bad])[:5].tolist()}")
    return decode_id_unchecked(ids)


def decode_id_unchecked(ids) -> IdParts:
    """The digit fields of ``ids`` without validation (never raises; meaningless where
    :func:`is_scope_id` is false), keeping the input's dtype."""
    ids = np.asarray(ids)
    rcid = ids // 10**7 % 100
    return IdParts(
        field=ids // 10**9 % 10**4,
        ccd=rcid // 4 + 1,
        quad=rcid % 4 + 1,
        filter=ids // 10**6 % 10,
        seq=ids % 10**6,
    )
