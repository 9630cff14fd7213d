"""Portal benchmark: first meaningful paint of a portfolio graph holding a year of hourly
data, measured in headless Chromium through the whole stack (the portal's own
performance marks around fetch + first draw), side by side with the bare API call the
graph depends on."""
from __future__ import annotations

import io
import logging
import shutil
import statistics
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import httpx
from rich.console import Console

from meterstream.broker import free_port
from meterstream.demo import run_demo
from meterstream.stack import Stack
from shared.config import Settings
from shared.synthetic.demo import DEMO_EMAIL, DEMO_PASSWORD

log = logging.getLogger(__name__)
TARGET_MS = 1000.0
# Debian's Chromium (Playwright's own browser download is blocked on these machines).
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def _settings(run_dir: Path) -> Settings:
    return Settings(run_dir=run_dir, gateway_port=free_port(),
                    **{f"{s}_url": f"http://127.0.0.1:{free_port()}" for s in ("ingest", "portfolio", "alerts", "aq")})


def _api_ms(base_url: str, path: str, params: dict, repeats: int) -> float:
    with httpx.Client(base_url=base_url, timeout=120) as client:
        token = client.post("/api/v1/auth/token", data={"username": DEMO_EMAIL, "password": DEMO_PASSWORD}).json()["access_token"]
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            client.get(path, params=params, headers={"Authorization": f"Bearer {token}"}).raise_for_status()
            times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def _paint_ms(base_url: str, route: str, repeats: int) -> float:
    """Median of the portal's own `portfolio-graph` measure (fetch start to first painted frame)."""
    from playwright.sync_api import sync_playwright

    times = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            for _ in range(repeats):
                page = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=base_url).new_page()
                page.goto("/")
                page.get_by_label("Email").fill(DEMO_EMAIL)
                page.get_by_label("Password").fill(DEMO_PASSWORD)
                page.get_by_role("button", name="Sign in").click()
                page.get_by_role("heading", name="Sites", exact=True).wait_for()
                page.goto(route)
                page.locator("section.graph[data-state=ready]").wait_for(timeout=120_000)
                times.append(page.evaluate("performance.getEntriesByName('portfolio-graph')[0].duration"))
                page.context.close()
        finally:
            browser.close()
    return statistics.median(times)


def run(scale: float = 1.0) -> list[dict]:
    if not Path(CHROMIUM).exists():
        log.warning("portal bench skipped: no Chromium at %s", CHROMIUM)
        return []
    repeats = max(1, round(3 * scale))
    today = date.today()
    start, end = (today - timedelta(days=365)).isoformat(), today.isoformat()
    with tempfile.TemporaryDirectory() as tmp:
        stack = Stack(_settings(Path(tmp)), embedded_broker=True)
        try:
            stack.start()
            stack.wait_ready(120)
            run_demo(stack.settings, stack.gateway_url, months=12, console=Console(file=io.StringIO()),
                     today=today)
            params = {"start": start, "end": end, "granularity": "hour", "fuel": "electricity"}
            api = _api_ms(stack.gateway_url, "/api/v1/portfolios/all/consumption", params, repeats)
            paint = _paint_ms(stack.gateway_url, f"/#/portfolios/all?fuel=electricity&granularity=hour&start={start}&end={end}",
                              repeats)
        finally:
            stack.stop()
    return [{
        "scenario": "portal: first paint of a portfolio graph, 1 year hourly (8,760 points), headless Chromium",
        "measured": f"{paint:.0f} ms",
        "baseline": f"{api:.0f} ms for the API call alone",
        "ratio": round(paint / api, 2) if api else 0.0,
        "target": f"< {TARGET_MS:.0f} ms",
        "ok": paint < TARGET_MS,
    }]
