"""HTTPS: the collector serves TLS with the given certificate; the agent verifies it against its CA
file and sends nothing to a collector it cannot verify."""
import time

import pytest
import requests
import sqlalchemy as sa

from .agent_support import AgentProcess, wait_until
from .collector_support import PLAYBOOK, Collector, self_signed_certificate

pytestmark = pytest.mark.integration


def stored(collector) -> int:
    engine = sa.create_engine(collector.db)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text("SELECT count(*) FROM results WHERE target = 'web01'")).scalar_one()
    finally:
        engine.dispose()


def test_agent_verifies_the_collectors_certificate(tmp_path):
    cert, key = self_signed_certificate(tmp_path)
    c = Collector(tmp_path / "collector", settings={"tls_cert": str(cert), "tls_key": str(key)})
    c.root.mkdir()
    c.write_files({"agents": PLAYBOOK.format(name="agents", schedule="@every 1s", hosts="web01")})
    (tmp_path / "token").write_text(c.create_token("agent", "web01") + "\n")
    c.start()
    common = ["--collector", c.url, "--name", "web01", "--token-file", str(tmp_path / "token"),
              "--push-interval", "0.5", "--max-backoff", "1", "--jitter", "0.2"]
    try:
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(c.url + "/healthz", timeout=5)  # not trusted without the site's CA
        untrusting = AgentProcess([*common, "--spool", str(tmp_path / "spool1")], tmp_path / "agent1.log")
        try:
            wait_until(lambda: "CERTIFICATE_VERIFY_FAILED" in untrusting.log() or "certificate" in untrusting.log(),
                       timeout=20, what="the agent refusing the unverified certificate")
            time.sleep(1.5)
            assert stored(c) == 0
        finally:
            untrusting.terminate()
        trusting = AgentProcess([*common, "--spool", str(tmp_path / "spool2"), "--ca-file", str(cert)],
                                tmp_path / "agent2.log")
        try:
            wait_until(lambda: stored(c) >= 2, timeout=30, what="results delivered over HTTPS")
        finally:
            assert trusting.terminate() == 0
    finally:
        c.kill(15)
