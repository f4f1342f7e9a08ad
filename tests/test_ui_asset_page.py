"""The Dagster UI in a real browser: after the tiny demo, the asset page of a field's
``dnn_xgb_comparison`` shows the agreement table and, behind "[Show Markdown]", the histogram
thumbnail. Headless Chromium (Debian's ``chromium``) driven by Playwright's Python API; the
screenshots go to ``artifacts/ui/`` (kept by CI). Every process the test starts is stopped."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from conftest_operate import PROJECT_ROOT, TINY_FIELDS

pytestmark = pytest.mark.ui

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = PROJECT_ROOT / "artifacts" / "ui"
STARTUP_TIMEOUT_S = 240
FIELD = TINY_FIELDS[0]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_up(url: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"dagster-webserver exited with {server.returncode}")
        try:
            if requests.get(f"{url}/server_info", timeout=5).ok:
                return
        except requests.ConnectionError:
            pass
        time.sleep(1.0)
    raise TimeoutError(f"dagster-webserver not up at {url} after {STARTUP_TIMEOUT_S} s")


@pytest.fixture
def webserver(tiny_demo, tmp_path) -> Iterator[str]:
    """``dagster-webserver`` on the demo's DAGSTER_HOME, in its own process group."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    command = [str(Path(sys.executable).with_name("dagster-webserver")), "-w", "workspace.yaml"]
    command += ["-h", "127.0.0.1", "-p", str(port)]
    with open(tmp_path / "webserver.log", "w") as log:
        server = subprocess.Popen(
            command,
            cwd=PROJECT_ROOT,
            env=tiny_demo.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            _wait_until_up(url, server)
            yield url
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()


@pytest.fixture
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} missing: CI must install Debian's chromium package")
        pytest.skip(f"{CHROMIUM} missing (apt-get install -y chromium)")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def _new_page(browser, height: int):
    """A page that dismisses the first visit's "Join the community" dialog whenever it shows up:
    it opens a moment after the page settles and would otherwise swallow the next click."""
    page = browser.new_page(viewport={"width": 1400, "height": height})
    skip = page.get_by_role("button", name="Skip")
    page.add_locator_handler(skip, lambda button: button.click())
    return page


def test_comparison_page_shows_histogram_and_agreement_table(webserver, browser):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = _new_page(browser, height=1000)
    page.goto(
        f"{webserver}/assets/dnn_xgb_comparison?view=partitions&partition={FIELD}",
        wait_until="networkidle",
        timeout=120_000,
    )
    agreement = page.locator("tr", has_text="agreement").locator("table").first
    agreement.wait_for(state="visible", timeout=60_000)
    for header in ("tag", "agreement", "dnn_positive", "xgb_positive"):
        assert header in agreement.inner_text()
    assert "reports/field_" in page.locator("tr", has_text="dnn_xgb_histograms_png").inner_text()
    page.screenshot(path=str(ARTIFACTS / f"dnn_xgb_comparison_{FIELD}.png"), full_page=True)

    preview = page.locator("tr", has_text="dnn_xgb_histograms_preview")
    preview.get_by_text("[Show Markdown]").click()
    histogram = page.locator("img[alt='dnn_xgb_histograms']")
    histogram.wait_for(state="visible", timeout=30_000)
    assert histogram.get_attribute("src").startswith("data:image/png;base64,")
    assert histogram.evaluate("image => image.naturalWidth") > 100
    page.screenshot(path=str(ARTIFACTS / f"dnn_xgb_histograms_{FIELD}.png"))


def test_backfills_tab_lists_the_demo_backfill(tiny_demo, webserver, browser):
    (backfill,) = tiny_demo.instance().get_backfills()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = _new_page(browser, height=800)
    page.goto(f"{webserver}/overview/backfills", wait_until="networkidle", timeout=120_000)
    page.get_by_text(backfill.backfill_id).wait_for(state="visible", timeout=60_000)
    listing = page.inner_text("body")
    assert "field_pipeline" in listing and "Success" in listing
    page.screenshot(path=str(ARTIFACTS / "backfills.png"))
