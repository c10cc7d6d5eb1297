"""The console's pages do what an engineer on duty needs, through the same engine and store as the API."""

from __future__ import annotations

import json

import sqlalchemy as sa

from collector.scheduler import PatrolScheduler

from .support import ConsoleSite, form_token


def post(client, url: str, page: str = "/console/account", **fields):
    return client.post(url, data={"csrf_token": form_token(client.get(page).text), **fields})


def api(site, path: str):
    token = getattr(site, "_viewer_token", None) or site.store.create_token("viewer", "checker")[1]
    site._viewer_token = token
    return site.client().get(path, headers={"Authorization": f"Bearer {token}"})


def test_overview_shows_health_by_category_open_events_silent_agents_and_patrols(tmp_path):
    site = ConsoleSite(tmp_path)
    site.firing_event(target="pg01", check="postgres_connections", item="")
    site.store.add_results(None, site.results("web01", "disk", "/", "OK"))
    site.store.touch_agent("web01", 60)  # told its interval, never reported: silent
    page = site.login("vera").get("/console/").text
    assert "databases" in page and "hosts" in page
    assert 'href="/console/targets/pg01"' in page  # the unhealthy target, linked
    assert "/console/events?state=firing&amp;severity=CRITICAL\">1<" in page
    assert "Silent agents" in page and 'href="/console/targets/web01"' in page
    site.close()


def test_events_filter_and_sort(tmp_path):
    site = ConsoleSite(tmp_path)
    disk = site.firing_event(target="web01", check="disk", item="/var")
    db = site.firing_event(target="pg01", check="postgres_connections", item="")
    client = site.login("vera")
    page = client.get("/console/events?target=pg*").text
    assert f'/console/events/{db}"' in page and f'/console/events/{disk}"' not in page
    page = client.get("/console/events?check=disk&state=all").text
    assert f'/console/events/{disk}"' in page and f'/console/events/{db}"' not in page
    page = client.get("/console/events?sort=target").text
    assert page.index(f'/console/events/{db}"') < page.index(f'/console/events/{disk}"')  # pg01 before web01
    bad = client.get("/console/events?state=sideways")
    assert bad.status_code == 422 and "state" in bad.text
    assert "Acknowledge" not in page  # a viewer sees no buttons it could not use
    site.close()


def test_acknowledge_resolve_and_comment_are_seen_in_the_api(tmp_path):
    site = ConsoleSite(tmp_path)
    event_id = site.firing_event()
    client = site.login("olga")
    page = f"/console/events/{event_id}"
    response = post(client, f"/console/events/{event_id}/acknowledge", page, comment="disk swap planned",
                    expires_in="2h")
    assert response.status_code == 303
    seen = api(site, f"/api/v1/events/{event_id}").json()
    assert seen["state"] == "acknowledged" and seen["acknowledged_by"] == "olga"
    assert seen["ack_expires_at"] is not None
    assert any(h["comment"] == "disk swap planned" and h["actor"] == "olga" for h in seen["history"])
    assert post(client, f"/console/events/{event_id}/comment", page, text="vendor ticket 4711").status_code == 303
    assert post(client, f"/console/events/{event_id}/resolve", page, comment="replaced").status_code == 303
    assert post(client, f"/console/events/{event_id}/acknowledge", page).status_code == 409  # resolved
    seen = api(site, f"/api/v1/events/{event_id}").json()
    assert seen["state"] == "resolved" and seen["resolved_by"] == "olga"
    assert [c["text"] for c in seen["comments"]] == ["vendor ticket 4711"]
    detail = client.get(page).text
    assert "vendor ticket 4711" in detail and "replaced" in detail
    assert post(client, "/console/events/99999/resolve").status_code == 404
    site.close()


def test_maintenance_windows_are_added_and_removed_and_bad_ones_refused(tmp_path):
    site = ConsoleSite(tmp_path)
    client = site.login("olga")
    page = "/console/maintenance"
    response = post(client, page, page, name="db upgrade", hosts="db*", kind="once", duration="2h",
                    timezone="UTC")
    assert response.status_code == 303
    [window] = api(site, "/api/v1/maintenance").json()
    assert window["name"] == "db upgrade" and window["created_by"] == "olga" and window["active"]
    refused = post(client, page, page, name="nightly", hosts="db*", kind="cron", duration="1h")
    assert refused.status_code == 422 and "cron" in refused.text
    refused = post(client, page, page, name="typo", hosts="db*", kind="weekly", weekdays="funday",
                   start_time="02:00", duration="1h")
    assert refused.status_code == 422
    assert len(api(site, "/api/v1/maintenance").json()) == 1  # nothing half-stored
    assert post(client, f"/console/maintenance/{window['id']}/remove", page).status_code == 303
    assert api(site, "/api/v1/maintenance").json() == []
    site.close()


def test_run_now_is_queued_run_by_the_scheduler_and_its_reports_served(tmp_path):
    site = ConsoleSite(tmp_path)
    client = site.login("olga")
    response = post(client, "/console/patrols/run", "/console/patrols", playbook="morning")
    assert response.status_code == 303
    assert "Run of morning requested" in client.get(response.headers["location"]).text
    assert post(client, "/console/patrols/run", "/console/patrols", playbook="nope").status_code == 422
    scheduler = PatrolScheduler(site.site, site.store, site.report_dir)
    [run_id] = scheduler.take_requests()
    assert scheduler.take_requests() == []  # taken once
    run = site.store.get_run(run_id)
    assert run.source == "console" and run.inspector == "olga" and run.finished_at is not None
    page = client.get("/console/patrols").text
    files = sorted(p.name for p in site.report_dir.iterdir())
    assert files and all(f'/console/reports/{name}"' in page for name in files)
    html = next(n for n in files if n.endswith(".html"))
    shown = client.get(f"/console/reports/{html}")
    assert shown.status_code == 200 and shown.headers["content-type"].startswith("text/html")
    assert "sandbox" in shown.headers["content-security-policy"]
    assert "inline" in shown.headers["content-disposition"]
    data = next(n for n in files if n.endswith(".json"))
    downloaded = client.get(f"/console/reports/{data}")
    assert "attachment" in downloaded.headers["content-disposition"]
    assert json.loads(downloaded.text)["cover"]["run_id"] == run_id
    for evil in ("..%2Fpatrol.db", "patrol.db", "x.html"):
        assert client.get(f"/console/reports/{evil}").status_code == 404
    with site.store.engine.connect() as conn:
        query = sa.text("SELECT taken_at, run_id FROM run_requests WHERE run_id IS NOT NULL")
        [(taken, stored_run)] = conn.execute(query)
    assert taken is not None and stored_run == run_id
    site.close()


def test_target_page_with_latest_results_history_chart_and_events(tmp_path):
    site = ConsoleSite(tmp_path)
    event_id = site.firing_event(target="web01", check="disk", item="/var")
    client = site.login("vera")
    page = client.get("/console/targets/web01").text
    assert "/var is CRITICAL" in page and f'/console/events/{event_id}"' in page
    assert 'src="/console/targets/web01/chart.svg?check=disk&amp;item=%2Fvar"' in page
    chart = client.get("/console/targets/web01/chart.svg?check=disk&item=/var")
    assert chart.headers["content-type"].startswith("image/svg+xml")
    assert "<svg" in chart.text and "<title>web01 disk /var</title>" in chart.text
    assert client.get("/console/targets/nowhere").status_code == 404
    assert "web01" in client.get("/console/targets").text
    site.close()


def test_language_is_chosen_per_user(tmp_path):
    site = ConsoleSite(tmp_path)
    client = site.login("vera")
    assert post(client, "/console/account/language", language="zh").status_code == 303
    page = client.get("/console/").text
    assert 'lang="zh-CN"' in page and "总览" in page and "按级别的未关闭事件" in page
    assert "Overview" in site.login("olga").get("/console/").text  # another user keeps English
    assert post(client, "/console/account/language", language="fr").status_code == 422
    site.close()


def test_admin_adds_changes_and_removes_users_and_tokens(tmp_path):
    site = ConsoleSite(tmp_path)
    admin = site.login("adam")
    page = "/console/admin/users"
    assert post(admin, page, page, name="nina", role="operator", password="nina-password-123",
                language="zh").status_code == 303
    assert site.accounts.user("nina").role == "operator"
    assert post(admin, page, page, name="nina", role="viewer", password="nina-password-123").status_code == 422
    assert post(admin, "/console/admin/users/nina/role", page, role="viewer").status_code == 303
    assert site.accounts.user("nina").role == "viewer"
    assert post(admin, "/console/admin/users/nina/remove", page).status_code == 303
    assert site.accounts.user("nina") is None
    created = post(admin, "/console/admin/tokens", "/console/admin/tokens", kind="metrics", name="prom")
    token = created.text.split('id="new-token">')[1].split("<")[0]
    assert site.client().get("/metrics", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    [record] = [t for t in site.store.list_tokens() if t.name == "prom"]
    assert post(admin, f"/console/admin/tokens/{record.id}/revoke", "/console/admin/tokens").status_code == 303
    assert site.client().get("/metrics", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    site.close()


def test_password_change_needs_the_current_password_and_ends_other_sessions(tmp_path):
    site = ConsoleSite(tmp_path)
    mine, other = site.login("vera"), site.login("vera")
    refused = post(mine, "/console/account/password", current_password="wrong-wrong-wrong",
                   new_password="vera-new-password", repeat_password="vera-new-password")
    assert refused.status_code == 403
    done = post(mine, "/console/account/password", current_password="viewer-password-1",
                new_password="vera-new-password", repeat_password="vera-new-password")
    assert done.status_code == 303
    assert mine.get("/console/").status_code == 200  # this browser got a new session
    assert other.get("/console/").status_code == 303
    site.close()
