"""The events and maintenance API (collector/api/events.py) through FastAPI's TestClient, on a real SQLite
store. Events are opened by feeding results through the engine (or the event service), never by hand."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from checks.registry import default_registry
from checks.result import Result
from checks.status import Status
from collector.api.app import ApiSettings, create_app
from collector.api.events import events_router
from collector.config.site import SiteWatcher
from collector.events.maintenance import MaintenanceWindow
from collector.events.repository import DatabaseRepository
from collector.events.service import EventService, build_engine
from collector.events.settings import EventSettings
from collector.store.models import EventOutboxRow
from collector.store.store import Store

INVENTORY = """\
all:
  children:
    web:
      hosts:
        web01: {}
        web02: {}
    db:
      hosts:
        db01: {}
"""

# Every route of the events router: (method, path template, a valid body for an operator).
WINDOW = {"name": "db upgrade", "hosts": "db*", "kind": "once", "starts_at": "2030-01-01T02:00:00Z",
          "duration": "2h"}
ROUTES = [
    ("GET", "/api/v1/events", None),
    ("GET", "/api/v1/events/{event_id}", None),
    ("POST", "/api/v1/events/{event_id}/acknowledge", {"comment": "on it"}),
    ("POST", "/api/v1/events/{event_id}/resolve", {"comment": "replaced the disk"}),
    ("POST", "/api/v1/events/{event_id}/comments", {"text": "vendor ticket 4711"}),
    ("GET", "/api/v1/maintenance", None),
    ("POST", "/api/v1/maintenance", WINDOW),
    ("DELETE", "/api/v1/maintenance/{window_id}", None),
]
READS = [r for r in ROUTES if r[0] == "GET"]
CHANGES = [r for r in ROUTES if r[0] != "GET"]
NOW_SLACK = dt.timedelta(seconds=5)


def result(status: str, at: dt.datetime, target: str = "web01", check: str = "disk", item: str = "/") -> Result:
    return Result(target=target, check=check, item=item, status=Status(status), summary=f"{item} is {status}",
                  started_at=at, duration_seconds=0.01)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def later_window() -> MaintenanceWindow:
    start = utcnow() + dt.timedelta(days=30)
    return MaintenanceWindow.once("later", "web*", start, start + dt.timedelta(hours=1), created_by="test")


def parse(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


class Api:
    """The app on a store and a site in a temporary directory, with a token of every kind."""

    def __init__(self, tmp_path: Path) -> None:
        (tmp_path / "inventory.yaml").write_text(INVENTORY, encoding="utf-8")
        (tmp_path / "playbooks").mkdir()
        self.site = SiteWatcher(tmp_path / "inventory.yaml", tmp_path / "playbooks", default_registry())
        self.store = Store.open(f"sqlite:///{tmp_path}/patrol.db")
        self.repository = DatabaseRepository.from_store(self.store)
        self.changes: list[int] = []  # one entry per on_change call
        self.app = create_app(self.store, self.site, ApiSettings(), on_change=lambda: self.changes.append(1))
        self.client = TestClient(self.app, raise_server_exceptions=False)
        self.tokens = {kind: self.store.create_token(kind, name)[1]
                       for kind, name in (("agent", "web01"), ("metrics", "prom"), ("viewer", "vera"),
                                          ("operator", "olga"))}
        self._clock = utcnow() - dt.timedelta(hours=1)  # result times: distinct, increasing, in the past

    def close(self) -> None:
        self.client.close()
        self.store.close()

    # -- requests ------------------------------------------------------------------------------------

    def headers(self, kind: str | None = "operator") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[kind]}"} if kind else {}

    def request(self, method: str, path: str, kind: str | None = "operator", body=None, **kwargs):
        headers = {**self.headers(kind), **kwargs.pop("headers", {})}
        if body is not None:
            kwargs["json"] = body
        return self.client.request(method, path, headers=headers, **kwargs)

    def get(self, path: str, kind: str | None = "operator", **kwargs):
        return self.request("GET", path, kind, **kwargs)

    def post(self, path: str, body=None, kind: str | None = "operator", **kwargs):
        return self.request("POST", path, kind, body, **kwargs)

    # -- events, through the engine ------------------------------------------------------------------

    def engine(self):
        return build_engine(self.store, EventSettings(), None, self.site.site.inventory)

    def results(self, *statuses: str, **where) -> list[Result]:
        out = []
        for status in statuses:
            self._clock += dt.timedelta(seconds=30)
            out.append(result(status, self._clock, **where))
        return out

    def open(self, status: str = "CRITICAL", **where) -> int:
        """Two consecutive non-OK results through the engine: the event opens; its id."""
        self.engine().observe(self.results(status, status, **where))
        return self.newest(**where).id

    def newest(self, target: str = "web01", check: str = "disk", item: str = "/"):
        found = [e for e in self.repository.list_events() if (e.target, e.check, e.item) == (target, check, item)]
        assert found, (target, check, item)
        return found[0]

    def event(self, event_id: int):
        return self.repository.get_event(event_id)

    def outbox(self) -> int:
        with self.store.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(EventOutboxRow.__table__)).scalar_one()

    def snapshot(self) -> tuple:
        """Everything the events API can change."""
        events = sorted(self.repository.list_events(), key=lambda e: e.id)
        return (
            events,
            [self.repository.history(e.id) for e in events],
            [self.repository.comments(e.id) for e in events],
            self.repository.windows(),
            self.outbox(),
        )


@pytest.fixture
def api(tmp_path):
    api = Api(tmp_path)
    yield api
    api.close()


def names_field(response, field: str) -> bool:
    """Whether a 422 answer names ``field`` (the router's {field, message} form or FastAPI's {loc, msg})."""
    detail = response.json()["detail"]
    if isinstance(detail, str):
        return field in detail
    for problem in detail:
        where = problem.get("field") or ".".join(str(p) for p in problem.get("loc", ()))
        if field in where or field in problem.get("message", problem.get("msg", "")):
            return True
    return False


def fill(path: str, event_id: int = 1, window_id: int = 1) -> str:
    return path.format(event_id=event_id, window_id=window_id)


# -- authentication and roles: every route ---------------------------------------------------------


def test_the_role_matrix_covers_every_route_of_the_events_router(api):
    router = events_router(api.engine, lambda: None, lambda: api.site.site.inventory)
    served = {(method, route.path) for route in router.routes for method in route.methods}
    assert served == {(method, path) for method, path, _ in ROUTES}
    documented = api.app.openapi()["paths"]
    for method, path, _ in ROUTES:  # and the app serves them all
        assert method.lower() in documented.get(path, {}), (method, path)


@pytest.mark.parametrize("who", ["no token", "malformed header", "unknown token", "revoked token", "agent", "metrics"])
@pytest.mark.parametrize("method, path, body", ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
def test_a_caller_without_viewer_or_operator_rights_is_refused_and_changes_nothing(api, method, path, body, who):
    event_id = api.open()
    api.repository.add_window(later_window())
    api.engine().repository.take_notices()
    before = api.snapshot()
    headers = {}
    if who == "malformed header":
        headers = {"Authorization": f"Token {api.tokens['operator']}"}
    elif who == "unknown token":
        headers = {"Authorization": "Bearer pat_not-a-real-token"}
    elif who == "revoked token":
        _, token = api.store.create_token("operator", "mallory")
        assert api.store.revoke_tokens(kind="operator", name="mallory") == 1
        headers = {"Authorization": f"Bearer {token}"}
    elif who in ("agent", "metrics"):
        headers = api.headers(who)
    r = api.request(method, fill(path, event_id), kind=None, body=body, headers=headers)
    if who in ("agent", "metrics"):
        assert r.status_code == 403, r.text
        assert f"a {who} token may not use this route" in r.json()["detail"]
    else:
        assert r.status_code == 401, r.text
        assert r.headers["www-authenticate"] == 'Bearer realm="patrol"'
    assert api.snapshot() == before
    assert api.changes == []


@pytest.mark.parametrize("method, path, body", READS, ids=[p for _, p, _ in READS])
def test_viewers_and_operators_read_the_same(api, method, path, body):
    event_id = api.open()
    api.repository.add_window(later_window())
    before = api.snapshot()
    as_viewer = api.request(method, fill(path, event_id), kind="viewer")
    as_operator = api.request(method, fill(path, event_id), kind="operator")
    assert as_viewer.status_code == as_operator.status_code == 200, as_viewer.text
    assert as_viewer.json() == as_operator.json()
    assert as_viewer.json()  # there is something to read
    assert api.snapshot() == before and api.changes == []


@pytest.mark.parametrize("method, path, body", CHANGES, ids=[f"{m} {p}" for m, p, _ in CHANGES])
def test_a_viewer_may_not_change_anything(api, method, path, body):
    event_id = api.open()
    api.repository.add_window(later_window())
    before = api.snapshot()
    r = api.request(method, fill(path, event_id), kind="viewer", body=body)
    assert r.status_code == 403, r.text
    assert "a viewer token may not use this route" in r.json()["detail"]
    assert api.snapshot() == before
    assert api.changes == []


def test_an_operator_acknowledges_and_the_store_records_who(api):
    event_id = api.open()
    r = api.post(f"/api/v1/events/{event_id}/acknowledge", {"comment": "on it"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["id"], body["state"], body["acknowledged_by"], body["ack_expires_at"]) == (
        event_id, "acknowledged", "olga", None)
    event = api.event(event_id)
    assert (event.state, event.acknowledged_by, event.next_escalation_at) == ("acknowledged", "olga", None)
    assert utcnow() - NOW_SLACK < event.acknowledged_at <= utcnow()
    last = api.repository.history(event_id)[-1]
    assert (last.kind, last.from_state, last.to_state, last.actor, last.comment) == (
        "acknowledged", "firing", "acknowledged", "olga", "on it")
    assert api.changes == [1]


def test_acknowledging_again_replaces_the_acknowledgement(api):
    event_id = api.open()
    assert api.post(f"/api/v1/events/{event_id}/acknowledge").status_code == 200
    _, otto = api.store.create_token("operator", "otto")
    r = api.client.post(f"/api/v1/events/{event_id}/acknowledge", headers={"Authorization": f"Bearer {otto}"})
    assert r.status_code == 200 and r.json()["acknowledged_by"] == "otto"
    assert api.event(event_id).acknowledged_by == "otto"
    assert [(h.kind, h.actor) for h in api.repository.history(event_id)][1:] == [
        ("acknowledged", "olga"), ("acknowledged", "otto")]


def test_an_operator_resolves_and_the_store_records_who(api):
    event_id = api.open()
    r = api.post(f"/api/v1/events/{event_id}/resolve", {"comment": "replaced the disk"})
    assert r.status_code == 200, r.text
    assert (r.json()["state"], r.json()["resolved_by"]) == ("resolved", "olga")
    event = api.event(event_id)
    assert (event.state, event.resolved_by) == ("resolved", "olga")
    assert utcnow() - NOW_SLACK < event.resolved_at <= utcnow()
    last = api.repository.history(event_id)[-1]
    assert (last.kind, last.from_state, last.to_state, last.actor, last.comment) == (
        "resolved", "firing", "resolved", "olga", "replaced the disk")
    assert api.changes == [1]


def test_acknowledging_or_resolving_needs_no_body(api):
    first, second = api.open(), api.open(target="web02")
    assert api.post(f"/api/v1/events/{first}/acknowledge").json()["state"] == "acknowledged"
    assert api.post(f"/api/v1/events/{second}/resolve").json()["state"] == "resolved"
    assert [h.comment for h in api.repository.history(first)] == [None, None]
    assert [h.comment for h in api.repository.history(second)] == [None, None]


@pytest.mark.parametrize("state", ["firing", "acknowledged", "resolved"])
def test_an_operator_comments_on_an_event_in_any_state(api, state):
    event_id = api.open()
    if state == "acknowledged":
        api.engine().acknowledge(event_id, "somebody")
    elif state == "resolved":
        api.engine().resolve(event_id, "somebody")
    r = api.post(f"/api/v1/events/{event_id}/comments", {"text": "vendor ticket 4711"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["author"], body["text"]) == ("olga", "vendor ticket 4711")
    assert utcnow() - NOW_SLACK < parse(body["at"]) <= utcnow()
    [comment] = api.repository.comments(event_id)
    assert (comment.id, comment.author, comment.text) == (body["id"], "olga", "vendor ticket 4711")
    assert api.event(event_id).state == state  # a comment changes no state
    last = api.repository.history(event_id)[-1]
    assert (last.kind, last.from_state, last.to_state, last.actor, last.comment) == (
        "commented", state, state, "olga", "vendor ticket 4711")


def test_an_operator_creates_lists_and_removes_a_maintenance_window(api):
    r = api.post("/api/v1/maintenance", WINDOW)
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["created_by"] == "olga" and created["kind"] == "once" and created["hosts"] == "db*"
    assert (created["starts_at"], created["ends_at"]) == ("2030-01-01T02:00:00Z", "2030-01-01T04:00:00Z")
    assert created["active"] is False
    [stored] = api.repository.windows()
    assert (stored.id, stored.name, stored.pattern, stored.created_by) == (created["id"], "db upgrade", "db*", "olga")
    assert stored.ends_at == dt.datetime(2030, 1, 1, 4, tzinfo=dt.UTC)
    assert api.changes == [1]
    listed = api.get("/api/v1/maintenance", kind="viewer")
    assert listed.status_code == 200 and listed.json() == [created]

    r = api.request("DELETE", f"/api/v1/maintenance/{created['id']}")
    assert r.status_code == 204 and r.content == b""
    assert api.repository.windows() == []
    assert api.changes == [1, 1]
    again = api.request("DELETE", f"/api/v1/maintenance/{created['id']}")
    assert again.status_code == 404 and "no maintenance window" in again.json()["detail"]
    assert api.changes == [1, 1]


@pytest.mark.parametrize(
    "spec, expected",
    [
        ({"kind": "cron", "cron": "0 2 * * *", "duration": "1h", "timezone": "Asia/Shanghai"},
         {"cron": "0 2 * * *", "duration_seconds": 3600.0, "timezone": "Asia/Shanghai"}),
        ({"kind": "weekly", "weekdays": ["Sat", "sun"], "start_time": "03:00", "duration": "2h"},
         {"weekdays": ["sat", "sun"], "start_time": "03:00", "duration_seconds": 7200.0}),
        ({"kind": "once", "starts_at": "2030-01-01T00:00:00Z", "ends_at": "2030-01-01T01:00:00Z"},
         {"starts_at": "2030-01-01T00:00:00Z", "ends_at": "2030-01-01T01:00:00Z",
          "description": "w (2030-01-01 00:00 to 2030-01-01 01:00 UTC)"}),
    ],
    ids=["cron", "weekly", "once"],
)
def test_recurring_and_one_off_windows_are_stored_as_given(api, spec, expected):
    r = api.post("/api/v1/maintenance", {"name": "w", "hosts": "web*", **spec})
    assert r.status_code == 201, r.text
    assert {k: r.json()[k] for k in expected} == expected
    assert api.get("/api/v1/maintenance").json() == [r.json()]


def test_a_one_off_window_given_in_another_zone_is_stored_in_utc(api):
    r = api.post("/api/v1/maintenance", {"name": "w", "hosts": "web*", "starts_at": "2030-01-01T00:00:00+08:00",
                                         "ends_at": "2030-01-01T01:00:00+08:00"})
    assert r.status_code == 201, r.text
    assert (r.json()["starts_at"], r.json()["ends_at"]) == ("2029-12-31T16:00:00Z", "2029-12-31T17:00:00Z")
    [stored] = api.repository.windows()
    assert stored.starts_at == dt.datetime(2029, 12, 31, 16, tzinfo=dt.UTC)
    listed = api.get("/api/v1/maintenance").json()[0]
    assert listed["description"] == "w (2029-12-31 16:00 to 2029-12-31 17:00 UTC)"


def test_the_answer_to_a_new_window_describes_it_in_utc(api):
    r = api.post("/api/v1/maintenance", {"name": "w", "hosts": "web*", "starts_at": "2030-01-01T00:00:00+08:00",
                                         "ends_at": "2030-01-01T01:00:00+08:00"})
    assert r.json()["description"] == "w (2029-12-31 16:00 to 2029-12-31 17:00 UTC)"
    assert api.get("/api/v1/maintenance").json() == [r.json()]


def test_a_current_window_is_active(api):
    start = utcnow() - dt.timedelta(minutes=5)
    r = api.post("/api/v1/maintenance", {"name": "now", "hosts": "web01", "starts_at": start.isoformat(),
                                         "duration": "1h"})
    assert r.status_code == 201 and r.json()["active"] is True
    assert api.get("/api/v1/maintenance", kind="viewer").json()[0]["active"] is True


def test_the_openapi_document_lists_the_events_routes_to_a_viewer(api):
    r = api.get("/openapi.json", kind="viewer")
    assert r.status_code == 200
    paths = r.json()["paths"]
    for method, path, _ in ROUTES:
        assert method.lower() in paths.get(path, {}), (method, path)


# -- filters -----------------------------------------------------------------------------------------


@pytest.fixture
def fleet(api):
    """Six events, in this order of opening (ids 1 to 6), fed through the event service as stored results:
    1 web01/uptime closed, 2 web01/disk firing CRITICAL, 3 web02/memory acknowledged WARNING,
    4 db01/disk//var firing UNKNOWN, 5 ghost01/disk_io (not in the inventory) firing CRITICAL,
    6 db01/ping resolved by results."""
    service = EventService.build(api.store, EventSettings(), None, site=api.site)

    def feed(*statuses, **where):
        api.store.add_results(None, api.results(*statuses, **where))
        service.evaluate()

    feed("CRITICAL", "CRITICAL", target="web01", check="uptime", item="")
    service.engine.resolve(1, "somebody")
    service.engine.tick(utcnow() + dt.timedelta(hours=25))  # closes it (close_after 24 h)
    feed("CRITICAL", "CRITICAL", target="web01", check="disk", item="/")
    feed("WARNING", "WARNING", target="web02", check="memory", item="")
    service.engine.acknowledge(3, "somebody")
    feed("UNKNOWN", "UNKNOWN", target="db01", check="disk", item="/var")
    feed("CRITICAL", "CRITICAL", target="ghost01", check="disk_io", item="sda")
    feed("CRITICAL", "CRITICAL", "OK", "OK", target="db01", check="ping", item="")
    states = {e.id: (e.state, e.severity) for e in api.repository.list_events()}
    assert states == {1: ("closed", "CRITICAL"), 2: ("firing", "CRITICAL"), 3: ("acknowledged", "WARNING"),
                      4: ("firing", "UNKNOWN"), 5: ("firing", "CRITICAL"), 6: ("resolved", "CRITICAL")}
    return api


def ids(response) -> list[int]:
    assert response.status_code == 200, response.text
    return [e["id"] for e in response.json()]


@pytest.mark.parametrize(
    "query, expected",
    [
        ("", [5, 4, 3, 2]),
        ("state=open", [5, 4, 3, 2]),
        ("state=firing", [5, 4, 2]),
        ("state=acknowledged", [3]),
        ("state=resolved", [6]),
        ("state=closed", [1]),
        ("state=all", [6, 5, 4, 3, 2, 1]),
        ("severity=CRITICAL", [5, 2]),
        ("severity=critical", [5, 2]),
        ("severity=warning,Unknown", [4, 3]),
        ("severity=critical,%20warning", [5, 3, 2]),
        ("severity=NODATA", []),
        ("state=all&severity=critical", [6, 5, 2, 1]),
        ("target=web", [3, 2]),  # a group of the inventory
        ("state=all&target=web", [3, 2, 1]),
        ("target=web0*", [3, 2]),
        ("target=~db", [4]),
        ("target=~(web|db)01", [4, 2]),
        ("target=web:!web01", [3]),
        ("target=db,ghost*", [5, 4]),  # ghost01 is not in the inventory: matched by name
        ("target=all", [5, 4, 3, 2]),
        ("target=nosuchhost", []),
        ("check=disk", [4, 2]),
        ("check=disk*", [5, 4, 2]),
        ("check=m?mory", [3]),
        ("target=web&check=disk", [2]),
        ("limit=2", [5, 4]),
        ("limit=1&target=web", [3]),  # the limit counts what the filters kept
        ("state=all&limit=10000", [6, 5, 4, 3, 2, 1]),
    ],
)
def test_events_are_filtered_newest_first(fleet, query, expected):
    assert ids(fleet.get(f"/api/v1/events?{query}", kind="viewer")) == expected


def test_events_are_filtered_by_opening_time(fleet):
    opened = {e.id: e.opened_at for e in fleet.repository.list_events()}

    def between(since=None, until=None, zone=dt.UTC):
        params = {"state": "all"}
        if since is not None:
            params["since"] = opened[since].astimezone(zone).isoformat()
        if until is not None:
            params["until"] = opened[until].astimezone(zone).isoformat()
        return ids(fleet.get("/api/v1/events", kind="viewer", params=params))

    assert between(since=3) == [6, 5, 4, 3]  # since is inclusive
    assert between(until=3) == [2, 1]  # until is exclusive
    assert between(since=3, until=5) == [4, 3]
    shanghai = dt.timezone(dt.timedelta(hours=8))
    assert between(since=3, until=5, zone=shanghai) == [4, 3]  # the same instants in another zone
    future = (utcnow() + dt.timedelta(days=3)).isoformat()
    assert ids(fleet.get("/api/v1/events", params={"state": "all", "since": future})) == []


@pytest.mark.parametrize(
    "query, field",
    [
        ("state=bogus", "state"),
        ("state=OPEN", "state"),
        ("severity=bogus", "severity"),
        ("severity=CRITICAL,SEVERE", "severity"),
        ("since=yesterday", "since"),
        ("since=2026-01-01T00:00:00", "since"),  # no zone
        ("until=soon", "until"),
        ("since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z", "since"),
        ("since=2026-01-01T00:00:00Z&until=2026-01-01T00:00:00Z", "since"),
        ("limit=0", "limit"),
        ("limit=-1", "limit"),
        ("limit=10001", "limit"),
        ("limit=many", "limit"),
        ("check=" + "x" * 101, "check"),
        ("target=" + "x" * 1001, "target"),
    ],
)
def test_invalid_filters_are_refused_naming_the_field(fleet, query, field):
    before = fleet.snapshot()
    r = fleet.get(f"/api/v1/events?{query}", kind="viewer")
    assert r.status_code == 422, r.text
    assert names_field(r, field), r.text
    assert fleet.snapshot() == before


def test_an_invalid_target_regex_is_refused(fleet):
    r = fleet.get("/api/v1/events?target=~(web", kind="viewer")
    assert r.status_code == 422, r.text
    assert names_field(r, "target")


def test_an_empty_severity_is_refused_or_ignored(fleet):
    r = fleet.get("/api/v1/events?severity=", kind="viewer")
    unfiltered = fleet.get("/api/v1/events", kind="viewer")
    assert (r.status_code == 422 and names_field(r, "severity")) or r.json() == unfiltered.json(), r.text


# -- one event with its history ---------------------------------------------------------------------


def test_an_event_shows_its_chained_history_and_its_comments(api):
    event_id = api.open()
    api.open(target="web02")  # another event's history and comments stay its own
    api.post(f"/api/v1/events/{api.newest(target='web02').id}/comments", {"text": "not this one"})
    assert api.post(f"/api/v1/events/{event_id}/acknowledge", {"comment": "on it", "expires_in": "2h"}).is_success
    assert api.post(f"/api/v1/events/{event_id}/comments", {"text": "vendor ticket 4711"}).is_success
    assert api.post(f"/api/v1/events/{event_id}/resolve", {"comment": "replaced the disk"}).is_success

    r = api.get(f"/api/v1/events/{event_id}", kind="viewer")
    assert r.status_code == 200, r.text
    detail = r.json()
    assert (detail["id"], detail["fingerprint"], detail["state"], detail["count"]) == (
        event_id, "web01/disk//", "resolved", 2)
    history = detail["history"]
    assert [(h["kind"], h["actor"], h["comment"]) for h in history] == [
        ("opened", None, None),
        ("acknowledged", "olga", "on it"),
        ("commented", "olga", "vendor ticket 4711"),
        ("resolved", "olga", "replaced the disk"),
    ]
    assert history[0]["from_state"] is None and history[0]["detail"] == "CRITICAL"
    for previous, entry in zip(history, history[1:], strict=False):
        assert entry["from_state"] == previous["to_state"]
        assert entry["at"] >= previous["at"]
    assert history[-1]["to_state"] == detail["state"]
    assert history[1]["detail"].startswith("until ") and history[1]["detail"].endswith(" UTC")
    assert [(c["author"], c["text"]) for c in detail["comments"]] == [("olga", "vendor ticket 4711")]
    # The list and the detail agree on the event's own fields.
    listed = next(e for e in api.get("/api/v1/events?state=all").json() if e["id"] == event_id)
    assert {k: v for k, v in detail.items() if k not in ("history", "comments")} == listed


# -- bad input ---------------------------------------------------------------------------------------

JSON = {"Content-Type": "application/json"}


@pytest.mark.parametrize(
    "path, raw, headers, status, text",
    [
        ("acknowledge", b'{"comment": ', JSON, (400, 422), "JSON"),
        ("resolve", b"{not json}", JSON, (400, 422), "JSON"),
        ("comments", b'{"text": "x"', JSON, (400, 422), "JSON"),
        ("acknowledge", b'{"comment": "x"}', {"Content-Type": "text/plain"}, 415, "Content-Type"),
        ("comments", b'{"text": "x"}', {}, 415, "Content-Type"),
        ("resolve", b'{"comment": "x"}', {"Content-Type": "application/x-www-form-urlencoded"}, 415, "Content-Type"),
        ("acknowledge", b'{"comment": "x", "colour": "red"}', JSON, 422, "colour"),
        ("resolve", b'{"by": "me"}', JSON, 422, "by"),
        ("comments", b'{"text": "x", "author": "me"}', JSON, 422, "author"),
        ("acknowledge", b"[]", JSON, 422, "object"),
        ("comments", b"{}", JSON, 422, "text"),
        ("comments", b'{"text": ""}', JSON, 422, "text"),
        ("comments", b'{"text": "   "}', JSON, 422, "comment"),
        ("comments", json.dumps({"text": "x" * 2001}).encode(), JSON, 422, "text"),
        ("acknowledge", json.dumps({"comment": "x" * 2001}).encode(), JSON, 422, "comment"),
        ("resolve", json.dumps({"comment": "x" * 2001}).encode(), JSON, 422, "comment"),
        ("acknowledge", b'{"expires_in": "-1h"}', JSON, 422, "expires_in"),
        ("acknowledge", b'{"expires_in": -60}', JSON, 422, "expires_in"),
        ("acknowledge", b'{"expires_in": "0s"}', JSON, 422, "expires_in"),
        ("acknowledge", b'{"expires_in": "soon"}', JSON, 422, "expires_in"),
        ("acknowledge", b'{"expires_at": "2030-01-01T00:00:00Z", "expires_in": "1h"}', JSON, 422, "expires_at"),
        ("acknowledge", b'{"expires_at": "2030-01-01T00:00:00"}', JSON, 422, "expires_at"),
        ("acknowledge", b'{"expires_at": "2020-01-01T00:00:00Z"}', JSON, 422, "expires_at"),
        ("acknowledge", b"{" + b" " * (64 * 1024) + b"}", JSON, 413, "limit"),
        ("comments", json.dumps({"text": "x" * (64 * 1024)}).encode(), JSON, 413, "limit"),
    ],
)
def test_bad_change_requests_are_refused_and_change_nothing(api, path, raw, headers, status, text):
    event_id = api.open()
    before = api.snapshot()
    r = api.post(f"/api/v1/events/{event_id}/{path}", content=raw, headers=headers)
    statuses = status if isinstance(status, tuple) else (status,)
    assert r.status_code in statuses, r.text
    assert text in json.dumps(r.json()), r.text
    assert api.snapshot() == before
    assert api.changes == []


def test_a_streamed_body_over_the_limit_is_refused_without_a_declared_length(api):
    event_id = api.open()
    before = api.snapshot()

    def chunks():
        yield b'{"comment": "'
        for _ in range(70):
            yield b"x" * 1024
        yield b'"}'

    r = api.post(f"/api/v1/events/{event_id}/acknowledge", content=chunks(), headers=JSON)
    assert r.status_code == 413, r.text
    assert api.snapshot() == before and api.changes == []


@pytest.mark.parametrize("path", ["acknowledge", "resolve"])
@pytest.mark.parametrize("state", ["resolved", "closed"])
def test_changing_an_event_that_is_not_open_is_a_conflict(api, path, state):
    event_id = api.open()
    api.engine().resolve(event_id, "somebody")
    if state == "closed":
        api.engine().tick(utcnow() + dt.timedelta(hours=25))
    assert api.event(event_id).state == state
    before = api.snapshot()
    r = api.post(f"/api/v1/events/{event_id}/{path}", {"comment": "too late"})
    assert r.status_code == 409, r.text
    assert f"event {event_id} is {state}" in r.json()["detail"]
    assert api.snapshot() == before
    assert api.changes == []


@pytest.mark.parametrize(
    "method, path, body",
    [
        ("GET", "/api/v1/events/999", None),
        ("POST", "/api/v1/events/999/acknowledge", {"comment": "x"}),
        ("POST", "/api/v1/events/999/resolve", None),
        ("POST", "/api/v1/events/999/comments", {"text": "x"}),
        ("DELETE", "/api/v1/maintenance/999", None),
    ],
)
def test_an_unknown_id_is_not_found(api, method, path, body):
    api.open()
    before = api.snapshot()
    r = api.request(method, path, body=body)
    assert r.status_code == 404, r.text
    assert "999" in r.json()["detail"]
    assert api.snapshot() == before
    assert api.changes == []


@pytest.mark.parametrize(
    "spec, text",
    [
        ({"kind": "cron", "cron": "not cron", "duration": "1h"}, "cron"),
        ({"kind": "cron", "cron": "61 * * * *", "duration": "1h"}, "61"),
        ({"kind": "cron", "cron": "0 2 * * *"}, "duration"),
        ({"kind": "cron", "duration": "1h"}, "cron"),
        ({"kind": "weekly", "weekdays": ["sat", "funday"], "start_time": "03:00", "duration": "2h"}, "funday"),
        ({"kind": "weekly", "weekdays": [], "start_time": "03:00", "duration": "2h"}, "day"),
        ({"kind": "weekly", "weekdays": ["sat"], "duration": "2h"}, "start time"),
        ({"kind": "weekly", "weekdays": ["sat"], "start_time": "25:00", "duration": "2h"}, "start_time"),
        ({"kind": "weekly", "weekdays": ["sat"], "start_time": "03:00", "duration": "-2h"}, "duration"),
        ({"kind": "once", "starts_at": "2030-01-02T00:00:00Z", "ends_at": "2030-01-01T00:00:00Z"}, "start before"),
        ({"kind": "once", "starts_at": "2030-01-01T00:00:00Z", "ends_at": "2030-01-01T00:00:00Z"}, "start before"),
        ({"kind": "once", "starts_at": "2030-01-01T00:00:00"}, "starts_at"),
        ({"kind": "once"}, "start before"),
        ({"kind": "cron", "cron": "0 2 * * *", "duration": "1h", "starts_at": "2030-01-02T00:00:00Z",
          "ends_at": "2030-01-01T00:00:00Z"}, "start must come before the end"),
        ({"kind": "cron", "cron": "0 2 * * *", "duration": "1h", "timezone": "Mars/Olympus"}, "Mars/Olympus"),
        ({"kind": "monthly", "duration": "1h"}, "kind"),
        ({"kind": "once", "starts_at": "2030-01-01T00:00:00Z", "duration": "1h", "colour": "red"}, "colour"),
        ({"hosts": "", "kind": "once", "starts_at": "2030-01-01T00:00:00Z", "duration": "1h"}, "hosts"),
        ({"name": "", "kind": "once", "starts_at": "2030-01-01T00:00:00Z", "duration": "1h"}, "name"),
    ],
)
def test_an_invalid_maintenance_window_is_refused_and_nothing_is_stored(api, spec, text):
    before = api.snapshot()
    r = api.post("/api/v1/maintenance", {"name": "w", "hosts": "web*", **spec})
    assert r.status_code == 422, r.text
    assert text in json.dumps(r.json()), r.text
    assert api.snapshot() == before
    assert api.changes == []


@pytest.mark.parametrize(
    "raw, headers, status",
    [
        (b'{"name": "w", ', JSON, (400, 422)),
        (json.dumps(WINDOW).encode(), {"Content-Type": "text/plain"}, (415,)),
        (b"", JSON, (422,)),
        (json.dumps({**WINDOW, "name": "x" * 70_000}).encode(), JSON, (413,)),
    ],
    ids=["malformed", "not json", "empty", "oversized"],
)
def test_a_malformed_maintenance_request_is_refused(api, raw, headers, status):
    before = api.snapshot()
    r = api.post("/api/v1/maintenance", content=raw, headers=headers)
    assert r.status_code in status, r.text
    assert api.snapshot() == before and api.changes == []


def test_a_one_off_window_with_an_invalid_cron_or_weekday_is_refused(api):
    r = api.post("/api/v1/maintenance", {"name": "w", "hosts": "web*", "kind": "once",
                                         "starts_at": "2030-01-01T00:00:00Z", "duration": "1h",
                                         "cron": "not cron", "weekdays": ["funday"]})
    assert r.status_code == 422, r.text
    assert api.repository.windows() == []


def test_a_window_with_an_invalid_host_regex_is_refused(api):
    r = api.post("/api/v1/maintenance", {"name": "w", "hosts": "~(web", "kind": "once",
                                         "starts_at": "2030-01-01T00:00:00Z", "duration": "1h"})
    assert r.status_code == 422, r.text
    assert api.repository.windows() == []


@pytest.mark.parametrize(
    "path, body",
    [
        ("/api/v1/events/1/acknowledge", {"expires_in": "9999999d"}),  # now + this overflows
        ("/api/v1/events/1/acknowledge", {"expires_in": "1000000000d"}),  # the timedelta itself overflows
        ("/api/v1/events/1/acknowledge", {"expires_in": 1e300}),
        ("/api/v1/maintenance", {"name": "w", "hosts": "web*", "starts_at": "2030-01-01T00:00:00Z",
                                 "duration": "9999999d"}),
    ],
)
def test_an_expiry_out_of_range_is_a_validation_error(api, path, body):
    api.open()
    before = api.snapshot()
    r = api.post(path, body)
    assert r.status_code == 422, r.text
    assert api.snapshot() == before


# -- expiry and notices ------------------------------------------------------------------------------


def test_an_acknowledgement_with_expires_in_lasts_that_long(api):
    event_id = api.open()
    start = utcnow()
    r = api.post(f"/api/v1/events/{event_id}/acknowledge", {"expires_in": "2h30m"})
    end = utcnow()
    assert r.status_code == 200, r.text
    expires = api.event(event_id).ack_expires_at
    span = dt.timedelta(hours=2, minutes=30)
    assert start + span <= expires <= end + span
    assert parse(r.json()["ack_expires_at"]) == expires


def test_an_acknowledgement_with_expires_at_ends_then(api):
    event_id = api.open()
    at = (utcnow() + dt.timedelta(hours=3)).replace(microsecond=0)
    r = api.post(f"/api/v1/events/{event_id}/acknowledge",
                 {"expires_at": at.astimezone(dt.timezone(dt.timedelta(hours=8))).isoformat()})
    assert r.status_code == 200, r.text
    assert api.event(event_id).ack_expires_at == at
    assert r.json()["ack_expires_at"] == at.isoformat().replace("+00:00", "Z")


def test_an_expired_acknowledgement_fires_again_at_the_next_tick(api):
    event_id = api.open()
    api.post(f"/api/v1/events/{event_id}/acknowledge", {"expires_in": "1h"})
    api.engine().tick(utcnow() + dt.timedelta(hours=1, seconds=1))
    event = api.event(event_id)
    assert (event.state, event.acknowledged_by, event.ack_expires_at) == ("firing", None, None)
    assert [h.kind for h in api.repository.history(event_id)] == ["opened", "acknowledged", "ack_expired"]


def test_acknowledging_and_resolving_a_told_event_put_notices_in_the_outbox(api):
    event_id = api.open()
    [opened] = api.repository.take_notices()
    assert (opened.event_id, opened.change) == (event_id, "opened")  # receivers were told of it

    api.post(f"/api/v1/events/{event_id}/acknowledge", {"comment": "on it"})
    [acknowledged] = api.repository.take_notices()
    assert (acknowledged.event_id, acknowledged.change, acknowledged.state) == (event_id, "acknowledged",
                                                                                "acknowledged")
    assert (acknowledged.actor, acknowledged.comment) == ("olga", "on it")
    assert acknowledged.groups == ("all", "web")

    api.post(f"/api/v1/events/{event_id}/comments", {"text": "a note"})
    assert api.repository.take_notices() == []  # comments tell nobody

    api.post(f"/api/v1/events/{event_id}/resolve", {"comment": "replaced the disk"})
    [resolved] = api.repository.take_notices()
    assert (resolved.change, resolved.state, resolved.actor, resolved.comment) == (
        "resolved", "resolved", "olga", "replaced the disk")


def test_changes_to_an_event_nobody_was_told_about_put_nothing_in_the_outbox(api):
    start = utcnow() - dt.timedelta(minutes=1)
    window = api.post("/api/v1/maintenance", {"name": "now", "hosts": "web", "starts_at": start.isoformat(),
                                              "duration": "1h"})
    assert window.status_code == 201 and window.json()["active"] is True
    event_id = api.open()
    event = api.event(event_id)
    assert event.in_maintenance and not event.notified
    assert api.repository.take_notices() == []  # inside a window: recorded, not told

    r = api.post(f"/api/v1/events/{event_id}/acknowledge", {"comment": "on it"})
    assert r.status_code == 200 and r.json()["in_maintenance"] is True
    assert api.repository.take_notices() == []
    assert api.post(f"/api/v1/events/{event_id}/resolve").status_code == 200
    assert api.repository.take_notices() == []  # born and gone inside the window: wakes nobody
    assert [h.kind for h in api.repository.history(event_id)] == [
        "opened", "maintenance_started", "acknowledged", "resolved"]


def test_on_change_follows_each_successful_change_only(api):
    first, second = api.open(), api.open(target="web02")
    steps = [
        (lambda: api.post(f"/api/v1/events/{first}/acknowledge"), 200, 1),
        (lambda: api.post(f"/api/v1/events/{first}/acknowledge", {"expires_in": "-1h"}), 422, 0),
        (lambda: api.post(f"/api/v1/events/{first}/resolve", kind="viewer"), 403, 0),
        (lambda: api.post(f"/api/v1/events/{first}/resolve"), 200, 1),
        (lambda: api.post(f"/api/v1/events/{first}/resolve"), 409, 0),
        (lambda: api.post("/api/v1/events/999/acknowledge"), 404, 0),
        (lambda: api.post(f"/api/v1/events/{second}/resolve", {"comment": "gone"}), 200, 1),
        (lambda: api.post("/api/v1/maintenance", WINDOW), 201, 1),
        (lambda: api.post("/api/v1/maintenance", {**WINDOW, "kind": "cron"}), 422, 0),
        (lambda: api.request("DELETE", "/api/v1/maintenance/1", kind="viewer"), 403, 0),
        (lambda: api.request("DELETE", "/api/v1/maintenance/1"), 204, 1),
        (lambda: api.request("DELETE", "/api/v1/maintenance/1"), 404, 0),
        (lambda: api.get("/api/v1/events"), 200, 0),
    ]
    for number, (call, status, calls) in enumerate(steps):
        before = len(api.changes)
        r = call()
        assert r.status_code == status, (number, r.text)
        assert len(api.changes) - before == calls, number


def test_a_one_off_window_without_a_start_begins_now(api):
    before = utcnow()
    r = api.post("/api/v1/maintenance", {"name": "now", "hosts": "web*", "duration": "30m"})
    assert r.status_code == 201, r.text
    [window] = api.repository.windows()
    assert before <= window.starts_at <= utcnow()
    assert window.ends_at - window.starts_at == dt.timedelta(minutes=30)
    assert r.json()["active"] is True
