"""Counting a period as found within the periodogram's resolution (``make eval-real``'s
"within 1/2T" column): closed-form cases around the 0.5/T frequency tolerance."""

from __future__ import annotations

import math

import pytest

from scope_assets.testing.real_light_curves import RESOLUTION_FRACTION, resolved_match_label

T = 900.0  # days: EROS-1's baseline


@pytest.mark.parametrize(
    ("found", "true", "expected"),
    [
        (210.0, 200.0, "P"),  # 5 % off, but |1/210 - 1/200| = 2.4e-4 c/d < 0.5/900 = 5.6e-4
        (260.0, 200.0, "miss"),  # 1.15e-3 c/d: outside the peak
        (420.0, 200.0, "2P"),  # |1/420 - 1/400| = 1.2e-4 c/d
        (0.506, 0.5, "alias"),  # 1.2 % off a short period (2.4e-2 c/d): match_label stands
        (0.5049, 0.5, "P"),  # within 1 %: match_label's own answer
        (1.0, 0.5, "2P"),
    ],
)
def test_resolution_tolerance(found, true, expected):
    assert resolved_match_label(found, true, T) == expected


def test_the_boundary_is_half_the_peak_width():
    width = RESOLUTION_FRACTION / T
    inside = 1.0 / (1.0 / 300.0 - 0.999 * width)
    outside = 1.0 / (1.0 / 300.0 - 1.001 * width)
    assert resolved_match_label(inside, 300.0, T) == "P"
    assert resolved_match_label(outside, 300.0, T) != "P"
    assert resolved_match_label(math.nan, 300.0, T) == "nan"
    assert resolved_match_label(310.0, 300.0, math.nan) == "miss"
