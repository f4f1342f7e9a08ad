"""pytest fixtures for the Kowalski/Fritz emulator (a plugin module; tests/conftest.py imports it).

The fixture archive is written by hand with pyarrow in the archive layout, so these tests do not
depend on the simulator: 3 readout channels of field 296, 24 light curves with known quirks
(NaN magnitudes, flagged points, all three programids, different lengths), cross-match rows with
a nearer and a farther candidate, an int64 Gaia id above 2**53, alerts with and without ``braai``,
and a small features catalogue.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import requests

from scope_assets.emulator import Emulator, load_kowalski_catalogs, start_emulator
from scope_assets.emulator.catalog import Catalog
from scope_assets.features.xmatch import XMATCH_COLUMNS
from scope_assets.fritz.fritz_client import FritzClient
from scope_assets.kowalski.client import KowalskiClient
from scope_assets.lightcurves.raw import LIGHTCURVE_SCHEMA

FIXTURE_FIELD = 296
FIXTURE_RCIDS = (0, 1, 6)  # (ccd 1, quad 1), (ccd 1, quad 2), (ccd 2, quad 3)
FIXTURE_CENTRE = (100.0, 20.0)
EMULATOR_KOWALSKI_USER = "scope-test"
EMULATOR_KOWALSKI_PASSWORD = "kowalski-pw-5f2c9a"
EMULATOR_FRITZ_TOKEN = "fritz-token-9b7e3d1c"
GAIA_BIG_ID = 4_000_000_000_000_000_123
EMULATOR_SOURCES = "ZTF_sources_20240515"
ARCSEC = 1.0 / 3600.0


def fixture_positions() -> list[tuple[int, int, float, float]]:
    """(rcid, object index, ra, dec) of the 12 fixture objects (4 per readout channel)."""
    ra0, dec0 = FIXTURE_CENTRE
    return [
        (rc, k, ra0 + 0.05 * i + 0.01 * k, dec0 + 0.03 * k - 0.02 * i)
        for i, rc in enumerate(FIXTURE_RCIDS)
        for k in range(4)
    ]


def fixture_id(rc: int, filterid: int, k: int) -> int:
    return 10**13 + FIXTURE_FIELD * 10**9 + rc * 10**7 + filterid * 10**6 + k + 1


def _light_curve_rows(rc: int, rng: np.random.Generator) -> list[dict]:
    rows = []
    for r, k, ra, dec in fixture_positions():
        if r != rc:
            continue
        for filterid in (1, 2):
            n = 8 + 9 * k + 3 * filterid  # 11 … 41 points
            hmjd = np.sort(58200.0 + rng.uniform(0, 1500, n))
            mag = (17.0 + 0.3 * np.sin(hmjd / 3.7) + rng.normal(0, 0.02, n)).astype(np.float32)
            if k == 1:
                mag[2] = np.nan
            catflags = np.where(np.arange(n) % 7 == 3, 32768, 0).astype(np.int32)
            rows.append(
                {
                    "objectid": fixture_id(rc, filterid, k),
                    "filterid": filterid,
                    "fieldid": FIXTURE_FIELD,
                    "rcid": rc,
                    "objra": ra,
                    "objdec": dec,
                    "nepochs": n,
                    "hmjd": hmjd.tolist(),
                    "mag": mag.tolist(),
                    "magerr": np.full(n, 0.02, np.float32).tolist(),
                    "clrcoeff": np.full(n, 0.1, np.float32).tolist(),
                    "catflags": catflags.tolist(),
                    "programid": (np.arange(n) % 3 + 1).astype(np.int8).tolist(),
                }
            )
    return rows


def _catalog_row(name: str, _id: int, ra: float, dec: float, value: float) -> dict:
    """A cross-match row with every column the feature pipeline reads (strings for ``ph_qual``)."""
    row: dict = {"_id": _id, "ra": ra, "dec": dec}
    for i, column in enumerate(XMATCH_COLUMNS[name]):
        row[column] = "AABU" if column == "ph_qual" else value + 0.01 * i
    return row


def _xmatch_tables() -> dict[str, pa.Table]:
    """Gaia: a 0.5" and a 1.5" candidate per object (ids above 2**53); AllWISE: every other
    object at 0.8"; PS1: 5" away (outside the default 2" radius)."""
    gaia, wise, ps1 = [], [], []
    for j, (_, k, ra, dec) in enumerate(fixture_positions()):
        gaia.append(
            _catalog_row(
                "Gaia_EDR3",
                GAIA_BIG_ID + 10 * j,
                ra + 0.5 * ARCSEC / math.cos(math.radians(dec)),
                dec,
                16.0 + j,
            )
        )
        gaia.append(
            _catalog_row("Gaia_EDR3", GAIA_BIG_ID + 10 * j + 1, ra, dec + 1.5 * ARCSEC, 19.0)
        )
        if k % 2 == 0:
            wise.append(_catalog_row("AllWISE", 1_000_000 + j, ra, dec - 0.8 * ARCSEC, 14.0 + j))
        ps1.append(_catalog_row("PS1_DR1", 150_000_000_000_000_000 + j, ra, dec + 5 * ARCSEC, 17.0))
    gaia[3]["parallax"] = math.nan
    return {
        "Gaia_EDR3": pa.Table.from_pylist(gaia),
        "AllWISE": pa.Table.from_pylist(wise),
        "PS1_DR1": pa.Table.from_pylist(ps1),
    }


def _alerts_table() -> pa.Table:
    rows = []
    for j, (_, k, ra, dec) in enumerate(fixture_positions()[:6]):
        for a in range(k + 1):
            rows.append(
                {
                    "candid": 2_000_000_000_000_000_000 + 100 * j + a,
                    "objectId": f"ZTF20emu{j:04d}",
                    "ra": ra + 0.2 * ARCSEC,
                    "dec": dec,
                    "jd": 2459300.5 + j + 0.1 * a,
                    "braai": math.nan if (j == 1) else 0.5 + 0.1 * a,
                }
            )
    return pa.Table.from_pylist(
        rows,
        schema=pa.schema(
            [
                ("candid", pa.int64()),
                ("objectId", pa.string()),
                ("ra", pa.float64()),
                ("dec", pa.float64()),
                ("jd", pa.float64()),
                ("braai", pa.float32()),
            ]
        ),
    )


def _features_table() -> pa.Table:
    rows = []
    for rc, k, ra, dec in fixture_positions():
        for filterid in (1, 2):
            _id = fixture_id(rc, filterid, k)
            rows.append(
                {
                    "_id": _id,
                    "ra": ra,
                    "dec": dec,
                    "field": FIXTURE_FIELD,
                    "ccd": rc // 4 + 1,
                    "quad": rc % 4 + 1,
                    "n": 8 + 9 * k + 3 * filterid,
                    "median": 17.0 + 0.01 * k,
                    "period_ELS_ECE_EAOV": 0.5 + k if k != 3 else math.nan,
                    "dmdt": np.full((26, 26), 0.01 * k).tolist(),
                }
            )
    return pa.Table.from_pylist(rows)


def write_fixture_archive(root: Path, with_features: bool = True) -> Path:
    """Write the small fixture archive to ``root`` and return it."""
    rng = np.random.default_rng(5)
    field_dir = root / "lightcurves" / f"field_{FIXTURE_FIELD}"
    field_dir.mkdir(parents=True)
    for rc in FIXTURE_RCIDS:
        table = pa.Table.from_pylist(_light_curve_rows(rc, rng), schema=LIGHTCURVE_SCHEMA)
        pq.write_table(table, field_dir / f"rc_{rc:02d}.parquet")
    (root / "xmatch").mkdir()
    for name, table in _xmatch_tables().items():
        pq.write_table(table, root / "xmatch" / f"{name}.parquet")
    (root / "alerts").mkdir()
    pq.write_table(_alerts_table(), root / "alerts" / "ZTF_alerts.parquet")
    if with_features:
        (root / "features").mkdir()
        pq.write_table(_features_table(), root / "features" / "ZTF_source_features_DR16.parquet")
    manifest = {
        "format": "scope-assets-archive/1",
        "fields": [FIXTURE_FIELD],
        "created_by": "tests/conftest_emulator.py",
        "seed": 5,
        "n_sources": 24,
    }
    (root / "manifest.json").write_text(json.dumps(manifest))
    return root


@pytest.fixture(scope="session")
def emulator_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Path of the hand-written fixture archive (read-only; shared by the session)."""
    return write_fixture_archive(tmp_path_factory.mktemp("emulator") / "archive")


@pytest.fixture(scope="session")
def emulator_catalogs(emulator_archive: Path) -> dict[str, Catalog]:
    """The Kowalski collections of the fixture archive, loaded once."""
    return load_kowalski_catalogs(emulator_archive)


@pytest.fixture
def emulator(emulator_archive: Path, emulator_catalogs: dict[str, Catalog]) -> Iterator[Emulator]:
    """A fresh Kowalski + Fritz emulator (test credentials) for one test."""
    with start_emulator(
        emulator_archive,
        catalogs=emulator_catalogs,
        kowalski_users={EMULATOR_KOWALSKI_USER: EMULATOR_KOWALSKI_PASSWORD},
        fritz_tokens=[EMULATOR_FRITZ_TOKEN],
    ) as running:
        yield running


@pytest.fixture
def kowalski_env(emulator, monkeypatch):
    """The emulator's Kowalski in ``KOWALSKI_*`` (username and password; no token)."""
    monkeypatch.setenv("KOWALSKI_URL", emulator.kowalski_url)
    monkeypatch.setenv("KOWALSKI_USERNAME", EMULATOR_KOWALSKI_USER)
    monkeypatch.setenv("KOWALSKI_PASSWORD", EMULATOR_KOWALSKI_PASSWORD)
    monkeypatch.setenv("KOWALSKI_TIMEOUT", "5")
    monkeypatch.delenv("KOWALSKI_TOKEN", raising=False)
    return emulator


def run_query(kowalski, query_type: str, query: dict, kwargs: dict | None = None) -> dict:
    """One query through penquins; the answer of the ``default`` instance."""
    body = {"query_type": query_type, "query": query}
    if kwargs is not None:
        body["kwargs"] = kwargs
    return kowalski.query(query=body)["default"]


def kowalski_auth(url: str, **body) -> requests.Response:
    return requests.post(f"{url}/api/auth", json=body, timeout=5)


def kowalski_token(emulator: Emulator) -> str:
    """A token for the emulator's Kowalski user, fetched over HTTP."""
    reply = kowalski_auth(
        emulator.kowalski_url, username=EMULATOR_KOWALSKI_USER, password=EMULATOR_KOWALSKI_PASSWORD
    )
    return reply.json()["token"]


@pytest.fixture
def emulator_penquins(emulator: Emulator):
    """The real penquins client, logged in to the emulator with username and password."""
    from penquins import Kowalski

    kowalski = Kowalski(
        username=EMULATOR_KOWALSKI_USER,
        password=EMULATOR_KOWALSKI_PASSWORD,
        protocol="http",
        host=emulator.kowalski.host,
        port=emulator.kowalski.port,
        verbose=False,
        timeout=5,
        backoff_factor=0,
    )
    yield kowalski
    kowalski.close_all()


def kowalski_client_for(emulator: Emulator, **overrides) -> KowalskiClient:
    """The project's Kowalski client against the emulator: user login, one fast retry."""
    settings = dict(
        protocol="http",
        host=emulator.kowalski.host,
        port=emulator.kowalski.port,
        username=EMULATOR_KOWALSKI_USER,
        password=EMULATOR_KOWALSKI_PASSWORD,
        timeout_s=5,
        max_retries=1,
        backoff_factor=0,
    )
    return KowalskiClient(**{**settings, **overrides})


@pytest.fixture
def emulator_kowalski_client(emulator: Emulator) -> Iterator[KowalskiClient]:
    """The project's Kowalski client against the emulator (fast retries)."""
    client = kowalski_client_for(emulator, max_retries=2)
    yield client
    client.close()


FRITZ_AUTH = {"Authorization": f"token {EMULATOR_FRITZ_TOKEN}"}


class FritzHttp:
    """Tiny raw-HTTP helper: returns (status, body json) so tests see exactly what the server sent."""

    def __init__(self, url: str, headers: dict | None = None) -> None:
        self.url = url
        self.headers = FRITZ_AUTH if headers is None else headers

    def __call__(
        self, method: str, path: str, headers: dict | None = None, **kwargs
    ) -> tuple[int, dict]:
        headers = {**self.headers, **(headers or {})}
        reply = requests.request(method, self.url + path, headers=headers, timeout=5, **kwargs)
        return reply.status_code, reply.json()


@pytest.fixture
def fritz(emulator: Emulator) -> FritzHttp:
    """Raw HTTP to the Fritz emulator with the test token."""
    return FritzHttp(emulator.fritz_url)


@pytest.fixture
def obj(emulator: Emulator) -> str:
    """An object saved to the Sitewide group."""
    _, _, ra, dec = fixture_positions()[0]
    emulator.fritz_service.add_object("ZTFJ064000.00+200000.0", ra, dec)
    return "ZTFJ064000.00+200000.0"


def classification(obj_id: str, label: str = "RRab", **extra) -> dict:
    """One classification item as SCoPe posts it."""
    return {
        "obj_id": obj_id,
        "classification": label,
        "taxonomy_id": 1015,
        "probability": 0.9,
        "origin": "SCoPe",
        **extra,
    }


@pytest.fixture
def emulator_fritz_client(emulator: Emulator) -> Iterator[FritzClient]:
    """The project's Fritz client against the emulator (short timeout, fast backoff, no rate limit)."""
    client = FritzClient(
        emulator.fritz_url,
        EMULATOR_FRITZ_TOKEN,
        timeout_s=2.0,
        max_retries=3,
        backoff_s=0.01,
        max_backoff_s=0.05,
        rate_limit_per_s=None,
    )
    yield client
    client.close()
