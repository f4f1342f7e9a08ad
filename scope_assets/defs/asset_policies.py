"""Owners, tags, code versions and automation of every asset, applied where the definitions are
built (one table here instead of a line in each decorator).

- owners: ``team:scope`` unless an asset names its own;
- tags: ``field`` on every asset partitioned by field, ``algorithm`` (``xgb``, ``dnn`` or
  ``dnn-xgb``) on model, prediction and comparison assets: filter the catalogue with them;
- code versions: ``versions.code_versions``;
- the feature tables' column schema with descriptions (``metadata.feature_table_schema``);
- automation: imputed features, predictions and comparisons follow their field
  (``AutomationCondition.eager()``) once the ``follow_fields`` sensor is turned on; it is off
  by default, so nothing runs that a user did not start.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import dagster as dg

from scope_assets.config import ScopeConfig
from scope_assets.defs.metadata import feature_table_schema
from scope_assets.defs.partitions import field_partitions
from scope_assets.defs.versions import code_versions

OWNERS = ["team:scope"]
ALGORITHM_TAGS = {
    "xgb_models": "xgb",
    "xgb_predictions": "xgb",
    "feature_importance": "xgb",
    "dnn_models": "dnn",
    "dnn_predictions": "dnn",
    "combined_predictions": "dnn-xgb",
    "dnn_xgb_comparison": "dnn-xgb",
    "dnn_xgb_comparison_all": "dnn-xgb",
    "training_stats": "dnn-xgb",
}
FOLLOW_THEIR_FIELD = {
    "imputed_features",
    "xgb_predictions",
    "dnn_predictions",
    "combined_predictions",
    "dnn_xgb_comparison",
}
FEATURE_TABLES = {"features", "imputed_features"}
FOLLOW_ANY_FIELD = {"dnn_xgb_comparison_all"}
"""Depends on every field's partition: runs when any of them changes (most never exist)."""

follow_fields = dg.AutomationConditionSensorDefinition(
    "follow_fields",
    target=dg.AssetSelection.all(),
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Off by default. When on, imputed features, predictions and the comparison "
    "reports of a field are re-materialized as soon as their upstream in that field is.",
)


def automation_condition(name: str) -> dg.AutomationCondition | None:
    if name in FOLLOW_THEIR_FIELD:
        return dg.AutomationCondition.eager()
    if name in FOLLOW_ANY_FIELD:
        return dg.AutomationCondition.eager().without(~dg.AutomationCondition.any_deps_missing())
    return None


def tags_of(spec: dg.AssetSpec) -> dict[str, str]:
    name = spec.key.to_user_string()
    tags = {"field": ""} if spec.partitions_def == field_partitions else {}
    if name in ALGORITHM_TAGS:
        tags["algorithm"] = ALGORITHM_TAGS[name]
    return tags


def with_policies(
    assets: Sequence[dg.AssetsDefinition], config: ScopeConfig, models_root: Path, group: str
) -> list[dg.AssetsDefinition]:
    """``assets`` with owners, tags, code versions and automation conditions set."""
    specs = [spec for asset in assets for spec in asset.specs]
    versions = code_versions(specs, config, models_root, group)
    schema = {"dagster/column_schema": feature_table_schema(config)}

    def apply(spec: dg.AssetSpec) -> dg.AssetSpec:
        name = spec.key.to_user_string()
        return spec.replace_attributes(
            owners=spec.owners or OWNERS,
            code_version=versions.get(spec.key, spec.code_version),
            automation_condition=automation_condition(name) or spec.automation_condition,
        ).merge_attributes(tags=tags_of(spec), metadata=schema if name in FEATURE_TABLES else {})

    return list(dg.map_asset_specs(apply, assets))
