"""Every route of the collector's HTTP API fuzzed from the OpenAPI document the collector itself serves
(schemathesis, through the real FastAPI app on a real SQLite store), with every kind of credential.

Each example is checked three ways:
- schemathesis' response checks: no 5xx, a documented status, content type, headers and body as the
  document says, and schema-violating input refused;
- the access policy: a 2xx only for a token kind the route admits, 401 without a valid token, 403 for
  a valid token of another kind (422 may come first when a path or query parameter is malformed);
- the store: a snapshot of every table before and after. A refused request changed nothing at all; an
  accepted one changed exactly what it asked for (the results of the batch, one comment, one window...).

The examples are derandomized (the same on every run) and bounded, so the module runs in well under a
minute; FUZZ_EXAMPLES raises the count for a longer local run.
"""

from __future__ import annotations

import datetime as dt
import os
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import schemathesis
import sqlalchemy as sa
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from checks.registry import default_registry
from checks.result import Result
from checks.status import Status
from collector.api.app import ApiSettings, create_app
from collector.config.site import SiteWatcher
from collector.events.maintenance import MaintenanceWindow
from collector.events.service import build_engine
from collector.events.settings import EventSettings
from collector.store.models import Base
from collector.store.store import Store

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "60"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance, negative_data_rejection]

INVENTORY = """\
all:
  children:
    linux:
      hosts:
        web01: {patrol_agent: true}
        web02: {patrol_agent: true}
        db01: {}
"""
PLAYBOOK = """\
name: every-minute
schedule: "@every 1m"
tasks:
  - name: Host health
    hosts: linux
    checks:
      - disk: {warning: 80, critical: 90}
      - uptime
"""

# Credentials: none, garbage, a revoked token, and a valid token of every kind.
UNAUTHENTICATED = ("none", "garbage", "revoked")
KINDS = ("agent", "metrics", "viewer", "operator")
CREDENTIALS = UNAUTHENTICATED + KINDS
READ = {"viewer", "operator"}
ACCESS: dict[str, set[str]] = {  # operation label -> token kinds admitted (None: public)
    "GET /healthz": set(KINDS) | set(UNAUTHENTICATED),
    "GET /readyz": set(KINDS) | set(UNAUTHENTICATED),
    "POST /api/v1/results": {"agent"},
    "GET /api/v1/agents/{name}/plan": {"agent"},
    "GET /api/v1/agents": {"metrics"},
    "GET /metrics": {"metrics"},
    "GET /openapi.json": set(KINDS),
    "GET /api/v1/events": READ,
    "GET /api/v1/events/{event_id}": READ,
    "POST /api/v1/events/{event_id}/acknowledge": {"operator"},
    "POST /api/v1/events/{event_id}/resolve": {"operator"},
    "POST /api/v1/events/{event_id}/comments": {"operator"},
    "GET /api/v1/maintenance": READ,
    "POST /api/v1/maintenance": {"operator"},
    "DELETE /api/v1/maintenance/{window_id}": {"operator"},
}
PUBLIC = {"GET /healthz", "GET /readyz"}
# Bodies the routes accept, mixed in with the generated ones: a random maintenance window or acknowledgement
# almost never satisfies the rules between its fields (a kind's own fields, one expiry), so without these the
# accepting path would hardly run.
ACCEPTABLE: dict[str, list[Any]] = {
    "POST /api/v1/maintenance": [
        {"name": "patching", "hosts": "db*", "kind": "weekly", "weekdays": ["sat"], "start_time": "02:00",
         "duration": "3h"},
        {"name": "upgrade", "hosts": "web01", "check": "disk", "duration": "2h"},
        {"name": "nightly", "hosts": "linux", "kind": "cron", "cron": "0 2 * * *", "duration": "1h",
         "timezone": "Asia/Shanghai"},
    ],
    "POST /api/v1/events/{event_id}/acknowledge": [{}, {"comment": "on it", "expires_in": "2h"}],
}
AGENT = "web01"


class World:
    """The app on a real store and site in a temporary directory, with open events and windows to act on."""

    def __init__(self, root: Path) -> None:
        (root / "inventory.yaml").write_text(INVENTORY, encoding="utf-8")
        (root / "playbooks").mkdir()
        (root / "playbooks" / "every-minute.yaml").write_text(PLAYBOOK, encoding="utf-8")
        self.site = SiteWatcher(root / "inventory.yaml", root / "playbooks", default_registry())
        self.store = Store.open(f"sqlite:///{root}/patrol.db")
        self.app = create_app(self.store, self.site, ApiSettings(report_dir=root / "reports"))
        self.tokens = {kind: self.store.create_token(kind, name)[1]
                       for kind, name in (("agent", AGENT), ("metrics", "prom"), ("viewer", "vera"),
                                          ("operator", "olga"))}
        revoked_id, self.tokens["revoked"] = self.store.create_token("operator", "gone")
        self.store.revoke_tokens(token_id=revoked_id)
        self.tokens["garbage"] = "pat_not-a-token"
        self.store.create_token("agent", "web02")  # another agent's token exists: web01's may not act for it
        self.event_ids = self._open_events()
        self.window_ids = [self._add_window(n) for n in range(3)]
        self.fresh = 0  # events and windows made since, for tests that need one nobody touched
        self.schema = schemathesis.openapi.from_asgi(
            "/openapi.json", self.app, headers={"Authorization": f"Bearer {self.tokens['viewer']}"})

    def _open_events(self, items: tuple[str, ...] = tuple(f"/data{n}" for n in range(8))) -> list[int]:
        """Open events for these disk items of web01 and db01; their ids."""
        engine = build_engine(self.store, EventSettings(), None, self.site.site.inventory)
        start = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
        results = [Result(target=target, check="disk", item=item, status=Status.CRITICAL,
                          summary="full", started_at=start + dt.timedelta(minutes=step), duration_seconds=0.1)
                   for item in items for target in ("web01", "db01") for step in (0, 1)]
        self.store.add_results(None, results)
        known = {e.id for e in engine.repository.list_events()}
        engine.observe(results)
        engine.repository.take_notices()
        return sorted({e.id for e in engine.repository.list_events()} - known)

    def _add_window(self, n: int) -> int:
        start = dt.datetime.now(dt.UTC) + dt.timedelta(days=30 + n)
        window = MaintenanceWindow.once(f"later {n}", "db*", start, start + dt.timedelta(hours=1), created_by="t")
        return build_engine(self.store, EventSettings(), None, self.site.site.inventory).repository.add_window(
            window).id

    def client(self) -> TestClient:
        return TestClient(self.app, raise_server_exceptions=False)

    def headers(self, credential: str) -> dict[str, str]:
        return {} if credential == "none" else {"Authorization": f"Bearer {self.tokens[credential]}"}


# -- the store, table by table -----------------------------------------------------------------------

Snapshot = dict[str, dict[tuple, dict[str, Any]]]


def snapshot(store: Store) -> Snapshot:
    """Every row of every table of the store, by primary key."""
    out: Snapshot = {}
    with store.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            keys = [c.name for c in table.primary_key.columns]
            out[table.name] = {tuple(row[k] for k in keys): dict(row)
                               for row in conn.execute(sa.select(table)).mappings()}
    return out


class Diff:
    def __init__(self, before: Snapshot, after: Snapshot) -> None:
        self.added = {t: [after[t][k] for k in after[t].keys() - before[t].keys()] for t in after}
        self.removed = {t: [before[t][k] for k in before[t].keys() - after[t].keys()] for t in before}
        self.changed = {t: [after[t][k] for k in after[t].keys() & before[t].keys() if after[t][k] != before[t][k]]
                        for t in after}

    def tables(self) -> set[str]:
        """The tables with any change."""
        return {t for t in self.added if self.added[t] or self.removed[t] or self.changed[t]}

    def touched(self, table: str) -> list[dict[str, Any]]:
        return self.added[table] + self.changed[table]


def body_of(case: Any) -> Any:
    return case.body if isinstance(case.body, dict) else {}


def check_store_change(label: str, case: Any, response: Any, diff: Diff) -> None:
    """An accepted request changed exactly what it asked for; a refused one nothing."""
    tables = diff.tables()
    if not 200 <= response.status_code < 300:
        assert not tables, f"{label} refused with {response.status_code} but changed {sorted(tables)}"
        return
    if label.startswith("GET ") and label != "GET /api/v1/agents/{name}/plan":
        assert not tables, f"{label} is a read but changed {sorted(tables)}"
    elif label == "GET /api/v1/agents/{name}/plan":  # the agent's expected interval is noted
        assert tables <= {"agents"} and all(r["name"] == AGENT for r in diff.touched("agents"))
    elif label == "POST /api/v1/results":
        check_push(case, response.json(), diff)
    elif label in ("POST /api/v1/events/{event_id}/acknowledge", "POST /api/v1/events/{event_id}/resolve"):
        event_id = int(case.path_parameters["event_id"])
        # Resolving starts the item's bad streak again (event_tracks), for that event's item only.
        assert tables <= {"events", "event_history", "event_comments", "event_outbox", "event_tracks"}, tables
        [event] = diff.changed["events"]
        assert event["id"] == event_id and not diff.added["events"]
        assert all(r["fingerprint_hash"] == event["fingerprint_hash"] for r in diff.touched("event_tracks"))
        assert diff.added["event_history"] and all(r["event_id"] == event_id for r in diff.added["event_history"])
        assert all(r["event_id"] == event_id for r in diff.added["event_comments"])
    elif label == "POST /api/v1/events/{event_id}/comments":
        event_id = int(case.path_parameters["event_id"])
        assert tables <= {"event_comments", "event_history"}, tables
        [comment] = diff.added["event_comments"]
        assert (comment["event_id"], comment["author"]) == (event_id, "olga")
        assert comment["text"] == response.json()["text"]
    elif label == "POST /api/v1/maintenance":
        assert tables == {"maintenance_windows"}, tables
        [window] = diff.added["maintenance_windows"]
        assert (window["id"], window["name"], window["created_by"]) == (
            response.json()["id"], body_of(case)["name"], "olga")
    elif label == "DELETE /api/v1/maintenance/{window_id}":
        assert tables == {"maintenance_windows"}, tables
        assert [r["id"] for r in diff.removed["maintenance_windows"]] == [int(case.path_parameters["window_id"])]
        assert not diff.touched("maintenance_windows")
    else:
        raise AssertionError(f"no rule for what {label} may change")


def check_push(case: Any, answer: dict, diff: Diff) -> None:
    """Exactly the batch's results were stored, under its id; a duplicate stored nothing."""
    batch = case.body
    if answer["duplicate"]:
        assert not diff.tables(), f"a duplicate batch changed {sorted(diff.tables())}"
        return
    assert diff.tables() <= {"results", "latest_results", "daily_results", "ingest_batches", "agents"}
    assert not any(diff.removed[t] for t in diff.removed if t != "latest_results")
    [claimed] = diff.added["ingest_batches"]
    assert (claimed["batch_id"], claimed["agent"], claimed["result_count"]) == (
        batch["batch_id"], AGENT, len(batch["results"]))
    stored = diff.added["results"]
    assert answer["stored"] == len(stored) == len(batch["results"])
    assert {r["batch_id"] for r in stored} == {batch["batch_id"]}
    assert Counter((r["target"], r["check"], r["item"], r["status"], r["summary"]) for r in stored) == Counter(
        (r["target"], r["check"], r.get("item", ""), r["status"], r["summary"]) for r in batch["results"])
    assert all(r["name"] == AGENT for r in diff.touched("agents"))
    assert all(r["target"] == AGENT for t in ("latest_results", "daily_results") for r in diff.touched(t))


def check_access(label: str, credential: str, response: Any) -> None:
    status = response.status_code
    if 200 <= status < 400:
        assert label in PUBLIC or credential in ACCESS[label], f"{label} answered {status} to {credential}"
    elif label in PUBLIC:
        return
    elif credential in UNAUTHENTICATED:
        assert status in (401, 422), f"{label} answered {status} to credential {credential}"
    elif credential not in ACCESS[label]:
        assert status in (403, 422), f"{label} answered {status} to a {credential} token"


# -- the fuzz ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> World:
    world = World(tmp_path_factory.mktemp("fuzz"))
    yield world
    world.store.close()


def owned(world: World, label: str):
    """A strategy that turns some generated cases into ones the route can accept: a push with the agent's own
    name and targets, or the id of an event or window that exists. Without it, almost every case would be
    refused for the agent name or a random id, and the accepting paths would go untested."""
    def adjust(case: Any, data: st.DataObject) -> Any:
        if label == "POST /api/v1/results" and isinstance(case.body, dict) and data.draw(st.booleans()):
            # Only a name that is already a valid one is replaced: a negative case stays negative (an agent
            # name made too long by schemathesis and then replaced by ours would be "invalid data accepted").
            if is_name(case.body.get("agent")):
                case.body["agent"] = AGENT
            for result in case.body.get("results") or []:
                if isinstance(result, dict) and is_name(result.get("target")):
                    result["target"] = AGENT
        if label == "GET /api/v1/agents/{name}/plan" and data.draw(st.booleans()):
            case.path_parameters["name"] = data.draw(st.sampled_from([AGENT, "web02", "db01"]))
        if "event_id" in (case.path_parameters or {}) and data.draw(st.booleans()):
            case.path_parameters["event_id"] = data.draw(st.sampled_from(world.event_ids))
        if "window_id" in (case.path_parameters or {}) and data.draw(st.booleans()):
            case.path_parameters["window_id"] = data.draw(st.sampled_from(world.window_ids))
        return case
    return adjust


def is_name(value: Any) -> bool:
    """A valid agent or target name by the push body's schema (a string of 1 to 255 characters)."""
    return isinstance(value, str) and 1 <= len(value) <= 255


LABELS = sorted(ACCESS)


def test_the_fuzz_covers_every_operation_of_the_document(world):
    document = world.app.openapi()["paths"]
    assert sorted(f"{method.upper()} {path}" for path, ops in document.items() for method in ops) == LABELS


@pytest.mark.parametrize("label", LABELS)
def test_fuzzed_requests_are_answered_as_documented_and_store_all_or_nothing(world, label):
    method, path = label.split(" ")
    operation = world.schema[path][method]
    cases = st.one_of(operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE),
                      *[operation.as_strategy(body=body) for body in ACCEPTABLE.get(label, ())])
    # Half of the examples carry a credential the route admits, so the accepting paths get their share.
    admitted = sorted(ACCESS[label] & set(KINDS))
    credentials = st.one_of(st.sampled_from(admitted), st.sampled_from(CREDENTIALS))
    adjust = owned(world, label)
    seen: Counter = Counter()

    @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    @given(case=cases, credential=credentials, data=st.data())
    def fuzz(case, credential, data):
        case = adjust(case, data)
        before = snapshot(world.store)
        response = case.call(headers=world.headers(credential))
        diff = Diff(before, snapshot(world.store))
        seen[response.status_code] += 1
        case.validate_response(response, checks=CHECKS)
        check_access(label, credential, response)
        check_store_change(label, case, response, diff)

    fuzz()
    print(label, dict(seen))
    # The refusing paths are tested on valid requests below: here most refused examples are 422 first.
    assert any(200 <= code < 300 for code in seen), f"no example of {label} was accepted: {dict(seen)}"


def valid_request(world: World, label: str) -> tuple[str, str, Any]:
    """Method, path and body of a request the route would accept from a credential it admits."""
    method, path = label.split(" ")
    # A fresh open event and window: the fuzz before has acknowledged, resolved and deleted the first ones.
    event_id = world._open_events((f"/refusal{world.fresh}",))[0]
    window_id = world._add_window(100 + world.fresh)
    world.fresh += 1
    path = path.format(name=AGENT, event_id=event_id, window_id=window_id)
    bodies = {
        "POST /api/v1/results": {"schema": "patrol.batch/1", "batch_id": "refusal-1", "agent": AGENT, "results": [
            {"schema": "patrol.result/1", "target": AGENT, "check": "disk", "item": "/", "status": "OK",
             "summary": "fine", "started_at": "2026-01-01T00:00:00Z", "duration_seconds": 0.1}]},
        "POST /api/v1/events/{event_id}/comments": {"text": "looking"},
    }
    body = bodies.get(label) or (ACCEPTABLE.get(label) or [None])[0]
    return method, path, body


@pytest.mark.parametrize("label", sorted(set(LABELS) - PUBLIC))
def test_every_route_refuses_each_credential_it_does_not_admit_and_changes_nothing(world, label):
    """A valid request with each credential the route does not admit: 401 without a valid token, 403 for a
    valid token of another kind, and the store unchanged. (The fuzz above meets these too, but which ones a
    bounded run reaches depends on its examples.)"""
    method, path, body = valid_request(world, label)
    refused = [c for c in CREDENTIALS if c not in ACCESS[label]]  # at least the unauthenticated ones
    for credential in refused:
        before = snapshot(world.store)
        response = world.client().request(method, path, headers=world.headers(credential), json=body)
        expected = 401 if credential in UNAUTHENTICATED else 403
        assert response.status_code == expected, (label, credential, response.status_code, response.text)
        assert response.json()["detail"], (label, credential)
        assert not Diff(before, snapshot(world.store)).tables(), (label, credential)
    # The same request from a credential the route admits is accepted: the refusals were for the credential.
    admitted = sorted(ACCESS[label] & set(KINDS))[0]
    response = world.client().request(method, path, headers=world.headers(admitted), json=body)
    assert 200 <= response.status_code < 300, (label, admitted, response.status_code, response.text)


# -- what the fuzz found, each pinned by a test of its own ---------------------------------------------


@pytest.mark.parametrize("method, path", [
    ("GET", "/api/v1/events/{id}"), ("POST", "/api/v1/events/{id}/acknowledge"),
    ("POST", "/api/v1/events/{id}/resolve"), ("POST", "/api/v1/events/{id}/comments"),
    ("DELETE", "/api/v1/maintenance/{id}")])
@pytest.mark.parametrize("value", [2**63, 2**70])
def test_an_id_outside_the_databases_integers_is_a_422_naming_it(world, method, path, value):
    before = snapshot(world.store)
    response = world.client().request(method, path.format(id=value), headers=world.headers("operator"),
                                      json={"text": "x"} if path.endswith("comments") else None)
    assert response.status_code == 422, response.text
    [problem] = response.json()["detail"]
    assert problem["loc"][0] == "path" and problem["loc"][1] in ("event_id", "window_id")
    assert not Diff(before, snapshot(world.store)).tables()


def test_every_reference_in_the_document_resolves(world):
    """Pydantic's "#/$defs/..." in a request body pointed nowhere in the OpenAPI document: no tool could read
    the push body's schema (schemathesis generated no body at all)."""
    document = world.app.openapi()

    def references(node):
        if isinstance(node, dict):
            if "$ref" in node:
                yield node["$ref"]
            for value in node.values():
                yield from references(value)
        elif isinstance(node, list):
            for value in node:
                yield from references(value)

    found = list(references(document))
    for reference in found:
        assert reference.startswith("#/"), reference
        node = document
        for part in reference[2:].split("/"):
            assert isinstance(node, dict) and part in node, f"{reference} does not resolve"
            node = node[part]
    push = document["paths"]["/api/v1/results"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert push["properties"]["results"]["items"]["properties"]["status"]["enum"]  # the definitions, in place


def test_every_route_documents_its_refusals_and_metrics_is_text(world):
    document = world.app.openapi()["paths"]
    for label in set(LABELS) - PUBLIC:
        method, path = label.split(" ")
        responses = document[path][method.lower()]["responses"]
        assert {"401", "403"} <= set(responses), label
        assert responses["401"]["content"]["application/json"]["schema"]["properties"]["detail"], label
    assert list(document["/metrics"]["get"]["responses"]["200"]["content"]) == ["text/plain"]
    for path, method in (("/api/v1/results", "post"), ("/api/v1/maintenance", "post"),
                         ("/api/v1/events/{event_id}/acknowledge", "post")):
        assert {"413", "415", "422"} <= set(document[path][method]["responses"]), path
        assert "requestBody" in document[path][method], path


BODY_ROUTES = [("/api/v1/results", "agent"), ("/api/v1/maintenance", "operator"),
               ("/api/v1/events/{id}/comments", "operator"), ("/api/v1/events/{id}/acknowledge", "operator")]


@pytest.mark.parametrize("path, credential", BODY_ROUTES)
@pytest.mark.parametrize("body", ["[" * 5000 + "]" * 5000, '{"a":' * 5000 + "1" + "}" * 5000],
                         ids=["lists", "objects"])
def test_a_deeply_nested_body_is_refused_at_parsing_and_changes_nothing(world, path, credential, body):
    """JSON nested 5,000 levels deep (in 10-20 kB) stops at the parser's depth limit with a 4xx that says so,
    before any model or the store sees it."""
    path = path.format(id=world.event_ids[-1])
    before = snapshot(world.store)
    response = world.client().post(path, content=body, headers={**world.headers(credential),
                                                                 "Content-Type": "application/json"})
    assert response.status_code in (400, 422), response.text
    assert "recursion limit exceeded" in response.text
    assert not Diff(before, snapshot(world.store)).tables()


@pytest.mark.parametrize("path, credential", BODY_ROUTES)
def test_an_oversized_body_is_a_413_and_changes_nothing(world, path, credential):
    """Over the route's limit (64 KiB for the console's routes, max_body_bytes [10 MiB] for pushes), even
    without a Content-Length (streamed in chunks)."""
    path = path.format(id=world.event_ids[-1])
    size = 11 * 1024 * 1024 if path == "/api/v1/results" else 70 * 1024

    def chunks():
        yield b'{"text": "'
        for _ in range(size // 65536):
            yield b"x" * 65536
        yield b'"}'

    before = snapshot(world.store)
    response = world.client().post(path, content=chunks(), headers={**world.headers(credential),
                                                                   "Content-Type": "application/json"})
    assert response.status_code == 413, response.text
    assert "over the limit" in response.json()["detail"]
    assert not Diff(before, snapshot(world.store)).tables()
