"""The training set: features of labelled sources plus SCoPe's label columns.

For the embedded default the labelled sources are simulated: a training sky is simulated with the
sky simulator (its own field and seed, so it never overlaps the demo field), its light curves go
through the same feature code as a field (``features_for_light_curves``), and the simulator's
truth classes become SCoPe label columns (:mod:`scope_assets.ml.training.labels`). Stars seen with
EROS-1's and Stripe 82's cadences are added (:mod:`~scope_assets.ml.training.survey_training_rows`;
column ``survey``), so that the classifiers hold on real stars of those surveys.
:func:`build_training_set` is the part that does not care where the features came from.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

from scope_assets import __version__
from scope_assets.config import ScopeConfig
from scope_assets.errors import ScopeError
from scope_assets.ml.training.labels import label_columns, labels_for_classes

TRAINING_FIELD = 699
"""Field number of the simulated training sky (not a ZTF grid field, so ids never clash)."""
TRAINING_SEED = 20240515
TRAINING_N_SOURCES = 1500


class TrainingSetError(ScopeError, ValueError):
    """The training set cannot be built or used; the message says what is missing."""


def build_training_set(
    features: pd.DataFrame, truth: pd.DataFrame, *, source: str = "features"
) -> pd.DataFrame:
    """Join ``features`` with the truth table on ``_id`` and add SCoPe label columns.

    ``truth`` needs ``_id`` and ``class`` (a simulator class tag). Rows of ``features`` without a
    truth entry are an error (they would be silently unlabelled).
    """
    for name, df, need in (("features", features, ["_id"]), ("truth", truth, ["_id", "class"])):
        missing = [c for c in need if c not in df.columns]
        if missing:
            raise TrainingSetError(f"{name} table lacks columns {missing}")
    truth = truth.drop_duplicates("_id")
    merged = features.merge(
        truth[["_id", "class"]].rename(columns={"class": "sim_class"}),
        on="_id",
        how="left",
        validate="one_to_one",
    )
    unlabelled = merged["sim_class"].isna()
    if unlabelled.any():
        ids = merged.loc[unlabelled, "_id"].head(5).tolist()
        raise TrainingSetError(
            f"{int(unlabelled.sum())} feature rows have no truth entry (e.g. _id {ids})"
        )
    labels = labels_for_classes(merged["sim_class"])
    clash = [c for c in labels.columns if c in merged.columns]
    if clash:
        raise TrainingSetError(f"features already contain label columns {clash}")
    out = pd.concat([merged.reset_index(drop=True), labels], axis=1)
    out.attrs = dict(features.attrs) | {
        "training_set_source": source,
        "training_set_labels": label_columns(),
        "training_set_created_utc": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "scope_code_version": __version__,
    }
    out.attrs["training_set_fingerprint"] = training_set_fingerprint(out)
    return out


def training_set_fingerprint(df: pd.DataFrame) -> str:
    """A short content hash of a training set (every column but the nested ``dmdt``)."""
    columns = sorted(c for c in df.columns if c != "dmdt")
    digest = hashlib.sha256(",".join(columns).encode())
    hashed = pd.util.hash_pandas_object(df[columns], index=False).to_numpy()
    digest.update(hashed.tobytes())
    if "dmdt" in df.columns and len(df):
        dmdt = np.stack([np.asarray(np.stack(v), dtype=np.float32) for v in df["dmdt"].head(1000)])
        digest.update(dmdt.tobytes())
    return digest.hexdigest()[:16]


def label_counts(df: pd.DataFrame, threshold: float = 0.7) -> dict[str, int]:
    """Positives (label ≥ ``threshold``) per label column of a training set."""
    return {c: int((df[c] >= threshold).sum()) for c in label_columns() if c in df.columns}


_WORKER_SKY = None


def _init_worker(archive_dir: str) -> None:
    global _WORKER_SKY
    from scope_assets.lightcurves.archive import LocalArchive
    from scope_assets.lightcurves.sky_source import ArchiveSkySource

    _WORKER_SKY = ArchiveSkySource(LocalArchive(archive_dir))


def _features_worker(raw, config: ScopeConfig) -> pd.DataFrame:
    from scope_assets.features.pipeline import features_for_light_curves

    features, _ = features_for_light_curves(raw, _WORKER_SKY, config)
    return features


def simulated_training_set(
    workdir: str | Path,
    config: ScopeConfig,
    *,
    n_sources: int = TRAINING_N_SOURCES,
    seed: int = TRAINING_SEED,
    field: int = TRAINING_FIELD,
    workers: int | None = None,
    batch_size: int = 50,
    progress: Callable[[int], None] | None = None,
) -> pd.DataFrame:
    """Simulate a labelled training sky in ``workdir`` and run it through the feature code.

    Feature generation is the slow part (the period search); light-curve batches are spread
    over ``workers`` processes (default: every CPU). Results are assembled in archive order, so
    the training set does not depend on the number of workers.
    """
    try:
        from scope_assets.features.pipeline import features_for_light_curves  # noqa: F401
        from scope_assets.lightcurves.archive import LocalArchive
        from scope_assets.sim import simulate_field
    except ImportError as exc:  # the simulator / feature pipeline are not installed
        raise TrainingSetError(
            f"cannot simulate a training set: {exc}. Build one from a feature table and a truth "
            "table with build_training_set() instead."
        ) from exc
    archive_dir = Path(workdir) / "archive"
    settings_file = Path(workdir) / "simulation.json"
    settings = {
        "field": field,
        "n_sources": n_sources,
        "seed": seed,
        "simulator_code": code_fingerprint(("sim",)),
    }
    current = json.loads(settings_file.read_text()) if settings_file.exists() else None
    if current != settings or not (archive_dir / "truth.parquet").exists():
        simulate_field(archive_dir, field=field, n_sources=n_sources, seed=seed, overwrite=True)
        settings_file.write_text(json.dumps(settings) + "\n")
    truth = pd.read_parquet(archive_dir / "truth.parquet")
    archive = LocalArchive(archive_dir)
    workers = workers or os.cpu_count() or 1
    frames = []
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=_init_worker,
        initargs=(str(archive_dir),),
    ) as pool:
        pending = []
        for raw in archive.iter_light_curves(field, batch_size=batch_size):
            pending.append((len(raw), pool.submit(_features_worker, raw, config)))
        for n, future in pending:
            features = future.result()
            if len(features):
                frames.append(features)
            if progress:
                progress(n)
    if not frames:
        raise TrainingSetError(f"the simulated training sky in {archive_dir} has no light curves")
    features = pd.concat(frames, ignore_index=True)
    source = f"simulated field {field} (seed {seed}, {n_sources} light curves)"
    return build_training_set(features, truth, source=source)


def feature_code_fingerprint() -> str:
    """Hash of the simulator, light-curve and feature source code: a cached training set is
    rebuilt when the code that made its features changes."""
    return code_fingerprint(("sim", "lightcurves", "features"))


def code_fingerprint(subpackages: tuple[str, ...]) -> str:
    """Hash of the source code of ``scope_assets``' ``subpackages``."""
    package = Path(__file__).resolve().parents[2]  # scope_assets/
    digest = hashlib.sha256()
    for sub in subpackages:
        for path in sorted((package / sub).rglob("*.py")):
            digest.update(str(path.relative_to(package)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def training_set_path(training_dir: str | Path) -> Path:
    return Path(training_dir) / "training_set.parquet"


def demo_training_set(
    training_dir: str | Path,
    config: ScopeConfig,
    *,
    n_sources: int = TRAINING_N_SOURCES,
    seed: int = TRAINING_SEED,
    field: int = TRAINING_FIELD,
    eros1_root: Path | None = None,
    rebuild: bool = False,
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> tuple[pd.DataFrame, Path]:
    """The demo training set, ``training_dir/training_set.parquet``: the simulated sky and survey
    stars, plus with ``eros1_root`` (the folder holding ``eros1_ramp/``) the labelled real stars
    of EROS-1's training half (:mod:`~scope_assets.ml.training.eros1_training_rows`).

    Each part is built once and reused while its settings, input files and feature code
    (:func:`feature_code_fingerprint`) are unchanged; ``rebuild`` builds both again.
    """
    from scope_assets.io import read_parquet, write_parquet
    from scope_assets.ml.training.catalogue_curves import eros1_folder

    if eros1_root is not None:
        eros1_folder(eros1_root)  # a wrong folder fails now, not after the simulated sky
    simulated = _cached_part(
        Path(training_dir) / "sky" / "simulated_rows.parquet",
        _simulated_settings(config, n_sources, seed, field),
        lambda: _simulated_rows(training_dir, config, n_sources, seed, field, workers, progress),
        rebuild=rebuild,
    )
    parts = [simulated]
    if eros1_root is not None:
        from scope_assets.ml.training.eros1_training_rows import (
            eros1_settings,
            eros1_training_rows,
        )

        parts.append(
            _cached_part(
                Path(training_dir) / "eros1_training_rows.parquet",
                eros1_settings(eros1_root, config) | {"feature_code": feature_code_fingerprint()},
                lambda: eros1_training_rows(eros1_root, config),
                rebuild=rebuild,
            )
        )
    df = pd.concat(parts, ignore_index=True)
    df.attrs = simulated.attrs | {
        "training_set_source": " + ".join(p.attrs["training_set_source"] for p in parts),
        "training_set_settings": [p.attrs["training_set_settings"] for p in parts],
    }
    df.attrs["training_set_fingerprint"] = training_set_fingerprint(df)
    path = training_set_path(training_dir)
    if path.exists():
        current = read_parquet(path)
        if current.attrs.get("training_set_fingerprint") == df.attrs["training_set_fingerprint"]:
            return current, path
    write_parquet(df, path)
    # read back, so a fresh build and a reuse hand the very same table to training
    return read_parquet(path), path


def _simulated_settings(config: ScopeConfig, n_sources: int, seed: int, field: int) -> dict:
    from scope_assets.ml.training.survey_training_rows import (
        ZTF_SHARE_WITHOUT_CATALOGUES,
        survey_star_counts,
    )

    return {
        "n_sources": n_sources,
        "seed": seed,
        "field": field,
        "period_suffix": config.period_suffix,
        "feature_generation": config.feature_generation.model_dump(),
        "feature_code": feature_code_fingerprint(),
        "survey_stars": survey_star_counts(n_sources),
        "ztf_share_without_catalogues": ZTF_SHARE_WITHOUT_CATALOGUES,
    }


def _simulated_rows(training_dir, config, n_sources, seed, field, workers, progress):
    """The simulated ZTF training sky plus the simulated EROS-1 / Stripe 82 survey stars."""
    from scope_assets.ml.training.survey_training_rows import (
        ZTF_SHARE_WITHOUT_CATALOGUES,
        survey_star_counts,
        survey_training_rows,
        surveys_text,
        without_catalogues,
    )

    ztf = simulated_training_set(
        Path(training_dir) / "sky",
        config,
        n_sources=n_sources,
        seed=seed,
        field=field,
        workers=workers,
        progress=progress,
    )
    stars = survey_star_counts(n_sources)
    features, truth = survey_training_rows(config, seed=seed, first_field=field + 1, stars=stars)
    surveys = build_training_set(features, truth, source="simulated survey stars")
    ztf = without_catalogues(ztf.assign(survey="ztf"), ZTF_SHARE_WITHOUT_CATALOGUES, seed)
    df = pd.concat([ztf, surveys], ignore_index=True)
    df.attrs = ztf.attrs | {
        "training_set_source": f"{ztf.attrs['training_set_source']} (a third without "
        f"cross-matches) + {surveys_text(stars)}"
    }
    return df


def _cached_part(
    path: Path, settings: dict, build: Callable[[], pd.DataFrame], *, rebuild: bool
) -> pd.DataFrame:
    """The rows cached at ``path`` if they were built with ``settings``, else ``build()``
    written there (with ``settings`` in its attrs) and read back."""
    from scope_assets.io import read_parquet, write_parquet

    settings = json.loads(json.dumps(settings))
    if path.exists() and not rebuild:
        df = read_parquet(path)
        if df.attrs.get("training_set_settings") == settings:
            return df
    df = build()
    df.attrs = df.attrs | {"training_set_settings": settings}
    df.attrs["training_set_fingerprint"] = training_set_fingerprint(df)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_parquet(df, path)
    return read_parquet(path)
