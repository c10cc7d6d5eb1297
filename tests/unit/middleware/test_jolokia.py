"""The jolokia check over recorded bulk answers: a real Tomcat 10.1 + Jolokia 1.7 answer, and a WebLogic one
constructed from Oracle's MBean reference (see tests/fixtures/middleware/weblogic/README.md)."""

import json
import textwrap

import pytest

from checks.errors import ConfigError
from checks.middleware import jolokia_profiles as jp
from checks.middleware.jolokia import JolokiaCheck, bulk_request
from checks.rates import RateTracker
from checks.status import Status

from .helpers import PASSWORD, creds, run
from .replay import FIXTURES, Replay


@pytest.fixture(autouse=True)
def _password(monkeypatch):
    monkeypatch.setenv("MW_TEST_PW", PASSWORD)


def answering(name):
    """A Jolokia agent at /jolokia/ that answers the recorded bulk file and keeps what it was asked."""
    body = (FIXTURES / name).read_bytes()
    return {("POST", "/jolokia/"): lambda path, data, headers: (200, "application/json", body)}


def by_item(results):
    return {r.item: r for r in results}


def test_every_shipped_profile_loads_and_names_unique_metrics():
    profiles = jp.load_profiles()
    assert {"tomcat", "wildfly", "weblogic", "tongweb", "jvm"} <= set(profiles)
    for profile in profiles.values():
        assert all(r.attributes() for r in profile.reads)


def test_every_metric_of_the_shipped_profiles_is_described_for_the_reference():
    named = {m.name for p in jp.load_profiles().values() for r in p.reads for m in r.metrics}
    assert named == set(JolokiaCheck.metrics)


def test_one_bulk_post_per_poll_reads_every_mbean_of_the_profile():
    profile = jp.load_profiles()["tomcat"]
    with Replay(answering("jolokia-tomcat10-profile.json"), user="monitor", password=PASSWORD) as server:
        run(JolokiaCheck(), creds("jolokia", server.url + "/jolokia"), {"profile": "tomcat"})
    (request,) = server.requests
    assert request[0] == "POST" and json.loads(request[2]) == bulk_request(profile)
    assert json.loads(request[2])[0] == {
        "type": "read",
        "mbean": "Catalina:type=ThreadPool,name=*",
        "attribute": ["currentThreadsBusy", "maxThreads", "currentThreadCount"],
    }


def test_a_real_tomcat_answer_gives_thread_pools_heap_and_gc_and_skips_the_absent_jdbc_pools():
    """The tomcat profile's bulk answer recorded from Tomcat 10.1 + Jolokia 1.7 with no JNDI data source."""
    with Replay(answering("jolokia-tomcat10-profile.json")) as server:
        results = by_item(run(JolokiaCheck(), {"jolokia_url": server.url + "/jolokia"}, {"profile": "tomcat"}))
    threads = results["threads http-nio-127.0.0.1-45315"]
    assert threads.status is Status.OK and threads.metric("max_threads").value == 50
    assert threads.metric("thread_busy").value == pytest.approx(100 * threads.metric("busy_threads").value / 50)
    assert 0 < results["heap"].metric("heap_used").value < 100
    assert {"gc Copy", "gc MarkSweepCompact"} <= set(results)
    assert not any(item.startswith("jdbc") for item in results)  # optional read: 404 means none configured


def test_weblogic_stuck_threads_saturated_pool_and_full_heap_alert():
    with Replay(answering("weblogic/jolokia-bulk.json")) as server:
        results = by_item(run(JolokiaCheck(), {"jolokia_url": server.url + "/jolokia"}, {"profile": "weblogic"}))
    threads = results["threads ManagedServer1"]
    assert threads.status is Status.CRITICAL  # 14 hogging > 10
    assert threads.metric("stuck_threads").value == 2 and threads.metric("hogging_threads").value == 14
    jdbc = results["jdbc OrdersDS"]
    assert jdbc.status is Status.WARNING and jdbc.metric("jdbc_active").value == pytest.approx(96.67)
    assert "jdbc_waiting 4 > 0" in jdbc.summary
    heap = results["heap"]
    assert heap.status is Status.WARNING and heap.metric("heap_used").value == 90.0
    assert {"gc G1 Young Generation", "gc G1 Old Generation"} <= set(results)


def test_gc_counters_become_rates_from_the_second_poll():
    now = [100.0]
    rates = RateTracker(clock=lambda: now[0])
    first = json.loads((FIXTURES / "weblogic/jolokia-bulk.json").read_text())
    second = json.loads(json.dumps(first))
    young = second[3]["value"]["java.lang:name=G1 Young Generation,type=GarbageCollector"]
    young["CollectionTime"] += 500  # 500 ms of GC in 10 s: 5 % of the time
    young["CollectionCount"] += 20
    answers = iter([json.dumps(first).encode(), json.dumps(second).encode()])
    routes = {("POST", "/jolokia/"): lambda *a: (200, "application/json", next(answers))}
    with Replay(routes) as server:
        before = by_item(run(JolokiaCheck(), {"jolokia_url": server.url + "/jolokia"}, {"profile": "weblogic"}, rates))
        now[0] += 10
        after = by_item(run(JolokiaCheck(), {"jolokia_url": server.url + "/jolokia"}, {"profile": "weblogic"}, rates))
    assert "rates from the next poll on" in before["gc G1 Young Generation"].summary
    assert after["gc G1 Young Generation"].metric("gc_time").value == 5.0
    assert after["gc G1 Young Generation"].metric("gc_collections").value == 2.0


def test_a_missing_mbean_is_one_unknown_item_and_an_optional_one_is_skipped(tmp_path):
    """Recorded from the real Tomcat: reads of MBeans it does not have answer 404 inside the bulk answer."""
    answer = json.loads((FIXTURES / "jolokia-tomcat10-bulk.json").read_text())
    missing = answer[3]  # com.bea ThreadPoolRuntime on Tomcat: InstanceNotFoundException, status 404
    (tmp_path / "mixed.yaml").write_text(
        textwrap.dedent("""
        name: mixed
        reads:
          - {mbean: "com.bea:Type=ThreadPoolRuntime,*", item: stuck,
             metrics: [{name: stuck, attribute: StuckThreadCount}]}
          - {mbean: "com.bea:Type=ThreadPoolRuntime,*", item: opt, optional: true,
             metrics: [{name: stuck2, attribute: StuckThreadCount}]}
          - mbean: "Catalina:type=ThreadPool,name=*"
            item: "threads {name}"
            metrics: [{name: busy, ratio: [currentThreadsBusy, maxThreads], warning: 1}]
    """)
    )
    body = json.dumps([missing, missing, answer[0]]).encode()
    with Replay({("POST", "/jolokia/"): lambda *a: (200, "application/json", body)}) as server:
        results = run(JolokiaCheck(), {"jolokia_url": server.url + "/jolokia"},
                      {"profile": "mixed", "profile_dirs": [str(tmp_path)]})  # fmt: skip
    assert [r.item for r in results] == ["com.bea:Type=ThreadPoolRuntime,*", "threads http-nio-127.0.0.1-45315"]
    assert results[0].status is Status.UNKNOWN and "InstanceNotFoundException" in results[0].summary
    assert results[1].status is Status.WARNING  # 2 % busy > 1


def test_thresholds_parameter_overrides_a_profiles_defaults():
    with Replay(answering("jolokia-tomcat10-profile.json")) as server:
        results = by_item(
            run(
                JolokiaCheck(),
                {"jolokia_url": server.url + "/jolokia"},
                {"profile": "tomcat", "thresholds": {"heap_used": {"warning": 1, "critical": 2}}},
            )
        )
    assert results["heap"].status is Status.CRITICAL and results["heap"].thresholds[0].critical == "2"


def test_thresholds_for_a_metric_the_profile_lacks_are_unknown_listing_its_metrics():
    with Replay(answering("jolokia-tomcat10-bulk.json")) as server:
        (result,) = run(
            JolokiaCheck(),
            {"jolokia_url": server.url + "/jolokia"},
            {"profile": "tomcat", "thresholds": {"heap_usd": {"warning": 10}}},
        )
    assert result.status is Status.UNKNOWN and "has no metric heap_usd" in result.summary
    assert "heap_used" in result.summary and server.requests == []  # nothing was asked


def test_an_unknown_profile_names_the_known_ones():
    (result,) = run(JolokiaCheck(), {"jolokia_url": "http://127.0.0.1:1/jolokia"}, {"profile": "jbos"})
    assert result.status is Status.UNKNOWN and "unknown Jolokia profile 'jbos'" in result.summary
    assert "wildfly" in result.summary


def test_a_bad_profile_file_names_the_file_and_the_field(tmp_path):
    bad = tmp_path / "broken.yaml"
    bad.write_text(
        textwrap.dedent("""
        name: broken
        reads:
          - mbean: "not an object name"
            item: x
            metrics:
              - {name: a, attribute: A, ratio: [A, B]}
              - {name: b, attribute: B, unit: MB}
    """)
    )
    with pytest.raises(ConfigError) as info:
        jp.load_profiles([str(tmp_path)])
    text = str(info.value)
    assert f"{bad}: reads[0].metrics[0]: a metric needs exactly one of 'attribute' or 'ratio'" in text
    assert f"{bad}: reads[0].metrics[1].unit:" in text
    (result,) = run(
        JolokiaCheck(),
        {"jolokia_url": "http://127.0.0.1:1/jolokia"},
        {"profile": "tomcat", "profile_dirs": [str(tmp_path)]},
    )
    assert (
        result.status is Status.UNKNOWN and "invalid Jolokia profiles" in result.summary and str(bad) in result.summary
    )


def test_a_site_profile_replaces_a_shipped_one_of_the_same_name(tmp_path):
    (tmp_path / "tomcat.yaml").write_text(
        'name: tomcat\nreads: [{mbean: "java.lang:type=Threading", item: t,\n'
        "  metrics: [{name: n, attribute: ThreadCount}]}]\n"
    )
    assert [r.mbean for r in jp.load_profiles([str(tmp_path)])["tomcat"].reads] == ["java.lang:type=Threading"]


def test_object_name_key_properties_handle_quotes_commas_and_escapes():
    props = jp.key_properties('Catalina:type=DataSource,name="jdbc/a,b=c",context=/app,q="x\\"y"')
    assert props == {"domain": "Catalina", "type": "DataSource", "name": "jdbc/a,b=c", "context": "/app", "q": 'x"y'}


def test_a_changed_site_profile_is_read_again(tmp_path):
    path = tmp_path / "app.yaml"
    text = (
        'name: app\nreads: [{mbean: "java.lang:type=Threading", item: t,\n'
        "  metrics: [{name: %s, attribute: ThreadCount}]}]\n"
    )
    path.write_text(text % "first")
    assert jp.load_profiles([str(tmp_path)])["app"].reads[0].metrics[0].name == "first"
    path.write_text(text % "second_name")  # a different size, so a different stamp even within one mtime tick
    assert jp.load_profiles([str(tmp_path)])["app"].reads[0].metrics[0].name == "second_name"
    path.write_text(text.replace("ThreadCount}", "ThreadCount, unit: MB}") % "third")
    with pytest.raises(ConfigError, match="unit"):
        jp.load_profiles([str(tmp_path)])
