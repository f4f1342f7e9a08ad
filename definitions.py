"""Dagster entry point: ``dagster dev -f definitions.py`` or ``dagster dev -w workspace.yaml``."""

from scope_assets.defs.definitions import build_definitions

defs = build_definitions()
