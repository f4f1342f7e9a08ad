"""Partitions: one per ZTF field (static, from the packaged field list)."""

from importlib import resources

import dagster as dg

DEMO_FIELD = 296


def ztf_field_numbers() -> list[int]:
    """Field numbers of ZTF's primary and secondary grids, from ``config/fields.txt``."""
    text = resources.files("scope_assets.config").joinpath("fields.txt").read_text()
    return [int(line) for line in text.splitlines() if line.strip() and not line.startswith("#")]


field_partitions = dg.StaticPartitionsDefinition([str(f) for f in ztf_field_numbers()])
