"""A console on a real SQLite store for the console's tests: users of every role, events opened through
the engine, an injected clock for lock times, cheap Argon2 parameters (the hash is still Argon2id)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from argon2 import PasswordHasher
from argon2.profiles import CHEAPEST
from fastapi.testclient import TestClient

from checks.registry import default_registry
from checks.result import Metric, Result, ThresholdSpec
from checks.status import Status
from collector.api.app import ApiSettings, create_app
from collector.config.site import SiteWatcher
from collector.events.service import build_engine
from collector.events.settings import EventSettings
from collector.store.store import Store
from collector.web.accounts import Accounts
from collector.web.console import Console, LoginThrottle

INVENTORY = """\
all:
  children:
    linux:
      hosts:
        web01: {ansible_host: 127.0.0.1}
        db01: {ansible_host: 127.0.0.2}
    postgres:
      vars: {patrol_category: databases}
      hosts:
        pg01: {postgres_password: {env: PATROL_TEST_PG_SECRET}}
"""
PLAYBOOK = """\
name: morning
description: Morning patrol of this machine
tasks:
  - name: Host health
    hosts: web01
    checks:
      - uptime: {}
"""
PASSWORDS = {"vera": "viewer-password-1", "olga": "operator-password-1", "adam": "admin-password-12"}
ROLES = {"vera": "viewer", "olga": "operator", "adam": "admin"}
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime.now(dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now


class ConsoleSite:
    def __init__(self, tmp_path: Path, throttle_limit: int = 20) -> None:
        (tmp_path / "inventory.yaml").write_text(INVENTORY, encoding="utf-8")
        (tmp_path / "playbooks").mkdir()
        (tmp_path / "playbooks" / "morning.yaml").write_text(PLAYBOOK, encoding="utf-8")
        self.report_dir = tmp_path / "reports"
        self.report_dir.mkdir()
        self.site = SiteWatcher(tmp_path / "inventory.yaml", tmp_path / "playbooks", default_registry())
        self.store = Store.open(f"sqlite:///{tmp_path}/patrol.db")
        self.clock = Clock()
        self.accounts = Accounts.from_store(self.store, clock=self.clock,
                                            hasher=PasswordHasher.from_parameters(CHEAPEST))
        self.throttle = LoginThrottle(limit=throttle_limit)
        self.console = Console(self.accounts, throttle=self.throttle)
        self.app = create_app(self.store, self.site, ApiSettings(report_dir=self.report_dir), console=self.console)
        for name, role in ROLES.items():
            self.accounts.add_user(name, role, PASSWORDS[name])
        self._at = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)

    def client(self, base_url: str = "http://testserver") -> TestClient:
        return TestClient(self.app, base_url=base_url, raise_server_exceptions=False, follow_redirects=False)

    def close(self) -> None:
        self.store.close()

    # -- signing in -------------------------------------------------------------------------------------

    def login(self, name: str | None, client: TestClient | None = None) -> TestClient:
        """A client signed in as ``name`` (None: a client that never signed in)."""
        client = client or self.client()
        if name is None:
            return client
        page = client.get("/console/login")
        response = client.post("/console/login", data={"csrf_token": form_token(page.text), "name": name,
                                                        "password": PASSWORDS[name]})
        assert response.status_code == 303, response.text
        return client

    # -- data ---------------------------------------------------------------------------------------------

    def results(self, target: str, check: str, item: str, *statuses: str, used: float = 50.0) -> list[Result]:
        out = []
        for status in statuses:
            self._at += dt.timedelta(minutes=1)
            out.append(Result(
                target=target, check=check, item=item, status=Status(status), summary=f"{item} is {status}",
                metrics=[Metric(name="used", value=used, unit="%")],
                thresholds=[ThresholdSpec(metric="used", warning="80", critical="90")],
                started_at=self._at, duration_seconds=0.01,
            ))
        return out

    def firing_event(self, target: str = "web01", check: str = "disk", item: str = "/var") -> int:
        """Results stored and fed to the engine: an open, firing event; its id."""
        results = self.results(target, check, item, "OK", "CRITICAL", "CRITICAL", used=95.0)
        self.store.add_results(None, results)
        engine = build_engine(self.store, EventSettings(), None, self.site.site.inventory)
        engine.observe(results)
        [event] = [e for e in engine.repository.list_events(states=("firing",)) if e.item == item]
        return event.id


def form_token(html: str) -> str:
    match = CSRF.search(html)
    assert match, "no csrf_token field in the page"
    return match.group(1)
