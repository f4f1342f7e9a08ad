"""Models on disk as materializations of ``xgb_models`` / ``dnn_models``.

The committed demo models (and models trained by ``scope-train`` outside Dagster) are reported
to the instance as materializations of their class-tag partition, with the manifest's
fingerprint as data version. Predictions then record which model versions they used, and a
retrained model (new manifest) marks the predictions made with the old one stale. A model is
reported only when its fingerprint differs from the data version the instance holds, so
reporting again changes nothing.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from dagster._core.definitions.data_version import DATA_VERSION_TAG

from resources.storage import StorageResource
from scope_assets.defs.versions import manifest_fingerprints
from scope_assets.ml.model_files.manifest import ALGORITHMS, MANIFEST_NAME
from scope_assets.ml.training.labels import DEMO_GROUP, DEMO_TAGS

MODEL_ASSET_KEYS = {algorithm: dg.AssetKey(f"{algorithm}_models") for algorithm in ALGORITHMS}


def _recorded_version(instance: dg.DagsterInstance, key: dg.AssetKey, tag: str) -> str | None:
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=key, asset_partitions=[tag]), limit=1, ascending=False
    ).records
    return records[0].asset_materialization.tags.get(DATA_VERSION_TAG) if records else None


def unrecorded_models(
    instance: dg.DagsterInstance, models_root: Path, group: str = DEMO_GROUP
) -> list[dg.AssetMaterialization]:
    """A materialization for every model whose manifest the instance has not seen yet."""
    events = []
    for algorithm, key in MODEL_ASSET_KEYS.items():
        fingerprints = manifest_fingerprints(models_root, algorithm, group)
        for tag, fingerprint in fingerprints.items():
            if tag not in DEMO_TAGS or _recorded_version(instance, key, tag) == fingerprint:
                continue
            manifest = Path(algorithm) / group / tag / MANIFEST_NAME
            events.append(
                dg.AssetMaterialization(
                    asset_key=key,
                    partition=tag,
                    description=f"{algorithm} model of {tag!r} found under the models root",
                    metadata={
                        "manifest": dg.MetadataValue.path(str(manifest)),
                        "manifest_fingerprint": fingerprint,
                        "models_root": dg.MetadataValue.path(str(models_root)),
                    },
                    tags={DATA_VERSION_TAG: fingerprint},
                )
            )
    return events


def record_models(
    instance: dg.DagsterInstance, models_root: Path, group: str = DEMO_GROUP
) -> list[str]:
    """Report every model not yet recorded; returns ``<alg>/<tag>`` of those reported."""
    events = unrecorded_models(instance, models_root, group)
    for event in events:
        instance.report_runless_asset_event(event)
    return [f"{e.asset_key.to_user_string().removesuffix('_models')}/{e.partition}" for e in events]


@dg.sensor(
    name="models_on_disk",
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Reports the models under the models root (committed or trained by scope-train) "
    "as materializations of xgb_models/dnn_models whenever a manifest changes.",
)
def models_on_disk(
    context: dg.SensorEvaluationContext, storage: StorageResource
) -> dg.SensorResult:
    events = unrecorded_models(context.instance, storage.models_root())
    return dg.SensorResult(asset_events=events)
