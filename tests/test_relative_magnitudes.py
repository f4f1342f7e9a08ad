"""Relative (median-subtracted) magnitudes: found per curve and put at the configured zero point,
so that only the five level features move, each by its closed form."""

import numpy as np
import pandas as pd
import pytest

from scope_assets.cli.features import main as generate_features
from scope_assets.config import load_config
from scope_assets.io import read_parquet
from scope_assets.lightcurves.batch import LightCurveBatch
from scope_assets.lightcurves.relative_magnitudes import (
    relative_magnitude_curves,
    with_zero_point,
)
from scope_assets.ml.training.catalogue_curves import RealCurve
from scope_assets.ml.training.eros1_training_rows import real_curve_features

ZERO_POINT_MAG = 18.0
FAST = {"max_freq": 10.0, "samples_per_peak": 3, "top_n_periods": 5}


def eclipsing_curve(level_mag: float, seed: int = 4) -> RealCurve:
    """A 0.71-d binary with a 0.4-mag primary eclipse, 300 points over 600 d, at ``level_mag``
    (magnitudes on a 2⁻¹² mag grid: float32, as light curves are stored, holds them exactly)."""
    rng = np.random.default_rng(seed)
    t = 2458300.0 + np.sort(rng.uniform(0.0, 600.0, 300))
    phase = (t / 0.71) % 1.0
    mag = 0.4 * np.exp(-0.5 * ((phase - 0.5) / 0.04) ** 2) + 0.05 * np.sin(4 * np.pi * phase)
    err = rng.uniform(0.01, 0.03, t.size)
    mag = np.round((mag + rng.normal(0.0, err)) * 4096) / 4096  # exact in float32 at 0-32 mag
    return RealCurve("test", "eb", "EB", 0.71, t, mag - np.median(mag) + level_mag, err)


def features(curves: list[RealCurve], zero_point_mag: float | None) -> pd.DataFrame:
    config = load_config()
    fg = config.feature_generation.model_copy(
        update=FAST | {"relative_zero_point_mag": zero_point_mag}
    )
    return real_curve_features(curves, config.model_copy(update={"feature_generation": fg}))


def test_a_curve_is_relative_when_its_median_is_within_5_mag_of_zero():
    medians = [0.02, -4.9, 5.1, 17.3, 0.0]
    curves = [
        (np.arange(5.0), np.full(5, m) + np.linspace(-1, 1, 5), np.full(5, 0.1)) for m in medians
    ]
    curves.append((np.empty(0), np.empty(0), np.empty(0)))
    batch = LightCurveBatch.from_curves(np.arange(6), curves)
    assert relative_magnitude_curves(batch).tolist() == [True, True, False, False, True, False]
    shifted = with_zero_point(batch, relative_magnitude_curves(batch), ZERO_POINT_MAG)
    medians_after = [np.median(shifted.curve(i)[1]) for i in range(5)]
    np.testing.assert_allclose(medians_after, [18.02, 13.1, 5.1, 17.3, 18.0])
    np.testing.assert_array_equal(shifted.magerr, batch.magerr)


LEVEL_FEATURES = ["median", "wmean", "norm_peak_to_peak_amp", "norm_excess_var", "ad", "sw"]
"""Basic statistics that depend on the magnitude level (``ad`` and ``sw`` test m/σ, as SCoPe's)."""


def floats(row: pd.Series, columns) -> np.ndarray:
    return row[list(columns)].to_numpy(dtype=np.float64)


def test_relative_curve_gets_the_features_of_the_star_at_the_zero_point():
    level = 16.25
    curves = [eclipsing_curve(level), eclipsing_curve(0.0), eclipsing_curve(ZERO_POINT_MAG)]
    rows = features(curves, ZERO_POINT_MAG)
    a, r, at_zero_point = rows.iloc[0], rows.iloc[1], rows.iloc[2]
    assert a["period_ELS_ECE_EAOV"] == pytest.approx(0.71, rel=0.01)

    numeric = rows.select_dtypes("floating").columns.difference(["ra", "dec"])
    np.testing.assert_allclose(floats(r, numeric), floats(at_zero_point, numeric), rtol=1e-12)
    np.testing.assert_array_equal(np.asarray(r["dmdt"]), np.asarray(at_zero_point["dmdt"]))

    shift = ZERO_POINT_MAG - level
    assert r["median"] == pytest.approx(a["median"] + shift, abs=1e-12)
    assert r["wmean"] == pytest.approx(a["wmean"] + shift, abs=1e-12)
    assert r["norm_excess_var"] == pytest.approx(
        a["norm_excess_var"] * a["wmean"] ** 2 / r["wmean"] ** 2, rel=1e-9
    )
    fourier_offsets = [c for c in numeric if c.startswith("f1_a_")]
    np.testing.assert_allclose(floats(r, fourier_offsets), floats(a, fourier_offsets) + shift)
    unchanged = numeric.difference([*LEVEL_FEATURES, *fourier_offsets])
    assert len(unchanged) > 80
    np.testing.assert_allclose(floats(r, unchanged), floats(a, unchanged), rtol=1e-9)


def test_null_zero_point_keeps_the_magnitudes_as_given():
    rows = features([eclipsing_curve(0.0)], None)
    assert abs(rows["median"].iloc[0]) < 1e-3
    assert abs(rows["norm_excess_var"].iloc[0]) > 1.0  # divided by a level of ~0 mag (stars: < 0.1)


def test_generate_features_says_which_curves_were_relative(tmp_path, capsys):
    parts = []
    for k, level in enumerate([0.0, 15.2]):
        c = eclipsing_curve(level, seed=k)
        parts.append(
            pd.DataFrame({"_id": 10296000000000 + k, "hjd": c.t, "mag": c.mag, "magerr": c.magerr})
        )
    path = tmp_path / "lcs.csv"
    pd.concat(parts).to_csv(path, index=False)
    out = tmp_path / "features.parquet"
    flags = ["--max-freq", "10", "--samples-per-peak", "3", "--top-n-periods", "5"]
    assert generate_features(["--lightcurves", str(path), "--output", str(out), *flags]) == 0
    printed = capsys.readouterr().out
    assert "1 light curves hold relative magnitudes (median within 5 mag of 0)" in printed
    df = read_parquet(out).set_index("_id")
    assert df.loc[10296000000000, "median"] == pytest.approx(ZERO_POINT_MAG, abs=1e-3)
    assert df.loc[10296000000001, "median"] == pytest.approx(15.2, abs=1e-3)
    assert df.attrs["feature_generation"]["relative_zero_point_mag"] == ZERO_POINT_MAG


@pytest.mark.parametrize("value", [5.0, 30.0])
def test_a_zero_point_that_is_not_a_star_magnitude_is_refused(tmp_path, capsys, value):
    config = tmp_path / "scope.yaml"
    config.write_text(f"feature_generation:\n  relative_zero_point_mag: {value}\n")
    path = tmp_path / "lcs.csv"
    pd.DataFrame({"_id": [1], "hjd": [2458300.0], "mag": [0.1], "magerr": [0.01]}).to_csv(path)
    code = generate_features(["--lightcurves", str(path), "--config", str(config)])
    assert code != 0
    assert "relative_zero_point_mag" in capsys.readouterr().err
    assert not (tmp_path / "generated_features").exists()
