"""Shared fixtures and helpers of the Fritz-tool tests (a plugin module; tests/conftest.py imports
it): a small simulated field 296 served by the emulator, its combined predictions in SCoPe's
layout, and ways to run and inspect uploads."""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest_emulator import EMULATOR_FRITZ_TOKEN

from scope_assets.cli.fritz_tools import upload_main
from scope_assets.config import load_config
from scope_assets.emulator import Emulator, load_kowalski_catalogs, start_emulator
from scope_assets.fritz.classification_upload import prepare_upload, upload_classifications
from scope_assets.fritz.fritz_client import FritzClient
from scope_assets.fritz.upload_plan import UploadOptions
from scope_assets.fritz.upload_results import UploadSummary
from scope_assets.io import read_parquet, read_table, write_parquet
from scope_assets.lightcurves.archive import LocalArchive
from scope_assets.lightcurves.sky_source import ArchiveSkySource
from scope_assets.sim import simulate_field
from scope_assets.testing.fritz_predictions import archive_combined_predictions

FIELD = 296
TARGET_GROUP = 1544
READ_FLAGS = ["--classification", "read", "--taxonomy-map", "fritz_mapper.json"]
WRITE_METHODS = ("POST", "PUT", "DELETE", "PATCH")


@dataclass(frozen=True)
class SimSky:
    archive: Path
    predictions: Path
    catalogs: dict


@pytest.fixture(name="fritz_sky", scope="session")
def _fritz_sky(tmp_path_factory: pytest.TempPathFactory) -> SimSky:
    """A simulated field 296 (60 light curves) and its combined predictions file."""
    root = tmp_path_factory.mktemp("fritz_sky")
    archive = simulate_field(root / "archive", field=FIELD, n_sources=60)
    predictions = root / "preds_dnn_xgb" / f"field_{FIELD}.parquet"
    table = archive_combined_predictions(str(root / "archive"), FIELD)
    write_parquet(table, predictions)
    features = root / "features.parquet"
    write_parquet(features_catalog(table), features)
    return SimSky(archive, predictions, load_kowalski_catalogs(archive, features))


def features_catalog(predictions: pd.DataFrame) -> pd.DataFrame:
    """A features catalogue for the simulated light curves: every ontological feature (random;
    some cross-match values missing), so downloads can be merged and imputed."""
    rng = np.random.default_rng(3)
    config = load_config()
    table = predictions[["_id", "ra", "dec", "field", "ccd", "quad"]].copy()
    for column, strategy in config.impute_strategies().items():
        values = rng.normal(15.0, 1.0, len(table))
        if strategy != "none":  # rows missing a light-curve feature are dropped by imputation
            values[rng.random(len(table)) < 0.1] = np.nan
        table[column] = values
    return table


@pytest.fixture(name="fritz_emulator")
def _fritz_emulator(fritz_sky: SimSky) -> Iterator[Emulator]:
    """Kowalski + Fritz emulators over the simulated sky (fresh Fritz state per test)."""
    with start_emulator(
        fritz_sky.archive, catalogs=fritz_sky.catalogs, fritz_tokens=[EMULATOR_FRITZ_TOKEN]
    ) as emulator:
        yield emulator


def fast_client(emulator: Emulator, **overrides) -> FritzClient:
    settings = dict(
        timeout_s=2.0, max_retries=4, backoff_s=0.01, max_backoff_s=0.05, rate_limit_per_s=None
    )
    return FritzClient(emulator.fritz_url, EMULATOR_FRITZ_TOKEN, **{**settings, **overrides})


def sky_of(fritz_sky: SimSky) -> ArchiveSkySource:
    return ArchiveSkySource(LocalArchive(fritz_sky.archive))


def upload(
    emulator: Emulator,
    file: Path,
    workdir: Path,
    sky: ArchiveSkySource | None = None,
    client: FritzClient | None = None,
    **options,
) -> UploadSummary:
    """The library upload with a fast client; results under ``workdir``."""
    settings = dict(
        group_ids=(TARGET_GROUP,),
        classification=("read",),
        taxonomy_map="fritz_mapper.json",
        p_threshold=0.7,
        skip_phot=sky is None,
        result_dir=str(workdir / "fritzUpload"),
        phot_dirname=str(workdir / "phot_plots"),
    )
    opts = UploadOptions(**{**settings, **options})
    config = load_config()
    prepared = prepare_upload(read_table(file), file, opts, config)
    with contextlib.ExitStack() as stack:
        fritz = client or stack.enter_context(fast_client(emulator))
        return upload_classifications(fritz, prepared, opts, config, sky=sky)


def upload_with_photometry(
    emulator: Emulator, fritz_sky: SimSky, workdir: Path, **options
) -> UploadSummary:
    """:func:`upload` of the field's predictions with photometry (from the simulated sky) posted
    as comments."""
    return upload(
        emulator,
        fritz_sky.predictions,
        workdir,
        sky=sky_of(fritz_sky),
        post_phot_as_comment=True,
        **options,
    )


def refuse_one_source(emulator: Emulator, fritz_sky: SimSky, workdir: Path, **fault) -> str:
    """Make Fritz answer 400 to every classification of one source (the first an upload of the
    predictions names); returns its obj_id. A probe upload under ``workdir`` finds it."""
    probe = upload(emulator, fritz_sky.predictions, workdir / "probe", stop=0)
    victim = read_parquet(probe.result_path)["obj_id"].iloc[0]
    emulator.reset()
    emulator.fritz.inject(
        400,
        count=None,
        method="POST",
        path_regex="/api/classification$",
        body_regex=re.escape(victim),
        **fault,
    )
    return victim


def run_cli(emulator: Emulator, workdir: Path, *flags: str, main=upload_main) -> int:
    """A Fritz tool's ``main`` (default: upload) in ``workdir`` with the emulator's settings."""
    previous = os.getcwd()
    env = {
        "FRITZ_URL": emulator.fritz_url,
        "FRITZ_TOKEN": EMULATOR_FRITZ_TOKEN,
        "KOWALSKI_URL": emulator.kowalski_url,
        "KOWALSKI_USERNAME": next(iter(emulator.kowalski_users)),
        "KOWALSKI_PASSWORD": next(iter(emulator.kowalski_users.values())),
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    os.chdir(workdir)
    try:
        return main([*flags, "--rate-limit", "0"])
    finally:
        os.chdir(previous)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def writes(emulator: Emulator) -> list:
    """Every request that could change Fritz (answered by the service, not an injected fault)."""
    return [r for r in emulator.fritz.requests() if r.method in WRITE_METHODS and not r.injected]


def classifications_on_fritz(emulator: Emulator) -> list[tuple[str, str, float]]:
    """(obj_id, label, probability) of every classification in the emulator (duplicates kept)."""
    service = emulator.fritz_service
    return sorted(
        (c["obj_id"], c["classification"], c["probability"])
        for c in service.classifications.values()
    )


def expected_uploads(predictions: pd.DataFrame, results: pd.DataFrame, threshold: float) -> set:
    """(obj_id, Fritz label, probability) an upload of ``predictions`` should leave on Fritz:
    per source (from the result file) and class, the highest score, if >= ``threshold``."""
    from scope_assets.fritz.taxonomy_mappers import load_mapper
    from scope_assets.fritz.upload_plan import score_column

    mapper = load_mapper("fritz_mapper.json")
    frame = predictions.assign(obj_id=results.sort_values("row")["obj_id"].to_numpy())
    expected = set()
    for entry in mapper:
        scores = score_column(frame, entry.column)
        if scores is None:
            continue
        best = scores.groupby(frame["obj_id"]).max()
        expected |= {(o, entry.fritz_label, p) for o, p in best.items() if p >= threshold and p > 0}
    return expected
