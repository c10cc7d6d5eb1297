"""The console's defences: CSRF, session fixation and lifetime, cookie flags, login lockout and
throttling, headers, open redirects, and no secret in any page, log or stored row."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
import sqlalchemy as sa

from .support import PASSWORDS, ConsoleSite, form_token

PG_SECRET = "pg-secret-value-8d1f"  # what $PATROL_TEST_PG_SECRET holds: the inventory references it


@pytest.fixture
def site(tmp_path, monkeypatch):
    monkeypatch.setenv("PATROL_TEST_PG_SECRET", PG_SECRET)
    s = ConsoleSite(tmp_path)
    yield s
    s.close()


def event_state(site, event_id: int) -> str:
    from collector.events.repository import DatabaseRepository

    return DatabaseRepository.from_store(site.store).get_event(event_id).state


def login_form(client) -> str:
    return form_token(client.get("/console/login").text)


def try_login(client, name: str, password: str):
    return client.post("/console/login", data={"csrf_token": login_form(client), "name": name, "password": password})


# -- CSRF --------------------------------------------------------------------------------------------


def test_a_form_without_its_session_token_changes_nothing(site):
    event_id = site.firing_event()
    client = site.login("olga")
    url = f"/console/events/{event_id}/acknowledge"
    other = site.login("adam")  # a valid token, of another session
    for data in ({}, {"csrf_token": ""}, {"csrf_token": "forged"},
                 {"csrf_token": form_token(other.get("/console/account").text)}):
        response = client.post(url, data=data)
        assert response.status_code == 403, data
        assert "form token" in response.text
    assert event_state(site, event_id) == "firing"
    token = form_token(client.get("/console/account").text)
    assert client.post(url, data={"csrf_token": token}, headers={"Origin": "https://evil.example"}).status_code == 403
    assert client.post(url, data={"csrf_token": token}, headers={"Sec-Fetch-Site": "cross-site"}).status_code == 403
    assert client.post(url, content=f'{{"csrf_token": "{token}"}}',
                       headers={"Content-Type": "application/json"}).status_code == 415
    assert event_state(site, event_id) == "firing"
    response = client.post(url, data={"csrf_token": token}, headers={"Origin": "http://testserver"})
    assert response.status_code == 303
    assert event_state(site, event_id) == "acknowledged"


def test_the_sign_in_form_needs_its_own_token(site):
    client = site.client()
    response = client.post("/console/login", data={"name": "vera", "password": PASSWORDS["vera"]})
    assert response.status_code == 403
    assert "patrol_session" not in response.cookies
    client.get("/console/login")  # the cookie half, but the form half is missing
    assert client.post("/console/login", data={"name": "vera", "password": PASSWORDS["vera"],
                                               "csrf_token": "guess"}).status_code == 403


# -- sessions ----------------------------------------------------------------------------------------


def test_a_planted_session_id_is_never_used(site):
    client = site.client()
    client.cookies.set("patrol_session", "attacker-chosen-value", path="/console")
    assert client.get("/console/").status_code == 303  # the planted id opens nothing
    response = try_login(client, "vera", PASSWORDS["vera"])
    assert response.status_code == 303
    issued = response.cookies.get("patrol_session")
    assert issued and issued != "attacker-chosen-value"
    attacker = site.client()
    attacker.cookies.set("patrol_session", "attacker-chosen-value", path="/console")
    assert attacker.get("/console/").status_code == 303


def test_each_login_issues_a_new_session_and_logout_ends_it_on_the_server(site):
    client = site.login("vera")
    first = client.cookies.get("patrol_session")
    site.login("vera", client)
    second = client.cookies.get("patrol_session")
    assert first != second
    token = form_token(client.get("/console/account").text)
    assert client.post("/console/logout", data={"csrf_token": token}).status_code == 303
    replay = site.client()
    replay.cookies.set("patrol_session", second, path="/console")
    assert replay.get("/console/").headers["location"].startswith("/console/login")


def test_sessions_end_when_idle_or_old_and_with_a_new_password(site):
    client = site.login("vera")
    assert client.get("/console/").status_code == 200
    site.clock.now += dt.timedelta(hours=3)  # idle longer than two hours
    assert client.get("/console/").status_code == 303
    client = site.login("vera")
    for _ in range(13):  # busy all day: the session still ends after its twelve hours
        site.clock.now += dt.timedelta(hours=1)
        client.get("/console/")
    assert client.get("/console/").status_code == 303
    client = site.login("vera")
    site.accounts.set_password("vera", "a-brand-new-password")
    assert client.get("/console/").status_code == 303


def test_session_cookie_flags(site):
    response = try_login(site.client(), "vera", PASSWORDS["vera"])
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/console" in cookie
    assert "Secure" not in cookie  # plain HTTP (a loopback test server): a Secure cookie would never come back
    secure = site.client("https://testserver")
    response = secure.post("/console/login", data={"csrf_token": form_token(secure.get("/console/login").text),
                                                   "name": "vera", "password": PASSWORDS["vera"]})
    assert response.status_code == 303
    assert "Secure" in response.headers["set-cookie"]


def test_a_role_taken_away_applies_to_open_sessions(site):
    event_id = site.firing_event()
    client = site.login("olga")
    site.accounts.set_role("olga", "viewer")
    token = form_token(client.get("/console/account").text)
    assert client.post(f"/console/events/{event_id}/acknowledge", data={"csrf_token": token}).status_code == 403
    assert event_state(site, event_id) == "firing"


# -- passwords and throttling ------------------------------------------------------------------------------


def test_five_wrong_passwords_lock_the_account_for_fifteen_minutes(site):
    client = site.client()
    for _ in range(5):
        response = try_login(client, "vera", "not-the-password")
        assert response.status_code == 401
        assert "Wrong user name or password" in response.text
    response = try_login(client, "vera", PASSWORDS["vera"])
    assert response.status_code == 403 and "Too many failed logins" in response.text
    assert "patrol_session" not in response.cookies
    site.clock.now += dt.timedelta(minutes=16)
    assert try_login(client, "vera", PASSWORDS["vera"]).status_code == 303


def test_an_unknown_name_gets_the_answer_of_a_wrong_password(site):
    unknown = try_login(site.client(), "no-such-user", "whatever-it-is")
    wrong = try_login(site.client(), "vera", "whatever-it-is")
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.text.replace(form_token(unknown.text), "") == wrong.text.replace(form_token(wrong.text), "")


def test_an_address_that_keeps_failing_waits_even_with_the_right_password(tmp_path):
    site = ConsoleSite(tmp_path, throttle_limit=3)
    try:
        client = site.client()
        for name in ("vera", "olga", "adam"):  # spraying accounts: no account lock, the address waits
            assert try_login(client, name, "guess-guess-guess").status_code == 401
        response = try_login(client, "vera", PASSWORDS["vera"])
        assert response.status_code == 429
        assert int(response.headers["retry-after"]) > 0
    finally:
        site.close()


def test_weak_passwords_are_refused(site):
    from collector.web.accounts import AccountError

    for password in ("short", "aaaaaaaaaaaaaaaa", "newcomer"):
        with pytest.raises(AccountError):
            site.accounts.add_user("newcomer", "viewer", password)
    assert site.accounts.user("newcomer") is None


def test_the_last_admin_stays(site):
    from collector.web.accounts import AccountError

    with pytest.raises(AccountError, match="last admin"):
        site.accounts.remove_user("adam")
    with pytest.raises(AccountError, match="last admin"):
        site.accounts.set_role("adam", "operator")


# -- pages: headers, redirects, secrets -----------------------------------------------------------------


def test_pages_forbid_scripts_and_framing_and_are_not_cached(site):
    client = site.login("vera")
    response = client.get("/console/")
    csp = response.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp and "frame-ancestors 'none'" in csp
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "<script" not in response.text


def test_sign_in_goes_back_to_console_pages_only(site):
    client = site.client()
    for target, expected in (("/console/events?state=all", "/console/events?state=all"),
                             ("https://evil.example/", "/console/"), ("//evil.example/x", "/console/"),
                             ("/console/\\evil", "/console/")):
        response = client.post("/console/login", data={"csrf_token": login_form(client), "name": "vera",
                                                        "password": PASSWORDS["vera"], "next": target})
        assert response.headers["location"] == expected


def test_no_secret_in_any_page_log_or_row(site, caplog):
    caplog.set_level(logging.DEBUG)
    site.firing_event(target="pg01", check="postgres_connections", item="")
    (site.report_dir / "morning-1-20261207-080000.html").write_text("<p>report</p>", encoding="utf-8")
    admin = site.login("adam")
    session_token = admin.cookies.get("patrol_session")
    token = form_token(admin.get("/console/admin/tokens").text)
    created = admin.post("/console/admin/tokens", data={"csrf_token": token, "kind": "agent", "name": "web01"})
    assert created.status_code == 200
    api_token = created.text.split('id="new-token">')[1].split("<")[0]
    assert api_token.startswith("pat_")
    with site.store.engine.connect() as conn:
        hashes = [row.password_hash for row in conn.execute(sa.text("SELECT password_hash FROM users"))]
        rows = "\n".join(str(tuple(r)) for table in ("users", "console_sessions", "api_tokens")
                         for r in conn.execute(sa.text(f"SELECT * FROM {table}")))
    secrets = [PG_SECRET, api_token, session_token, *PASSWORDS.values(), *hashes]
    pages = ["/console/", "/console/events?state=all", "/console/targets", "/console/targets/pg01",
             "/console/targets/web01", "/console/patrols", "/console/maintenance", "/console/account",
             "/console/admin/users", "/console/admin/tokens", "/console/admin/settings", "/console/login",
             "/console/reports/morning-1-20261207-080000.html"]
    for path in pages:
        response = admin.get(path)
        assert response.status_code == 200, path
        for secret in secrets:
            assert secret not in response.text, (path, secret[:6])
    for secret in [PG_SECRET, api_token, session_token, *PASSWORDS.values()]:
        assert secret not in caplog.text
        assert secret not in rows  # tokens and sessions as SHA-256 digests, passwords as Argon2id hashes
    assert all(h.startswith("$argon2id$") for h in hashes)


def test_the_settings_page_shows_references_not_secrets(tmp_path, monkeypatch):
    from collector.api.app import ApiSettings
    from collector.notify.settings import load_notifications
    from collector.web.pages import settings_view

    notifications = load_notifications({"channels": [
        {"name": "robot", "type": "webhook", "url": "https://oapi.example/robot/send?access_token=tok-123",
         "secret": {"env": "ROBOT_SECRET"}, "headers": {"X-Api-Key": "key-456"}},
    ]}, None, None)
    view = settings_view(ApiSettings(notifications=notifications), tmp_path)
    assert "tok-123" not in view and "key-456" not in view
    assert '"env": "ROBOT_SECRET"' in view and "https://oapi.example/robot/send?" in view and "X-Api-Key" in view
