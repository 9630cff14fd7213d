"""Driving the portal in Debian's headless Chromium with Playwright (its own browser
download is blocked here, so the system binary is launched)."""
from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


def chromium_missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if not Path(CHROMIUM).exists():
        return f"no Chromium at {CHROMIUM} (apt install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed"
    return None


@contextmanager
def browser() -> Iterator:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


def new_page(b, base_url: str, width: int = 1280, height: int = 900):
    """A fresh page whose script errors are collected in page.errors (HTTP error statuses are
    expected: pages handle 401/404/422 themselves, and Chromium logs each one)."""
    page = b.new_context(viewport={"width": width, "height": height}, base_url=base_url, accept_downloads=True).new_page()
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    page.on("console", lambda msg: page.errors.append(msg.text) if msg.type == "error" and "Failed to load resource" not in msg.text else None)
    return page


def log_in(page, email: str, password: str) -> None:
    page.goto("/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Sites", exact=True).wait_for()


def wait_for_graph(page, timeout: float = 30_000) -> None:
    """Until the graph is drawn with every layer (trend, temperature, expected)."""
    page.locator("section.graph[data-state=ready][data-complete=true]").wait_for(timeout=timeout)


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
