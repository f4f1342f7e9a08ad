"""Real-data period recovery table: nested ELS_ECE_EAOV and ELS next to astropy LombScargle.

Usage: ``python bench/real_periods.py [--max-freq 48] [--eros-per-class 10] [--root PATH]``.
Reads the shared development set (``shared_path("data", "real")``); nothing is copied into the
repo.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd

from scope_assets.ml.training.catalogue_curves import load_eros1
from scope_assets.testing import shared_path
from scope_assets.testing.real_light_curves import (
    load_lcurvemaker,
    load_ztfperiodic,
    recovery_table,
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--root", type=Path, default=shared_path("data", "real"))
    ap.add_argument("--max-freq", type=float, default=48.0)
    ap.add_argument("--eros-per-class", type=int, default=10)
    ap.add_argument("--top-n", type=int, default=50)
    ap.add_argument("--sets", default="ztfperiodic,lcurvemaker,eros1")
    args = ap.parse_args()
    pd.set_option("display.width", 200)
    pd.set_option("display.max_rows", 500)
    sets = args.sets.split(",")
    loaders = {
        "ztfperiodic": lambda: load_ztfperiodic(args.root, band="r"),
        "lcurvemaker": lambda: load_lcurvemaker(args.root, band="zr"),
        "eros1": lambda: load_eros1(args.root, per_class=args.eros_per_class),
    }
    for name in sets:
        curves = loaders[name]()
        t0 = time.perf_counter()
        tab = recovery_table(curves, max_freq=args.max_freq, top_n_periods=args.top_n)
        dt = time.perf_counter() - t0
        print(f"\n== {name}: {len(curves)} light curves, max_freq {args.max_freq} c/d, {dt:.1f} s")
        print(tab.to_string(index=False, float_format=lambda x: f"{x:.6g}"))
        for col in ("ELS_ECE_EAOV", "ELS", "astropy"):
            print(
                f"{col:>14}: " + ", ".join(f"{k} {v}" for k, v in tab[col].value_counts().items())
            )


if __name__ == "__main__":
    main()
