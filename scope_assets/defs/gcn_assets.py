"""GCN assets: one partition per event (``dateobs``), the SCoPe cron job's steps as assets.

``gcn_sources`` (Fritz sources in the localization → ZTF light-curve ids) → ``gcn_light_curves``
(fetched and cleaned) → ``gcn_features`` (``generated_features/specific_ids/…``) →
``gcn_xgb_predictions``, ``gcn_dnn_predictions`` (``preds_<alg>/field_<dateobs>_specific_ids``)
→ ``gcn_combined_predictions`` (per Fritz source, mean of DNN and XGB:
``GCN_dnn_xgb/<dateobs>/merged_GCN_sources_<dateobs>.parquet``) → ``gcn_fritz_classifications``
(posted to the groups of the event's tags, photometry as comments, idempotent).

Each asset calls the same functions as ``scope-download-gcn-sources``, ``generate-features
--doSpecificIDs``, ``run-inference``, ``combine-preds --merge-dnn-xgb`` and
``scope-upload-classification``. In file names ``dateobs`` has ``-`` for ``:`` (as SCoPe).
"""

from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd
import pyarrow.parquet as pq

from resources.fritz import FritzResource
from resources.gcn import GcnResource
from resources.sky import SkySourceResource
from resources.storage import StorageResource
from scope_assets.config import ScopeConfig
from scope_assets.defs.metadata import counts_markdown, table_metadata
from scope_assets.gcn.event_sources import (
    DEFAULT_SAVE_FILENAME,
    dateobs_label,
    gcn_sources_paths,
)
from scope_assets.io import DataLayout
from scope_assets.io.layout import specific_ids_field
from scope_assets.lightcurves.sky_source import SkySource

GROUP = "gcn"
TOP_CANDIDATES = 3
FRITZ_RETRY = dg.RetryPolicy(max_retries=2, delay=10)
"""The steps that talk to Fritz retry (a Fritz hiccup should not fail the event's run)."""

gcn_events = dg.DynamicPartitionsDefinition(name="gcn_events")
"""One partition per GCN event, keyed by its ``dateobs`` (``YYYY-MM-DDTHH:MM:SS``)."""


def event_field(key: str) -> str:
    """The field label of an event's files: ``<dateobs>_specific_ids``."""
    return specific_ids_field(dateobs_label(key))


def sources_file(layout: DataLayout, key: str) -> Path:
    return gcn_sources_paths(layout.root / DEFAULT_SAVE_FILENAME, key)[0]


def combined_dirname(key: str) -> str:
    return f"GCN_dnn_xgb/{dateobs_label(key)}"


def merged_name(key: str) -> str:
    return f"GCN_sources_{dateobs_label(key)}"


def _event_ids(layout: DataLayout, key: str) -> pd.DataFrame:
    from scope_assets.gcn.specific_ids import read_specific_ids

    return read_specific_ids(sources_file(layout, key))


def _ids_sky_config(
    context: dg.AssetExecutionContext, storage: StorageResource, sky: SkySourceResource
) -> tuple[pd.DataFrame, SkySource, ScopeConfig]:
    """What the light-curve and feature steps read: the event's ids, the sky and the config."""
    ids = _event_ids(storage.layout(), context.partition_key)
    return ids, sky.get_source(), storage.scope_config()


def _event_asset(**kwargs: Any):
    """An asset of one GCN event (the partitions and group every GCN asset shares)."""
    return dg.asset(partitions_def=gcn_events, group_name=GROUP, **kwargs)


@_event_asset(
    kinds={"fritz", "parquet"},
    retry_policy=FRITZ_RETRY,
    description="Fritz sources in the event's localization and the ZTF light curves within "
    "radius_arcsec of each (SCoPe's ids file for --doSpecificIDs).",
)
def gcn_sources(
    context: dg.AssetExecutionContext,
    storage: StorageResource,
    fritz: FritzResource,
    sky: SkySourceResource,
    gcn: GcnResource,
) -> dg.MaterializeResult:
    from scope_assets.gcn.event_sources import download_gcn_sources, sources_fingerprint

    layout = storage.layout()
    with fritz.get_client() as client:
        result = download_gcn_sources(
            client,
            sky.get_source(),
            context.partition_key,
            group_ids=gcn.source_group_ids,
            days_range=gcn.days_range,
            radius_arcsec=gcn.radius_arcsec,
            save_filename=layout.root / DEFAULT_SAVE_FILENAME,
        )
    names = result.fritz_sources["fritz_name"]
    context.log.info(f"{len(names)} Fritz sources, {len(result.ids)} ZTF light curves")
    return dg.MaterializeResult(
        metadata={
            "fritz_sources": dg.MetadataValue.int(len(names)),
            "light_curves": dg.MetadataValue.int(len(result.ids)),
            "sources_fingerprint": dg.MetadataValue.text(sources_fingerprint(names)),
            "path": dg.MetadataValue.path(str(result.parquet_path)),
            "json": dg.MetadataValue.path(str(result.json_path)),
        }
    )


@_event_asset(
    kinds={"parquet"},
    deps=[gcn_sources],
    description="The event's light curves, fetched by id and cleaned (lightcurves/field_<dateobs>"
    "_specific_ids/).",
)
def gcn_light_curves(
    context: dg.AssetExecutionContext, storage: StorageResource, sky: SkySourceResource
) -> dg.MaterializeResult:
    from scope_assets.gcn.specific_ids import clean_specific_ids

    path = storage.layout().light_curves_file(event_field(context.partition_key))
    summary = clean_specific_ids(*_ids_sky_config(context, storage, sky), path)
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(path)),
            "dagster/row_count": dg.MetadataValue.int(summary.curves_kept),
            "cleaning": dg.MetadataValue.md(counts_markdown(summary.as_dict(), "light curves")),
        }
    )


@_event_asset(
    kinds={"parquet"},
    deps=[gcn_light_curves],
    description="Features of the event's light curves with their Fritz names "
    "(generated_features/specific_ids/gen_features_<dateobs>_specific_ids.parquet).",
)
def gcn_features(
    context: dg.AssetExecutionContext, storage: StorageResource, sky: SkySourceResource
) -> dg.MaterializeResult:
    from scope_assets.gcn.specific_ids import cleaned_specific_ids_features
    from scope_assets.io import read_parquet

    layout, field = storage.layout(), event_field(context.partition_key)
    output = layout.specific_ids_features_file(field)
    ids, source, config = _ids_sky_config(context, storage, sky)
    cleaned_specific_ids_features(ids, layout.light_curves_file(field), source, config, output)
    features = read_parquet(output, columns=["_id", "fritz_name"])
    return dg.MaterializeResult(metadata=table_metadata(output, features))


def _predict_event(
    context: dg.AssetExecutionContext,
    storage: StorageResource,
    gcn: GcnResource,
    algorithm: str,
) -> dg.MaterializeResult:
    from scope_assets.ml.inference.field_inference import predict_field
    from scope_assets.ml.model_files.project_layout import load_models

    scope_config = storage.scope_config()
    models = load_models(storage.models_root(), algorithm, gcn.model_group, config=scope_config)
    result = predict_field(
        storage.layout(), event_field(context.partition_key), algorithm, models, scope_config
    )
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(result.path)),
            "light_curves": dg.MetadataValue.int(result.rows_in),
            "scored": dg.MetadataValue.int(result.rows_out),
            "dagster/row_count": dg.MetadataValue.int(result.rows_out),
            "models": dg.MetadataValue.json(result.models),
        }
    )


def _predictions_asset(algorithm: str, kind: str) -> dg.AssetsDefinition:
    """``gcn_<algorithm>_predictions``: one algorithm's scores of the event's light curves."""

    @_event_asset(
        name=f"gcn_{algorithm}_predictions",
        kinds={"parquet", kind},
        deps=[gcn_features],
        description=f"{algorithm.upper()} scores of the event's light curves "
        f"(preds_{algorithm}/field_<dateobs>_specific_ids/).",
    )
    def predictions(
        context: dg.AssetExecutionContext, storage: StorageResource, gcn: GcnResource
    ) -> dg.MaterializeResult:
        return _predict_event(context, storage, gcn, algorithm)

    return predictions


gcn_xgb_predictions = _predictions_asset("xgb", "xgboost")
gcn_dnn_predictions = _predictions_asset("dnn", "keras")


def top_candidates(merged: pd.DataFrame, n: int = TOP_CANDIDATES) -> pd.DataFrame:
    """The ``n`` best-scored Fritz sources of every class (class, obj_id, score)."""
    from scope_assets.ml.inference.gcn_merge import DESCRIPTIVE

    rows = []
    for tag in [c for c in merged.columns if c not in DESCRIPTIVE]:
        best = merged.nlargest(n, tag)
        rows += [
            {"class": tag, "obj_id": o, "score": round(float(p), 3)}
            for o, p in zip(best["obj_id"], best[tag], strict=True)
        ]
    return pd.DataFrame(rows, columns=["class", "obj_id", "score"])


def markdown_table(frame: pd.DataFrame) -> str:
    lines = ["| " + " | ".join(frame.columns) + " |", "|" + " --- |" * len(frame.columns)]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in frame.itertuples(False)]
    return "\n".join(lines) + "\n"


@_event_asset(
    kinds={"parquet"},
    deps=[gcn_xgb_predictions, gcn_dnn_predictions],
    description="One row per Fritz source: DNN and XGB scores of its light curves averaged per "
    "class (combine-preds --merge-dnn-xgb), with the classes above p_threshold in a meta file.",
)
def gcn_combined_predictions(
    context: dg.AssetExecutionContext, storage: StorageResource, gcn: GcnResource
) -> dg.MaterializeResult:
    from scope_assets.ml.inference.gcn_merge import merge_gcn_predictions

    key = context.partition_key
    result = merge_gcn_predictions(
        storage.layout(),
        event_field(key),
        merged_name(key),
        combined_dirname=combined_dirname(key),
        agg_method=gcn.agg_method,
        p_threshold=gcn.p_threshold,
    )
    above = sum(1 for classes in result.meta.values() if classes)
    return dg.MaterializeResult(
        metadata=table_metadata(result.path, result.frame)
        | {
            "sources": dg.MetadataValue.int(len(result.frame)),
            "sources_above_threshold": dg.MetadataValue.int(above),
            "top_candidates": dg.MetadataValue.md(markdown_table(top_candidates(result.frame))),
            "meta_json": dg.MetadataValue.path(str(result.meta_path)),
        }
    )


@_event_asset(
    kinds={"fritz"},
    deps=[gcn_combined_predictions],
    retry_policy=FRITZ_RETRY,
    description="The event's merged scores posted to Fritz on the candidates, in the groups of "
    "the event's tags (idempotent: a rerun posts only what changed).",
)
def gcn_fritz_classifications(
    context: dg.AssetExecutionContext,
    storage: StorageResource,
    fritz: FritzResource,
    sky: SkySourceResource,
    gcn: GcnResource,
) -> dg.MaterializeResult:
    from scope_assets.gcn.gcn_upload import (
        event_group_ids,
        event_upload_options,
        upload_event_scores,
    )
    from scope_assets.ml.inference.gcn_merge import merged_paths

    key, layout = context.partition_key, storage.layout()
    merged = merged_paths(layout, combined_dirname(key), merged_name(key))[0]
    if pq.ParquetFile(merged).metadata.num_rows == 0:
        context.log.info(f"GCN event {key}: no scored source, nothing to post")
        return dg.MaterializeResult(metadata={"rows": dg.MetadataValue.int(0)})
    with fritz.get_client() as client:
        options = event_upload_options(
            event_group_ids(client, key, gcn.tag_groups),
            layout.root / "fritzUpload" / combined_dirname(key),
            taxonomy_map=gcn.taxonomy_map,
            p_threshold=gcn.p_threshold,
            radius_arcsec=gcn.radius_arcsec,
            post_phot_as_comment=gcn.post_phot_as_comment,
            post_phasefolded_phot=gcn.post_phasefolded_phot,
        )
        summary = upload_event_scores(
            client, merged, options, storage.scope_config(), sky.get_source()
        )
    context.log.info(summary.describe())
    return dg.MaterializeResult(
        metadata={
            "group_ids": dg.MetadataValue.json(list(options.group_ids)),
            "result_file": dg.MetadataValue.path(str(summary.result_path)),
            **{f"rows_{k}": dg.MetadataValue.int(v) for k, v in summary.rows_by_status.items()},
            "classifications": dg.MetadataValue.md(
                counts_markdown(summary.classifications, "classifications")
            ),
        }
    )


GCN_ASSETS = [
    gcn_sources,
    gcn_light_curves,
    gcn_features,
    gcn_xgb_predictions,
    gcn_dnn_predictions,
    gcn_combined_predictions,
    gcn_fritz_classifications,
]
