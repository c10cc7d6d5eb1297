"""``patrol events`` and ``patrol maintenance``: the event list, acknowledgement and maintenance windows
from a terminal, on the store directly (``--db`` or ``$PATROL_DB``, like ``patrol run``).

A change made here (acknowledge, resolve) writes its notices into the store's outbox with the change;
the running collector (``patrol serve``) delivers them. The author is ``--author``, or the login name.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import sys
from pathlib import Path
from typing import Any

import click
from pydantic import ValidationError

from collector.cli_options import config_option, db_option, inventory_option

EX_NOT_FOUND = 1  # like grep: nothing to act on
EX_CONFLICT = 4  # the event's state does not allow the change
STATE_CHOICES = ["open", "firing", "acknowledged", "resolved", "closed", "all"]


def _author_option(f):
    return click.option(
        "--author", default=None, help="Who makes the change (default: your login name)."
    )(f)


def _format_option(f):
    return click.option(
        "--format", "-f", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
    )(f)


class _Context:
    """The store, the engine and the inventory a command works with; closed when the command ends."""

    def __init__(self, db_url: str | None, inventory_path: Path | None, config_file: Path | None) -> None:
        from collector.events.service import build_engine
        from collector.serve import load_site_settings
        from collector.store.store import Store, default_url

        events, notifications = load_site_settings(config_file)
        self.inventory = _optional_inventory(inventory_path)
        self.store = Store.open(db_url or default_url())
        self.engine = build_engine(self.store, events, notifications, self.inventory)

    def __enter__(self) -> _Context:
        return self

    def __exit__(self, *exc: object) -> None:
        self.store.close()


def _optional_inventory(path: Path | None) -> Any:
    """The inventory for host patterns and groups; none when the default file is absent (a named one
    that is absent or invalid is an error)."""
    from collector.cli_options import DEFAULT_INVENTORY
    from collector.config.inventory import load_inventory

    if path is None or (str(path) == DEFAULT_INVENTORY and not path.exists()):
        return None
    return load_inventory(path)


def _invalid(exc: ValidationError, options: dict[str, str]) -> click.UsageError:
    lines = []
    for error in exc.errors(include_url=False):
        field = str(error["loc"][0]) if error["loc"] else ""
        lines.append(f"{options.get(field, field)}: {error['msg']}")
    return click.UsageError("; ".join(lines))


def _when(value: str | None) -> str:
    return "" if value is None else value.replace("T", " ").replace("Z", "")[:16]


# -- patrol events ----------------------------------------------------------------------------------


@click.group()
def events() -> None:
    """Events: list them, show one with its history, acknowledge, resolve, comment."""


@events.command("list")
@click.option("--state", type=click.Choice(STATE_CHOICES), default="open", show_default=True,
              help="open: firing or acknowledged.")
@click.option("--severity", default=None, help="Comma-separated: WARNING,CRITICAL,UNKNOWN,NODATA.")
@click.option("--target", default=None, help="Host pattern: web*, linux:&prod, ~regex.")
@click.option("--check", default=None, help="Check name or glob.")
@click.option("--since", default=None, help="Opened at or after (ISO 8601 with a zone, e.g. 2026-11-23T08:00Z).")
@click.option("--until", default=None, help="Opened before (ISO 8601 with a zone).")
@click.option("--limit", type=int, default=100, show_default=True, help="At most this many, newest first.")
@_format_option
@db_option
@inventory_option
def events_list(state, severity, target, check, since, until, limit, fmt, db_url, inventory_path) -> None:
    """List events, newest first. Exits 1 when none matches."""
    from collector.events.views import EventQuery, event_json, query_events

    raw = {"state": state, "severity": severity, "target": target, "check": check, "since": since,
           "until": until, "limit": limit}
    try:
        query = EventQuery.model_validate({k: v for k, v in raw.items() if v is not None})
    except ValidationError as exc:
        raise _invalid(exc, {k: f"--{k}" for k in raw}) from None
    with _Context(db_url, inventory_path, None) as ctx:
        found = [event_json(e) for e in query_events(ctx.engine.repository, query, ctx.inventory)]
    if fmt == "json":
        click.echo(json.dumps(found, indent=2, ensure_ascii=False))
    else:
        _events_table(found, state)
    if not found:
        sys.exit(EX_NOT_FOUND)


def _events_table(found: list[dict], state: str) -> None:
    from rich.markup import escape
    from rich.table import Table

    from collector.console import out

    if not found:
        out.print(f"No {'' if state == 'all' else state + ' '}events.")
        return
    table = Table()
    for column in ("id", "severity", "state", "target", "check", "item", "summary", "opened", "count", "flags"):
        table.add_column(column, overflow="fold")
    colours = {"CRITICAL": "bold red", "WARNING": "yellow", "UNKNOWN": "magenta", "NODATA": "magenta"}
    for e in found:
        flags = [name for name in ("flapping", "suppressed", "in_maintenance") if e[name]]
        state_text = e["state"] + (f" by {e['acknowledged_by']}" if e["acknowledged_by"] else "")
        table.add_row(
            str(e["id"]), f"[{colours.get(e['severity'], '')}]{e['severity']}[/]", escape(state_text),
            escape(e["target"]), escape(e["check"]), escape(e["item"]), escape(e["summary"]),
            _when(e["opened_at"]), str(e["count"]), ", ".join(flags),
        )
    out.print(table)


@events.command("show")
@click.argument("event_id", type=int)
@_format_option
@db_option
def events_show(event_id, fmt, db_url) -> None:
    """Show event EVENT_ID with its history and comments."""
    from collector.events.views import event_detail_json

    with _Context(db_url, None, None) as ctx:
        repository = ctx.engine.repository
        event = repository.get_event(event_id)
        if event is None:
            click.echo(f"patrol: no event with id {event_id}", err=True)
            sys.exit(EX_NOT_FOUND)
        detail = event_detail_json(event, repository.history(event_id), repository.comments(event_id))
    if fmt == "json":
        click.echo(json.dumps(detail, indent=2, ensure_ascii=False))
        return
    _event_text(detail)


def _event_text(e: dict) -> None:
    from rich.markup import escape
    from rich.table import Table

    from collector.console import out

    out.print(f"[bold]Event {e['id']}[/]: {escape(e['fingerprint'])}")
    out.print(f"  {e['severity']} {e['state']}: {escape(e['summary'])}")
    out.print(f"  first seen {_when(e['first_seen'])}, last seen {_when(e['last_seen'])}, {e['count']} results")
    for label, key in (("acknowledged", "acknowledged_at"), ("resolved", "resolved_at"), ("closed", "closed_at")):
        if e[key]:
            who = e.get(f"{label}_by")
            out.print(f"  {label} {_when(e[key])}" + (f" by {escape(who)}" if who else ""))
    if e["next_escalation_at"]:
        out.print(f"  next escalation (level {e['escalation_level'] + 1}) at {_when(e['next_escalation_at'])}")
    table = Table(title="History")
    for column in ("at", "change", "from", "to", "who", "comment / detail"):
        table.add_column(column, overflow="fold")
    for h in e["history"]:
        note = " — ".join(x for x in (h["comment"], h["detail"]) if x)
        table.add_row(_when(h["at"]), h["kind"], h["from_state"] or "", h["to_state"], escape(h["actor"] or "patrol"),
                      escape(note))
    out.print(table)
    for c in e["comments"]:
        out.print(f"  [bold]{escape(c['author'])}[/] {_when(c['at'])}: {escape(c['text'])}")


def _change(ctx: _Context, event_id: int, call) -> None:
    from collector.events.engine import EventNotFound, EventStateError

    try:
        call(ctx.engine)
    except EventNotFound:
        click.echo(f"patrol: no event with id {event_id}", err=True)
        sys.exit(EX_NOT_FOUND)
    except EventStateError as exc:
        click.echo(f"patrol: {exc}", err=True)
        sys.exit(EX_CONFLICT)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None


@events.command("ack")
@click.argument("event_id", type=int)
@click.option("--comment", "-m", default=None, help="Why, or what is being done.")
@click.option("--expires", default=None, help="Fire again after this long (e.g. 2h) unless resolved.")
@_author_option
@db_option
@inventory_option
@config_option
def events_ack(event_id, comment, expires, author, db_url, inventory_path, config_file) -> None:
    """Acknowledge event EVENT_ID: its escalation stops. Exits 4 if it is not open."""
    from collector.events.views import Acknowledgement

    try:
        ack = Acknowledgement.model_validate({"comment": comment, "expires_in": expires})
    except ValidationError as exc:
        raise _invalid(exc, {"expires_in": "--expires", "comment": "--comment"}) from None
    actor = author or getpass.getuser()
    expiry = ack.expiry(dt.datetime.now(dt.UTC))
    with _Context(db_url, inventory_path, config_file) as ctx:
        _change(ctx, event_id, lambda engine: engine.acknowledge(event_id, actor, ack.comment, expiry))
    click.echo(f"event {event_id} acknowledged by {actor}" + (f" until {expiry:%Y-%m-%d %H:%M} UTC" if expiry else ""))


@events.command("resolve")
@click.argument("event_id", type=int)
@click.option("--comment", "-m", default=None, help="What was done.")
@_author_option
@db_option
@inventory_option
@config_option
def events_resolve(event_id, comment, author, db_url, inventory_path, config_file) -> None:
    """Resolve event EVENT_ID by hand. Exits 4 if it is not open."""
    actor = author or getpass.getuser()
    with _Context(db_url, inventory_path, config_file) as ctx:
        _change(ctx, event_id, lambda engine: engine.resolve(event_id, actor, comment))
    click.echo(f"event {event_id} resolved by {actor}")


@events.command("comment")
@click.argument("event_id", type=int)
@click.argument("text")
@_author_option
@db_option
def events_comment(event_id, text, author, db_url) -> None:
    """Add comment TEXT to event EVENT_ID (in any state)."""
    actor = author or getpass.getuser()
    with _Context(db_url, None, None) as ctx:
        _change(ctx, event_id, lambda engine: engine.comment(event_id, actor, text))
    click.echo(f"comment added to event {event_id}")


# -- patrol maintenance -----------------------------------------------------------------------------


@click.group()
def maintenance() -> None:
    """Maintenance windows: events inside them are recorded and marked, not notified."""


@maintenance.command("add")
@click.argument("name")
@click.option("--hosts", required=True, help="Host pattern, as a playbook task's hosts: web*, linux:&prod.")
@click.option("--check", default=None, help="Only this check (name or glob); default every check.")
@click.option("--start", default=None, help="One-off: start (ISO 8601 with a zone; default now).")
@click.option("--end", default=None, help="One-off: end (ISO 8601 with a zone), or give --duration.")
@click.option("--cron", default=None, help="Recurring: cron expression of the starts, e.g. '0 2 * * 6'.")
@click.option("--weekly", default=None, help="Recurring: days, e.g. sat,sun (with --at).")
@click.option("--at", "start_time", default=None, help="Weekly: start time of day, e.g. 03:00.")
@click.option("--duration", default=None, help="How long each window lasts, e.g. 2h.")
@click.option("--timezone", default="UTC", show_default=True, help="Zone of --cron, --weekly and --at.")
@_author_option
@_format_option
@db_option
def maintenance_add(name, hosts, check, start, end, cron, weekly, start_time, duration, timezone, author, fmt,
                    db_url) -> None:
    """Add maintenance window NAME: one-off (--start/--end or --duration), cron (--cron, --duration) or
    weekly (--weekly, --at, --duration)."""
    from collector.events.views import WindowSpec, window_json

    if cron and weekly:
        raise click.UsageError("give --cron or --weekly, not both")
    kind = "cron" if cron else "weekly" if weekly else "once"
    now = dt.datetime.now(dt.UTC)
    raw: dict[str, Any] = {"name": name, "hosts": hosts, "check": check, "kind": kind, "duration": duration,
                           "timezone": timezone}
    if kind == "once":
        raw.update(starts_at=start or now.isoformat(), ends_at=end)
    else:
        raw.update(starts_at=start, ends_at=end, cron=cron,
                   weekdays=[d for d in (weekly or "").split(",") if d.strip()], start_time=start_time)
    options = {"starts_at": "--start", "ends_at": "--end", "start_time": "--at", "weekdays": "--weekly",
               "hosts": "--hosts", "check": "--check", "duration": "--duration", "timezone": "--timezone",
               "cron": "--cron", "name": "NAME"}
    try:
        spec = WindowSpec.model_validate({k: v for k, v in raw.items() if v is not None})
        window = spec.window(author or getpass.getuser(), now)
    except ValidationError as exc:
        raise _invalid(exc, options) from None
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    with _Context(db_url, None, None) as ctx:
        stored = ctx.engine.repository.add_window(window)
    if fmt == "json":
        click.echo(json.dumps(window_json(stored, now), indent=2, ensure_ascii=False))
    else:
        click.echo(f"maintenance window {stored.id} added: {stored.describe()}")


@maintenance.command("list")
@_format_option
@db_option
def maintenance_list(fmt, db_url) -> None:
    """List maintenance windows, with whether each is in force now."""
    from rich.markup import escape
    from rich.table import Table

    from collector.console import out
    from collector.events.views import window_json

    now = dt.datetime.now(dt.UTC)
    with _Context(db_url, None, None) as ctx:
        windows = [window_json(w, now) for w in ctx.engine.repository.windows()]
    if fmt == "json":
        click.echo(json.dumps(windows, indent=2, ensure_ascii=False))
        return
    if not windows:
        out.print("No maintenance windows.")
        return
    table = Table()
    for column in ("id", "name", "hosts", "check", "when", "now", "by"):
        table.add_column(column, overflow="fold")
    for w in windows:
        table.add_row(str(w["id"]), escape(w["name"]), escape(w["hosts"]), escape(w["check"] or "all"),
                      escape(w["description"]), "[bold]active[/]" if w["active"] else "", escape(w["created_by"]))
    out.print(table)


@maintenance.command("remove")
@click.argument("window_id", type=int)
@db_option
def maintenance_remove(window_id, db_url) -> None:
    """Remove maintenance window WINDOW_ID. Exits 1 if there is none."""
    with _Context(db_url, None, None) as ctx:
        removed = ctx.engine.repository.remove_window(window_id)
    if not removed:
        click.echo(f"patrol: no maintenance window with id {window_id}", err=True)
        sys.exit(EX_NOT_FOUND)
    click.echo(f"maintenance window {window_id} removed")
