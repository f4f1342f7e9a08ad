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
    unimputable_rows,
)
from scope_assets.features.table_checks import (
    check_feature_columns,
    check_one_row_per_light_curve,
    check_unimputable_missing,
    unimputable_missing,
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


# --------------------------------------------------------------------------- the missing rule


def test_one_missing_rule_for_imputation_metadata_and_check():
    """±inf in a ``none``-strategy column is missing for the check as for the imputation."""
    table = feature_table(20, seed=6)
    table.loc[[0, 1], "f1_power_ELS_ECE_EAOV"] = [np.inf, -np.inf]
    table.loc[2, "wstd"] = np.nan
    dropped = unimputable_rows(table, STRATEGIES)
    assert dropped.tolist() == [True, True, True] + [False] * 17
    assert unimputable_missing(table, CONFIG) == {"wstd": 1, "f1_power_ELS_ECE_EAOV": 2}
    report = check_unimputable_missing(table, CONFIG)
    assert not report.passed and "3 of 20 rows" in report.problems[0]
    assert report.facts["rows_to_drop"] == 3
    assert report.facts["per_column"] == {"wstd": 1, "f1_power_ELS_ECE_EAOV": 2}
    reference = build_imputation_reference(feature_table(400, seed=1), CONFIG)
    _, kept = impute_features(table, reference)
    assert (~kept).tolist() == dropped.tolist()


def test_few_unimputable_rows_pass_the_check():
    table = feature_table(40, seed=7)
    table.loc[0, "wstd"] = np.inf
    report = check_unimputable_missing(table, CONFIG)
    assert report.passed and report.facts["rows_to_drop"] == 1


def test_feature_column_check_names_the_missing_columns():
    columns = ["_id", "ra", "dec", "field", "ccd", "quad", "filter", "dmdt", *STRATEGIES]
    assert check_feature_columns(columns, CONFIG).passed
    report = check_feature_columns([c for c in columns if c not in ("dmdt", "wstd")], CONFIG)
    assert report.facts["missing_columns"] == ["dmdt", "wstd"]
    assert report.problems == ["missing columns: dmdt, wstd"]


def test_row_count_check_reports_duplicates_and_a_wrong_count():
    ids = pd.Series([1, 2, 2, 3])
    assert check_one_row_per_light_curve(pd.Series([1, 2, 3]), 3).passed
    report = check_one_row_per_light_curve(ids, 3)
    assert report.problems == ["4 feature rows for 3 light curves", "1 duplicated _id"]
    assert report.facts == {"feature_rows": 4, "light_curves": 3, "duplicate_ids": 1}
