"""KowalskiSkySource over the emulator gives what ArchiveSkySource gives for the same sky."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest_emulator import GAIA_BIG_ID, fixture_id

from scope_assets.kowalski.client import KowalskiError
from scope_assets.kowalski.kowalski_sky import KowalskiSkySource
from scope_assets.lightcurves.archive import LocalArchive
from scope_assets.lightcurves.raw import RawLightCurves
from scope_assets.lightcurves.sky_source import ArchiveSkySource


@pytest.fixture
def archive(emulator_archive) -> ArchiveSkySource:
    return ArchiveSkySource(LocalArchive(emulator_archive))


@pytest.fixture
def kowalski(emulator_kowalski_client) -> KowalskiSkySource:
    return KowalskiSkySource(emulator_kowalski_client, page_size=5, ids_per_query=4)


def by_id(curves: RawLightCurves) -> RawLightCurves:
    return curves.take(np.argsort(curves.batch.ids, kind="stable"))


def assert_same_curves(expected: RawLightCurves, actual: RawLightCurves) -> None:
    pd.testing.assert_frame_equal(expected.meta, actual.meta)
    for name in ("ids", "offsets", "t", "mag", "magerr"):
        np.testing.assert_array_equal(getattr(expected.batch, name), getattr(actual.batch, name))
    np.testing.assert_array_equal(expected.catflags, actual.catflags)
    np.testing.assert_array_equal(expected.programid, actual.programid)
    assert actual.catflags.dtype == np.int32 and actual.programid.dtype == np.int8


def sorted_ids(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values("_id").reset_index(drop=True)


def test_fields(archive, kowalski):
    assert kowalski.fields() == archive.fields() == [296]


@pytest.mark.parametrize(
    ("ccd", "quad", "min_nobs"),
    [(None, None, 0), (1, None, 0), (1, 2, 0), (None, None, 30), (5, 1, 0)],
)
def test_source_ids_equal_the_archive_and_keep_every_page(
    archive, kowalski, emulator, ccd, quad, min_nobs
):
    expected = sorted_ids(archive.source_ids(296, ccd=ccd, quad=quad, min_nobs=min_nobs))
    emulator.kowalski.log.clear()
    actual = kowalski.source_ids(296, ccd=ccd, quad=quad, min_nobs=min_nobs)
    pd.testing.assert_frame_equal(expected, actual)
    pages = [r for r in emulator.kowalski.requests() if '"find"' in r.body.decode()]
    assert len(pages) == -(-len(expected) // 5)  # every page of 5 fetched


def test_light_curves_equal_the_archive(archive, kowalski):
    expected = by_id(RawLightCurves.concat(list(archive.iter_light_curves(296))))
    batches = list(kowalski.iter_light_curves(296, batch_size=5))
    assert [len(b) for b in batches] == [5, 5, 5, 5, 4]
    assert_same_curves(expected, RawLightCurves.concat(batches))
    assert np.isnan(expected.batch.mag).any()


def test_light_curves_by_id_skip_unknown_ids_and_match_by_id(archive, kowalski, emulator):
    wanted = [fixture_id(6, 2, 3), fixture_id(0, 1, 0), 10296000000999, fixture_id(1, 1, 2)]
    emulator.kowalski.inject(
        delay_s=0.2, body_regex=str(fixture_id(0, 1, 0))
    )  # answers out of order
    actual = RawLightCurves.concat(list(kowalski.iter_light_curves(296, ids=wanted, batch_size=1)))
    expected = by_id(RawLightCurves.concat(list(archive.iter_light_curves(296, ids=wanted))))
    assert actual.batch.ids.tolist() == sorted(i for i in wanted if i != 10296000000999)
    assert_same_curves(expected, actual)


def test_light_curves_of_one_quad(archive, kowalski):
    expected = by_id(RawLightCurves.concat(list(archive.iter_light_curves(296, ccd=2, quad=3))))
    actual = RawLightCurves.concat(list(kowalski.iter_light_curves(296, ccd=2, quad=3)))
    assert_same_curves(expected, actual)


def test_a_lost_light_curve_chunk_fails_loudly(kowalski, emulator):
    emulator.kowalski.inject(503, count=None, body_regex=str(fixture_id(1, 2, 0)))
    with pytest.raises(KowalskiError):
        list(kowalski.iter_light_curves(296, batch_size=4))


def test_crossmatch_equals_the_archive(archive, kowalski):
    sources = archive.source_ids(296)
    expected = archive.crossmatch(sources)
    actual = kowalski.crossmatch(sources)
    pd.testing.assert_frame_equal(expected, actual, check_dtype=False)
    assert actual["Gaia_EDR3___id"].iloc[0] == GAIA_BIG_ID  # closest of two, exact int64 > 2**53
    assert actual["PS1_DR1___id"].isna().all()  # 5" away: outside the 2" radius
    assert actual["AllWISE__ph_qual"].dropna().eq("AABU").all()


def test_alert_stats_equal_the_archive(archive, kowalski):
    sources = archive.source_ids(296)
    expected = archive.alert_stats(sources)
    actual = kowalski.alert_stats(sources)
    pd.testing.assert_frame_equal(expected, actual)
    assert (actual["n_ztf_alerts"] > 0).sum() == 12 and actual[
        "mean_ztf_alert_braai"
    ].isna().sum() == 2


def test_features_in_request_order(kowalski):
    wanted = [fixture_id(6, 1, 1), fixture_id(0, 2, 3), 10296000000999, fixture_id(0, 1, 0)]
    features = kowalski.features(wanted)
    assert features["_id"].tolist() == [wanted[0], wanted[1], wanted[3]]
    assert np.asarray(features["dmdt"].iloc[0]).shape == (26, 26)
    assert np.isnan(features["period_ELS_ECE_EAOV"].iloc[1])
    subset = kowalski.features(wanted[:1], projection={"_id": 1, "n": 1})
    assert list(subset.columns) == ["_id", "n"]
