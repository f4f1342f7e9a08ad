"""Can the EROS-1 data tell the catalogue period from its 1-day alias?

Usage::

    .venv/bin/python bench/eval_real.py --sets eros1 --no-classifiers --csv eros1.csv
    .venv/bin/python bench/eros_aliases.py eros1.csv

For every RR Lyrae and Cepheid whose nested period sits 1 c/d (± 0.05) from the catalogue
frequency, the frequency of each (catalogue, found) is compared on the star's own points, each
at its best value within half a peak width (0.5/T): astropy's LombScargle power in the blue band
and summed over both bands, and the χ² of least-squares fits with 1-4 harmonics in the blue band.
The script prints how often each statistic prefers the catalogue frequency.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
from astropy.timeseries import LombScargle

from scope_assets.ml.training.catalogue_curves import RealCurve, load_eros1
from scope_assets.testing import shared_path

HARMONICS = (1, 2, 3, 4)
OFFSETS = np.linspace(-0.5, 0.5, 41)
"""Trial offsets around each frequency, in units of 1/T."""


def one_day_aliases(table: pd.DataFrame) -> pd.DataFrame:
    """Rows of ``eval_real --csv`` whose nested period is a ±1 c/d alias of the catalogue's."""
    rows = table[(table["source"] == "eros1") & table["class"].isin(["RRL", "CEP"])]
    offset = 1.0 / rows["P_ELS_ECE_EAOV"] - 1.0 / rows["P_cat"]
    return rows[(rows["ELS_ECE_EAOV"] == "alias") & (np.abs(np.abs(offset) - 1.0) < 0.05)]


def ls_power(curve: RealCurve, frequency: float) -> float:
    """Best LombScargle power within half a peak width of ``frequency``."""
    span = np.ptp(curve.t)
    trials = frequency + OFFSETS / span
    return float(LombScargle(curve.t, curve.mag, curve.magerr).power(trials).max())


def harmonic_chi2(curve: RealCurve, frequency: float, harmonics: int) -> float:
    """Smallest χ² of a weighted fit of ``harmonics`` harmonics near ``frequency``."""
    span = np.ptp(curve.t)
    weight = 1.0 / curve.magerr
    best = np.inf
    for trial in frequency + OFFSETS / span:
        phase = 2 * np.pi * trial * (curve.t - curve.t.min())
        columns = [np.ones_like(phase)]
        for k in range(1, harmonics + 1):
            columns += [np.sin(k * phase), np.cos(k * phase)]
        design = np.column_stack(columns) * weight[:, None]
        beta, *_ = np.linalg.lstsq(design, curve.mag * weight, rcond=None)
        best = min(best, float(((design @ beta - curve.mag * weight) ** 2).sum()))
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("csv", type=Path, help="per-curve table of bench/eval_real.py --csv")
    ap.add_argument("--root", type=Path, default=shared_path("data", "real"))
    args = ap.parse_args()
    aliases = one_day_aliases(pd.read_csv(args.csv))
    names = set(aliases["object"])
    bands = {
        band: {c.name: c for c in load_eros1(args.root, band=band, min_quality=0, per_class=None)}
        for band in ("b", "r")
    }
    prefers = {"LS blue": [], "LS blue + red": []} | {f"{k} harmonics": [] for k in HARMONICS}
    ratios = []
    for _, row in aliases.iterrows():
        catalogue, found = 1.0 / row["P_cat"], 1.0 / row["P_ELS_ECE_EAOV"]
        blue, red = bands["b"][row["object"]], bands["r"][row["object"]]
        power = {f: ls_power(blue, f) for f in (catalogue, found)}
        both = {f: power[f] + ls_power(red, f) for f in (catalogue, found)}
        ratios.append(power[catalogue] / power[found])
        prefers["LS blue"].append(power[catalogue] > power[found])
        prefers["LS blue + red"].append(both[catalogue] > both[found])
        for k in HARMONICS:
            chi2 = {f: harmonic_chi2(blue, f, k) for f in (catalogue, found)}
            prefers[f"{k} harmonics"].append(chi2[catalogue] < chi2[found])
    spread_h = np.median([24 * np.std(bands["b"][n].t % 1.0) for n in names])
    print(f"{len(aliases)} RR Lyrae and Cepheids at a 1-day alias of the catalogue period")
    print(f"blue LS power, catalogue / alias: mean {np.mean(ratios):.3f}")
    print(f"time of night, median spread: {spread_h:.1f} h")
    for name, votes in prefers.items():
        print(f"{name:>14}: prefers the catalogue frequency for {100 * np.mean(votes):.0f} %")


if __name__ == "__main__":
    main()
