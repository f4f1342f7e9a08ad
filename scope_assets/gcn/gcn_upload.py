"""An event's merged scores to Fritz: SCoPe's cron-job upload through the project's
idempotent upload (:mod:`scope_assets.fritz.classification_upload`).

As the cron job: scores are read from the merged file (``classification read`` with
``fritz_mapper.json``), posted on the candidate itself (``use_existing_obj_id``) at
``p >= p_threshold`` to the groups of the event's tags, with the light curves as comments
instead of photometry. Unlike it, the groups come from a mapping that is only read, and a
rerun posts only what changed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from scope_assets.config import ScopeConfig
from scope_assets.fritz.classification_upload import prepare_upload, upload_classifications
from scope_assets.fritz.fritz_client import FritzClient
from scope_assets.fritz.upload_plan import UploadOptions
from scope_assets.fritz.upload_results import UploadSummary
from scope_assets.gcn.automation import post_group_ids
from scope_assets.io import read_table


def event_group_ids(
    client: FritzClient, key: str, tag_groups: Mapping[str, Sequence[int]]
) -> tuple[int, ...]:
    """The Fritz groups of the event's current tags; ValueError if none is configured."""
    tags = client.get_gcn_event(key).get("tags") or []
    groups = post_group_ids(tags, tag_groups)
    if not groups:
        raise ValueError(f"GCN event {key}: tags {tags} have no configured Fritz groups")
    return groups


def event_upload_options(
    group_ids: Sequence[int],
    result_dir: Path,
    *,
    taxonomy_map: str = "fritz_mapper.json",
    p_threshold: float = 0.7,
    radius_arcsec: float = 0.5,
    post_phot_as_comment: bool = True,
    post_phasefolded_phot: bool = True,
) -> UploadOptions:
    return UploadOptions(
        group_ids=tuple(group_ids),
        classification=("read",),
        taxonomy_map=taxonomy_map,
        p_threshold=p_threshold,
        use_existing_obj_id=True,
        skip_phot=True,
        post_phot_as_comment=post_phot_as_comment,
        post_phasefolded_phot=post_phot_as_comment and post_phasefolded_phot,
        radius_arcsec=radius_arcsec,
        result_dir=str(result_dir),
        phot_dirname=str(result_dir / "phot_plots"),
    )


def upload_event_scores(
    client: FritzClient,
    merged_path: Path,
    options: UploadOptions,
    config: ScopeConfig,
    sky=None,
) -> UploadSummary:
    """Post the merged file's scores (see the module docstring); never raises for a row."""
    prepared = prepare_upload(read_table(merged_path), merged_path, options, config)
    return upload_classifications(
        client, prepared, options, config, sky=sky if options.needs_light_curves else None
    )
