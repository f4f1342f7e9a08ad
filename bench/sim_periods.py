"""Period recovery on the simulated sky, through the feature pipeline with the field defaults.

Usage::

    .venv/bin/python bench/sim_periods.py [--per-class 40] [--seed 7] [--long-periods]

For each periodic class of the sky simulator it draws ``--per-class`` r-band light curves (ZTF
cadence of a random field, the class's magnitude range, photometric noise, catflags == 0 points)
and prints, for the nested ``ELS_ECE_EAOV`` period and LS alone, the share found at P, P/2, 2P and
anything else (within 1 %). The configuration is the packaged one (what a field run uses: SCoPe's
2/T grid floor unless ``--long-periods``).
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

from scope_assets.config import load_config
from scope_assets.lightcurves.raw import HJD_OFFSET
from scope_assets.ml.training.catalogue_curves import RealCurve
from scope_assets.sim import CLASSES, observe, simulate_light_curve, ztf_cadence
from scope_assets.testing.real_light_curves import match_table
from scope_assets.testing.real_recovery import pipeline_periods

ALGORITHMS = ("ELS_ECE_EAOV", "ELS")
TAGS = ("rrab", "rrc", "dscu", "ceph", "wuma", "ea", "mir")


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
            seen = observe(mean + offset, cadence.depth[r], cadence.bad[r], rng)
            good = seen.catflags == 0
            t = cadence.hmjd[r][seen.index][good] + HJD_OFFSET
            mag = np.asarray(seen.mag[good], dtype=float)
            err = np.asarray(seen.magerr[good], dtype=float)
            curves.append(RealCurve("sim", f"{tag}{k}", tag, var.period, t, mag, err))
    return curves


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--per-class", type=int, default=40)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--long-periods", action="store_true")
    args = ap.parse_args()
    config = load_config()
    fg = config.feature_generation.model_copy(update={"long_periods": args.long_periods})
    config = config.model_copy(update={"feature_generation": fg})
    curves = simulated_curves(args.per_class, args.seed)
    table = match_table(curves, pipeline_periods(curves, config, ALGORITHMS))
    rows = {}
    for alg in ALGORITHMS:
        label = table[alg].where(table[alg].isin(["P", "P/2", "2P"]), "other").rename("found")
        share = pd.crosstab(table["class"], label, normalize="index") * 100
        rows[alg] = share.reindex(columns=["P", "P/2", "2P", "other"], fill_value=0.0)
    pd.set_option("display.width", 200)
    print(f"{len(curves)} simulated light curves, % per class (within 1 %)")
    print(pd.concat(rows, axis=1).reindex(TAGS).round(1).to_string())


if __name__ == "__main__":
    main()
