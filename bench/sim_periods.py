"""Period recovery on the simulated sky, through the feature pipeline with the field defaults.

Usage::

    .venv/bin/python bench/sim_periods.py [--per-class 40] [--seed 7] [--long-periods]
                                          [--survey ztf|eros1|sdss_stripe82]

For each periodic class of the sky simulator it draws ``--per-class`` light curves and prints, for
the nested ``ELS_ECE_EAOV`` period and LS alone, the share found at P, P/2, 2P and anything else
(within 1 %). ``ztf`` (default): r-band curves (ZTF cadence of a random field, the class's
magnitude range, photometric noise, errors as a data release reports them, catflags == 0 points),
with the packaged configuration (what a field run uses: SCoPe's 2/T grid floor unless
``--long-periods``). ``eros1`` and ``sdss_stripe82``: the blue / g-band curves of the simulated
survey stars the demo models train on (:func:`scope_assets.sim.survey_curves.simulate_survey_curves`:
the survey's cadence, depth and errors), with ``generate-features --lightcurves`` settings
(``lightcurves_mode``: long periods on), the way the real stars of those surveys are scored
(``make eval-real``).
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

from scope_assets.config import load_config
from scope_assets.features.pipeline import lightcurves_mode
from scope_assets.lightcurves.raw import HJD_OFFSET
from scope_assets.ml.training.catalogue_curves import RealCurve
from scope_assets.sim import CLASSES, observe_data_release, simulate_light_curve, ztf_cadence
from scope_assets.sim.survey_cadences import SURVEY_NAMES
from scope_assets.sim.survey_curves import simulate_survey_curves
from scope_assets.testing.real_light_curves import match_table
from scope_assets.testing.real_recovery import pipeline_periods

ALGORITHMS = ("ELS_ECE_EAOV", "ELS")
TAGS = ("rrab", "rrc", "dscu", "ceph", "wuma", "ea", "mir")
SURVEY_FIELD = 700  # any field: the survey curves' ids need one
BLUE_FILTER = 1  # EROS-1 blue, SDSS g


def simulated_curves(per_class: int, seed: int) -> list[RealCurve]:
    """``per_class`` observed r-band curves of every periodic class, labelled with their period."""
    rng = np.random.default_rng(seed)
    curves = []
    for tag in TAGS:
        for k in range(per_class):
            cadence = ztf_cadence(rng, ra_deg=float(rng.uniform(0.0, 360.0)))
            r = cadence.band(2)
            offset, var = simulate_light_curve(tag, cadence.hmjd[r], rng)
            mean = rng.uniform(*CLASSES[tag].r_mag_range)
            seen = observe_data_release(mean + offset, cadence.depth[r], cadence.bad[r], rng)
            good = seen.catflags == 0
            t = cadence.hmjd[r][seen.index][good] + HJD_OFFSET
            mag = np.asarray(seen.mag[good], dtype=float)
            err = np.asarray(seen.magerr[good], dtype=float)
            curves.append(RealCurve("sim", f"{tag}{k}", tag, var.period, t, mag, err))
    return curves


def survey_curves(survey: str, per_class: int, seed: int) -> list[RealCurve]:
    """About ``per_class`` blue-band curves of every periodic class seen by ``survey``."""
    n_stars = 0
    while True:  # the survey sky keeps the field's class shares: grow it until each is covered
        n_stars = max(2 * n_stars, 8 * per_class)
        points, truth = simulate_survey_curves(survey, n_stars, seed, SURVEY_FIELD)
        truth = truth[(truth["filter"] == BLUE_FILTER) & truth["class"].isin(TAGS)]
        if truth["class"].value_counts().reindex(TAGS, fill_value=0).min() >= per_class:
            break
    truth = truth.groupby("class", group_keys=False).head(per_class)
    by_id = {_id: rows for _id, rows in points.groupby("_id")}
    return [
        RealCurve(
            survey,
            str(row["_id"]),
            row["class"],
            float(row["period_days"]),
            by_id[row["_id"]]["hjd"].to_numpy(dtype=float),
            by_id[row["_id"]]["mag"].to_numpy(dtype=float),
            by_id[row["_id"]]["magerr"].to_numpy(dtype=float),
        )
        for _, row in truth.iterrows()
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--per-class", type=int, default=40)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--long-periods", action="store_true")
    ap.add_argument("--survey", default="ztf", choices=SURVEY_NAMES)
    args = ap.parse_args()
    config = load_config()
    if args.survey == "ztf":
        fg = config.feature_generation.model_copy(update={"long_periods": args.long_periods})
        config = config.model_copy(update={"feature_generation": fg})
    else:
        config = lightcurves_mode(config)
    if args.survey == "ztf":
        curves = simulated_curves(args.per_class, args.seed)
    else:
        curves = survey_curves(args.survey, args.per_class, args.seed)
    table = match_table(curves, pipeline_periods(curves, config, ALGORITHMS))
    rows = {}
    for alg in ALGORITHMS:
        label = table[alg].where(table[alg].isin(["P", "P/2", "2P"]), "other").rename("found")
        share = pd.crosstab(table["class"], label, normalize="index") * 100
        rows[alg] = share.reindex(columns=["P", "P/2", "2P", "other"], fill_value=0.0)
    pd.set_option("display.width", 200)
    print(f"{len(curves)} simulated {args.survey} light curves, % per class (within 1 %)")
    print(pd.concat(rows, axis=1).reindex(TAGS).round(1).to_string())


if __name__ == "__main__":
    main()
