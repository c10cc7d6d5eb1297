"""Pushing: removed from the spool only on a 200; a refused batch is set aside; everything else is retried."""

import gzip
import json

import pytest
from agent_fakes import FakeClient, unreachable

from agent.client import Answer


def spool_some(agent, n=3):
    agent.spool.append({"target": "web01", "check": "uptime", "item": "", "n": i} for i in range(n))


def sent_body(client, index=-1):
    body, compressed = client.pushes[index]
    return json.loads(body)


def test_a_200_acknowledges_and_removes_the_batch(make_agent):
    client = FakeClient()
    agent = make_agent(client)
    spool_some(agent)
    assert agent.push_pending() is None
    body = sent_body(client)
    assert body["schema"] == "patrol.batch/1" and body["agent"] == "web01" and len(body["results"]) == 3
    assert agent.spool.pending() == (0, 0, 0)


def test_duplicate_true_is_an_acknowledgement_too(make_agent):
    client = FakeClient()
    client.push_answers = [Answer(200, {"batch_id": "x", "stored": 0, "duplicate": True})]
    agent = make_agent(client)
    spool_some(agent)
    assert agent.push_pending() is None
    assert agent.spool.pending()[1] == 0


@pytest.mark.parametrize("answer", [Answer(503, headers={}), Answer(500, headers={}), Answer(429, headers={}),
                                    Answer(408, headers={}), Answer(401, headers={}), Answer(403, headers={}),
                                    Answer(404, headers={}), unreachable()])
def test_failures_keep_the_batch_and_retry_it_with_the_same_id(make_agent, answer):
    client = FakeClient()
    client.push_answers = [answer]
    agent = make_agent(client)
    spool_some(agent)
    delay = agent.push_pending()
    assert delay is not None and 0 <= delay <= agent.config.max_backoff
    assert agent.spool.pending()[1] == 3
    assert agent.push_pending() is None  # next time it goes through (the fake answers 200)
    assert sent_body(client, 0)["batch_id"] == sent_body(client, 1)["batch_id"]


def test_backoff_grows_while_the_collector_fails_and_resets_after_success(make_agent):
    client = FakeClient()
    client.push_answers = [Answer(503, headers={})] * 6
    agent = make_agent(client)
    agent.push_backoff.rand = lambda low, high: high
    spool_some(agent)
    assert [agent.push_pending() for _ in range(6)] == [1, 2, 4, 4, 4, 4]  # max_backoff is 4 here
    assert agent.push_pending() is None
    assert agent.push_backoff.failures == 0


def test_retry_after_is_honoured(make_agent):
    client = FakeClient()
    client.push_answers = [Answer(429, headers={"retry-after": "3"})]
    agent = make_agent(client)
    agent.push_backoff.rand = lambda low, high: low
    spool_some(agent)
    assert agent.push_pending() == 3


@pytest.mark.parametrize("status", [400, 413, 422])
def test_a_refused_batch_moves_to_rejected_with_the_collectors_message(make_agent, caplog, status):
    client = FakeClient()
    client.push_answers = [Answer(status, {"detail": "results.0.status: bad"}, detail="results.0.status: bad",
                                  headers={})]
    agent = make_agent(client)
    spool_some(agent)
    agent.spool.seal()
    spool_some(agent, 2)  # a second batch, after the bad one
    assert agent.push_pending() is None  # the bad one set aside, the next one delivered
    assert len(client.pushes) == 2
    [reason] = list(agent.spool.rejected_dir.glob("*.reason"))
    assert f"HTTP {status} results.0.status: bad" in reason.read_text()
    assert agent.spool.counters()["rejected_results"] == 3
    assert "refused by the collector" in caplog.text
    assert agent.spool.pending()[1] == 0


def test_gzip_is_used_and_dropped_if_the_collector_refuses_it(make_agent):
    client = FakeClient()
    client.push_answers = [Answer(415, detail="content encoding", headers={}), Answer(200, {}, headers={})]
    agent = make_agent(client)
    spool_some(agent)
    assert agent.push_pending() is None
    assert [compressed for _, compressed in client.pushes] == [True, False]


def test_a_401_rereads_the_token_file(make_agent, config):
    client = FakeClient()
    client.push_answers = [Answer(401, headers={})]
    agent = make_agent(client)
    assert agent.token().endswith("B" * 43)
    config.token_file.write_text("pat_" + "C" * 43 + "\n")
    spool_some(agent)
    agent.push_pending()
    assert agent.token().endswith("C" * 43)


def test_the_real_client_sends_gzip_with_the_bearer_token(config):
    from agent.client import CollectorClient

    class Session:
        headers: dict = {}
        verify = None

        def request(self, method, url, headers, data, allow_redirects, timeout, verify):
            self.seen = (method, url, headers, data, allow_redirects)
            self.verify = verify

            class Response:
                status_code = 200
                headers = {"Content-Type": "application/json"}
                content = b'{"batch_id": "b", "stored": 1, "duplicate": false}'

            return Response()

    session = Session()
    client = CollectorClient("https://c.example.com/", "web 01", lambda: "pat_xyz", session=session)
    answer = client.push(b'{"a": 1}')
    method, url, headers, data, allow_redirects = session.seen
    assert (method, url, allow_redirects) == ("POST", "https://c.example.com/api/v1/results", False)
    assert headers["Authorization"] == "Bearer pat_xyz" and headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(data) == b'{"a": 1}'
    assert answer.status == 200 and answer.data["stored"] == 1
    assert session.verify is True  # system CAs; a ca_file path is passed with every request (not the session)
    assert client.plan_url == "https://c.example.com/api/v1/agents/web%2001/plan"


def test_the_status_line_reports_what_was_dropped(make_agent):
    agent = make_agent()
    agent.spool.state["dropped_results"] = 7
    line = agent.status_line()
    assert "7 dropped (spool full)" in line and "pending" in line


def test_results_spooled_under_another_name_are_set_aside_not_retried_forever(make_agent):
    client = FakeClient()
    agent = make_agent(client)
    agent.spool.append([{"target": "old-name", "check": "uptime", "item": ""}])
    agent.spool.seal()
    spool_some(agent)
    assert agent.push_pending() is None
    assert len(client.pushes) == 1 and sent_body(client)["results"][0]["target"] == "web01"
    [reason] = list(agent.spool.rejected_dir.glob("*.reason"))
    assert "'old-name'" in reason.read_text()


def test_the_network_loop_outlives_an_unexpected_error_and_delivers_afterwards(make_agent, caplog):
    import logging
    import threading
    import time

    caplog.set_level(logging.INFO, logger="patrol.agent")
    client = FakeClient()
    client.plan_answers = [RuntimeError("plan parser bug"), *[Answer(304, headers={})] * 20]
    client.push_answers = [OSError(28, "No space left on device")]  # e.g. the spool's disk, mid-push
    agent = make_agent(client)
    spool_some(agent)
    agent.spool.seal()
    loop = threading.Thread(target=agent.network_loop, daemon=True)
    loop.start()
    deadline = time.monotonic() + 20
    while agent.spool.pending()[1] and time.monotonic() < deadline:
        time.sleep(0.05)
    agent.stop_event.set()
    loop.join(10)
    assert not loop.is_alive()
    assert agent.spool.pending()[1] == 0 and len(client.pushes) == 2  # failed once, then delivered
    assert "push failed unexpectedly: OSError" in caplog.text and "pushing works again" in caplog.text
    assert "plan refresh failed unexpectedly: RuntimeError: plan parser bug" in caplog.text
