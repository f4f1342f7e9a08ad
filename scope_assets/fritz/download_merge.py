"""``--merge-features``: downloaded Fritz sources → SCoPe's training-set table.

1. Labels: each Fritz classification becomes the training-label column the mapper (default
   ``golden_dataset_mapper.json``) names for its (label, taxonomy); a column a source has no
   classification for is 0.0; several classifications of one label give the highest
   probability; one without a probability counts as 1.0. With ``--update-training-set`` only
   classifications with net votes ``>= --min-vote-diff`` count (active learning).
   → ``<output-dir>/sources_fritzDownload.<ext>``.
2. Features: the light curves of the features catalogue within 2″ of each source (Kowalski
   cone searches, ``--features-limit`` positions per query); a light curve near several sources
   goes to the nearest. One row per (source, light curve), ``_id`` renamed ``ztf_id`` and put
   last; ``--get-ztf-filters`` adds ``filter`` (decoded from the id: no extra query);
   ``--impute-missing-features`` self-imputes with the config's strategies.
   → ``<output-dir>/[<prefix>_]<output-filename>.<ext>``.
3. ``--update-training-set``: the table is appended to the training set; a light curve in
   both keeps the training set's ``obj_id`` and the new row's values
   → ``<output-dir>/<prefix>_<training set file name>``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scope_assets.config import ScopeConfig
from scope_assets.fritz.classification_download import DownloadOptions, download_sources
from scope_assets.fritz.fritz_client import FritzClient
from scope_assets.fritz.fritz_snapshot import chord, unit_vectors
from scope_assets.fritz.taxonomy_mappers import TaxonomyMapper, load_mapper, validate_mapper
from scope_assets.io import read_table, write_table
from scope_assets.kowalski.client import KowalskiClient
from scope_assets.kowalski.kowalski_sky import KowalskiSkySource, chunks, cone_search_query
from scope_assets.lightcurves.ids import decode_id

FEATURE_RADIUS_ARCSEC = 2.0
KEY_COLUMNS = ("obj_id", "ra", "dec")


@dataclass
class MergeResult:
    sources_path: Path
    merged_path: Path
    merged: pd.DataFrame
    training_set_path: Path | None = None


def _split(text: Any) -> list[str]:
    return (
        []
        if text is None or (isinstance(text, float) and math.isnan(text)) or text == ""
        else str(text).split(";")
    )


def _probability(text: str) -> float:
    return 1.0 if text in ("", "None", "nan") else float(text)


def label_sources(
    sources: pd.DataFrame, mapper: TaxonomyMapper, min_vote_diff: int | None = None
) -> pd.DataFrame:
    """``obj_id, ra, dec``, one column per mapper entry, ``labellers`` (see step 1)."""
    by_key = mapper.label_to_column()
    by_label: dict[str, set[str]] = {}
    for (label, _), column in by_key.items():
        by_label.setdefault(label, set()).add(column)
    columns = [e.column for e in mapper if not e.skipped]
    rows = []
    for record in sources.drop_duplicates("obj_id").to_dict("records"):
        values = dict.fromkeys(columns, 0.0)
        labels, taxonomies = _split(record["classification"]), _split(record["taxonomy_id"])
        probabilities, votes = _split(record["probability"]), _split(record.get("sum_votes"))
        for i, label in enumerate(labels):
            if min_vote_diff is not None and (i >= len(votes) or int(votes[i]) < min_vote_diff):
                continue
            taxonomy = int(taxonomies[i]) if i < len(taxonomies) and taxonomies[i] else None
            column = by_key.get((label, taxonomy))
            if column is None and len(by_label.get(label, ())) == 1:
                column = next(iter(by_label[label]))
            if column is not None:
                values[column] = max(values[column], _probability(probabilities[i]))
        rows.append(
            {k: record[k] for k in KEY_COLUMNS} | values | {"labellers": record["labellers"]}
        )
    return pd.DataFrame(rows, columns=[*KEY_COLUMNS, *columns, "labellers"])


def _cone_queries(ra: np.ndarray, dec: np.ndarray, catalog: str, per_query: int) -> list[dict]:
    projection = {"_id": 1, "ra": 1, "dec": 1}
    return [
        cone_search_query(
            {str(i): [float(ra[i]), float(dec[i])] for i in part},
            catalog,
            projection,
            FEATURE_RADIUS_ARCSEC,
            300_000,
        )
        for part in chunks(list(range(len(ra))), per_query)
    ]


def nearest_light_curves(
    kowalski: KowalskiClient, labelled: pd.DataFrame, catalog: str, per_query: int
) -> pd.DataFrame:
    """(source row, ``_id``) pairs: every light curve within 2″, each given to its nearest source."""
    ra, dec = labelled["ra"].to_numpy(np.float64), labelled["dec"].to_numpy(np.float64)
    pairs: dict[int, tuple[float, int]] = {}
    sources = unit_vectors(ra, dec)
    for answer in kowalski.batch(_cone_queries(ra, dec, catalog, per_query)):
        for key, docs in (answer.get(catalog) or {}).items():
            row = int(key)
            for doc in docs:
                where = unit_vectors(np.array([doc["ra"]]), np.array([doc["dec"]]))[0]
                distance = float(np.linalg.norm(where - sources[row]))
                lc_id = int(doc["_id"])
                if distance <= chord(FEATURE_RADIUS_ARCSEC) and (
                    lc_id not in pairs or distance < pairs[lc_id][0]
                ):
                    pairs[lc_id] = (distance, row)
    return pd.DataFrame(
        {"row": [r for _, r in pairs.values()], "_id": list(pairs)}, dtype=np.int64
    ).sort_values(["row", "_id"], ignore_index=True)


def attach_features(
    kowalski: KowalskiClient, labelled: pd.DataFrame, options: DownloadOptions
) -> pd.DataFrame:
    """One row per (source, light curve) with the features catalogue's fields, ``ztf_id`` last."""
    pairs = nearest_light_curves(
        kowalski, labelled, options.features_catalog, options.features_limit
    )
    sky = KowalskiSkySource(
        kowalski, features_catalog=options.features_catalog, ids_per_query=options.features_limit
    )
    features = sky.features(pairs["_id"].tolist())
    features = features.drop(columns=[c for c in features.columns if c in labelled.columns])
    merged = (
        labelled.reset_index(drop=True)
        .iloc[pairs["row"].to_numpy()]
        .reset_index(drop=True)
        .assign(_id=pairs["_id"].to_numpy())
        .merge(features, on="_id", how="inner")
    )
    if options.get_ztf_filters:
        merged["filter"] = decode_id(merged["_id"].to_numpy(np.int64)).filter
    ztf_id = merged.pop("_id")
    merged["ztf_id"] = ztf_id.astype(np.int64)
    return merged


def impute_merged(merged: pd.DataFrame, config: ScopeConfig) -> pd.DataFrame:
    """Self-imputation of the downloaded features with the config's strategies."""
    from scope_assets.features.imputation import build_imputation_reference, impute_features

    reference = build_imputation_reference(merged, config, source="downloaded features")
    imputed, _ = impute_features(merged, reference)
    return imputed


def update_training_set(merged: pd.DataFrame, training_set: pd.DataFrame) -> pd.DataFrame:
    """The training set plus ``merged``; a ``ztf_id`` in both keeps the old ``obj_id``."""
    if "ztf_id" not in training_set.columns:
        raise ValueError("the training set has no ztf_id column to update by")
    old_names: Mapping[int, Any] = dict(
        zip(training_set["ztf_id"], training_set["obj_id"], strict=False)
    )
    combined = pd.concat([training_set, merged], ignore_index=True)
    combined = combined.drop_duplicates("ztf_id", keep="last").reset_index(drop=True)
    combined["obj_id"] = [
        old_names.get(z, o) for z, o in zip(combined["ztf_id"], combined["obj_id"], strict=True)
    ]
    return combined


def merge_download(
    sources: pd.DataFrame,
    options: DownloadOptions,
    mapper: TaxonomyMapper,
    kowalski: KowalskiClient,
    config: ScopeConfig,
) -> MergeResult:
    """Steps 1–3 of the module docstring; writes and returns the tables."""
    out = Path(options.output_dir)
    min_votes = options.min_vote_diff if options.update_training_set else None
    labelled = label_sources(sources, mapper, min_votes)
    sources_path = write_table(labelled, out / f"sources_fritzDownload{options.suffix}")
    merged = attach_features(kowalski, labelled, options)
    if options.impute_missing_features:
        merged = impute_merged(merged, config)
    merged.attrs = dict(sources.attrs) | {"features_catalog": options.features_catalog}
    prefix = f"{options.updated_training_set_prefix}_" if options.update_training_set else ""
    merged_path = write_table(merged, out / f"{prefix}{options.output_filename}{options.suffix}")
    result = MergeResult(sources_path, merged_path, merged)
    if options.update_training_set:
        if not options.training_set:
            raise ValueError("--update-training-set needs a training set (--training-set)")
        base = Path(options.training_set)
        updated = update_training_set(merged, read_table(base))
        result.training_set_path = write_table(updated, out / f"{prefix}{base.name}")
    return result


@dataclass
class DownloadResult:
    sources: pd.DataFrame
    sources_path: Path
    merge: MergeResult | None = None


def download_classifications(
    client: FritzClient,
    options: DownloadOptions,
    config: ScopeConfig,
    kowalski: KowalskiClient | None = None,
    progress: Callable[[int], None] | None = None,
) -> DownloadResult:
    """The whole ``scope-download-classification``: fetch, write, and merge if asked.

    The mapper is checked against Fritz's taxonomies before anything is downloaded.
    """
    mapper = None
    if options.merge_features:
        if kowalski is None:
            raise ValueError("--merge-features needs Kowalski (KOWALSKI_URL and credentials)")
        mapper = load_mapper(options.taxonomy_map)
        validate_mapper(mapper, client.get_taxonomies())
    sources, path = download_sources(client, options, progress)
    result = DownloadResult(sources, path)
    if mapper is not None and kowalski is not None:
        result.merge = merge_download(sources, options, mapper, kowalski, config)
    return result
