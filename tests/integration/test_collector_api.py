"""The collector's HTTP API, against a real `patrol serve` process and its real SQLite store."""
import gzip
import json
import subprocess

import pytest
import requests
import sqlalchemy as sa

from .collector_support import PLAYBOOK, Collector, batch, result

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def collector(tmp_path_factory):
    c = Collector(tmp_path_factory.mktemp("collector"), settings={"max_body_bytes": 200_000})
    c.write_files({"agents": PLAYBOOK.format(name="agents", schedule="0 8 * * *", hosts="agents")})
    for kind, name in (("agent", "web01"), ("agent", "web02"), ("metrics", "prom")):
        c.create_token(kind, name)
    c.start()
    yield c
    c.kill(15)


def stored(collector, where="1=1", **params) -> int:
    engine = sa.create_engine(collector.db)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(f"SELECT count(*) FROM results WHERE {where}"), params).scalar_one()
    finally:
        engine.dispose()


def test_health_routes_need_no_token_and_every_other_route_does(collector):
    assert requests.get(collector.url + "/healthz", timeout=5).json() == {"status": "ok"}
    assert requests.get(collector.url + "/readyz", timeout=5).status_code == 200
    spec = requests.get(collector.url + "/openapi.json", headers=collector.headers(), timeout=5).json()
    routes = [(method, path) for path, ops in spec["paths"].items() for method in ops]
    assert ("post", "/api/v1/results") in routes and ("get", "/metrics") in routes
    assert ("get", "/openapi.json") in routes
    for page in ("/docs", "/redoc"):  # no interactive pages: they would load scripts from the internet
        assert requests.get(collector.url + page, timeout=5).status_code == 404
    for method, path in routes:
        if path in ("/healthz", "/readyz"):
            continue
        concrete = path.replace("{name}", "web01").replace("{event_id}", "1").replace("{window_id}", "1")
        r = requests.request(method, collector.url + concrete, timeout=5)
        assert r.status_code == 401, (method, path, r.status_code)
        assert r.headers["www-authenticate"].startswith("Bearer")


def test_a_batch_is_stored_exactly_once_and_a_retry_is_acknowledged(collector):
    body = batch("web01", [result("web01", item=str(i)) for i in range(5)])
    first = collector.push(body)
    assert first.status_code == 200 and first.json() == {"batch_id": body["batch_id"], "stored": 5, "duplicate": False}
    again = collector.push(body, gzipped=True)
    assert again.status_code == 200 and again.json()["duplicate"] is True and again.json()["stored"] == 0
    assert stored(collector, "batch_id = :b", b=body["batch_id"]) == 5


def test_gzip_pushes_are_accepted(collector):
    body = batch("web01", [result("web01", check="uptime")])
    r = collector.push(body, gzipped=True)
    assert r.status_code == 200 and r.json()["stored"] == 1


@pytest.mark.parametrize(
    "case, status, message",
    [
        ("malformed json", 400, "malformed JSON"),
        ("wrong type", 422, "results"),
        ("unknown field", 422, "colour"),
        ("bad batch id", 422, "batch_id"),
        ("no results", 422, "results"),
        ("other agent's batch", 403, "not 'web02'"),
        ("target not owned", 403, "results[1].target 'db01'"),
        ("metrics token", 403, "metrics token"),
        ("wrong token", 401, "not valid"),
        ("not json", 415, "Content-Type"),
        ("oversized", 413, "over the limit"),
        ("gzip bomb", 413, "decompressed body is over the limit"),
        ("broken gzip", 400, "gzip"),
        ("unknown encoding", 415, "Content-Encoding"),
    ],
)
def test_bad_pushes_are_refused_with_a_reason_and_store_nothing(collector, case, status, message):
    body = batch("web01", [result("web01"), result("web01", item="x")])
    kwargs = {}
    if case == "malformed json":
        body = b'{"schema": "patrol.batch/1", "batch_id": '
    elif case == "wrong type":
        body["results"][0]["duration_seconds"] = "slow"
    elif case == "unknown field":
        body["results"][0]["colour"] = "red"
    elif case == "bad batch id":
        body["batch_id"] = "no spaces allowed"
    elif case == "no results":
        body["results"] = []
    elif case == "other agent's batch":
        body["agent"] = "web02"
        body["results"] = [result("web02")]
    elif case == "target not owned":
        body["results"][1]["target"] = "db01"
    elif case == "metrics token":
        kwargs = {"kind": "metrics", "name": "prom"}
    elif case == "wrong token":
        kwargs = {"headers": {"Authorization": "Bearer pat_not-a-real-token"}}
    elif case == "not json":
        kwargs = {"headers": {"Content-Type": "text/plain"}}
    elif case == "oversized":
        body["results"] = [result("web01", item=f"/mnt/{i}") for i in range(1000)]
    elif case == "gzip bomb":
        body = gzip.compress(b"[" + b" " * 10_000_000 + b"]")
        kwargs = {"headers": {"Content-Encoding": "gzip"}}
    elif case == "broken gzip":
        body = b"\x1f\x8b not really gzip"
        kwargs = {"headers": {"Content-Encoding": "gzip"}}
    elif case == "unknown encoding":
        kwargs = {"headers": {"Content-Encoding": "br"}}
    before = stored(collector)
    r = collector.push(body, **kwargs)
    assert r.status_code == status, r.text
    assert message in json.dumps(r.json()), r.text
    assert stored(collector) == before


def test_a_revoked_token_stops_working_at_once(collector):
    token = collector.create_token("agent", "web02")
    assert collector.push(batch("web02", [result("web02")]), name="web02").status_code == 200
    listing = collector.patrol("token", "list")
    assert token not in listing.stdout and "web02" in listing.stdout
    revoked = collector.patrol("token", "revoke", "--agent", "web02")
    assert revoked.returncode == 0 and "revoked" in revoked.stdout
    assert collector.push(batch("web02", [result("web02")]), name="web02").status_code == 401


def test_plan_is_derived_from_the_playbooks_with_an_etag(collector):
    r = requests.get(collector.url + "/api/v1/agents/web01/plan", headers=collector.headers(), timeout=5)
    assert r.status_code == 200
    plan = r.json()
    assert plan["schema"] == "patrol.plan/1" and plan["agent"] == "web01"
    assert [(c["playbook"], c["check"], c["schedule"]) for c in plan["checks"]] == [
        ("agents", "memory", "0 8 * * *"),
        ("agents", "uptime", "0 8 * * *"),
    ]
    assert plan["checks"][0]["params"]["warning"] == "85" and plan["interval_seconds"] == 86400
    etag = r.headers["etag"]
    again = requests.get(collector.url + "/api/v1/agents/web01/plan",
                         headers={**collector.headers(), "If-None-Match": etag}, timeout=5)
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    other = requests.get(collector.url + "/api/v1/agents/web02/plan", headers=collector.headers(), timeout=5)
    assert other.status_code == 403


def test_agents_list_shows_last_contact_to_a_metrics_token(collector):
    collector.push(batch("web01", [result("web01")]))
    r = requests.get(collector.url + "/api/v1/agents", headers=collector.headers("metrics", "prom"), timeout=5)
    assert r.status_code == 200
    web01 = next(a for a in r.json() if a["name"] == "web01")
    assert web01["last_seen"] and web01["results_received"] >= 1 and web01["silent"] is False
    assert requests.get(collector.url + "/api/v1/agents", headers=collector.headers(), timeout=5).status_code == 403


def test_metrics_expose_the_latest_results_and_pass_promtool(collector):
    collector.push(batch("web01", [result("web01", check="memory", value=91.5)]))
    r = requests.get(collector.url + "/metrics", headers=collector.headers("metrics", "prom"), timeout=10)
    assert r.status_code == 200
    text = r.text
    assert 'patrol_memory_used_ratio{target="web01",check="memory",item=""} 0.915' in text
    assert 'patrol_check_status{target="web01",check="memory",item=""} 0.0' in text
    assert "patrol_ingest_batches_total" in text
    lint = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    assert requests.get(collector.url + "/metrics", headers=collector.headers(), timeout=5).status_code == 403


def test_many_concurrent_pushes_are_all_stored(collector):
    import concurrent.futures as cf

    bodies = [batch("web01", [result("web01", item=f"c{n}-{i}") for i in range(50)]) for n in range(24)]
    before = stored(collector)
    with cf.ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(collector.push, bodies))
    assert [a.status_code for a in answers] == [200] * 24, [a.text for a in answers if a.status_code != 200][:1]
    assert stored(collector) == before + 24 * 50
