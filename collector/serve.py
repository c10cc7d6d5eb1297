"""``patrol serve``: settings, and the process that runs the HTTP service and the patrol scheduler."""

from __future__ import annotations

import ipaddress
import logging
import threading
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, PositiveInt, ValidationError, field_validator

from checks.errors import ConfigError, Problem
from checks.params import problems_from_validation
from collector.events.settings import EventSettings, load_events
from collector.notify.settings import NotificationSettings, load_notifications
from collector.report.settings import ReportSettings, load_report

log = logging.getLogger("patrol.serve")


class ServeSettings(BaseModel):
    """Everything ``patrol serve`` takes; a YAML file (--config) may set any of these keys."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    listen: str = Field(default="127.0.0.1:8080", description="HOST:PORT to listen on")
    db: str | None = Field(default=None, description="store URL (default: $PATROL_DB, else sqlite:///var/patrol.db)")
    inventory: Path = Path("inventory.yaml")
    playbooks: Path = Path("playbooks")
    report_dir: Path = Path("var/reports")
    tls_cert: Path | None = Field(default=None, description="PEM certificate (chain) for HTTPS")
    tls_key: Path | None = Field(default=None, description="PEM private key for HTTPS")
    max_body_bytes: PositiveInt = Field(default=10 * 1024 * 1024, description="largest push accepted, in bytes")
    grace_seconds: PositiveFloat = Field(default=60, description="how long a scheduled run waits for agents")
    workers: PositiveInt = Field(
        default=1, le=64, description="HTTP worker processes (parsing pushes is CPU-bound: up to one per core)"
    )
    scheduler_lease_seconds: float = Field(
        default=15, ge=3, le=600,
        description="replicas: how long after the scheduling replica's last renewal another one takes over",
    )
    poll_lease_seconds: float = Field(
        default=30, ge=5, le=3600,
        description="replicas: how long after a poller's last renewal another replica runs its target's checks",
    )
    notice_claim_seconds: float = Field(
        default=120, ge=5, le=3600,
        description="replicas: how long after a replica's last renewal another one sends the notices it held",
    )
    timezone: str = Field(
        default_factory=lambda: local_zone(), description="IANA zone cron schedules are read in (default: this host's)"
    )
    events: EventSettings = Field(default_factory=EventSettings, description="the event engine's rules")
    notifications: NotificationSettings = Field(
        default_factory=NotificationSettings, description="channels, routes, escalation (docs/notifications.md)"
    )
    report: ReportSettings = Field(
        default_factory=ReportSettings, description="defaults for every report (docs/reports.md)"
    )

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r}: expected an IANA name such as Asia/Shanghai or UTC"
            ) from None
        return value

    @field_validator("listen")
    @classmethod
    def _listen(cls, value: str) -> str:
        host_port(value)
        return value

    @property
    def host(self) -> str:
        return host_port(self.listen)[0]

    @property
    def port(self) -> int:
        return host_port(self.listen)[1]


def local_zone() -> str:
    """This host's IANA zone name (what cron on this host would use), UTC when it cannot be told."""
    try:
        import tzlocal

        return tzlocal.get_localzone_name() or "UTC"
    except Exception:  # noqa: BLE001 - no zone configured: cron's own fallback is UTC too
        return "UTC"


def host_port(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError("expected HOST:PORT such as 127.0.0.1:8080")
    return host.strip("[]"), int(port)


def load_settings(config_file: Path | None, overrides: dict) -> ServeSettings:
    """Settings from the config file, then command-line flags; every problem reported with its place."""
    from collector.config.yamlfile import load_yaml, locate

    data: dict = {}
    lines = None
    if config_file is not None:
        data, lines = load_yaml(config_file)
        if not isinstance(data, dict):
            raise ConfigError.single("expected a mapping of settings", file=str(config_file), line=1)
    # The sections have loaders of their own (they place their problems in the file themselves).
    sections, problems = load_sections(data, config_file, lines)
    merged = {k: v for k, v in data.items() if k not in sections}
    merged.update({k: v for k, v in overrides.items() if v is not None})
    settings = None
    try:
        settings = ServeSettings.model_validate(merged)
    except ValidationError as exc:
        located = problems_from_validation(exc, ServeSettings)
        if config_file is not None and lines is not None:
            located = locate(located, config_file, lines)
        problems.extend(located)
    if problems or settings is None:
        raise ConfigError(sorted(problems, key=lambda p: p.line or 0)) from None
    settings = settings.model_copy(update=sections)
    if (settings.tls_cert is None) != (settings.tls_key is None):
        problems.append(Problem(("tls_cert",), "tls_cert and tls_key go together: give both or neither"))
    for name in ("tls_cert", "tls_key"):
        path = getattr(settings, name)
        if path is not None and not path.is_file():
            problems.append(Problem((name,), f"{path} does not exist"))
    if problems:
        raise ConfigError(problems)
    return settings


def load_sections(data: dict, config_file: Path | None, lines) -> tuple[dict, list[Problem]]:
    """The ``events:``, ``notifications:`` and ``report:`` sections of a settings file, validated, and
    every problem.

    Shared by ``patrol serve``, ``patrol run`` and the event commands: one file configures them all."""
    file = str(config_file) if config_file is not None else None
    sections: dict = {}
    problems: list[Problem] = []
    for key, loader in (("events", load_events), ("notifications", load_notifications), ("report", load_report)):
        if key in data:
            try:
                sections[key] = loader(data[key], file, lines)
            except ConfigError as exc:
                problems.extend(exc.problems)
    return sections, problems


def load_site_settings(config_file: Path | None) -> tuple[EventSettings, NotificationSettings]:
    """For commands other than serve: the events and notifications sections of ``--config`` (defaults
    without one); the file's other keys are serve's and not checked here."""
    sections = load_site_sections(config_file)
    return sections.get("events", EventSettings()), sections.get("notifications", NotificationSettings())


def load_site_report(config_file: Path | None) -> tuple[ReportSettings, NotificationSettings]:
    """For the report commands: the report and notifications sections of ``--config``."""
    sections = load_site_sections(config_file)
    return sections.get("report", ReportSettings()), sections.get("notifications", NotificationSettings())


def load_site_sections(config_file: Path | None) -> dict:
    """The validated sections (events, notifications, report) of a settings file; {} without one."""
    if config_file is None:
        return {}
    from collector.config.yamlfile import load_yaml

    data, lines = load_yaml(config_file)
    if not isinstance(data, dict):
        raise ConfigError.single("expected a mapping of settings", file=str(config_file), line=1)
    sections, problems = load_sections(data, config_file, lines)
    if problems:
        raise ConfigError(sorted(problems, key=lambda p: p.line or 0))
    return sections


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


SETTINGS_ENV = "PATROL_SERVE_SETTINGS"  # hands the settings to worker processes


def build_app(settings: ServeSettings, on_change=None):
    """The HTTP application with its own store connection: one per process. ``on_change``: wake the
    event service (in the process that runs it)."""
    from checks.registry import default_registry
    from collector.api.app import ApiSettings, create_app
    from collector.config.site import SiteWatcher
    from collector.store.store import Store, default_url

    site = SiteWatcher(settings.inventory, settings.playbooks, default_registry())  # ConfigError → exit 78
    store = Store.open(settings.db or default_url())
    api_settings = ApiSettings(
        max_body_bytes=settings.max_body_bytes, timezone=settings.timezone, events=settings.events,
        notifications=settings.notifications, report_dir=settings.report_dir,
    )
    app = create_app(store, site, api_settings, on_change=on_change or (lambda: None))
    return app, site, store


def worker_app():
    """uvicorn's app factory in each worker process (``--workers`` > 1)."""
    import os

    app, _site, _store = build_app(ServeSettings.model_validate_json(os.environ[SETTINGS_ENV]))
    return app


def serve(settings: ServeSettings) -> None:
    import os

    import uvicorn

    from collector.events.service import EventService
    from collector.scheduler import PatrolScheduler
    from collector.store.leases import replica_id

    stored = threading.Event()  # set by this process's HTTP handlers: results stored, an event changed
    app, site, store = build_app(settings, on_change=stored.set)
    # The scheduler, the poller and the event service run in this process, whatever the number of HTTP
    # workers (the event service finds their results by polling the store). Across replicas on one
    # PostgreSQL they share their work through the store: see collector/scheduler.py and docs/scaling.md.
    holder = replica_id()
    log.info("replica %s starting", holder)
    scheduler = PatrolScheduler(site, store, settings.report_dir, settings.grace_seconds, timezone=settings.timezone,
                                report_defaults=settings.report, holder=holder,
                                lease_seconds=settings.scheduler_lease_seconds,
                                poll_lease_seconds=settings.poll_lease_seconds)
    events = EventService.build(
        store, settings.events, settings.notifications, site=site, timezone=settings.timezone, wake=stored,
        holder=holder, claim_seconds=settings.notice_claim_seconds,
    )
    if settings.tls_cert is None and not is_loopback(settings.host):
        log.warning(
            "serving plain HTTP on %s: agents' tokens cross the network unencrypted; give --tls-cert/--tls-key",
            settings.listen,
        )
    if settings.workers > 1:
        os.environ[SETTINGS_ENV] = settings.model_dump_json()  # notification secrets are references only
    config = uvicorn.Config(
        "collector.serve:worker_app" if settings.workers > 1 else app,
        factory=settings.workers > 1,
        workers=settings.workers,
        host=settings.host,
        port=settings.port,
        ssl_certfile=str(settings.tls_cert) if settings.tls_cert else None,
        ssl_keyfile=str(settings.tls_key) if settings.tls_key else None,
        log_level="info",
        access_log=False,
        server_header=False,
    )
    scheduler.start()
    events.start()
    try:
        if settings.workers > 1:
            from uvicorn.supervisors import Multiprocess

            Multiprocess(config, sockets=[config.bind_socket()]).run()
        else:
            uvicorn.Server(config).run()
    finally:
        scheduler.shutdown()
        events.close()
        store.close()
