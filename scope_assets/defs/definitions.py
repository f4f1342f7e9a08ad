"""All Dagster definitions of the project, assembled in one place."""

from __future__ import annotations

import dagster as dg

from resources.sky import SkySourceResource
from resources.storage import StorageResource
from scope_assets.defs.field_assets import FIELD_ASSETS, FIELD_CHECKS

field_pipeline_job = dg.define_asset_job(
    "field_pipeline",
    selection=dg.AssetSelection.assets(*FIELD_ASSETS),
    description="IDs → cleaned light curves → features → imputed features for one ZTF field.",
)


DEMO_ASSETS = FIELD_ASSETS
DEMO_CHECKS = FIELD_CHECKS


def default_resources() -> dict[str, dg.ConfigurableResource]:
    """Resources for the embedded default: local archive under the data root."""
    return {"storage": StorageResource(), "sky": SkySourceResource()}


def build_definitions() -> dg.Definitions:
    return dg.Definitions(
        assets=FIELD_ASSETS,
        asset_checks=FIELD_CHECKS,
        jobs=[field_pipeline_job],
        resources=default_resources(),
    )
