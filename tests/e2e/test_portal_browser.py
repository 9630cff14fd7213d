"""The web portal in a real headless Chromium against the whole stack: log in, sites
and the fuel toggle, a broker switching customer (portfolios follow), a portfolio graph
(fuel switch, drag-to-zoom, reset), missing locations, export, trackers with API
validation errors shown next to their fields, notification settings, contacts, UK
month boundaries, and the first-paint mark of a year of hourly data."""
from __future__ import annotations

import io
import logging
import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect
from rich.console import Console

from meterstream.demo import run_demo
from shared.synthetic.demo import BROKER_EMAIL, BROKER_PASSWORD, DEMO_EMAIL, DEMO_PASSWORD
from tests.e2e.conftest import TODAY
from tests.e2e.portal_helpers import browser, chromium_missing, log_in, new_page, screenshot, wait_for_graph

pytestmark = [pytest.mark.e2e, pytest.mark.browser,
              pytest.mark.skipif(chromium_missing() is not None, reason=f"browser tests need Chromium: {chromium_missing()}")]
log = logging.getLogger(__name__)


@pytest.fixture(scope="module")
def portal(demo_stack):
    """The demo stack with 13 months of history replayed (a year for graphs, plus last year's month for the trend)."""
    run_demo(demo_stack.stack.settings, demo_stack.url, months=13, console=Console(file=io.StringIO()), today=TODAY)
    return demo_stack


@pytest.fixture(scope="module")
def chromium(portal):
    # After the stack: Playwright's sync API keeps an event loop running, and the stack starts with asyncio.run.
    with browser() as b:
        yield b


@pytest.fixture
def page(chromium, portal):
    page = new_page(chromium, portal.url)
    yield page
    assert page.errors == [], f"browser errors: {page.errors}"
    page.context.close()


def assert_fits_a_narrow_screen(page) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), "wider than a phone"


def api_offers(client, path: str) -> bool:
    return client.http.get(path).status_code != 404


def test_log_in_and_switch_fuel_on_the_sites_list(page):
    page.goto("/")
    page.get_by_label("Email").fill(DEMO_EMAIL)
    page.get_by_label("Password").fill("wrong-password")
    page.get_by_role("button", name="Sign in").click()
    page.locator("#login-error", has_text="Wrong email or password").wait_for()

    log_in(page, DEMO_EMAIL, DEMO_PASSWORD)
    table = page.locator("table.sites-table")
    assert "Head Office" in table.inner_text() and "Gas 7512009834" in table.inner_text()
    page.locator(".fuel-toggle label", has_text="Gas").click()
    page.wait_for_url("**#/sites?fuel=gas")
    expect(table).not_to_contain_text("Power 1200004812369")
    expect(table).to_contain_text("Gas 7512009834")
    expect(table).not_to_contain_text("Edinburgh Sales Office")  # a power-only site
    screenshot(page, "sites-gas")

    page.get_by_role("button", name="View missing locations").click()
    missing = page.locator("#missing-locations table")
    missing.wait_for()
    assert "Nottingham Works" in missing.inner_text() and "half-hourly settled" in missing.inner_text()

    page.get_by_role("button", name="Log out").click()
    page.get_by_role("button", name="Sign in").wait_for()
    assert page.evaluate("sessionStorage.getItem('meterstream.token')") is None


def test_broker_switches_customer_and_sees_the_opt_out_choice(page):
    log_in(page, BROKER_EMAIL, BROKER_PASSWORD)
    picker = page.get_by_label("Customer")
    picker.select_option(label="Corner Café")
    expect(page.locator("table.sites-table")).to_contain_text("Corner Café")
    expect(page.locator("table.sites-table")).not_to_contain_text("Head Office")
    page.get_by_role("link", name="Accounts").click()
    account = page.locator("li.account", has_text="Corner Café")
    account.wait_for()
    assert "opt out window" in account.inner_text()
    assert "7 days" in account.inner_text()
    account.get_by_role("button", name="Opt out of half-hourly data").wait_for()
    screenshot(page, "broker-opt-out")


def test_portfolio_graph_fuel_zoom_missing_and_export(page, tmp_path):
    log_in(page, DEMO_EMAIL, DEMO_PASSWORD)
    page.get_by_role("link", name="Portfolios").click()
    page.locator("li.group a", has_text="All sites").first.click()
    wait_for_graph(page)
    graph = page.locator("section.graph")
    assert int(graph.get_attribute("data-points")) > 24 * 28  # a month of hourly intervals

    page.locator(".fuel-toggle label", has_text="Gas").click()
    page.wait_for_url("**fuel=gas**")
    expect(graph).to_have_attribute("aria-label", "All sites Gas consumption")
    wait_for_graph(page)

    over = page.locator(".u-over").bounding_box()
    y = over["y"] + over["height"] / 2
    page.mouse.move(over["x"] + over["width"] * 0.3, y)
    page.mouse.down()
    page.mouse.move(over["x"] + over["width"] * 0.5, y, steps=8)
    page.mouse.up()
    assert graph.get_attribute("data-zoomed") == "true"
    assert "(zoomed)" in page.locator(".range-text").inner_text()
    page.get_by_role("button", name="Pan left").click()
    assert graph.get_attribute("data-zoomed") == "true"
    screenshot(page, "portfolio-zoomed")
    page.get_by_role("button", name="Reset zoom").click()
    assert graph.get_attribute("data-zoomed") == "false"

    page.get_by_role("button", name="View missing locations").click()
    page.locator("#missing-locations table, #missing-locations .notice").first.wait_for()

    page.get_by_role("button", name="Export…").click()
    dialog = page.locator("dialog.export-dialog")
    for option in ("Half-hourly rows per site", "One row per site and day", "Portfolio totals"):
        assert dialog.get_by_text(option, exact=True).is_visible()
    dialog.get_by_label("From").fill((TODAY - timedelta(days=3)).isoformat())
    dialog.get_by_label("To (exclusive)").fill((TODAY - timedelta(days=5)).isoformat())
    dialog.get_by_role("button", name="Download").click()
    assert "after the start date" in dialog.locator(".field-error:not([hidden])").first.inner_text()

    dialog.get_by_label("To (exclusive)").fill((TODAY - timedelta(days=1)).isoformat())
    dialog.get_by_text("One row per site and day", exact=True).click()
    with page.expect_download() as download:
        dialog.get_by_role("button", name="Download").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    lines = saved.read_text().splitlines()
    assert lines[0].lower().startswith("mpxn")
    assert len(lines) > 2


def test_create_a_tracker_and_see_a_validation_error(page, portal):
    if not api_offers(portal.customer, "/api/v1/trackers"):
        pytest.skip("the alerts service does not offer /api/v1/trackers yet (the page says so; see test_pages_degrade)")
    log_in(page, DEMO_EMAIL, DEMO_PASSWORD)
    page.get_by_role("link", name="Trackers").click()
    form = page.locator("form", has_text="Create a consumption tracker")
    form.get_by_label("Tracker name").fill("Head office monthly power")
    form.get_by_label("Fuel").select_option(label="Power")
    form.get_by_label("Which one").select_option(label="Head Office (1200004812369)")
    amount = form.get_by_label("Amount")
    amount.fill("-5")
    form.get_by_role("button", name="Create tracker").click()
    # The API's plain-text rule ("The tracker amount must be greater than zero.") sits under Amount.
    expect(amount).to_have_attribute("aria-invalid", "true")
    expect(form.locator(f"#{amount.get_attribute('id')}-error")).to_contain_text("amount")
    expect(form.locator(".form-error")).to_be_hidden()
    screenshot(page, "tracker-validation-error")

    amount.fill("100")
    form.get_by_label("Period").select_option(label="A date range of my choice")
    form.get_by_label("From").fill((TODAY + timedelta(days=10)).isoformat())
    form.get_by_label("To (inclusive)").fill(TODAY.isoformat())
    form.get_by_role("button", name="Create tracker").click()
    expect(form.get_by_label("To (inclusive)")).to_have_attribute("aria-invalid", "true")
    expect(amount).to_have_attribute("aria-invalid", "false")
    form.get_by_label("Period").select_option(label="Each calendar month")

    form.get_by_label("Amount").fill("25000")
    form.get_by_role("button", name="Create tracker").click()
    page.locator("li.tracker", has_text="Head office monthly power").wait_for()


def test_pages_degrade_or_work(page):
    """Every page renders something meaningful whether or not its endpoints are deployed."""
    log_in(page, DEMO_EMAIL, DEMO_PASSWORD)
    for link, heading in [("Trackers", "Consumption trackers"), ("Bill alerts", "High Bill Alerts"),
                          ("Notifications", "Notifications"), ("Contacts", "Contacts"), ("Accounts", "Accounts and enrolment")]:
        page.get_by_role("link", name=link, exact=True).click()
        page.get_by_role("heading", name=heading, level=1).wait_for()
        assert "Something went wrong" not in page.locator("main").inner_text()
    contacts = page.locator("li.contact", has_text="Accounts Payable")
    if contacts.count():
        assert contacts.get_by_role("button", name="Edit").count() == 0  # General: read-only


def test_site_graph_and_narrow_screen(chromium, portal):
    page = new_page(chromium, portal.url, width=390, height=844)
    log_in(page, DEMO_EMAIL, DEMO_PASSWORD)
    page.get_by_role("link", name="Power 1200004812369").click()
    wait_for_graph(page)
    page.get_by_label("Compare with the same period last year").check()
    page.locator(".chart-summary", has_text="Same period last year").wait_for()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    screenshot(page, "site-graph-narrow")
    assert page.errors == []
    page.context.close()


def test_first_paint_of_a_year_of_hourly_portfolio_data_is_measured(page):
    log_in(page, DEMO_EMAIL, DEMO_PASSWORD)
    start, end = (TODAY - timedelta(days=365)).isoformat(), TODAY.isoformat()
    page.goto(f"/#/portfolios/all?fuel=electricity&granularity=hour&start={start}&end={end}")
    wait_for_graph(page, timeout=60_000)
    assert int(page.locator("section.graph").get_attribute("data-points")) >= 365 * 24 - 1
    durations = page.evaluate("performance.getEntriesByName('portfolio-graph').map(e => e.duration)")
    assert len(durations) == 1 and durations[0] > 0
    log.info("first meaningful paint of a year of hourly portfolio data: %.0f ms", durations[0])
    screenshot(page, "portfolio-year-hourly")


def test_notification_settings_channels_webhook_and_unsubscribe(page, portal):
    path = "/api/v1/notifications/preferences"
    if not api_offers(portal.customer, path):
        pytest.skip("the alerts service does not offer notification preferences yet")
    log_in(page, DEMO_EMAIL, DEMO_PASSWORD)
    page.get_by_role("link", name="Notifications", exact=True).click()
    form = page.locator("form.preferences")
    expect(form.get_by_label("In-app inbox (always on)")).to_be_disabled()
    expect(form.get_by_role("checkbox", name=re.compile("^Email"))).to_be_checked()

    form.get_by_role("checkbox", name=re.compile("^Webhook")).check()
    url = form.get_by_label("Webhook URL")
    save = form.get_by_role("button", name="Save settings")
    save.click()  # no URL: the API's plain-text 422 goes under the URL field
    url_error = form.locator(f"#{url.get_attribute('id')}-error")
    expect(url_error).to_contain_text("webhook_url")
    expect(url).to_have_attribute("aria-invalid", "true")
    expect(url).to_be_focused()
    url.fill("not a url")
    save.click()  # pydantic's 422 on webhook_url, also inline
    expect(url_error).to_contain_text("URL")
    screenshot(page, "notification-settings-error")

    hook = "http://127.0.0.1:9/meterstream-alerts"  # discard port: nothing is delivered anywhere
    url.fill(hook)
    save.click()
    status = page.locator(".subscription-status")
    expect(status).to_have_text("Subscribed. Alerts now reach you by: In-app inbox, Email, Webhook.")
    stored = portal.customer.get(path)
    assert stored["webhook_url"] == hook and "webhook" in stored["channels"]
    secret = page.get_by_label("Signing secret")
    expect(secret).to_have_attribute("type", "password")
    page.get_by_role("button", name="Show secret").click()
    expect(secret).to_have_attribute("type", "text")
    expect(secret).to_have_value(stored["webhook_secret"])

    page.get_by_role("button", name="Unsubscribe from email and webhooks").click()
    expect(status).to_have_text("Unsubscribed. Alerts now reach you by: In-app inbox.")
    assert portal.customer.get(path)["unsubscribed"] is True
    screenshot(page, "notification-settings-unsubscribed")
    page.get_by_role("button", name="Resubscribe").click()
    expect(status).to_have_text("Subscribed. Alerts now reach you by: In-app inbox, Email, Webhook.")

    form.get_by_role("checkbox", name=re.compile("^Webhook")).uncheck()
    save.click()
    expect(status).to_have_text("Subscribed. Alerts now reach you by: In-app inbox, Email.")
    stored = portal.customer.get(path)
    assert stored["channels"] == ["inbox", "email"] and not stored["unsubscribed"]
    assert stored["webhook_url"] == hook  # kept for when the webhook is ticked again
    assert_fits_a_narrow_screen(page)


def test_add_a_contact_with_general_ones_read_only(page, portal):
    if not api_offers(portal.customer, "/api/v1/contacts"):
        pytest.skip("the portfolio service does not offer contacts yet")
    log_in(page, DEMO_EMAIL, DEMO_PASSWORD)
    page.get_by_role("link", name="Contacts", exact=True).click()
    general = page.locator("li.contact", has_text="Accounts Payable")
    expect(general).to_contain_text("Read-only")
    expect(general).to_contain_text("billing records")
    assert general.get_by_role("button").count() == 0
    expect(page.locator("li.contact", has_text="Priya Shah").get_by_role("button", name="Edit Priya Shah")).to_be_visible()

    form = page.locator("form.add-contact")
    form.get_by_label("Account").select_option(label="Northwind Trading - Distribution")
    form.get_by_label("Email").fill("not-an-email")
    add = form.get_by_role("button", name="Add contact")
    add.click()  # pydantic 422s: no name, a malformed email; each under its own field
    expect(form.get_by_label("Name")).to_have_attribute("aria-invalid", "true")
    expect(form.get_by_label("Email")).to_have_attribute("aria-invalid", "true")

    form.get_by_label("Name").fill("Jordan Lee")
    form.get_by_label("Email").fill("jordan.lee@northwind.example")
    form.get_by_label("Type").fill("General")
    add.click()  # 403: General contacts come from billing records
    expect(form.get_by_label("Type")).to_have_attribute("aria-invalid", "true")
    expect(form.locator(f"#{form.get_by_label('Type').get_attribute('id')}-error")).to_contain_text("General contacts")
    screenshot(page, "contact-validation-error")

    form.get_by_label("Type").fill("Energy manager")
    add.click()
    added = page.locator("li.contact", has_text="Jordan Lee")
    expect(added).to_contain_text("Energy manager")
    expect(added).to_contain_text("Northwind Trading - Distribution")
    expect(added.get_by_role("button", name="Edit Jordan Lee")).to_be_visible()
    assert any(c["name"] == "Jordan Lee" and c["editable"] for c in portal.customer.get("/api/v1/contacts"))
    assert_fits_a_narrow_screen(page)


def kwh_in(text: str) -> float:
    return float(re.search(r"Total ([\d,.]+) kWh", text).group(1).replace(",", ""))


def test_broker_portfolios_follow_the_selected_customer(page, portal):
    log_in(page, BROKER_EMAIL, BROKER_PASSWORD)
    page.get_by_label("Customer").select_option(label="Northwind Trading Ltd")
    expect(page.locator("table.sites-table")).to_contain_text("Head Office")
    page.get_by_role("link", name="Portfolios").click()
    all_sites = page.locator("li.group", has_text="All sites")
    expect(all_sites).to_contain_text("9 sites")
    expect(all_sites).to_contain_text("every site of Northwind Trading Ltd")
    create = page.locator("form", has_text="Create a portfolio group")
    expect(create).not_to_contain_text("Corner Café")
    create.get_by_label("Name").fill("Northwind depots")
    create.get_by_label("Manchester Depot").check()
    create.get_by_label("Leeds Depot").check()
    create.get_by_role("button", name="Create group").click()
    expect(page.locator("li.group", has_text="Northwind depots")).to_contain_text("2 sites")

    page.get_by_label("Customer").select_option(label="Corner Café")
    expect(page.locator("table.sites-table")).to_contain_text("Corner Café")
    page.get_by_role("link", name="Portfolios").click()
    page.get_by_role("heading", name="Create a portfolio group").wait_for()
    expect(page.locator("li.group")).to_have_count(0)  # not Northwind's group; no All sites for a single site
    expect(page.locator("form", has_text="Create a portfolio group")).not_to_contain_text("Head Office")
    screenshot(page, "broker-portfolios-corner-cafe")

    page.get_by_label("Customer").select_option(label="Northwind Trading Ltd")
    expect(page.locator("table.sites-table")).to_contain_text("Head Office")
    page.get_by_role("link", name="Portfolios").click()
    page.locator("li.group a", has_text="All sites").first.click()
    expect(page.locator(".page-head")).to_contain_text("9 sites of Northwind Trading Ltd")
    wait_for_graph(page)
    # Summed here from Northwind's meters: the same as Northwind's own login sees from the API.
    start, end = page.locator("#portfolio-graph-start").input_value(), page.locator("#portfolio-graph-end").input_value()
    theirs = portal.customer.get("/api/v1/portfolios/all/consumption", start=start, end=end, granularity="hour", fuel="electricity")
    assert int(page.locator("section.graph").get_attribute("data-points")) == len(theirs["intervals"])
    assert kwh_in(page.locator(".chart-summary").inner_text()) == pytest.approx(theirs["total"], rel=1e-3)

    page.get_by_role("button", name="View missing locations").click()
    missing = page.locator("#missing-locations table")
    expect(missing).to_contain_text("Nottingham Works")
    expect(missing).not_to_contain_text("Corner Café")


def test_month_boundaries_are_uk_midnight_in_any_browser_time_zone(chromium, portal):
    context = chromium.new_context(base_url=portal.url, timezone_id="America/New_York")
    page = context.new_page()
    page.goto("/")
    london_today = lambda: datetime.now(ZoneInfo("Europe/London")).date().isoformat()  # noqa: E731
    before = london_today()
    got = page.evaluate("""async () => {
        const { ukMidnight, today } = await import("/js/dates.js");
        return { days: ["2025-06-01", "2025-12-01", "2025-03-30", "2025-10-26"].map(ukMidnight), today: today() };
    }""")
    utc = lambda *a: datetime(*a, tzinfo=timezone.utc).timestamp()  # noqa: E731
    assert got["days"] == [utc(2025, 5, 31, 23), utc(2025, 12, 1), utc(2025, 3, 30), utc(2025, 10, 25, 23)]
    assert got["today"] in {before, london_today()}  # the UK date, not New York's
    context.close()
