"""All Dagster definitions of the project, assembled in one place."""

import dagster as dg

from resources.execution import ExecutionResource
from resources.gcn import GcnResource
from resources.services import service_resources
from resources.sky import SkySourceResource
from resources.storage import StorageResource
from scope_assets.defs.field_assets import FIELD_ASSETS, FIELD_CHECKS
from scope_assets.defs.fritz_assets import FRITZ_ASSETS, FRITZ_CHECKS
from scope_assets.defs.gcn_assets import GCN_ASSETS
from scope_assets.defs.gcn_automation import GCN_JOBS, GCN_SCHEDULES, GCN_SENSORS
from scope_assets.defs.ml_assets import INFERENCE_ASSETS, ML_ASSETS, ML_CHECKS
from scope_assets.defs.report_assets import (
    REPORT_ASSETS,
    dnn_xgb_comparison,
    feature_importance,
    training_stats,
)

field_pipeline_job = dg.define_asset_job(
    "field_pipeline",
    selection=dg.AssetSelection.assets(*FIELD_ASSETS, *INFERENCE_ASSETS, dnn_xgb_comparison),
    description="IDs → light curves → features → imputed features → XGB/DNN scores → combined "
    "catalogue → comparison report, for one ZTF field.",
)

DEMO_ASSETS = [*FIELD_ASSETS, *INFERENCE_ASSETS, dnn_xgb_comparison]
"""What ``make demo`` materializes for the demo field (models come committed in ``models/``)."""
DEMO_TRAINING_REPORTS = [training_stats, feature_importance]
"""Training reports ``make demo`` adds, computed from the committed models' manifests and
``_plots`` files (no retraining)."""
DEMO_CHECKS = [*FIELD_CHECKS, *ML_CHECKS]


def default_resources() -> dict[str, dg.ConfigurableResource]:
    """Resources for the embedded default: local archive under the data root."""
    return {
        "storage": StorageResource(),
        "sky": SkySourceResource(),
        "execution": ExecutionResource(),
    }


def build_definitions() -> dg.Definitions:
    return dg.Definitions(
        assets=[*FIELD_ASSETS, *ML_ASSETS, *REPORT_ASSETS, *FRITZ_ASSETS, *GCN_ASSETS],
        asset_checks=[*FIELD_CHECKS, *ML_CHECKS, *FRITZ_CHECKS],
        jobs=[field_pipeline_job, *GCN_JOBS],
        sensors=GCN_SENSORS,
        schedules=GCN_SCHEDULES,
        resources={**default_resources(), **service_resources(), "gcn": GcnResource()},
    )
