"""Period recovery on every real development set, through the feature pipeline (``make eval-real``).

Usage::

    .venv/bin/python bench/eval_real.py [--eros-sample N] [--eros-band b|r] [--sets ...]
                                        [--no-long-periods] [--root PATH] [--csv FILE] [--plots DIR]

Each light curve goes through ``features_for_light_curves`` (what ``generate-features
--lightcurves`` runs: cleaning, then the period search with the configured grid; long periods on
and no HJD limit, as ``--lightcurves`` sets them) with the period algorithms ``ELS_ECE_EAOV`` and ``ELS``
(generalised LS alone on the same grid). The table gives, per set and class, % exact (within 1 %),
% "P or harmonic" (P, P/2, 2P, … 5P within 1 %) and % "within 1/2T" (P or a harmonic within 1 %
or with its frequency inside half the periodogram peak's width, 0.5/T for a baseline of T days:
what a Mira seen for three cycles allows). Curves that cleaning drops (< 50 points) count as not
recovered. Sets (read in place from ``shared_path("data", "real")``):

* ``eros1``: all 2,912 EROS-1 train stars (or a seeded sample, ``--eros-sample``), blue band, points
  with error < 0.5 mag; also split by the catalogue's quality index;
* ``ztfperiodic``: the 25 labelling-guide curves, r band; also the 20 "reachable" ones (a labelled
  period above 1/max_freq, PNNV has none);
* ``lcurvemaker``: 10 eccentric detached binaries, zr band, catflags == 0, each star's oid files
  median-subtracted and merged;
* ``lcurvemaker_oids``: the same 53 raw IRSA files one by one, every band, magnitudes as given:
  what ``generate-features --lightcurves DIR`` computes on raw ZTF data-release files (cleaning
  keeps 28: the 30-min cadence cut leaves the rest under 50 points).

The search runs over light curves in parallel on all numba threads (both cores here).

Then the same feature rows are scored with a model group (default: the committed demo group,
``--models-dir``/``--group`` to change it) through ``run_inference``, and a second table gives, per
set and algorithm, the ROC AUC with which the RR Lyrae score (max of ``rrab``, ``rrc``) and the
eclipsing-binary score (max of ``ea``, ``wuma``) tell real RR Lyrae from real eclipsing binaries
(``scope_assets.testing.real_classification``). EROS-1 stars of the training half the demo models
learned from (``is_eros1_training_star``) are left out of it: only the held-out half is scored.
``--no-classifiers`` skips it. ``--plots DIR`` (``make eval-real``: ``data/reports/eval_real``)
draws both as PNG: ``period_recovery.png`` and ``roc_rrl_eb.png``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from scope_assets.analysis.plots import save_png
from scope_assets.config import load_config
from scope_assets.features.pipeline import lightcurves_mode
from scope_assets.ml.model_files.models_root import resolve_models_root
from scope_assets.ml.training.catalogue_curves import load_eros1
from scope_assets.ml.training.eros1_training_rows import (
    is_eros1_training_star,
    real_curve_features,
)
from scope_assets.testing import shared_path
from scope_assets.testing.real_classification import (
    rrl_eb_scores,
    score_features,
    separation_table,
)
from scope_assets.testing.real_light_curves import (
    load_lcurvemaker,
    load_lcurvemaker_oids,
    load_ztfperiodic,
    match_table,
)
from scope_assets.testing.real_recovery import (
    periods_from_features,
    recovery_summary,
    with_algorithms,
)
from scope_assets.testing.real_sky_figures import recovery_figure, roc_figure

ALGORITHMS = ("ELS_ECE_EAOV", "ELS")


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--root", type=Path, default=shared_path("data", "real"))
    ap.add_argument("--sets", default="eros1,ztfperiodic,lcurvemaker,lcurvemaker_oids")
    ap.add_argument("--eros-sample", type=int, help="seeded sample of EROS-1 stars (default all)")
    ap.add_argument("--eros-band", default="b", choices=["b", "r"])
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--no-long-periods", action="store_true", help="SCoPe's 2/T grid floor")
    ap.add_argument("--csv", type=Path, help="write the per-curve table here")
    ap.add_argument("--models-dir", type=Path, help="models root (default: the repository's)")
    ap.add_argument("--group", default="demo", help="model group to score with")
    ap.add_argument("--no-classifiers", action="store_true", help="period table only")
    ap.add_argument("--plots", type=Path, help="write period_recovery.png and roc_rrl_eb.png here")
    return ap.parse_args()


def load_sets(args: argparse.Namespace) -> dict[str, list]:
    loaders = {
        "eros1": lambda: _eros(args),
        "ztfperiodic": lambda: load_ztfperiodic(args.root, band="r"),
        "lcurvemaker": lambda: load_lcurvemaker(args.root, band="zr"),
        "lcurvemaker_oids": lambda: load_lcurvemaker_oids(args.root),
    }
    return {name: loaders[name]() for name in args.sets.split(",")}


def _eros(args: argparse.Namespace) -> list:
    curves = load_eros1(args.root, band=args.eros_band, min_quality=0, per_class=None)
    if args.eros_sample is None or args.eros_sample >= len(curves):
        return curves
    pick = np.random.default_rng(args.seed).choice(len(curves), args.eros_sample, replace=False)
    return [curves[i] for i in np.sort(pick)]


def main() -> None:
    args = parse_args()
    pd.set_option("display.width", 200)
    config = lightcurves_mode(load_config())
    fg = config.feature_generation.model_copy(update={"long_periods": not args.no_long_periods})
    config = config.model_copy(update={"feature_generation": fg})
    print(
        f"grid: max_freq {fg.max_freq} c/d, {fg.samples_per_peak} samples per peak, terrestrial "
        f"windows {'on' if fg.remove_terrestrial else 'off'}, long periods {fg.long_periods}; "
        f"min {fg.min_n_lc_points} points after cleaning, HJD limit {fg.max_timestamp_hjd}"
    )
    config = with_algorithms(config, ALGORITHMS)
    tables, feature_sets, labels = [], [], []
    offset = 0  # every set's ids follow the previous set's, so the sets score as one table
    for name, curves in load_sets(args).items():
        t0 = time.perf_counter()
        features = real_curve_features(curves, config)
        table = match_table(curves, periods_from_features(features, len(curves), ALGORITHMS))
        seconds = time.perf_counter() - t0
        print(f"{name}: {len(curves)} light curves in {seconds:.1f} s")
        tables.append(table)
        feature_sets.append(features.assign(_id=features["_id"] + offset))
        held_out = [name != "eros1" or not is_eros1_training_star(c.name) for c in curves]
        labels.append(
            pd.DataFrame(
                {
                    "_id": offset + 1 + np.arange(len(curves)),
                    "source": name,
                    "label": [c.label for c in curves],
                }
            )[held_out]
        )
        offset += len(curves)
    table = pd.concat(tables, ignore_index=True)
    summary = recovery_summary(table, ALGORITHMS)
    print("\nPeriod recovery, % of light curves (exact = within 1 %; harmonic: P/2, 2P, ... 5P)")
    print(summary.round(1).to_string())
    if args.plots:
        print(f"figure: {save_png(recovery_figure(summary), args.plots / 'period_recovery.png')}")
    _print_subsets(table, fg.max_freq)
    if args.csv:
        table.to_csv(args.csv, index=False)
    if not args.no_classifiers:
        _print_separation(args, config, feature_sets, labels)


def _print_separation(args, config, feature_sets: list, labels: list) -> None:
    models_root = resolve_models_root(args.models_dir)
    with tempfile.TemporaryDirectory() as scratch:
        scores = score_features(
            pd.concat(feature_sets, ignore_index=True),
            models_root,
            config,
            Path(scratch),
            group=args.group,
            warn=lambda message: print(f"warning: {message}"),
        )
    labels = pd.concat(labels, ignore_index=True)
    table = separation_table(scores, labels)
    print(
        f"\nReal RR Lyrae vs eclipsing binaries, ROC AUC (models: {models_root}, {args.group}; "
        "EROS-1: the held-out half only)"
    )
    print(table.round(3).to_string(index=False))
    if args.plots:
        figure = roc_figure(rrl_eb_scores(scores, labels))
        print(f"figure: {save_png(figure, args.plots / 'roc_rrl_eb.png')}")


def _print_subsets(table: pd.DataFrame, max_freq: float) -> None:
    eros = table[table["source"] == "eros1"]
    if len(eros):
        print("\nEROS-1 by catalogue quality (0 = worst, 3 = best)")
        print(recovery_summary(eros, ALGORITHMS, by=("quality", "class")).round(1).to_string())
    ztf = table[table["source"] == "ztfperiodic"]
    reachable = ztf[(ztf["P_cat"] > 1.0 / max_freq) & (ztf["object"] != "PNNV")]
    if len(reachable):
        print(f"\nztfperiodic, reachable on the grid (P > 1/{max_freq:g} d, labelled period)")
        print(recovery_summary(reachable, ALGORITHMS, by=("source",)).round(1).to_string())


if __name__ == "__main__":
    main()
