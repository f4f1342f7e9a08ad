"""The sky simulator: determinism, cadence and noise realism, classes, ids, catalogues, CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from scope_assets.cli.sim import main
from scope_assets.lightcurves.archive import LocalArchive
from scope_assets.lightcurves.ids import decode_id, encode_id
from scope_assets.lightcurves.raw import HJD_OFFSET, RawLightCurves
from scope_assets.sim import (
    CLASSES,
    draw_variability,
    field_centre,
    simulate_field,
    simulate_light_curve,
    variability_mag,
    ztf_cadence,
    ztf_mag_error,
)
from scope_assets.sim.simulate_field import draw_stars
from scope_assets.testing import shared_path
from scope_assets.testing.real_light_curves import load_lcurvemaker_oids

N_SOURCES = 300
DR16_END_HJD = 2459951.5
REAL = shared_path("data", "real")


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> LocalArchive:
    root = simulate_field(tmp_path_factory.mktemp("sim") / "archive", n_sources=N_SOURCES)
    return LocalArchive(root)


@pytest.fixture(scope="module")
def raw(archive) -> RawLightCurves:
    return RawLightCurves.concat(list(archive.iter_light_curves(296)))


@pytest.fixture(scope="module")
def cadence():
    return ztf_cadence(np.random.default_rng(1), field_centre(296)[0])


# --------------------------------------------------------------------------- determinism


def _archive_files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_same_seed_gives_identical_archive(tmp_path):
    done: list[int] = []
    first = _archive_files(simulate_field(tmp_path / "a", n_sources=80, seed=7))
    second = _archive_files(
        simulate_field(tmp_path / "b", n_sources=80, seed=7, progress=done.append)
    )
    assert sum(done) == 80  # progress counts light curves, and does not change the archive
    assert first.keys() == second.keys()
    for name in first:
        if name.endswith(".parquet"):
            assert pq.read_table(tmp_path / "a" / name).equals(pq.read_table(tmp_path / "b" / name))
        assert first[name] == second[name], name


def test_other_seed_gives_other_values(tmp_path):
    a = LocalArchive(simulate_field(tmp_path / "a", n_sources=40, seed=1)).truth()
    b = LocalArchive(simulate_field(tmp_path / "b", n_sources=40, seed=2)).truth()
    assert not np.allclose(a["mean_mag"], b["mean_mag"])


def test_manifest(archive):
    manifest = json.loads((archive.root / "manifest.json").read_text())
    assert manifest["format"] == "scope-assets-archive/1"
    assert manifest["fields"] == [296]
    assert manifest["seed"] == 42
    assert manifest["n_sources"] == N_SOURCES
    assert manifest["created_by"].startswith("scope-sim ")


@pytest.mark.parametrize("n_sources", [1, 2, 3, 57])
def test_n_sources_counts_light_curves(tmp_path, n_sources):
    archive = LocalArchive(simulate_field(tmp_path / "a", n_sources=n_sources))
    assert len(archive.source_ids(296)) == n_sources
    assert len(archive.truth()) == n_sources


def test_existing_archive_needs_overwrite(tmp_path):
    root = simulate_field(tmp_path / "a", n_sources=10)
    with pytest.raises(FileExistsError, match="overwrite"):
        simulate_field(root, n_sources=10)
    simulate_field(root, n_sources=12, overwrite=True)
    assert len(LocalArchive(root).truth()) == 12
    assert [p.name for p in tmp_path.iterdir()] == ["a"]  # no staging left behind


def test_refuses_to_replace_a_directory_that_is_not_an_archive(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "notes.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match="not an archive"):
        simulate_field(tmp_path / "a", n_sources=10, overwrite=True)


# --------------------------------------------------------------------------- cadence


def test_cadence_has_seasons_with_gaps(cadence):
    nights = np.unique(np.floor(cadence.hmjd))
    gaps = np.diff(nights)
    seasonal_gaps = gaps[gaps > 60]
    assert 4 <= len(seasonal_gaps) <= 5  # 2018-03 .. 2023-01 spans five seasons
    assert np.all((seasonal_gaps > 70) & (seasonal_gaps < 180))
    season_starts = np.r_[nights[0], nights[1:][gaps > 60]]
    season_ends = np.r_[nights[:-1][gaps > 60], nights[-1]]
    full_seasons = (season_ends - season_starts)[1:-1]
    assert np.all((full_seasons > 6 * 30) & (full_seasons < 9.5 * 30))


def test_cadence_is_nightly_with_weather_gaps(cadence):
    nights = np.unique(np.floor(cadence.hmjd))
    gaps = np.diff(nights)
    in_season = gaps[gaps <= 60]
    assert np.median(in_season) <= 2
    assert np.sum((in_season >= 4) & (in_season <= 15)) >= 20  # runs of bad weather
    assert 58190 <= cadence.hmjd.min() and cadence.hmjd.max() <= 59975


def test_cadence_visits_per_night_and_filters(cadence):
    night = np.floor(cadence.hmjd)
    for filterid, low, high in [(1, 1.2, 2.5), (2, 1.2, 2.5)]:
        in_band = cadence.filterid == filterid
        per_night = np.unique(night[in_band], return_counts=True)[1]
        assert low < per_night.mean() < high
        assert per_night.max() <= 3
    assert 0 < np.mean(cadence.filterid == 3) < 0.1
    assert np.all(np.diff(cadence.hmjd) >= 0)


def test_cadence_programs_and_late_points(cadence):
    assert set(np.unique(cadence.programid)) == {1, 2, 3}
    assert np.sum(cadence.hmjd + HJD_OFFSET > DR16_END_HJD) > 0


# --------------------------------------------------------------------------- noise and flags


def test_error_model_matches_ztf_curve():
    assert ztf_mag_error(15.0) == pytest.approx(0.011, abs=0.002)
    assert ztf_mag_error(20.5) == pytest.approx(0.2, abs=0.01)
    assert np.all(np.diff(ztf_mag_error(np.linspace(12, 21, 50))) > 0)


def test_constant_stars_scatter_as_their_errors(archive, raw):
    truth = archive.truth().set_index("_id")
    constant = truth.loc[raw.batch.ids, "class"].to_numpy() == "nonvar"
    pulls = []
    for i in np.flatnonzero(constant):
        t, mag, magerr = raw.batch.curve(i)
        a, b = raw.batch.offsets[i], raw.batch.offsets[i + 1]
        good = raw.catflags[a:b] == 0
        true_mag = truth.loc[raw.batch.ids[i], "mean_mag"]
        pulls.append((mag[good] - true_mag) / magerr[good])
    pulls = np.concatenate(pulls)
    assert np.std(pulls) == pytest.approx(1.0, abs=0.1)
    assert abs(np.mean(pulls)) < 0.1


def log_error_scatter(mag: np.ndarray, magerr: np.ndarray) -> float:
    """Scatter of log magerr about a quadratic in mag: 0 when magerr is a function of mag."""
    x = mag - np.median(mag)
    y = np.log(magerr)
    design = np.vander(x, 3)
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    return float(np.std(y - design @ coef))


def test_reported_errors_are_one_function_of_magnitude_per_curve(raw):
    """As in ZTF data releases (the real files below), not scattered per exposure."""
    scatter = []
    for i in np.flatnonzero(raw.batch.n_points >= 20):
        _, mag, magerr = raw.batch.curve(i)
        good = raw.catflags[raw.batch.offsets[i] : raw.batch.offsets[i + 1]] == 0
        scatter.append(log_error_scatter(mag[good], magerr[good]))
    # Per-exposure errors (the simulator before) gave a median of 0.21; the real files 1e-5.
    assert np.median(scatter) < 1e-3
    assert np.percentile(scatter, 95) < 0.01


@pytest.mark.skipif(not REAL.is_dir(), reason=f"shared real light curves not found at {REAL}")
def test_real_data_release_errors_are_one_function_of_magnitude():
    """The fact the simulator copies: each raw IRSA file's magerr follows its magnitude (a
    quadratic in mag fits log magerr to 1e-5 in the median file; the simulator's faint, large-
    amplitude curves follow its error model, which a quadratic fits less well)."""
    scatter = [
        log_error_scatter(c.mag, c.magerr) for c in load_lcurvemaker_oids(REAL) if len(c.mag) >= 20
    ]
    assert len(scatter) >= 40
    assert np.median(scatter) < 1e-4
    assert np.max(scatter) < 0.01


def test_catflags_fraction(raw):
    flagged = raw.catflags != 0
    assert 0.04 < flagged.mean() < 0.12
    values, counts = np.unique(raw.catflags[flagged], return_counts=True)
    assert values[np.argmax(counts)] == 32768


def test_light_curve_points_are_consistent(raw):
    assert raw.batch.t.dtype == np.float64
    assert np.all(raw.batch.magerr > 0)
    assert set(np.unique(raw.programid)) == {1, 2, 3}
    assert np.any(raw.batch.t > DR16_END_HJD)
    for i in range(len(raw)):
        t = raw.batch.curve(i)[0]
        assert np.all(np.diff(t) >= 0)
    assert np.array_equal(raw.meta["nobs"].to_numpy(), raw.batch.n_points)


# --------------------------------------------------------------------------- classes and truth


def test_truth_table(archive):
    truth = archive.truth()
    assert list(truth.columns) == [
        "_id",
        "class",
        "period_days",
        "ra",
        "dec",
        "field",
        "ccd",
        "quad",
        "filter",
        "mean_mag",
        "amplitude_mag",
    ]
    assert set(truth["class"]) == set(CLASSES)
    for tag, spec in CLASSES.items():
        periods = truth.loc[truth["class"] == tag, "period_days"]
        if spec.period_range is None:
            assert periods.isna().all()
        else:
            low, high = spec.period_range
            assert periods.between(low, high).all(), tag
    assert truth.loc[truth["class"] == "nonvar", "amplitude_mag"].eq(0).all()
    assert truth.loc[truth["class"] == "mir", "amplitude_mag"].min() >= 2.0 * 0.6
    assert 0.35 < (truth["class"] == "nonvar").mean() < 0.45


def test_every_class_has_40_light_curves_at_default_size():
    stars = draw_stars(np.random.default_rng(0), 2000, field_centre(296))
    curves_per_class = stars.assign(n=stars["bands"].map(len)).groupby("tag")["n"].sum()
    assert curves_per_class.sum() == 2000
    assert curves_per_class.min() >= 40
    assert set(curves_per_class.index) == set(CLASSES)


def test_stars_have_g_and_r_and_some_i(archive):
    truth = archive.truth()
    per_star = truth.groupby(["ra", "dec"])["filter"].apply(lambda f: tuple(sorted(f)))
    # every star but possibly the last (cut to reach n_sources exactly) has g and r
    assert (per_star.map(lambda f: f[:2] == (1, 2))).sum() >= len(per_star) - 1
    assert (per_star.map(len) == 3).any()
    assert truth.groupby(["ccd", "quad"]).ngroups >= 30


def test_id_round_trip(archive):
    truth = archive.truth()
    parts = decode_id(truth["_id"])
    assert np.array_equal(parts.field, truth["field"])
    assert np.array_equal(parts.ccd, truth["ccd"])
    assert np.array_equal(parts.quad, truth["quad"])
    assert np.array_equal(parts.filter, truth["filter"])
    assert truth["_id"].is_unique
    assert truth["_id"].astype(str).str.len().eq(14).all()


def test_id_codec_matches_the_documented_example():
    parts = decode_id(10296582009946)
    assert (parts.field, parts.ccd, parts.quad, parts.filter, parts.seq) == (296, 15, 3, 2, 9946)
    assert encode_id(296, 15, 3, 2, 9946) == 10296582009946
    with pytest.raises(ValueError, match="ccd"):
        encode_id(296, 17, 1, 1, 1)
    with pytest.raises(ValueError, match="SCoPe _id"):
        decode_id(462104100001036)


# --------------------------------------------------------------------------- shapes


def _one_cycle(tag: str, seed: int = 3, band: int = 2):
    var = draw_variability(tag, np.random.default_rng(seed))
    t = var.epoch + np.linspace(0.0, var.period, 2000, endpoint=False)
    return var, variability_mag(var, t, band)


def test_rrab_rises_faster_than_it_fades():
    _, mag = _one_cycle("rrab")
    brightening = np.mean(np.diff(mag) < 0)
    assert brightening < 0.3
    assert np.ptp(mag) == pytest.approx(_one_cycle("rrab")[0].amplitude, rel=0.02)


def test_wuma_has_two_similar_minima_per_orbit():
    var, mag = _one_cycle("wuma")
    first, second = mag[:1000].max(), mag[1000:].max()
    assert min(first, second) / max(first, second) > 0.8
    assert np.mean(np.abs(mag - np.median(mag)) < 0.02 * var.amplitude) < 0.3  # no flat part


def test_ea_is_flat_outside_narrow_eclipses():
    var, mag = _one_cycle("ea")
    assert np.mean(np.abs(mag) < 1e-3) > 0.7
    assert mag.max() == pytest.approx(var.amplitude, rel=0.01)


def test_ea_eclipses_narrow_with_period_as_keplers_law_says():
    """Eclipse width in phase ~ (R1 + R2) / a with a ~ P^(2/3): 27 times the period, 1/9 the width
    (measured on the primary eclipse above 70 % of its depth; the secondary is at most 60 %)."""
    deep = []
    for period in (1.0, 27.0):
        phase = np.linspace(0.0, 1.0, 200_000, endpoint=False)
        mag, var = simulate_light_curve(
            "ea", phase * period, np.random.default_rng(4), period=period
        )
        offset = mag - np.median(mag)
        deep.append(np.mean(offset > 0.7 * offset.max()))
    width_at_1d = var.shape["width_at_1d"]
    assert 0.07 <= width_at_1d <= 0.16
    assert deep[0] == pytest.approx(width_at_1d * np.sqrt(1 - 0.7**2), rel=0.02)
    assert deep[0] / deep[1] == pytest.approx(9.0, rel=0.03)


def test_flares_only_brighten_and_are_shared_by_bands():
    var = draw_variability("fla", np.random.default_rng(5))
    t = np.sort(var.flares[:, 0][:5, None] + np.linspace(0, 0.05, 20)).ravel()
    g, r = variability_mag(var, t, 1), variability_mag(var, t, 2)
    assert np.all(r <= 0) and np.all(g <= r + 1e-12)
    assert r.min() < -0.01


def test_simulate_light_curve_overrides_and_errors():
    t = np.linspace(58200, 58300, 500)
    mag, var = simulate_light_curve("rrc", t, np.random.default_rng(0), period=0.3, amplitude=0.4)
    assert var.period == 0.3 and np.ptp(mag) == pytest.approx(0.4, rel=0.05)
    with pytest.raises(ValueError, match="aperiodic"):
        simulate_light_curve("nonvar", t, np.random.default_rng(0), period=1.0)


# --------------------------------------------------------------------------- catalogues, alerts


def _nearest_arcsec(sources: pd.DataFrame, catalog: pd.DataFrame) -> np.ndarray:
    dra = (sources["ra"].to_numpy()[:, None] - catalog["ra"].to_numpy()) * np.cos(
        np.radians(sources["dec"].to_numpy()[:, None])
    )
    ddec = sources["dec"].to_numpy()[:, None] - catalog["dec"].to_numpy()
    return np.hypot(dra, ddec).min(axis=1) * 3600


def test_most_stars_have_counterparts_within_an_arcsecond(archive):
    stars = archive.truth().drop_duplicates(["ra", "dec"])
    for name, low in [("Gaia_EDR3", 0.8), ("PS1_DR1", 0.85), ("AllWISE", 0.3)]:
        distance = _nearest_arcsec(stars, archive.xmatch_catalog(name))
        matched = distance < 1.0
        assert low < matched.mean() < 1.0, name  # most, never all
        assert np.all(distance[~matched] > 1.0)


def test_parallaxes_follow_classes(archive):
    truth = archive.truth().drop_duplicates(["ra", "dec"])
    gaia = archive.xmatch_catalog("Gaia_EDR3")
    from scope_assets.features.xmatch import crossmatch

    matched = crossmatch(truth, gaia, "Gaia_EDR3")
    parallax = matched["Gaia_EDR3__parallax"].groupby(truth["class"]).median()
    assert parallax["fla"] > 1.0  # nearby M dwarfs
    assert parallax["ceph"] < 0.2  # distant supergiants


def test_alerts(archive):
    from scope_assets.features.xmatch import alert_stats

    alerts = archive.alerts()
    assert list(alerts.columns) == ["candid", "objectId", "ra", "dec", "jd", "braai"]
    assert alerts["candid"].is_unique
    assert alerts.loc[alerts["jd"] < 2458635.5, "braai"].isna().all()
    assert alerts.loc[alerts["jd"] > 2458700, "braai"].between(0, 1).all()
    truth = archive.truth()
    stats = alert_stats(truth, alerts)
    per_class = stats["n_ztf_alerts"].groupby(truth["class"]).mean()
    assert per_class["nonvar"] == 0
    assert per_class["mir"] > per_class["dscu"]
    assert per_class["rrab"] > per_class["dscu"]


# --------------------------------------------------------------------------- CLI


def test_cli_writes_and_refuses_to_overwrite(tmp_path, capsys):
    target = tmp_path / "archive"
    assert main(["--archive", str(target), "--n-sources", "30", "--seed", "3"]) == 0
    assert LocalArchive(target).manifest["seed"] == 3
    assert main(["--archive", str(target), "--n-sources", "30"]) == 2
    assert "overwrite" in capsys.readouterr().err
    assert main(["--archive", str(target), "--n-sources", "20", "--overwrite"]) == 0
    assert len(LocalArchive(target).source_ids(296)) == 20


def test_cli_default_archive_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("SCOPE_DATA_DIR", str(tmp_path / "root"))
    assert main(["--n-sources", "5"]) == 0
    assert (tmp_path / "root" / "archive" / "manifest.json").is_file()
    monkeypatch.delenv("SCOPE_DATA_DIR")
    monkeypatch.chdir(tmp_path)
    assert main(["--n-sources", "5"]) == 0
    assert (tmp_path / "data" / "archive" / "manifest.json").is_file()
