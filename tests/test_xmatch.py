"""Cross-matching (closest match within the radius) and ZTF alert statistics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scope_assets.features.xmatch import (
    XMATCH_COLUMNS,
    alert_stats,
    crossmatch,
    crossmatch_all,
)

ARCSEC = 1 / 3600


def _separation_arcsec(ra1, dec1, ra2, dec2) -> np.ndarray:
    """Haversine great-circle distance, broadcasting (brute force reference)."""
    ra1, dec1, ra2, dec2 = map(np.radians, (ra1, dec1, ra2, dec2))
    a = np.sin((dec2 - dec1) / 2) ** 2 + np.cos(dec1) * np.cos(dec2) * np.sin((ra2 - ra1) / 2) ** 2
    return np.degrees(2 * np.arcsin(np.sqrt(a))) * 3600


def _crowded_sky(rng: np.random.Generator, ra0: float, dec0: float, n: int):
    """Sources, and a catalogue with 0-4 rows within ~3" of each source, in random order."""
    sources = pd.DataFrame(
        {
            "_id": np.arange(n) + 10**13,
            "ra": ra0 + rng.uniform(-0.05, 0.05, n),
            "dec": dec0 + rng.uniform(-0.05, 0.05, n),
        },
        index=pd.Index(np.arange(n) * 7 + 3, name="row"),
    )
    per_source = rng.integers(0, 5, n)
    host = np.repeat(np.arange(n), per_source)
    radius = rng.uniform(0, 3.0, len(host)) * ARCSEC
    angle = rng.uniform(0, 2 * np.pi, len(host))
    dec = sources["dec"].to_numpy()[host] + radius * np.sin(angle)
    ra = sources["ra"].to_numpy()[host] + radius * np.cos(angle) / np.cos(np.radians(dec))
    catalog = pd.DataFrame(
        {
            "_id": 6_000_000_000_000_000_000 + np.arange(len(host)) * 1_000_003,
            "ra": np.mod(ra, 360),
            "dec": dec,
            "parallax": rng.normal(1, 0.5, len(host)),
            "ph_qual": rng.choice(["AAUU", "BBCU"], len(host)),
        }
    )
    return sources, catalog.iloc[rng.permutation(len(catalog))].reset_index(drop=True)


def _brute_force(sources, catalog, radius_arcsec):
    distance = _separation_arcsec(
        sources["ra"].to_numpy()[:, None],
        sources["dec"].to_numpy()[:, None],
        catalog["ra"].to_numpy()[None, :],
        catalog["dec"].to_numpy()[None, :],
    )
    best = distance.argmin(axis=1)
    within = distance[np.arange(len(sources)), best] <= radius_arcsec
    return np.where(within, best, -1)


@pytest.mark.parametrize(("ra0", "dec0"), [(105.0, 5.0), (0.01, -20.0), (200.0, 89.97)])
def test_crossmatch_takes_the_closest_match(ra0, dec0):
    sources, catalog = _crowded_sky(np.random.default_rng(0), ra0, dec0, 400)
    expected = _brute_force(sources, catalog, 2.0)
    assert np.sum(expected >= 0) > 200  # many matched, many with several candidates
    result = crossmatch(sources, catalog, "Cat", columns=["parallax", "ph_qual"])
    assert result.index.equals(sources.index)
    assert list(result.columns) == ["Cat__parallax", "Cat__ph_qual", "Cat___id"]
    matched = expected >= 0
    ids = result["Cat___id"]
    assert str(ids.dtype) == "Int64"
    assert ids[~matched].isna().all()
    assert ids[matched].to_numpy(dtype=np.int64).tolist() == (
        catalog["_id"].to_numpy()[expected[matched]].tolist()
    )
    np.testing.assert_array_equal(
        result["Cat__parallax"].to_numpy()[matched],
        catalog["parallax"].to_numpy()[expected[matched]],
    )
    assert result["Cat__parallax"][~matched].isna().all()
    assert result["Cat__ph_qual"][~matched].isna().all()
    assert (
        result["Cat__ph_qual"][matched].tolist() == catalog["ph_qual"][expected[matched]].tolist()
    )


def test_closest_not_first_candidate():
    sources = pd.DataFrame({"_id": [1], "ra": [10.0], "dec": [0.0]})
    catalog = pd.DataFrame(
        {"_id": [111, 222], "ra": [10.0 + 1.5 * ARCSEC, 10.0 + 0.3 * ARCSEC], "dec": [0.0, 0.0]}
    ).assign(w1mpro=[12.0, 14.0])
    result = crossmatch(sources, catalog, "AllWISE", columns=["w1mpro"])
    assert result.loc[0, "AllWISE___id"] == 222
    assert result.loc[0, "AllWISE__w1mpro"] == 14.0


def test_radius_and_unmatched_and_nan_positions():
    sources = pd.DataFrame({"_id": [1, 2, 3], "ra": [10.0, 20.0, np.nan], "dec": [0.0, 0.0, 0.0]})
    catalog = pd.DataFrame(
        {"_id": [5, 6], "ra": [10.0 + 2.1 * ARCSEC, 20.0 + 1.9 * ARCSEC], "dec": [0.0, 0.0]}
    ).assign(qualityFlag=[52, 60])
    result = crossmatch(sources, catalog, "PS1_DR1", columns=["qualityFlag"])
    assert result["PS1_DR1___id"].isna().tolist() == [True, False, True]
    assert result.loc[1, "PS1_DR1__qualityFlag"] == 60
    assert np.isnan(result.loc[0, "PS1_DR1__qualityFlag"])
    wider = crossmatch(sources, catalog, "PS1_DR1", radius_arcsec=2.5, columns=["qualityFlag"])
    assert wider["PS1_DR1___id"].tolist()[:2] == [5, 6]


def test_default_columns_and_errors():
    assert XMATCH_COLUMNS["AllWISE"][-1] == "ph_qual"
    assert len(XMATCH_COLUMNS["Gaia_EDR3"]) == 11
    assert XMATCH_COLUMNS["PS1_DR1"][:2] == ["gMeanPSFMag", "gMeanPSFMagErr"]
    assert XMATCH_COLUMNS["PS1_DR1"][-1] == "qualityFlag" and len(XMATCH_COLUMNS["PS1_DR1"]) == 11
    sources = pd.DataFrame({"_id": [1], "ra": [1.0], "dec": [1.0]})
    gaia = pd.DataFrame({"_id": [9], "ra": [1.0], "dec": [1.0]}).assign(
        **{c: [1.0] for c in XMATCH_COLUMNS["Gaia_EDR3"]}
    )
    result = crossmatch(sources, gaia, "Gaia_EDR3")
    assert list(result.columns) == [f"Gaia_EDR3__{c}" for c in XMATCH_COLUMNS["Gaia_EDR3"]] + [
        "Gaia_EDR3___id"
    ]
    with pytest.raises(ValueError, match="no default columns"):
        crossmatch(sources, gaia, "SDSS")
    with pytest.raises(ValueError, match=r"missing columns \['w1mpro'"):
        crossmatch(sources, gaia, "AllWISE")
    with pytest.raises(ValueError, match="'ra' and 'dec'"):
        crossmatch(sources.drop(columns="dec"), gaia, "Gaia_EDR3")


def test_crossmatch_all_and_empty_catalogue():
    sources = pd.DataFrame({"_id": [1, 2], "ra": [1.0, 2.0], "dec": [1.0, 2.0]})
    wise = pd.DataFrame({"_id": [9], "ra": [1.0], "dec": [1.0]}).assign(
        **{c: ["AAAA"] if c == "ph_qual" else [1.0] for c in XMATCH_COLUMNS["AllWISE"]}
    )
    empty_gaia = pd.DataFrame(
        {c: pd.Series(dtype=float) for c in ["_id", "ra", "dec", *XMATCH_COLUMNS["Gaia_EDR3"]]}
    ).astype({"_id": np.int64})
    result = crossmatch_all(sources, {"AllWISE": wise, "Gaia_EDR3": empty_gaia})
    assert result["AllWISE___id"].tolist()[0] == 9 and pd.isna(result["AllWISE___id"][1])
    assert result["Gaia_EDR3___id"].isna().all()
    assert result.shape == (2, 10 + 12)


def test_alert_stats_values():
    sources = pd.DataFrame(
        {"_id": [1, 2, 3, 4], "ra": [10.0, 20.0, 30.0, 40.0], "dec": [0.0] * 4}, index=[9, 8, 7, 6]
    )
    alerts = pd.DataFrame(
        {
            "ra": [10.0, 10.0 + 1 * ARCSEC, 10.0 - 1.9 * ARCSEC, 10.0 + 2.2 * ARCSEC, 30.0, 40.0],
            "dec": [0.0, 0.0, 0.0, 0.0, 0.5 * ARCSEC, 0.0],
            "braai": np.array([0.9, np.nan, 0.5, 0.1, np.nan, 0.3], dtype=np.float32),
        }
    )
    stats = alert_stats(sources, alerts)
    assert stats.index.equals(sources.index)
    assert stats["n_ztf_alerts"].tolist() == [3, 0, 1, 1]
    assert stats["n_ztf_alerts"].dtype == np.int64
    assert stats.loc[9, "mean_ztf_alert_braai"] == pytest.approx(0.7)
    assert stats.loc[8, "mean_ztf_alert_braai"] == 0.0  # no alerts
    assert np.isnan(stats.loc[7, "mean_ztf_alert_braai"])  # alerts, none scored
    assert stats.loc[6, "mean_ztf_alert_braai"] == pytest.approx(0.3)


def test_alert_stats_matches_brute_force():
    rng = np.random.default_rng(4)
    sources, catalog = _crowded_sky(rng, 50.0, 30.0, 300)
    alerts = catalog.assign(braai=rng.uniform(0, 1, len(catalog)))
    distance = _separation_arcsec(
        sources["ra"].to_numpy()[:, None],
        sources["dec"].to_numpy()[:, None],
        alerts["ra"].to_numpy()[None, :],
        alerts["dec"].to_numpy()[None, :],
    )
    inside = distance <= 2.0
    stats = alert_stats(sources, alerts)
    assert stats["n_ztf_alerts"].tolist() == inside.sum(axis=1).tolist()
    with np.errstate(invalid="ignore"):
        expected = (inside * alerts["braai"].to_numpy()).sum(axis=1) / inside.sum(axis=1)
    expected = np.where(inside.sum(axis=1) == 0, 0.0, expected)
    np.testing.assert_allclose(stats["mean_ztf_alert_braai"], expected)


def test_alert_stats_with_no_alerts_and_bad_input():
    sources = pd.DataFrame({"_id": [1], "ra": [1.0], "dec": [1.0]})
    empty = pd.DataFrame({"ra": [], "dec": [], "braai": []})
    stats = alert_stats(sources, empty)
    assert stats.iloc[0].tolist() == [0, 0.0]
    with pytest.raises(ValueError, match="braai"):
        alert_stats(sources, empty.drop(columns="braai"))
