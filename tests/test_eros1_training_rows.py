"""The real EROS-1 rows of the demo training set: which stars, which classes, which ids, and the
training-set cache that keeps the simulated part when only the real part changes.

A small EROS-1-format folder is written under ``tmp_path`` (same two files and columns as
``eros1_ramp/``), so these tests run without the shared data; the split on the real names is
checked against the shared set where it is present.
"""

from __future__ import annotations

import json

import dagster as dg
import numpy as np
import pandas as pd
import pytest

from resources.storage import StorageResource
from scope_assets.config import load_config
from scope_assets.defs.ml_assets import training_set
from scope_assets.errors import ScopeError
from scope_assets.io import read_parquet
from scope_assets.ml.training.catalogue_curves import RealCurve, load_eros1
from scope_assets.ml.training.eros1_training_rows import (
    EROS1_SURVEY,
    REAL_ID_BASE,
    catalogue_class,
    eros1_training_rows,
    is_eros1_training_star,
)
from scope_assets.ml.training.training_set import (
    code_fingerprint,
    demo_training_set,
    simulated_training_set,
)
from scope_assets.testing import shared_path

REAL = shared_path("data", "real")
# name → (EROS type, catalogue period in days): type 3 RR Lyrae, 1 eclipsing binary, 2 Cepheid
STARS = {"s1": (3, 0.55), "s2": (3, 0.3), "s8": (1, 0.8), "s9": (1, 2.5), "s3": (2, 5.0)}


def write_eros1_folder(root, stars=STARS, seed=1):
    """``root/eros1_ramp`` in EROS-1's format: 120 blue points over 900 days per star."""
    rng = np.random.default_rng(seed)
    meta, var = [], []
    for name, (typ, period) in stars.items():
        t = np.sort(rng.uniform(290.0, 1190.0, 120))
        mag = 18.0 + 0.4 * np.sin(2 * np.pi * t / period) + rng.normal(0, 0.03, t.size)
        meta.append({"id": name, "type": typ, "quality": 2, "period": 2 * period, "div_period": 2})
        var.append(
            {
                "time_points_b": str(t.round(5).tolist()),
                "light_points_b": str(mag.round(4).tolist()),
                "error_points_b": str([0.03] * t.size),
            }
        )
    folder = root / "eros1_ramp"
    folder.mkdir(parents=True)
    pd.DataFrame(meta).to_csv(folder / "train.csv", index=False)
    pd.DataFrame(var).to_csv(folder / "train_varlength_features.csv.gz", index=False)
    return root


def test_catalogue_classes_follow_type_and_period():
    def curve(label, period):
        return RealCurve("eros1", "x", label, period, np.zeros(1), np.zeros(1), np.zeros(1))

    pairs = [("RRL", 0.55), ("RRL", 0.3), ("EB", 0.8), ("EB", 2.5), ("CEP", 5.0), ("MIRA", 300)]
    assert [catalogue_class(curve(*p)) for p in pairs] == [
        "rrab",
        "rrc",
        "wuma",
        "ea",
        "ceph",
        "mir",
    ]


def test_the_split_depends_on_the_name_only():
    names = [f"{patch}_{star}" for patch in range(40) for star in range(50)]
    first = [is_eros1_training_star(n) for n in names]
    assert first == [is_eros1_training_star(n) for n in reversed(names)][::-1]
    assert 0.45 < np.mean(first) < 0.55
    assert [is_eros1_training_star(n) for n in STARS] == [True, False, True, False, False]


@pytest.mark.skipif(not REAL.is_dir(), reason=f"shared real light curves not found at {REAL}")
def test_the_real_split_is_half_of_each_class():
    meta = pd.read_csv(REAL / "eros1_ramp" / "train.csv")
    training = meta.iloc[:, 0].astype(str).map(is_eros1_training_star)
    for _, members in training.groupby(meta["type"]):
        assert 0.40 < members.mean() < 0.60, members.mean()


def test_training_rows_are_the_training_half_with_catalogue_labels(tmp_path):
    root = write_eros1_folder(tmp_path)
    rows = eros1_training_rows(root, load_config(environ={}))
    assert len(rows) == 2  # s1 and s8; the others are held out
    assert rows["sim_class"].tolist() == ["wuma", "rrab"]  # types loaded EB first, then RRL
    assert rows["_id"].tolist() == [REAL_ID_BASE + 1, REAL_ID_BASE + 2]
    assert (rows["survey"] == EROS1_SURVEY).all()
    assert rows["RR Lyrae ab"].tolist() == [0.0, 1.0]
    assert rows["W UMa"].tolist() == [1.0, 0.0]
    periods = rows["period_ELS_ECE_EAOV"].to_numpy()
    assert periods[1] == pytest.approx(0.55, rel=1e-3)  # the RR Lyrae's true period
    assert periods[0] in (pytest.approx(0.8, rel=1e-3), pytest.approx(0.4, rel=1e-3))


def test_a_folder_without_the_eros1_files_is_named(tmp_path):
    (tmp_path / "eros1_ramp").mkdir()
    with pytest.raises(ScopeError, match=r"eros1_ramp lacks \['train.csv'"):
        load_eros1(tmp_path)


def test_training_set_cache_rebuilds_only_the_part_that_changed(tmp_path):
    config = load_config(environ={})
    root = write_eros1_folder(tmp_path / "real")
    training = tmp_path / "training"
    simulated_only, path = demo_training_set(training, config, n_sources=12, workers=1)
    assert "eros1_real" not in set(simulated_only["survey"])
    with_real, _ = demo_training_set(training, config, n_sources=12, workers=1, eros1_root=root)
    assert len(with_real) == len(simulated_only) + 2
    assert (with_real["survey"] == EROS1_SURVEY).sum() == 2
    assert "EROS-1 stars (training half" in with_real.attrs["training_set_source"]
    simulated_file = training / "sky" / "simulated_rows.parquet"
    real_file = training / "eros1_training_rows.parquet"
    stamps = simulated_file.stat().st_mtime_ns, real_file.stat().st_mtime_ns
    again, _ = demo_training_set(training, config, n_sources=12, workers=1, eros1_root=root)
    assert again.attrs["training_set_fingerprint"] == with_real.attrs["training_set_fingerprint"]
    assert (simulated_file.stat().st_mtime_ns, real_file.stat().st_mtime_ns) == stamps
    write_eros1_folder(tmp_path / "other", seed=2)
    changed, _ = demo_training_set(
        training, config, n_sources=12, workers=1, eros1_root=tmp_path / "other"
    )
    assert simulated_file.stat().st_mtime_ns == stamps[0]
    assert real_file.stat().st_mtime_ns != stamps[1]
    assert changed.attrs["training_set_fingerprint"] != with_real.attrs["training_set_fingerprint"]
    assert path.exists()


def test_training_set_asset_adds_the_eros1_half(tmp_path):
    root = write_eros1_folder(tmp_path / "real")
    storage = StorageResource(data_dir=str(tmp_path / "data"), models_dir=str(tmp_path / "models"))
    config = {"n_sources": 12, "workers": 1, "eros1_dir": str(root)}
    result = dg.materialize(
        [training_set],
        resources={"storage": storage},
        run_config={"ops": {"training_set": {"config": config}}},
    )
    assert result.success
    meta = result.asset_materializations_for_node("training_set")[0].metadata
    assert "2 EROS-1 stars (training half" in meta["source"].value
    table = read_parquet(tmp_path / "data" / meta["path"].value)
    assert (table["survey"] == EROS1_SURVEY).sum() == 2
    assert meta["dagster/row_count"].value == len(table)


def test_simulated_sky_is_simulated_again_when_the_simulator_changes(tmp_path):
    config = load_config(environ={})
    first = simulated_training_set(tmp_path, config, n_sources=12, workers=1)
    settings_file = tmp_path / "simulation.json"
    truth_file = tmp_path / "archive" / "truth.parquet"
    stamp = truth_file.stat().st_mtime_ns
    simulated_training_set(tmp_path, config, n_sources=12, workers=1)
    assert truth_file.stat().st_mtime_ns == stamp  # same code and settings: reused
    settings = json.loads(settings_file.read_text())
    assert settings["simulator_code"] == code_fingerprint(("sim",))
    settings_file.write_text(json.dumps(settings | {"simulator_code": "older simulator"}))
    again = simulated_training_set(tmp_path, config, n_sources=12, workers=1)
    assert truth_file.stat().st_mtime_ns != stamp
    assert json.loads(settings_file.read_text()) == settings
    assert again["_id"].tolist() == first["_id"].tolist()
