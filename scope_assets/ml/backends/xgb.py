"""The XGBoost backend: one binary booster per class, with SCoPe's objective and parameters.

Parameters start at SCoPe's ``max_depth 3, min_child_weight 1, eta 0.3, subsample 0.6,
colsample_bytree 0.6``, ``objective binary:logistic``, ``eval_metric auc`` and
``scale_pos_weight = w1 / w0`` from the class weights. Training uses the validation part for
early stopping, then retrains ``best_iteration + 1`` rounds (as SCoPe does).

One departure: SCoPe early-stops on the validation AUC. On a class the first tree already
separates perfectly (AUC 1.0 cannot improve), that keeps a single tree of eta 0.3, whose scores
never pass ~0.65 — below the 0.7 threshold everything downstream uses. By default the
validation log-loss decides when to stop (``eval_metric = ["auc", "logloss"]``: XGBoost stops
on the last metric; the AUC is still evaluated); ``early_stopping_metric="auc"`` restores
SCoPe's behaviour. The optional grid
search (``cv=True``) runs SCoPe's three 5-fold ``xgb.cv`` stages — depth × min_child_weight,
subsample × colsample, eta — keeping the best mean test AUC of each stage (SCoPe's extra ±step
refinements are left out).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import xgboost as xgb

from scope_assets.config.scope_yaml import ModelInputsError, booster_input_order
from scope_assets.ml.backends.backend_api import Backend, FittedModel, Predict
from scope_assets.ml.model_errors import ModelError

if TYPE_CHECKING:
    from scope_assets.ml.training.training_data import PreparedData

SCOPE_XGB_PARAMS: dict[str, Any] = {
    "max_depth": 3,
    "min_child_weight": 1,
    "eta": 0.3,
    "subsample": 0.6,
    "colsample_bytree": 0.6,
    "objective": "binary:logistic",
    "eval_metric": "auc",
}
CV_STAGES: list[dict[str, list]] = [
    {"max_depth": [3, 5, 7], "min_child_weight": [1, 3, 5]},
    {"subsample": [0.6, 0.8, 1.0], "colsample_bytree": [0.6, 0.8, 1.0]},
    {"eta": [0.3, 0.2, 0.1, 0.05]},
]


@dataclass
class XGBOptions:
    num_boost_round: int = 999
    early_stopping_rounds: int = 10
    early_stopping_metric: str = "logloss"
    cv: bool = False
    nfold: int = 5
    seed: int = 42
    nthread: int = 0
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class XGBTrainResult:
    booster: xgb.Booster
    params: dict[str, Any]
    best_iteration: int
    cv_results: list[dict[str, Any]]


def dmatrix(X: np.ndarray, y: np.ndarray | None, features: list[str]) -> xgb.DMatrix:
    return xgb.DMatrix(X, label=y, feature_names=features, nthread=-1)


def grid_search(
    dtrain: xgb.DMatrix, params: dict[str, Any], options: XGBOptions
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """SCoPe's staged ``xgb.cv`` grid; returns the best params and every evaluated point."""
    params = dict(params)
    results = []
    for stage in CV_STAGES:
        best = None
        for values in itertools.product(*stage.values()):
            trial = params | dict(zip(stage, values, strict=True))
            cv = xgb.cv(
                trial,
                dtrain,
                num_boost_round=options.num_boost_round,
                nfold=options.nfold,
                metrics="auc",
                early_stopping_rounds=options.early_stopping_rounds,
                seed=options.seed,
            )
            auc = float(cv["test-auc-mean"].max())
            results.append({**dict(zip(stage, values, strict=True)), "test_auc": auc})
            if best is None or auc > best[0]:
                best = (auc, trial)
        params = best[1]
    return params, results


def train_xgb(data: PreparedData, options: XGBOptions | None = None) -> XGBTrainResult:
    options = options or XGBOptions()
    weights = data.class_weight()
    params = dict(SCOPE_XGB_PARAMS) | {
        "scale_pos_weight": weights[1] / weights[0],
        "seed": options.seed,
        "nthread": options.nthread,
        "verbosity": 0,
    }
    params |= options.params
    if options.early_stopping_metric != "auc" and params.get("eval_metric") == "auc":
        params["eval_metric"] = ["auc", options.early_stopping_metric]
    train, val = data.parts["train"], data.parts["val"]
    dtrain = dmatrix(train.X, train.y, data.features)
    dval = dmatrix(val.X, val.y, data.features)
    cv_results: list[dict[str, Any]] = []
    if options.cv:
        params, cv_results = grid_search(dtrain, params, options)
    booster = xgb.train(
        params,
        dtrain,
        num_boost_round=options.num_boost_round,
        evals=[(dtrain, "train"), (dval, "val")],
        early_stopping_rounds=options.early_stopping_rounds,
        verbose_eval=False,
    )
    best = int(booster.best_iteration)
    final = xgb.train(params, dtrain, num_boost_round=best + 1, verbose_eval=False)
    return XGBTrainResult(final, params, best, cv_results)


def predict_booster(booster: xgb.Booster, X: np.ndarray) -> np.ndarray:
    """Scores of a float32 feature matrix (columns in the booster's feature order)."""
    if len(X) == 0:
        return np.zeros(0)
    return np.asarray(booster.inplace_predict(X, validate_features=False), dtype=np.float64)


def feature_importance(booster: xgb.Booster) -> dict[str, float]:
    """SCoPe's ``_impvars.json``: ``get_score()`` (importance type "weight": split counts)."""
    return {k: float(v) for k, v in booster.get_score(importance_type="weight").items()}


def fit(data: PreparedData, options: XGBOptions) -> FittedModel:
    """Train a booster; the manifest records its parameters (without ``nthread``) and rounds."""
    result = train_xgb(data, options)
    params = {
        **{k: v for k, v in result.params.items() if k != "nthread"},
        "best_iteration": result.best_iteration,
        "num_boost_round": result.best_iteration + 1,
        "cv": options.cv,
        "cv_results": result.cv_results,
    }
    return FittedModel(result.booster, params, feature_importance(result.booster))


def save(booster: xgb.Booster, directory: Path, tag: str) -> Path:
    path = directory / f"{tag}.json"
    booster.save_model(path)
    return path


def check_inputs(booster: xgb.Booster, features: list[str], path: Path) -> None:
    n = booster.num_features()
    if n != len(features):
        raise ModelError(
            f"{path}: the booster has {n} input features but {len(features)} are configured "
            f"for it ({features[:3]}...)"
        )
    names = booster.feature_names
    if names and list(names) != list(features):
        diff = [(i, a, b) for i, (a, b) in enumerate(zip(names, features, strict=True)) if a != b]
        raise ModelError(
            f"{path}: the booster's feature order differs from the configured one "
            f"(first differences (index, booster, expected): {diff[:3]})"
        )


def read(path: Path, params_path: Path | None = None) -> xgb.Booster:
    """A booster file (plus SCoPe's ``.params`` config when present)."""
    booster = xgb.Booster()
    try:
        booster.load_model(str(path))
    except xgb.core.XGBoostError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise ModelError(f"{path}: not a readable XGBoost model ({first})") from None
    if params_path is not None and params_path.exists():
        try:
            booster.load_config(params_path.read_text())
        except (xgb.core.XGBoostError, UnicodeDecodeError) as exc:
            raise ModelError(f"{params_path}: not a readable booster config ({exc})") from None
    booster.set_param({"nthread": 0})
    return booster


def scope_input_order(booster: xgb.Booster, configured: list[str], path: Path) -> list[str]:
    """The booster's stored ``feature_names`` (the order SCoPe trained it with), else
    ``configured``; a :class:`ModelError` when they name other columns."""
    try:
        return booster_input_order(booster, configured, path)
    except ModelInputsError as exc:
        raise ModelError(str(exc)) from None


def predictor(booster: xgb.Booster) -> Predict:
    def predict(X: np.ndarray, dmdt=None) -> np.ndarray:
        return predict_booster(booster, X)

    return predict


def library_versions() -> dict[str, str]:
    return {"xgboost": xgb.__version__}


BACKEND = Backend(
    name="xgb",
    uses_dmdt=False,
    fit=fit,
    save=save,
    read=read,
    check_inputs=check_inputs,
    scope_input_order=scope_input_order,
    predictor=predictor,
    library_versions=library_versions,
    scope_model_glob="*.json",
    scope_params_suffix=".params",
)
