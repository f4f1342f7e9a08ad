"""The README's period-recovery table on the simulated sky (field 296, seed 7, 160 light curves,
nested ELS_ECE_EAOV): each class's rate of exact or expected-harmonic periods, as measured."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scope_assets.config import load_config
from scope_assets.features.periodsearch import find_periods
from scope_assets.features.periodsearch.period_match import match_label
from scope_assets.features.pipeline import clean
from scope_assets.lightcurves.archive import LocalArchive
from scope_assets.sim import simulate_field

MINIMUM_RATES = {
    ("rrab", ("P",)): 1.0,
    ("rrc", ("P",)): 1.0,
    ("ceph", ("P",)): 1.0,
    ("dscu", ("P",)): 0.80,
    ("dscu", ("P", "2P")): 0.90,
    ("wuma", ("P/2",)): 1.0,
    ("ea", ("P", "P/2", "2P")): 0.40,
    ("mir", ("P",)): 0.90,
}
"""README: RRab 18/18 exact, RRc 11/11, Cepheid 10/10, δ Scuti 10/12 exact + 1 at 2P, W UMa 12/12
at P/2, Algol 0/14 exact + 6 at P/2 (detached binaries of 1.9-59 d, eclipses 0.5-5 % of the
orbit), Mira 10/11. A rate below these fails: the README must then change."""


@pytest.mark.slow
def test_simulated_sky_period_recovery(tmp_path):
    archive = LocalArchive(simulate_field(tmp_path / "archive", field=296, n_sources=160, seed=7))
    truth = archive.truth().set_index("_id")
    wanted = truth.index[truth["class"].isin({tag for tag, _ in MINIMUM_RATES})]
    raw = archive.read_light_curves(wanted.to_numpy())
    meta, batch, _ = clean(raw, load_config(environ={}))
    found = find_periods(batch, algorithms=("ELS_ECE_EAOV",))["ELS_ECE_EAOV"].period
    rows = truth.loc[meta["_id"].to_numpy()]
    labels = pd.DataFrame(
        {
            "class": rows["class"].to_numpy(),
            "label": [match_label(f, p) for f, p in zip(found, rows["period_days"], strict=True)],
        }
    )
    table = pd.crosstab(labels["class"], labels["label"])
    for (tag, accepted), minimum in MINIMUM_RATES.items():
        of_class = labels[labels["class"] == tag]
        assert len(of_class) >= 8, (tag, table)
        rate = float(of_class["label"].isin(accepted).mean())
        assert rate >= minimum, (tag, accepted, rate, table.to_string())
    assert np.all(np.isfinite(found))
