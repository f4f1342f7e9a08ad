"""Imputation: SCoPe's strategies, stored reference statistics, batch independence."""

import numpy as np
import pandas as pd
import pytest
from sklearn.impute import KNNImputer

from scope_assets.config import load_config
from scope_assets.features.imputation import (
    ImputationError,
    ImputationReference,
    build_imputation_reference,
    impute_features,
)

CONFIG = load_config(environ={})
STRATEGIES = CONFIG.impute_strategies()
REGRESS = [c for c, s in STRATEGIES.items() if s == "regress"]


def feature_table(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({c: rng.normal(10, 2, n) for c in STRATEGIES})
    # correlated regress columns so the KNN has something to learn
    base = rng.normal(15, 1.5, n)
    for k, c in enumerate(REGRESS):
        df[c] = base + 0.1 * k + rng.normal(0, 0.05, n)
    df.insert(0, "_id", np.arange(n, dtype=np.int64) + 10296000000000)
    df["ra"] = rng.uniform(0, 360, n)
    return df


@pytest.fixture
def reference_table() -> pd.DataFrame:
    return feature_table(400, seed=1)


def with_gaps(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    out.loc[0, "n_ztf_alerts"] = np.nan  # zero
    out.loc[1, "AllWISE__w1sigmpro"] = np.nan  # median
    out.loc[2, ["Gaia_EDR3__parallax", "PS1_DR1__gMeanPSFMag"]] = np.nan  # regress
    out.loc[3, "wstd"] = np.nan  # none → dropped
    out.loc[4, "f1_power_ELS_ECE_EAOV"] = np.inf  # inf counts as missing → dropped
    return out


def test_each_strategy(reference_table):
    reference = build_imputation_reference(reference_table, CONFIG)
    target = with_gaps(feature_table(20, seed=2))
    imputed, kept = impute_features(target, reference)
    assert kept.tolist() == [True, True, True, False, False] + [True] * 15
    assert imputed["_id"].tolist() == target["_id"][kept].tolist()
    np.testing.assert_allclose(imputed["ra"], target["ra"][kept])  # descriptive stays aligned
    assert imputed.loc[0, "n_ztf_alerts"] == 0.0
    assert imputed.loc[1, "AllWISE__w1sigmpro"] == pytest.approx(
        reference_table["AllWISE__w1sigmpro"].median()
    )
    # regress: the same as scikit-learn's KNNImputer fitted on the reference's regress columns
    knn = KNNImputer(n_neighbors=5).fit(reference_table[REGRESS].to_numpy())
    expected = knn.transform(target.loc[[2], REGRESS].to_numpy())[0]
    np.testing.assert_allclose(imputed.loc[2, REGRESS].to_numpy(float), expected)
    assert not imputed[list(STRATEGIES)].isna().any().any()


def test_mean_strategy(tmp_path, reference_table):
    path = tmp_path / "s.yaml"
    path.write_text(
        "features:\n  catalog:\n    Gaia_EDR3__parallax_error: {impute_strategy: mean}\n"
    )
    config = load_config(path, environ={})
    reference = build_imputation_reference(reference_table, config)
    target = feature_table(3, seed=3)
    target.loc[0, "Gaia_EDR3__parallax_error"] = np.nan
    imputed, _ = impute_features(target, reference)
    assert imputed.loc[0, "Gaia_EDR3__parallax_error"] == pytest.approx(
        reference_table["Gaia_EDR3__parallax_error"].mean()
    )


def test_batch_independent(reference_table):
    reference = build_imputation_reference(reference_table, CONFIG)
    target = with_gaps(feature_table(60, seed=4))
    target.loc[30:40, "AllWISE__w2mpro"] = np.nan
    whole, _ = impute_features(target, reference)
    parts = [
        impute_features(target.iloc[a:b], reference)[0] for a, b in [(0, 7), (7, 33), (33, 60)]
    ]
    pd.testing.assert_frame_equal(whole, pd.concat(parts, ignore_index=True), check_like=False)


def test_reference_json_round_trip(tmp_path, reference_table):
    reference = build_imputation_reference(reference_table, CONFIG, source="training set")
    path = reference.to_json(tmp_path / "ref.json")
    back = ImputationReference.from_json(path)
    assert back == reference and back.fingerprint == reference.fingerprint
    target = with_gaps(feature_table(10, seed=5))
    pd.testing.assert_frame_equal(
        impute_features(target, back)[0], impute_features(target, reference)[0]
    )


def test_errors_name_the_problem(tmp_path, reference_table):
    with pytest.raises(ImputationError, match="lacks feature columns.*wstd"):
        build_imputation_reference(reference_table.drop(columns=["wstd"]), CONFIG)
    reference = build_imputation_reference(reference_table, CONFIG)
    with pytest.raises(ImputationError, match="table to impute lacks"):
        impute_features(reference_table.drop(columns=["AllWISE__w1mpro"]), reference)
    with pytest.raises(ImputationError, match="no rows"):
        build_imputation_reference(reference_table.iloc[:0], CONFIG)
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ImputationError, match="bad.json"):
        ImputationReference.from_json(bad)
