"""``patrol events`` and ``patrol maintenance`` (collector/cli_events.py) run through collector.cli.main, as the
``patrol`` command runs them, on a real SQLite store. Events are opened by feeding results through the engine."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from checks.result import Result
from checks.status import Status
from collector.cli import main
from collector.config.inventory import load_inventory
from collector.events.repository import DatabaseRepository
from collector.events.service import EventService, build_engine
from collector.events.settings import EventSettings
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
NOW_SLACK = dt.timedelta(seconds=5)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Site:
    """A store and an inventory in a temporary directory (the working directory of the commands)."""

    def __init__(self, tmp_path: Path, capsys) -> None:
        self.dir = tmp_path
        self.capsys = capsys
        (tmp_path / "inventory.yaml").write_text(INVENTORY, encoding="utf-8")
        self.inventory = load_inventory(tmp_path / "inventory.yaml")
        self.db = f"sqlite:///{tmp_path}/p.db"
        self.store = Store.open(self.db)
        self.repository = DatabaseRepository.from_store(self.store)
        self._clock = utcnow() - dt.timedelta(hours=1)

    def patrol(self, *args: str) -> tuple[int, str, str]:
        """Run ``patrol ARGS --db ...``: (exit code, stdout, stderr)."""
        self.capsys.readouterr()
        with pytest.raises(SystemExit) as exit_info:
            main([*args, "--db", self.db])
        out, err = self.capsys.readouterr()
        code = exit_info.value.code
        return (0 if code is None else code), out, err

    def engine(self):
        return build_engine(self.store, EventSettings(), None, self.inventory)

    def open(self, status: str = "CRITICAL", target: str = "web01", check: str = "disk", item: str = "/") -> int:
        """Two consecutive non-OK results through the engine: the event opens; its id."""
        results = []
        for _ in range(2):
            self._clock += dt.timedelta(seconds=30)
            results.append(Result(target=target, check=check, item=item, status=Status(status),
                                  summary=f"{item} is {status}", started_at=self._clock, duration_seconds=0.01))
        self.engine().observe(results)
        return next(e.id for e in self.repository.list_events() if (e.target, e.check, e.item) == (target, check, item))

    def event(self, event_id: int):
        return self.repository.get_event(event_id)

    def snapshot(self) -> tuple:
        events = sorted(self.repository.list_events(), key=lambda e: e.id)
        return (events, [self.repository.history(e.id) for e in events],
                [self.repository.comments(e.id) for e in events], self.repository.windows())


@pytest.fixture
def site(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the default inventory.yaml is this directory's
    for name in ("PATROL_DB", "PATROL_INVENTORY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LOGNAME", "carol")  # the default author (getpass.getuser)
    monkeypatch.setenv("COLUMNS", "250")  # rich tables: one line per row
    site = Site(tmp_path, capsys)
    yield site
    site.store.close()


@pytest.fixture
def fleet(site):
    """1 web01/uptime resolved, 2 web01/disk firing CRITICAL, 3 web02/memory acknowledged WARNING,
    4 db01/disk//var firing UNKNOWN, 5 ghost01/disk_io (not in the inventory) firing CRITICAL."""
    service = EventService.build(site.store, EventSettings(), None, inventory=site.inventory)
    for status, target, check, item in [("CRITICAL", "web01", "uptime", ""), ("CRITICAL", "web01", "disk", "/"),
                                        ("WARNING", "web02", "memory", ""), ("UNKNOWN", "db01", "disk", "/var"),
                                        ("CRITICAL", "ghost01", "disk_io", "sda")]:
        results = []
        for _ in range(2):
            site._clock += dt.timedelta(seconds=30)
            results.append(Result(target=target, check=check, item=item, status=Status(status), summary=f"{status}",
                                  started_at=site._clock, duration_seconds=0.01))
        site.store.add_results(None, results)
        service.evaluate()
    service.engine.resolve(1, "somebody")
    service.engine.acknowledge(3, "olga")
    states = {e.id: e.state for e in site.repository.list_events()}
    assert states == {1: "resolved", 2: "firing", 3: "acknowledged", 4: "firing", 5: "firing"}
    return site


def listed(site, *args: str) -> list[int]:
    code, out, err = site.patrol("events", "list", "--format", "json", *args)
    ids = [e["id"] for e in json.loads(out)]
    assert code == (0 if ids else 1), (code, err)
    return ids


# -- events list -------------------------------------------------------------------------------------


def test_listing_no_events_says_so_and_exits_1(site):
    assert site.patrol("events", "list") == (1, "No open events.\n", "")
    assert site.patrol("events", "list", "--state", "all") == (1, "No events.\n", "")
    assert site.patrol("events", "list", "--state", "resolved") == (1, "No resolved events.\n", "")
    code, out, _ = site.patrol("events", "list", "--format", "json")
    assert (code, json.loads(out)) == (1, [])


def test_the_table_shows_the_open_events(fleet):
    code, out, err = fleet.patrol("events", "list")
    assert code == 0, err
    rows = {line.split("│")[1].strip(): line for line in out.splitlines() if line.count("│") > 5}
    assert set(rows) == {"2", "3", "4", "5"}
    assert "web02" in rows["3"] and "memory" in rows["3"] and "acknowledged by olga" in rows["3"]
    assert "CRITICAL" in rows["5"] and "ghost01" in rows["5"] and "disk_io" in rows["5"] and "sda" in rows["5"]
    assert "UNKNOWN" in rows["4"] and "/var" in rows["4"]


def test_the_json_list_is_the_api_form(fleet):
    from collector.events.views import event_json

    code, out, _ = fleet.patrol("events", "list", "--format", "json", "--state", "all")
    assert code == 0
    assert json.loads(out) == [event_json(e) for e in fleet.repository.list_events()]
    assert [e["id"] for e in json.loads(out)] == [5, 4, 3, 2, 1]


@pytest.mark.parametrize(
    "state, expected",
    [("open", [5, 4, 3, 2]), ("firing", [5, 4, 2]), ("acknowledged", [3]), ("resolved", [1]), ("closed", []),
     ("all", [5, 4, 3, 2, 1])],
)
def test_events_are_listed_by_state(fleet, state, expected):
    assert listed(fleet, "--state", state) == expected


@pytest.mark.parametrize(
    "args, expected",
    [
        (["--severity", "critical"], [5, 2]),
        (["--severity", "WARNING,unknown"], [4, 3]),
        (["--severity", "CRITICAL", "--state", "all"], [5, 2, 1]),
        (["--target", "web"], [3, 2]),  # a group of ./inventory.yaml
        (["--target", "web", "--inventory", "inventory.yaml"], [3, 2]),
        (["--target", "web:!web01"], [3]),
        (["--target", "~db"], [4]),
        (["--target", "ghost*"], [5]),
        (["--check", "disk*"], [5, 4, 2]),
        (["--check", "disk", "--target", "db"], [4]),
        (["--limit", "2"], [5, 4]),
        (["--limit", "1", "--target", "web"], [3]),
        (["--target", "nosuchhost"], []),
    ],
)
def test_events_are_filtered(fleet, args, expected):
    assert listed(fleet, *args) == expected


def test_without_an_inventory_targets_are_matched_by_name(fleet):
    (fleet.dir / "inventory.yaml").unlink()
    assert listed(fleet, "--target", "web") == []  # no groups known
    assert listed(fleet, "--target", "web*") == [3, 2]


def test_events_are_filtered_by_opening_time(fleet):
    opened = {e.id: e.opened_at for e in fleet.repository.list_events()}
    assert listed(fleet, "--state", "all", "--since", opened[3].isoformat()) == [5, 4, 3]
    assert listed(fleet, "--state", "all", "--until", opened[3].isoformat()) == [2, 1]
    zone = dt.timezone(dt.timedelta(hours=-5))
    assert listed(fleet, "--state", "all", "--since", opened[2].astimezone(zone).isoformat(),
                  "--until", opened[4].astimezone(zone).isoformat()) == [3, 2]


@pytest.mark.parametrize(
    "args, named",
    [
        (["--since", "yesterday"], "--since"),
        (["--since", "2026-01-01T00:00:00"], "--since"),  # no zone
        (["--until", "later"], "--until"),
        (["--since", "2026-01-02T00:00Z", "--until", "2026-01-01T00:00Z"], "since"),
        (["--severity", "SEVERE"], "--severity"),
        (["--limit", "0"], "--limit"),
        (["--limit", "many"], "--limit"),
        (["--state", "bogus"], "--state"),
        (["--format", "yaml"], "--format"),
    ],
)
def test_a_bad_list_option_is_a_usage_error_naming_it(fleet, args, named):
    code, out, err = fleet.patrol("events", "list", *args)
    assert code == 64, (out, err)
    assert named in err and out == ""


# -- events show -------------------------------------------------------------------------------------


def test_show_prints_the_event_with_its_history_and_comments(site):
    event_id = site.open()
    site.engine().acknowledge(event_id, "olga", "on it")
    site.engine().comment(event_id, "bob", "vendor ticket 4711")
    code, out, err = site.patrol("events", "show", str(event_id), "--format", "json")
    assert code == 0, err
    detail = json.loads(out)
    assert (detail["id"], detail["fingerprint"], detail["state"], detail["acknowledged_by"]) == (
        event_id, "web01/disk//", "acknowledged", "olga")
    assert [(h["kind"], h["from_state"], h["to_state"], h["actor"], h["comment"]) for h in detail["history"]] == [
        ("opened", None, "firing", None, None),
        ("acknowledged", "firing", "acknowledged", "olga", "on it"),
        ("commented", "acknowledged", "acknowledged", "bob", "vendor ticket 4711"),
    ]
    assert [(c["author"], c["text"]) for c in detail["comments"]] == [("bob", "vendor ticket 4711")]

    code, out, err = site.patrol("events", "show", str(event_id))
    assert code == 0, err
    assert f"Event {event_id}" in out and "web01/disk//" in out and "acknowledged" in out and "by olga" in out
    assert "History" in out and "vendor ticket 4711" in out and "bob" in out


@pytest.mark.parametrize("fmt", ["table", "json"])
def test_show_of_an_unknown_event_exits_1_with_a_message(site, fmt):
    site.open()
    assert site.patrol("events", "show", "999", "--format", fmt) == (1, "", "patrol: no event with id 999\n")


# -- events ack / resolve / comment ------------------------------------------------------------------


def test_ack_records_the_author_the_comment_and_the_expiry(site):
    event_id = site.open()
    start = utcnow()
    code, out, err = site.patrol("events", "ack", str(event_id), "-m", "on it", "--expires", "2h",
                                 "--author", "olga")
    end = utcnow()
    assert code == 0, err
    assert out.startswith(f"event {event_id} acknowledged by olga until ") and out.endswith(" UTC\n")
    event = site.event(event_id)
    assert (event.state, event.acknowledged_by, event.next_escalation_at) == ("acknowledged", "olga", None)
    assert start + dt.timedelta(hours=2) <= event.ack_expires_at <= end + dt.timedelta(hours=2)
    assert start <= event.acknowledged_at <= end
    last = site.repository.history(event_id)[-1]
    assert (last.kind, last.from_state, last.to_state, last.actor, last.comment) == (
        "acknowledged", "firing", "acknowledged", "olga", "on it")
    assert last.detail == f"until {event.ack_expires_at:%Y-%m-%d %H:%M:%S} UTC"


def test_the_default_author_is_the_login_name(site):
    first, second, third = site.open(), site.open(target="web02"), site.open(target="db01")
    assert site.patrol("events", "ack", str(first)) == (0, f"event {first} acknowledged by carol\n", "")
    assert site.patrol("events", "resolve", str(second)) == (0, f"event {second} resolved by carol\n", "")
    assert site.patrol("events", "comment", str(third), "hello") == (0, f"comment added to event {third}\n", "")
    assert site.event(first).acknowledged_by == "carol" and site.event(first).ack_expires_at is None
    assert site.event(second).resolved_by == "carol"
    assert [c.author for c in site.repository.comments(third)] == ["carol"]


def test_an_acknowledgement_puts_a_notice_in_the_outbox_for_the_collector(site):
    event_id = site.open()
    [opened] = site.repository.take_notices()
    assert opened.change == "opened"
    site.patrol("events", "ack", str(event_id), "-m", "on it", "--author", "olga")
    [notice] = site.repository.take_notices()
    assert (notice.event_id, notice.change, notice.actor, notice.comment) == (event_id, "acknowledged", "olga",
                                                                              "on it")


def test_resolve_records_the_author_and_the_comment(site):
    event_id = site.open()
    code, out, err = site.patrol("events", "resolve", str(event_id), "-m", "replaced the disk", "--author", "olga")
    assert (code, out) == (0, f"event {event_id} resolved by olga\n"), err
    event = site.event(event_id)
    assert (event.state, event.resolved_by) == ("resolved", "olga")
    assert utcnow() - NOW_SLACK < event.resolved_at <= utcnow()
    last = site.repository.history(event_id)[-1]
    assert (last.kind, last.from_state, last.to_state, last.actor, last.comment) == (
        "resolved", "firing", "resolved", "olga", "replaced the disk")
    [notice] = [n for n in site.repository.take_notices() if n.change != "opened"]
    assert (notice.change, notice.actor, notice.comment) == ("resolved", "olga", "replaced the disk")


@pytest.mark.parametrize("state", ["firing", "resolved"])
def test_comment_stores_the_comment_on_an_event_in_any_state(site, state):
    event_id = site.open()
    if state == "resolved":
        site.engine().resolve(event_id, "somebody")
    code, out, err = site.patrol("events", "comment", str(event_id), "vendor ticket 4711", "--author", "bob")
    assert (code, out) == (0, f"comment added to event {event_id}\n"), err
    [comment] = site.repository.comments(event_id)
    assert (comment.author, comment.text) == ("bob", "vendor ticket 4711")
    assert site.event(event_id).state == state
    last = site.repository.history(event_id)[-1]
    assert (last.kind, last.actor, last.comment, last.from_state, last.to_state) == (
        "commented", "bob", "vendor ticket 4711", state, state)


@pytest.mark.parametrize("command", ["ack", "resolve"])
def test_changing_a_resolved_event_exits_4_and_changes_nothing(site, command):
    event_id = site.open()
    site.engine().resolve(event_id, "somebody")
    before = site.snapshot()
    code, out, err = site.patrol("events", command, str(event_id), "-m", "too late")
    assert (code, out) == (4, "")
    assert err == f"patrol: event {event_id} is resolved: only open events can be " + (
        "acknowledged\n" if command == "ack" else "resolved\n")
    assert site.snapshot() == before


@pytest.mark.parametrize("args", [["ack", "999"], ["resolve", "999"], ["comment", "999", "hello"]])
def test_changing_an_unknown_event_exits_1(site, args):
    site.open()
    before = site.snapshot()
    assert site.patrol("events", *args) == (1, "", "patrol: no event with id 999\n")
    assert site.snapshot() == before


@pytest.mark.parametrize(
    "args, named",
    [
        (["ack", "{id}", "--expires", "soon"], "--expires"),
        (["ack", "{id}", "--expires", "-1h"], "--expires"),
        (["ack", "{id}", "--expires", "0s"], "expires"),
        (["ack", "{id}", "-m", "x" * 2001], "--comment"),
        (["resolve", "{id}", "-m", "x" * 2001], "comment"),
        (["comment", "{id}", ""], "comment"),
        (["comment", "{id}", "x" * 2001], "comment"),
        (["ack", "not-a-number"], "EVENT_ID"),
    ],
)
def test_a_bad_change_option_is_a_usage_error_and_changes_nothing(site, args, named):
    event_id = site.open()
    before = site.snapshot()
    code, out, err = site.patrol("events", *[a.format(id=event_id) for a in args])
    assert code == 64, (out, err)
    assert named in err and out == ""
    assert site.snapshot() == before


@pytest.mark.parametrize("expires", ["9999999d", "1000000000d"])
def test_an_expiry_out_of_range_is_a_usage_error(site, expires):
    event_id = site.open()
    before = site.snapshot()
    code, _, err = site.patrol("events", "ack", str(event_id), "--expires", expires)
    assert code == 64 and "--expires" in err
    assert site.snapshot() == before


# -- --config ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["ack", "resolve"])
def test_an_error_in_the_events_section_of_config_exits_78_naming_file_and_line(site, command):
    event_id = site.open()
    config = site.dir / "patrol.yaml"
    config.write_text("listen: 127.0.0.1:8080\nevents:\n  open_after: 2\n  flap_high: 150\n", encoding="utf-8")
    before = site.snapshot()
    code, out, err = site.patrol("events", command, str(event_id), "--config", str(config))
    assert (code, out) == (78, "")
    assert "configuration error" in err
    assert f"{config}:4:" in err and "events.flap_high" in err
    assert site.snapshot() == before


def test_a_valid_config_is_used(site):
    event_id = site.open()
    config = site.dir / "patrol.yaml"
    config.write_text("events:\n  open_after: 3\n", encoding="utf-8")
    code, _, err = site.patrol("events", "ack", str(event_id), "--config", str(config), "--author", "olga")
    assert code == 0, err
    assert site.event(event_id).acknowledged_by == "olga"


# -- patrol maintenance ------------------------------------------------------------------------------


def windows_json(site) -> list[dict]:
    code, out, err = site.patrol("maintenance", "list", "--format", "json")
    assert code == 0, err
    return json.loads(out)


def test_a_one_off_window_with_a_duration_starts_now_and_is_active(site):
    start = utcnow()
    code, out, err = site.patrol("maintenance", "add", "db upgrade", "--hosts", "db*", "--duration", "2h",
                                 "--author", "olga")
    end = utcnow()
    assert code == 0, err
    assert out.startswith("maintenance window 1 added: db upgrade (")
    [window] = site.repository.windows()
    assert (window.kind, window.pattern, window.check, window.created_by) == ("once", "db*", None, "olga")
    assert start <= window.starts_at <= end
    assert window.ends_at - window.starts_at == dt.timedelta(hours=2)
    [listed] = windows_json(site)
    assert (listed["id"], listed["name"], listed["active"], listed["created_by"]) == (1, "db upgrade", True, "olga")


def test_a_one_off_window_with_start_and_end(site):
    code, out, err = site.patrol("maintenance", "add", "move", "--hosts", "web", "--check", "disk*",
                                 "--start", "2030-01-01T02:00Z", "--end", "2030-01-01T04:00Z", "--format", "json")
    assert code == 0, err
    answer = json.loads(out)
    assert (answer["starts_at"], answer["ends_at"], answer["check"], answer["active"]) == (
        "2030-01-01T02:00:00Z", "2030-01-01T04:00:00Z", "disk*", False)
    assert answer["created_by"] == "carol"
    assert windows_json(site) == [answer]


def test_a_cron_window(site):
    code, out, err = site.patrol("maintenance", "add", "nightly backup", "--hosts", "db01", "--cron", "0 2 * * *",
                                 "--duration", "1h", "--format", "json")
    assert code == 0, err
    answer = json.loads(out)
    assert (answer["kind"], answer["cron"], answer["duration_seconds"], answer["timezone"]) == (
        "cron", "0 2 * * *", 3600.0, "UTC")
    [window] = site.repository.windows()
    assert (window.kind, window.cron, window.duration) == ("cron", "0 2 * * *", dt.timedelta(hours=1))


def test_a_weekly_window_in_a_time_zone(site):
    code, out, err = site.patrol("maintenance", "add", "patch weekend", "--hosts", "web:!web02", "--weekly",
                                 "sat,sun", "--at", "03:00", "--duration", "2h", "--timezone", "Asia/Shanghai")
    assert code == 0, err
    assert "patch weekend (sat,sun 03:00" in out and "Asia/Shanghai" in out
    [window] = site.repository.windows()
    assert (window.kind, window.weekdays, window.start_time, window.duration, window.timezone) == (
        "weekly", ("sat", "sun"), dt.time(3, 0), dt.timedelta(hours=2), "Asia/Shanghai")
    [listed] = windows_json(site)
    assert (listed["weekdays"], listed["start_time"], listed["duration_seconds"], listed["timezone"]) == (
        ["sat", "sun"], "03:00", 7200.0, "Asia/Shanghai")


def test_the_window_table(site):
    assert site.patrol("maintenance", "list") == (0, "No maintenance windows.\n", "")
    site.patrol("maintenance", "add", "now", "--hosts", "web*", "--duration", "1h")
    site.patrol("maintenance", "add", "later", "--hosts", "db01", "--start", "2030-01-01T00:00Z", "--duration", "1h")
    code, out, err = site.patrol("maintenance", "list")
    assert code == 0, err
    rows = {line.split("│")[1].strip(): line for line in out.splitlines() if line.count("│") > 5}
    assert set(rows) == {"1", "2"}
    assert "active" in rows["1"] and "web*" in rows["1"] and "carol" in rows["1"]
    assert "active" not in rows["2"] and "2030-01-01 00:00" in rows["2"]


def test_remove_deletes_a_window_and_exits_1_when_there_is_none(site):
    site.patrol("maintenance", "add", "a", "--hosts", "web*", "--duration", "1h")
    site.patrol("maintenance", "add", "b", "--hosts", "db*", "--duration", "1h")
    assert site.patrol("maintenance", "remove", "1") == (0, "maintenance window 1 removed\n", "")
    assert [w.name for w in site.repository.windows()] == ["b"]
    assert site.patrol("maintenance", "remove", "1") == (1, "", "patrol: no maintenance window with id 1\n")
    assert [w.name for w in site.repository.windows()] == ["b"]


@pytest.mark.parametrize(
    "args, named",
    [
        (["--cron", "0 2 * * *", "--weekly", "sat", "--at", "03:00", "--duration", "1h"], "--cron or --weekly"),
        (["--weekly", "sat,funday", "--at", "03:00", "--duration", "2h"], "funday"),
        (["--weekly", "sat", "--duration", "2h"], "start time"),
        (["--weekly", "sat", "--at", "3 o'clock", "--duration", "2h"], "--at"),
        (["--start", "2030-01-02T00:00Z", "--end", "2030-01-01T00:00Z"], "start before its end"),
        (["--start", "2030-01-01T00:00Z"], "start before its end"),
        (["--start", "2030-01-01T00:00"], "--start"),  # no zone
        (["--end", "2030-01-01"], "--end"),
        (["--cron", "0 2 * * *"], "duration"),
        (["--cron", "61 2 * * *", "--duration", "1h"], "61"),
        (["--cron", "0 2 * * *", "--duration", "soon"], "--duration"),
        (["--cron", "0 2 * * *", "--duration", "1h", "--timezone", "Mars/Olympus"], "Mars/Olympus"),
        (["--duration", "-1h"], "--duration"),
    ],
)
def test_a_bad_window_is_a_usage_error_and_nothing_is_stored(site, args, named):
    code, out, err = site.patrol("maintenance", "add", "w", "--hosts", "web*", *args)
    assert code == 64, (out, err)
    assert named in err and out == ""
    assert site.repository.windows() == []


def test_a_window_needs_hosts(site):
    code, _, err = site.patrol("maintenance", "add", "w", "--duration", "1h")
    assert code == 64 and "--hosts" in err
    assert site.repository.windows() == []


def test_a_window_given_in_another_zone_is_described_in_utc(site):
    code, out, _ = site.patrol("maintenance", "add", "w", "--hosts", "web*", "--start", "2030-01-01T08:00+08:00",
                               "--end", "2030-01-01T09:00+08:00")
    assert code == 0
    assert out == "maintenance window 1 added: w (2030-01-01 00:00 to 2030-01-01 01:00 UTC)\n"
