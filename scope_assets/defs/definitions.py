"""All Dagster definitions of the project, assembled in one place.

Jobs:
- ``field_pipeline`` (partitioned by field): IDs → light curves → features → imputed features →
  XGB/DNN scores → combined catalogue → comparison report of one field, in one process (a field
  is the unit of work; fields run side by side as separate runs, e.g. a backfill).
- ``training`` (partitioned by class tag): the XGB and DNN model of one class.
- ``reports``: training statistics, feature importance and the comparison over every field.

The field and report jobs run their steps in one process: the steps of a field run one after
the other anyway, and a process per step would cost more than most steps.
"""

import dagster as dg

from resources.execution import ExecutionResource
from resources.gcn import GcnResource
from resources.services import service_resources
from resources.sky import SkySourceResource
from resources.storage import StorageResource
from scope_assets.defs.asset_policies import follow_fields, with_policies
from scope_assets.defs.field_assets import FIELD_ASSETS, FIELD_CHECKS
from scope_assets.defs.fritz_assets import FRITZ_ASSETS, FRITZ_CHECKS
from scope_assets.defs.gcn_assets import GCN_ASSETS
from scope_assets.defs.gcn_automation import GCN_JOBS, GCN_SCHEDULES, GCN_SENSORS
from scope_assets.defs.ml_assets import (
    INFERENCE_ASSETS,
    ML_ASSETS,
    ML_CHECKS,
    dnn_models,
    xgb_models,
)
from scope_assets.defs.model_lineage import models_on_disk
from scope_assets.defs.report_assets import (
    REPORT_ASSETS,
    dnn_xgb_comparison,
    dnn_xgb_comparison_all,
    feature_importance,
    training_stats,
)
from scope_assets.ml.training.labels import DEMO_GROUP

FIELD_PIPELINE_ASSETS = [*FIELD_ASSETS, *INFERENCE_ASSETS, dnn_xgb_comparison]
REPORTS = [training_stats, feature_importance, dnn_xgb_comparison_all]

field_pipeline_job = dg.define_asset_job(
    "field_pipeline",
    selection=dg.AssetSelection.assets(*FIELD_PIPELINE_ASSETS),
    executor_def=dg.in_process_executor,
    description="IDs → light curves → features → imputed features → XGB/DNN scores → combined "
    "catalogue → comparison report, for one ZTF field (backfill it over many fields).",
)
training_job = dg.define_asset_job(
    "training",
    selection=dg.AssetSelection.assets(xgb_models, dnn_models),
    description="Train the XGB and DNN classifier of one class tag from the training set.",
)
reports_job = dg.define_asset_job(
    "reports",
    selection=dg.AssetSelection.assets(*REPORTS),
    executor_def=dg.in_process_executor,
    description="Training statistics, feature importance and DNN vs XGB over every field.",
)
JOBS = [field_pipeline_job, training_job, reports_job]


def default_resources() -> dict[str, dg.ConfigurableResource]:
    """Resources for the embedded default: local archive under the data root."""
    return {
        "storage": StorageResource(),
        "sky": SkySourceResource(),
        "execution": ExecutionResource(),
    }


def build_definitions() -> dg.Definitions:
    resources = default_resources()
    storage = resources["storage"]
    assets = with_policies(
        [*FIELD_ASSETS, *ML_ASSETS, *REPORT_ASSETS],
        storage.scope_config(),
        storage.models_root(),
        DEMO_GROUP,
    )
    return dg.Definitions(
        assets=[*assets, *FRITZ_ASSETS, *GCN_ASSETS],
        asset_checks=[*FIELD_CHECKS, *ML_CHECKS, *FRITZ_CHECKS],
        jobs=[*JOBS, *GCN_JOBS],
        sensors=[follow_fields, models_on_disk, *GCN_SENSORS],
        schedules=GCN_SCHEDULES,
        resources={**resources, **service_resources(), "gcn": GcnResource()},
    )
