"""The ``patrol`` command.

Exit codes follow Nagios for patrol outcomes (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN) and
sysexits(3) otherwise: 64 usage error, 69 store unavailable, 78 configuration error.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
import yaml
from pydantic import ValidationError

from checks.errors import CheckUnavailable, ConfigError, Problem
from checks.registry import UnknownCheck, default_registry
from checks.status import Status
from collector.cli_options import config_option, db_option, inventory_option

EX_USAGE = 64
EX_UNAVAILABLE = 69
EX_TEMPFAIL = 75
EX_CONFIG = 78

# Imported only by commands that need them; they come with the 'collector' extra.
COLLECTOR_MODULES = {"argon2", "sqlalchemy", "alembic", "jinja2", "prometheus_client", "fastapi", "uvicorn", "openpyxl"}

DEFAULT_REPORT_DIR = "var/reports"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="patrol", prog_name="patrol")
def cli() -> None:
    """Patrol: scheduled health patrols, checks and inspection reports."""


# -- patrol run ---------------------------------------------------------------------------------


@cli.command()
@click.argument("playbook_path", metavar="PLAYBOOK", type=click.Path(dir_okay=False, path_type=Path))
@inventory_option
@click.option("--limit", "-l", default=None, help="Further limit the hosts with an inventory pattern.")
@db_option
@click.option(
    "--report-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_REPORT_DIR,
    show_default=True,
    help="Directory for the inspection report.",
)
@click.option("--workers", type=click.IntRange(1, 256), default=16, show_default=True, help="Checks run at once.")
@click.option("--quiet", "-q", is_flag=True, help="Print only the report paths and the worst status.")
@config_option
def run(playbook_path, inventory_path, limit, db_url, report_dir, workers, quiet, config_file) -> None:
    """Run every task of PLAYBOOK now, store the results and write the inspection report.

    The results feed the event engine like every stored result; with --config, its notifications
    are sent before the command ends.

    Exits 0 when all is OK, 1 when the worst is WARNING, 2 on any CRITICAL, 3 on any UNKNOWN
    and no CRITICAL, 78 on configuration errors.
    """
    from collector import console
    from collector.events.service import EventService
    from collector.events.settings import EventSettings
    from collector.notify.settings import NotificationSettings
    from collector.patrol import prepare, run_patrol
    from collector.report.settings import with_report_defaults
    from collector.runner import Runner
    from collector.serve import load_site_sections
    from collector.store.store import Store, default_url

    registry = default_registry()
    inventory, playbook = _load(inventory_path, playbook_path, registry)
    sections = load_site_sections(config_file)
    event_settings = sections.get("events", EventSettings())
    notifications = sections.get("notifications", NotificationSettings())
    playbook = with_report_defaults(playbook, sections.get("report"))  # the settings file's report defaults
    assignments = prepare(playbook, inventory, registry, limit)
    store = Store.open(db_url or default_url())
    try:
        # Built before anything runs: a notification secret that cannot be read is a configuration error.
        events = EventService.build(store, event_settings, notifications, inventory=inventory,
                                    keep_undelivered=True)  # no channels here: a collector may have some
        try:
            with console.Progress(enabled=not quiet) as progress:
                outcome = run_patrol(
                    playbook,
                    assignments,
                    store,
                    report_dir,
                    limit=limit,
                    runner=Runner(max_workers=workers),
                    on_plan=progress.start,
                    on_done=progress.advance,
                    after_store=events.run_once,  # before the report: it shows the events
                )
        finally:
            events.close(timeout=30)  # delivers what the run's events produced
    finally:
        store.close()
    console.print_patrol(outcome, quiet=quiet)
    if events.notifier is not None and not quiet:
        console.print_deliveries(events.notifier.stats())
    sys.exit(outcome.status.code)


# -- patrol check -------------------------------------------------------------------------------


@cli.command()
@click.argument("name")
@click.option("--target", "-t", default=None, help="Inventory host to check (default: this machine).")
@inventory_option
@click.option("--set", "-s", "settings", multiple=True, metavar="KEY=VALUE", help="A parameter (YAML value).")
@click.option(
    "--format", "-f", "fmt", type=click.Choice(["table", "json", "nagios"]), default="table", show_default=True
)
def check(name, target, inventory_path, settings, fmt) -> None:
    """Run one check NAME now and print its results.

    With --format nagios the output is a Nagios plugin answer (perfdata included) and the exit
    code is 0-3, so Nagios, Icinga or Checkmk can run any Patrol check.
    """
    from checks.target import LOCALHOST
    from collector import console
    from collector.config.inventory import load_inventory
    from collector.planner import Assignment
    from collector.runner import Runner

    registry = default_registry()
    try:
        check_ = registry.get(name)
    except (UnknownCheck, CheckUnavailable) as exc:
        raise ConfigError.single(str(exc)) from None
    params = check_.validate(_parse_settings(settings), path=("--set",))
    if target is None:
        host = LOCALHOST
    else:
        inventory = load_inventory(inventory_path)
        matched = inventory.select(target)
        if len(matched) != 1:
            raise ConfigError.single(f"--target {target!r} matches {len(matched)} hosts; name exactly one")
        host = matched[0]
    results = Runner(max_workers=1).run([Assignment("ad hoc", host, check_, params)])
    if fmt == "nagios":
        from collector.nagios import nagios_output

        text, code = nagios_output(name, results)
        click.echo(text)
        sys.exit(code)
    if fmt == "json":
        click.echo(json.dumps([r.to_json_dict() for r in results], indent=2))
    else:
        console.print_results(results)
    sys.exit(Status.worst(r.status for r in results).code)


def _parse_settings(settings: tuple[str, ...]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    problems = []
    for setting in settings:
        key, sep, raw = setting.partition("=")
        if not sep or not key.strip():
            problems.append(Problem(("--set",), f"expected KEY=VALUE, got {setting!r}"))
            continue
        try:
            params[key.strip()] = yaml.safe_load(raw) if raw.strip() else None
        except yaml.YAMLError:
            problems.append(Problem(("--set", key.strip()), f"value {raw!r} is not a valid YAML value"))
    if problems:
        raise ConfigError(problems)
    return params


# -- patrol serve / token -----------------------------------------------------------------------


@cli.command()
@click.option("--listen", default=None, help="HOST:PORT to listen on.  [default: 127.0.0.1:8080]")
@db_option
@click.option(
    "--inventory",
    "-i",
    "inventory",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Inventory file.  [default: inventory.yaml]",
)
@click.option(
    "--playbooks",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Directory of playbooks; those with a schedule run on it.  [default: playbooks]",
)
@click.option(
    "--report-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Directory for the reports of scheduled patrols.  [default: var/reports]",
)
@click.option("--tls-cert", type=click.Path(dir_okay=False, path_type=Path), default=None, help="PEM certificate.")
@click.option("--tls-key", type=click.Path(dir_okay=False, path_type=Path), default=None, help="PEM private key.")
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="YAML file with any of these settings (flags win), and the events: and notifications: sections.",
)
def serve(listen, db_url, inventory, playbooks, report_dir, tls_cert, tls_key, config_file) -> None:
    """Run the collector: the HTTP API, /metrics, the scheduled patrols, events and notifications."""
    import logging

    from collector.serve import load_settings
    from collector.serve import serve as run_server

    settings = load_settings(
        config_file,
        {
            "listen": listen,
            "db": db_url,
            "inventory": inventory,
            "playbooks": playbooks,
            "report_dir": report_dir,
            "tls_cert": tls_cert,
            "tls_key": tls_key,
        },
    )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)  # its plugin set-up is not news to an operator
    run_server(settings)


@cli.group()
def token() -> None:
    """API tokens for agents, Prometheus, viewers and operators; stored hashed, shown once."""


TOKEN_ROLES = {
    "agent": "Agent (inventory host) the token belongs to: push results, read its plan.",
    "metrics": "Name of a Prometheus server: read /metrics and /api/v1/agents.",
    "viewer": "Name of a person or tool that reads events and maintenance windows.",
    "operator": "Name of a person or tool that also acknowledges, resolves, comments and manages maintenance.",
}


def _token_options(verb: str):
    def decorate(f):
        for kind, text in reversed(TOKEN_ROLES.items()):
            f = click.option(f"--{kind}", help=text if verb == "create" else f"{verb} every {kind} token of NAME.",
                             metavar="NAME")(f)
        return f

    return decorate


def _token_kind(names: dict[str, str | None]) -> tuple[str, str]:
    given = [(kind, name) for kind, name in names.items() if name]
    if len(given) != 1:
        raise click.UsageError("give exactly one of " + ", ".join(f"--{k} NAME" for k in TOKEN_ROLES))
    return given[0]


@token.command("create")
@_token_options("create")
@db_option
def token_create(agent, metrics, viewer, operator, db_url) -> None:
    """Create a token and print it once, alone on the last line."""
    from collector.store.store import Store, default_url

    kind, name = _token_kind({"agent": agent, "metrics": metrics, "viewer": viewer, "operator": operator})
    with Store.open(db_url or default_url()) as store:
        token_id, plaintext = store.create_token(kind, name)
    click.echo(f"token {token_id} for {kind} {name!r} created; it is shown only now and stored hashed:", err=True)
    click.echo(plaintext)


@token.command("revoke")
@_token_options("Revoke")
@click.option("--id", "token_id", type=int, help="Revoke one token by id (see patrol token list).")
@db_option
def token_revoke(agent, metrics, viewer, operator, token_id, db_url) -> None:
    """Revoke tokens: they stop working at once."""
    from collector.store.store import Store, default_url

    names = {"agent": agent, "metrics": metrics, "viewer": viewer, "operator": operator}
    if token_id is None:
        kind, name = _token_kind(names)
    elif any(names.values()):
        raise click.UsageError("give --id or a name, not both")
    else:
        kind, name = None, None
    with Store.open(db_url or default_url()) as store:
        count = store.revoke_tokens(kind=kind, name=name, token_id=token_id)
    click.echo(f"{count} token{'s' if count != 1 else ''} revoked")
    if count == 0:
        sys.exit(1)


@token.command("list")
@db_option
def token_list(db_url) -> None:
    """List tokens (never the tokens themselves)."""
    from collector.store.store import Store, default_url

    with Store.open(db_url or default_url()) as store:
        for t in store.list_tokens():
            state = f"revoked {t.revoked_at:%Y-%m-%d %H:%M}" if t.revoked_at else "active"
            click.echo(f"{t.id:6}  {t.kind:8} {t.name:30} created {t.created_at:%Y-%m-%d %H:%M}  {state}")


# -- patrol inventory / playbook / checks ---------------------------------------------------------


@cli.group()
def inventory() -> None:
    """Validate and list the inventory."""


@inventory.command("validate")
@inventory_option
def inventory_validate(inventory_path) -> None:
    """Check the inventory file; print every problem with file, line and field."""
    from collector.config.inventory import load_inventory

    inv = load_inventory(inventory_path)
    click.echo(f"{inventory_path}: OK ({_count(inv.hosts, 'host')}, {_count(inv.groups, 'group')})")


@inventory.command("list")
@click.argument("pattern", default="all")
@inventory_option
@click.option("--json", "as_json", is_flag=True, help="Print hosts and their variables as JSON.")
def inventory_list(pattern, inventory_path, as_json) -> None:
    """List the hosts PATTERN selects (Ansible patterns: web*, a:b, a:&b, a:!b, ~regex)."""
    from collector import console
    from collector.config.inventory import load_inventory

    hosts = load_inventory(inventory_path).select(pattern)
    if as_json:
        click.echo(json.dumps({t.name: {"groups": list(t.groups), "vars": _redacted(t)} for t in hosts}, indent=2))
    else:
        console.print_hosts(hosts)


def _count(items, noun: str) -> str:
    return f"{len(items)} {noun}{'' if len(items) == 1 else 's'}"


def _redacted(target) -> dict:
    return {k: (f"<secret {next(iter(v))}>" if k in target.secret_keys() else v) for k, v in target.vars.items()}


@cli.group()
def playbook() -> None:
    """Validate playbooks."""


@playbook.command("validate")
@click.argument("playbook_path", metavar="FILE", type=click.Path(dir_okay=False, path_type=Path))
@inventory_option
def playbook_validate(playbook_path, inventory_path) -> None:
    """Check a playbook against the check schemas and the inventory's host patterns."""
    _, pb = _load(inventory_path, playbook_path, default_registry())
    checks = sum(len(t.checks) for t in pb.tasks)
    click.echo(f"{playbook_path}: OK ({_count(pb.tasks, 'task')}, {_count(range(checks), 'check')})")


@cli.group("checks")
def checks_group() -> None:
    """The check library: list checks, print the reference."""


@checks_group.command("list")
def checks_list() -> None:
    """List every check, with the reason where one cannot be loaded."""
    for name, check_ in default_registry().available().items():
        click.echo(f"{name:24} {check_ if isinstance(check_, str) else check_.title}")


@checks_group.command("reference")
def checks_reference() -> None:
    """Print the check reference (Markdown) generated from the parameter schemas."""
    from collector.reference import check_reference

    click.echo(check_reference(default_registry()), nl=False)


def _load(inventory_path: Path, playbook_path: Path, registry):
    """Load and validate the inventory and the playbook; every problem of both is reported."""
    from collector.config.inventory import load_inventory
    from collector.config.playbook import load_playbook

    problems: list[Problem] = []
    inv = None
    try:
        inv = load_inventory(inventory_path)
    except ConfigError as exc:
        problems.extend(exc.problems)
    try:
        pb = load_playbook(playbook_path, registry, inv)
    except ConfigError as exc:
        problems.extend(exc.problems)
    if problems:
        raise ConfigError(problems)
    return inv, pb


# -- patrol report --------------------------------------------------------------------------------


@cli.group()
def report() -> None:
    """Inspection reports from the store."""


def _report_site_options(f):
    f = click.option("--email", "email", default=None, metavar="CHANNEL",
                     help="Also send the report through this email channel of --config "
                          "(default: the settings file's report: email:).")(f)
    f = click.option("--config", "config_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                     default=None, help="Settings file: its report: section sets this site's report defaults, "
                                        "its notifications: section the channels (docs/reports.md).")(f)
    return f


@report.command("run")
@click.argument("run_id", type=int)
@click.option("--format", "formats", default=None,
              help="Comma-separated: html,json,md,xlsx,pdf (default: the playbook's).")
@click.option("--lang", type=click.Choice(["en", "zh"]), default=None, help="Language (default: the playbook's).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_REPORT_DIR,
              show_default=True, help="Directory for the report files.")
@db_option
@inventory_option
@_report_site_options
def report_run(run_id, formats, lang, out_dir, db_url, inventory_path, config_file, email) -> None:
    """Write the report of patrol run RUN_ID again, from the store (its playbook's report settings when the
    playbook file is still there). Exits with the run's worst status, like patrol run."""
    from collector import console
    from collector.config.inventory import load_inventory
    from collector.config.playbook import ReportOptions, load_playbook
    from collector.patrol import build_run_report, render_run_report, targets_of
    from collector.store.store import RunNotFound, Store, default_url

    site, mailer = _report_site(config_file, email)  # configuration errors before anything is written
    with Store.open(db_url or default_url()) as store:
        try:
            run = store.get_run(run_id)
        except RunNotFound:
            click.echo(f"patrol: no patrol run with id {run_id}", err=True)
            sys.exit(EX_USAGE)
        results = store.run_results(run_id)
        inventory = load_inventory(inventory_path) if inventory_path.exists() else None
        playbook = None
        if run.playbook_path and Path(run.playbook_path).is_file():
            playbook = load_playbook(run.playbook_path, default_registry(), inventory)
        options = _report_options(playbook.report if playbook is not None else ReportOptions(), formats, lang, site)
        targets = targets_of((r.target for r in results), inventory)
        model = build_run_report(store, run_id, targets, results, options)
        paths = render_run_report(model, run, options, out_dir)
    for fmt, path in paths.items():
        console.out.print(f"Report ({fmt}): {path}")
    if mailer is not None:
        _send_report(mailer, model, paths)
    status = run.status or Status.worst(r.status for r in results)
    sys.exit(status.code)


def _report_site(config_file: Path | None, email: str | None):
    """The settings file's report section and, when the report is to be mailed, the channel (with the
    scrubber of its secrets). ConfigError (exit 78) for a missing channel or an unreadable secret."""
    from collector.report.mail import report_channel
    from collector.serve import load_site_report

    site, notifications = load_site_report(config_file)
    name = email if email is not None else site.email
    flag = "--email" if email is not None else "report: email"
    return site, (report_channel(name, notifications, config_file, flag) if name else None)


def _send_report(mailer, model, paths) -> None:
    """Mail the written report; a refused or failed delivery says why and exits 75 (try again later)
    or 69 (the server refused: retrying will not help)."""
    from collector import console
    from collector.notify.delivery import DeliveryError
    from collector.report.mail import send_report

    channel, scrubber = mailer
    try:
        send_report(channel, model, paths)
    except DeliveryError as exc:
        click.echo(f"patrol: the report was written but not sent through channel {channel.name!r}: "
                   f"{scrubber.scrub(exc.reason)}", err=True)
        sys.exit(EX_TEMPFAIL if exc.retry else EX_UNAVAILABLE)
    console.out.print(f"Sent to {', '.join(channel.config.to)} (channel {channel.name})")


def _report_options(base, formats: str | None, lang: str | None, site=None):
    """The report's options: --format and --lang, then what ``base`` (a playbook's report settings) sets,
    then the settings file's report section (``site``), then the defaults. A bad format is a usage error."""
    from collector.report.settings import merged_options

    chosen = tuple(f.strip() for f in formats.split(",") if f.strip()) if formats is not None else None
    try:
        return merged_options(base, site, formats=chosen, language=lang)
    except ValidationError as exc:
        raise click.UsageError(f"--format: {exc.errors()[0]['msg']}") from None


def _period_options(formats: str | None, lang: str | None, timezone: str | None, site, name: str):
    from types import SimpleNamespace

    from collector.config.playbook import ReportOptions
    from collector.report.labels import labels

    options = _report_options(ReportOptions(), formats, lang, site)
    if options.title is None:  # "Daily health report" rather than the patrol report's "Inspection report"
        options = options.model_copy(update={"title": labels(options.language)[f"{name}_title"]})
    return SimpleNamespace(**options.model_dump(), timezone=timezone)


def _period_report(start, end, name, formats, lang, timezone, out_dir, db_url, inventory_path, site, mailer) -> None:
    from collector import console
    from collector.config.inventory import load_inventory
    from collector.report.period import build_period_report, render_period_report
    from collector.store.store import Store, default_url

    options = _period_options(formats, lang, timezone, site, name)
    inventory = load_inventory(inventory_path) if inventory_path.exists() else None
    with Store.open(db_url or default_url()) as store:
        model, status, count = build_period_report(store, start, end, name, options, inventory)
        paths = render_period_report(model, name, options, out_dir)
    if count == 0:
        click.echo(f"patrol: no results stored between {start:%Y-%m-%d %H:%M} and {end:%Y-%m-%d %H:%M} UTC",
                   err=True)
    for fmt, path in paths.items():
        console.out.print(f"Report ({fmt}): {path}")
    if mailer is not None:
        _send_report(mailer, model, paths)
    sys.exit(status.code)


def _period_options_decorator(f):
    f = click.option("--format", "formats", default=None,
                     help="Comma-separated: html,json,md,xlsx,pdf (default: report: formats:, else html,json,md).")(f)
    f = click.option("--lang", type=click.Choice(["en", "zh"]), default=None,
                     help="Language (default: report: language:, else en).")(f)
    f = click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
                     default=DEFAULT_REPORT_DIR, show_default=True, help="Directory for the report files.")(f)
    return _report_site_options(inventory_option(db_option(f)))


@report.command("daily")
@click.option("--date", "day", default=None, help="YYYY-MM-DD (default: yesterday, in --timezone).")
@click.option("--timezone", default=None,
              help="IANA zone the day is read in (default: report: timezone:, else this host's).")
@_period_options_decorator
def report_daily(day, timezone, formats, lang, out_dir, db_url, inventory_path, config_file, email) -> None:
    """The daily health report over the store, made for cron: no terminal needed; exits 0-3 with the
    worst status found (like patrol run)."""
    import datetime as dt

    from collector.report.model import local_timezone_name
    from collector.report.period import day_bounds

    site, mailer = _report_site(config_file, email)
    timezone = timezone or site.timezone or local_timezone_name()
    tz = _zone(timezone)
    try:
        date = dt.date.fromisoformat(day) if day else dt.datetime.now(tz).date() - dt.timedelta(days=1)
    except ValueError:
        raise click.UsageError(f"--date: expected YYYY-MM-DD, got {day!r}") from None
    start, end = day_bounds(date, timezone)
    _period_report(start, end, "daily", formats, lang, timezone, out_dir, db_url, inventory_path, site, mailer)


@report.command("period")
@click.option("--from", "start", required=True, help="Start (ISO 8601 with a zone, e.g. 2026-11-01T00:00+08:00).")
@click.option("--to", "end", required=True, help="End, exclusive (ISO 8601 with a zone).")
@click.option("--timezone", default=None, help="IANA zone for the times shown (default: this host's).")
@_period_options_decorator
def report_period(start, end, timezone, formats, lang, out_dir, db_url, inventory_path, config_file, email) -> None:
    """The health report of any period over the store; exits 0-3 with the worst status found."""
    import datetime as dt

    bounds = []
    for flag, text in (("--from", start), ("--to", end)):
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            raise click.UsageError(f"{flag}: expected ISO 8601 such as 2026-11-01T00:00+08:00, got {text!r}") from None
        if moment.tzinfo is None:
            raise click.UsageError(f"{flag}: give a time zone (e.g. +08:00 or Z), got {text!r}")
        bounds.append(moment.astimezone(dt.UTC))
    if bounds[0] >= bounds[1]:
        raise click.UsageError("--from must come before --to")
    if timezone is not None:
        _zone(timezone)
    site, mailer = _report_site(config_file, email)
    _period_report(bounds[0], bounds[1], "period", formats, lang, timezone or site.timezone, out_dir, db_url,
                   inventory_path, site, mailer)


def _zone(name: str):
    from collector.report.model import zone

    try:
        return zone(name)
    except Exception:  # noqa: BLE001 - any unknown zone is the user's typo
        raise click.UsageError(f"--timezone: unknown time zone {name!r}") from None


# -- patrol events / maintenance (collector/cli_events.py) ----------------------------------------

def _add_event_commands() -> None:
    from collector.cli_events import events, maintenance

    cli.add_command(events)
    cli.add_command(maintenance)
    from collector.cli_users import user

    cli.add_command(user)


_add_event_commands()


# -- entry point --------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    from collector.errors import ReportFormatUnavailable, StoreError

    try:
        cli.main(args=argv, prog_name="patrol", standalone_mode=False)
    except ConfigError as exc:
        count = len(exc.problems)
        click.echo(f"patrol: configuration error{'s' if count != 1 else ''}:", err=True)
        for problem in exc.problems:
            click.echo(f"  {problem}", err=True)
        sys.exit(EX_CONFIG)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.Abort:
        click.echo("patrol: aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(EX_USAGE)
    except StoreError as exc:
        click.echo(f"patrol: store unavailable: {exc}", err=True)
        sys.exit(EX_UNAVAILABLE)
    except ReportFormatUnavailable as exc:
        click.echo(f"patrol: {exc}", err=True)
        sys.exit(EX_UNAVAILABLE)
    except ModuleNotFoundError as exc:
        # The collector's parts (store, reports) are an extra, so an agent host installs little.
        if exc.name and exc.name.split(".")[0] in COLLECTOR_MODULES:
            click.echo(
                f"patrol: this command needs the 'collector' extra ({exc.name} is not installed): "
                "pip install 'patrol[collector]'",
                err=True,
            )
            sys.exit(EX_UNAVAILABLE)
        raise
    sys.exit(0)


if __name__ == "__main__":  # pragma: no cover
    main()
