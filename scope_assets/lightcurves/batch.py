"""A batch of light curves in CSR layout: one flat array per quantity plus offsets.

This is the interchange type between the archive readers, the cleaning step and the feature
kernels. Light curve ``i`` owns ``t[offsets[i]:offsets[i + 1]]`` (and the same slice of ``mag``
and ``magerr``). Time is float64 HJD (days) everywhere: SCoPe's float32 HJD bug cannot exist here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LightCurveBatch:
    """Flat, contiguous light curves; ``ids[i]`` is the 14-digit ZTF ``_id`` of curve ``i``."""

    ids: np.ndarray  # int64, shape (n,)
    offsets: np.ndarray  # int64, shape (n + 1,), offsets[0] == 0
    t: np.ndarray  # float64 HJD days, shape (offsets[-1],)
    mag: np.ndarray  # float64 mag
    magerr: np.ndarray  # float64 mag

    def __post_init__(self) -> None:
        n = len(self.ids)
        if len(self.offsets) != n + 1 or (n + 1 and self.offsets[0] != 0):
            raise ValueError(f"offsets must have length {n + 1} and start at 0")
        if not (len(self.t) == len(self.mag) == len(self.magerr) == int(self.offsets[-1])):
            raise ValueError("t, mag and magerr must all have offsets[-1] points")

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def n_points(self) -> np.ndarray:
        """Points per light curve, int64 shape (n,)."""
        return np.diff(self.offsets)

    def kernel_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(t, mag, magerr, offsets) as C-contiguous float64 / int64 arrays, as numba kernels
        take them (no copy when they already are)."""
        return (
            np.ascontiguousarray(self.t, dtype=np.float64),
            np.ascontiguousarray(self.mag, dtype=np.float64),
            np.ascontiguousarray(self.magerr, dtype=np.float64),
            np.ascontiguousarray(self.offsets, dtype=np.int64),
        )

    def curve(self, i: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(t, mag, magerr) views of light curve ``i``."""
        a, b = int(self.offsets[i]), int(self.offsets[i + 1])
        return self.t[a:b], self.mag[a:b], self.magerr[a:b]

    def point_index(self, index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(new offsets, flat point positions) of the curves at positions ``index``."""
        index = np.asarray(index, dtype=np.int64)
        counts = self.n_points[index]
        offsets = np.zeros(len(index) + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        points = np.repeat(self.offsets[:-1][index] - offsets[:-1], counts) + np.arange(offsets[-1])
        return offsets, points

    def subset(self, index: np.ndarray) -> LightCurveBatch:
        """A new batch holding the curves at positions ``index`` (in that order)."""
        index = np.asarray(index, dtype=np.int64)
        offsets, points = self.point_index(index)
        return LightCurveBatch(
            ids=self.ids[index],
            offsets=offsets,
            t=self.t[points],
            mag=self.mag[points],
            magerr=self.magerr[points],
        )

    @classmethod
    def from_curves(
        cls, ids: np.ndarray, curves: list[tuple[np.ndarray, np.ndarray, np.ndarray]]
    ) -> LightCurveBatch:
        """Build a batch from a list of (t, mag, magerr) arrays."""
        counts = np.array([len(c[0]) for c in curves], dtype=np.int64)
        offsets = np.zeros(len(curves) + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])

        def flat(k: int) -> np.ndarray:
            if not curves:
                return np.zeros(0, dtype=np.float64)
            return np.concatenate([np.asarray(c[k], dtype=np.float64) for c in curves])

        return cls(np.asarray(ids, dtype=np.int64), offsets, flat(0), flat(1), flat(2))
