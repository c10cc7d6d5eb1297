"""The console in a real browser (headless Chromium, Debian's) against a real `patrol serve`: sign in,
see a firing event, acknowledge it, find it acknowledged in the API, run a patrol and open its report.

Screenshots of every page go to a temporary directory, or to $PATROL_SCREENSHOTS when set
(``PATROL_SCREENSHOTS=docs/images/console .venv/bin/pytest tests/integration/test_console_browser.py``
regenerates the pictures in docs/).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
import requests

from .browser import chromium, full_page_screenshot
from .collector_support import Collector, batch, result

pytestmark = pytest.mark.integration

PLAYBOOK = """\
name: morning
description: Morning patrol of the collector host
schedule: "0 3 1 1 *"
report: {formats: [html, json]}
tasks:
  - name: Host health
    hosts: here
    checks:
      - memory
      - uptime
      - disk: {warning: 80, critical: 90}
"""
PASSWORD = "browser-operator-pw"


def wait_for(condition, what: str, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"{what}: not within {timeout:.0f} s")


@pytest.fixture(scope="module")
def collector(tmp_path_factory):
    root = tmp_path_factory.mktemp("console-browser")
    c = Collector(root, settings={"report_dir": str(root / "reports")})
    c.write_files({"morning": PLAYBOOK})
    (root / "pw").write_text(PASSWORD + "\n")
    for name, role in (("olga", "operator"), ("adam", "admin")):
        done = c.patrol("user", "add", name, "--role", role, "--password-file", str(root / "pw"))
        assert done.returncode == 0, done.stderr
    c.create_token("agent", "web01")
    c.create_token("viewer", "checker")
    c.start()
    yield c
    c.kill()


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    return Path(os.environ.get("PATROL_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))


def api_event(collector, event_id: int | None = None):
    path = f"/api/v1/events/{event_id}" if event_id else "/api/v1/events?state=open"
    response = requests.get(collector.url + path, headers=collector.headers("viewer", "checker"), timeout=10)
    response.raise_for_status()
    return response.json()


def test_sign_in_acknowledge_and_open_a_report(collector, shots):
    from selenium.webdriver.common.by import By

    # A disk filling up on web01, twice in a row: the event engine opens a CRITICAL event.
    for used in (93.0, 96.0):
        response = collector.push(batch("web01", [result("web01", "disk", "/var", used, status="CRITICAL",
                                                         summary=f"/var {used}% used")]))
        assert response.status_code == 200, response.text
    [event] = wait_for(lambda: api_event(collector), "the disk event opening")
    assert event["state"] == "firing"

    with chromium() as browser:
        browser.get(collector.url + "/console/events")
        assert "/console/login" in browser.current_url  # not signed in: the sign-in page
        full_page_screenshot(browser, shots / "login.png")
        browser.find_element(By.NAME, "name").send_keys("olga")
        browser.find_element(By.NAME, "password").send_keys(PASSWORD)
        browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
        wait_for(lambda: browser.current_url.endswith("/console/events"), "back on the events page after sign-in")
        cookie = browser.get_cookie("patrol_session")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"

        row = browser.find_element(By.CSS_SELECTOR, "tr.state-firing")
        assert "web01" in row.text and "CRITICAL" in row.text and "/var 96.0% used" in row.text
        full_page_screenshot(browser, shots / "events.png")
        row.find_element(By.XPATH, ".//button[text()='Acknowledge']").click()
        wait_for(lambda: "notice=done" in browser.current_url, "the acknowledgement answered")
        assert browser.find_elements(By.CSS_SELECTOR, "tr.state-acknowledged")

        seen = api_event(collector, event["id"])
        assert seen["state"] == "acknowledged" and seen["acknowledged_by"] == "olga"

        browser.get(f"{collector.url}/console/events/{event['id']}")
        assert browser.find_element(By.ID, "event-state").text == "acknowledged"
        full_page_screenshot(browser, shots / "event.png")

        browser.get(collector.url + "/console/")
        assert "Open events by severity" in browser.page_source
        full_page_screenshot(browser, shots / "overview.png")

        # Run the patrol now, wait for its run, open its HTML report.
        browser.get(collector.url + "/console/patrols")
        browser.find_element(By.XPATH, "//button[text()='Run now']").click()
        wait_for(lambda: "Run of morning requested" in browser.page_source, "the run requested")

        def report_link():
            browser.get(collector.url + "/console/patrols")
            links = browser.find_elements(By.XPATH, "//a[text()='html']")
            return links[0] if links else None

        link = wait_for(report_link, "the run's HTML report listed")
        full_page_screenshot(browser, shots / "patrols.png")
        link.click()
        wait_for(lambda: "/console/reports/morning-" in browser.current_url, "the report opened")
        assert "morning" in browser.page_source and "Health score" in browser.page_source
        full_page_screenshot(browser, shots / "report.png")

        browser.get(collector.url + "/console/targets/here")
        images = browser.find_elements(By.CSS_SELECTOR, ".charts img")
        assert images, "no history charts on the target page"
        wait_for(lambda: all(browser.execute_script("return arguments[0].complete && arguments[0].naturalWidth", i)
                             for i in images), "the charts loaded")
        full_page_screenshot(browser, shots / "target.png")

        browser.get(collector.url + "/console/maintenance")
        full_page_screenshot(browser, shots / "maintenance.png")

        # The same console in Chinese, for this user only.
        browser.get(collector.url + "/console/account")
        browser.find_element(By.CSS_SELECTOR, "select[name=language] option[value=zh]").click()
        browser.find_element(By.XPATH, "//form[contains(@action, '/account/language')]//button").click()
        wait_for(lambda: "notice=language_saved" in browser.current_url, "the language saved")
        browser.get(collector.url + "/console/")
        assert "总览" in browser.page_source
        full_page_screenshot(browser, shots / "overview-zh.png")

        # Signing out ends the session on the server: the old cookie opens nothing.
        browser.find_element(By.CSS_SELECTOR, "form[action$='/logout'] button").click()
        wait_for(lambda: "/console/login" in browser.current_url, "signed out")
    stale = requests.get(collector.url + "/console/", cookies={"patrol_session": cookie["value"]},
                         allow_redirects=False, timeout=10)
    assert stale.status_code == 303 and stale.headers["location"].startswith("/console/login")
    log = collector.log()
    assert PASSWORD not in log and cookie["value"] not in log


def test_an_admin_manages_users_and_tokens(collector, shots):
    from selenium.webdriver.common.by import By

    with chromium() as browser:
        browser.get(collector.url + "/console/admin/users")
        browser.find_element(By.NAME, "name").send_keys("adam")
        browser.find_element(By.NAME, "password").send_keys(PASSWORD)
        browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
        wait_for(lambda: browser.current_url.endswith("/console/admin/users"), "the users page after sign-in")
        form = browser.find_element(By.CSS_SELECTOR, "form[action$='/admin/users'].grid")
        form.find_element(By.NAME, "name").send_keys("vera")
        form.find_element(By.CSS_SELECTOR, "select[name=role] option[value=viewer]").click()
        form.find_element(By.NAME, "password").send_keys("vera-viewer-password")
        form.find_element(By.CSS_SELECTOR, "button").click()
        wait_for(lambda: "notice=done" in browser.current_url, "the user added")
        assert "vera" in browser.find_element(By.TAG_NAME, "table").text
        full_page_screenshot(browser, shots / "users.png")

        browser.get(collector.url + "/console/admin/tokens")
        form = browser.find_element(By.CSS_SELECTOR, "form[action$='/admin/tokens'].grid")
        form.find_element(By.CSS_SELECTOR, "select[name=kind] option[value=metrics]").click()
        form.find_element(By.NAME, "name").send_keys("grafana-prometheus")
        form.find_element(By.CSS_SELECTOR, "button").click()
        token = wait_for(lambda: browser.find_elements(By.ID, "new-token"), "the new token shown")[0].text
        assert token.startswith("pat_")
        full_page_screenshot(browser, shots / "tokens.png")
        metrics = requests.get(collector.url + "/metrics", headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert metrics.status_code == 200 and "patrol_store_up 1" in metrics.text
        browser.get(collector.url + "/console/admin/tokens")
        assert token not in browser.page_source  # shown once only

        browser.get(collector.url + "/console/admin/settings")
        assert '"timezone"' in browser.page_source
        full_page_screenshot(browser, shots / "settings.png")
    assert token not in collector.log()
