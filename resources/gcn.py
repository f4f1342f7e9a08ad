"""Settings of the GCN automation as a Dagster resource (deployment settings, not per run)."""

from __future__ import annotations

import dagster as dg
from pydantic import Field

from scope_assets.gcn.automation import DEFAULT_TAG_GROUPS
from scope_assets.gcn.event_sources import DEFAULT_DAYS_RANGE, DEFAULT_RADIUS_ARCSEC


class GcnResource(dg.ConfigurableResource):
    """Which events to score and where their scores go.

    ``tag_groups`` maps a GCN tag to the Fritz groups its events' classifications are posted
    to (events with none of these tags are skipped); it is read, never changed.
    ``source_group_ids`` restricts the Fritz sources looked up (empty: all the token sees).
    """

    tag_groups: dict[str, list[int]] = Field(default_factory=lambda: dict(DEFAULT_TAG_GROUPS))
    source_group_ids: list[int] = Field(default_factory=list)
    days_range: float = DEFAULT_DAYS_RANGE
    lookback_days: float = DEFAULT_DAYS_RANGE
    radius_arcsec: float = DEFAULT_RADIUS_ARCSEC
    model_group: str = "demo"
    agg_method: str = "mean"
    p_threshold: float = 0.7
    taxonomy_map: str = "fritz_mapper.json"
    post_phot_as_comment: bool = True
    post_phasefolded_phot: bool = True
