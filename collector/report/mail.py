"""A written report as an e-mail (``patrol report ... --email CHANNEL``): the verdict and the most severe
findings in the body, the report files attached, sent through a configured ``email`` channel.

The channel is resolved, its secrets read, before the report is built: a wrong channel name or an
unreadable password is a configuration error that stops the command before anything is written.
"""

from __future__ import annotations

import datetime as dt
import socket
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from checks.errors import ConfigError, Problem
from checks.secrets import Scrubber
from collector.notify.channels.base import Secrets
from collector.notify.channels.email import Email
from collector.notify.settings import SECTION, NotificationSettings
from collector.report.charts import STATUS_COLOURS
from collector.report.labels import labels
from collector.report.model import STATUS_ORDER, Report, zone
from collector.report.render import render_template

# Mail servers commonly refuse messages over 10-25 MB; what would not fit stays on disk, named in the body.
MAX_ATTACHMENT_BYTES = 15 * 1024 * 1024
ATTACH_ORDER = ("pdf", "html", "xlsx", "md", "json")  # what a reader opens first goes first
MIME_TYPES = {
    "pdf": ("application", "pdf"),
    "html": ("text", "html"),
    "xlsx": ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "md": ("text", "markdown"),
    "json": ("application", "json"),
}
TOP_FINDINGS = 10


def report_channel(name: str, settings: NotificationSettings, file: Path | None,
                   flag: str = "--email") -> tuple[Email, Scrubber]:
    """The ``email`` channel ``name`` of the settings, with its secrets read (and the scrubber that hides
    them in error texts); ConfigError otherwise."""
    where = f" in {file}" if file is not None else " (no --config file given)"
    for i, config in enumerate(settings.channels):
        if config.name != name:
            continue
        if config.type != "email":
            raise ConfigError([Problem((), f"{flag}: channel {name!r} is a {config.type} channel; reports are "
                                           f"sent through an email channel", str(file) if file else None)])
        scrubber = Scrubber()
        secrets = Secrets(scrubber, SECTION + ("channels", i))
        channel = Email(config, secrets, session_factory=None)
        if secrets.problems:
            raise ConfigError([p.located(str(file), None) if file and not p.file else p for p in secrets.problems])
        return channel, scrubber
    known = ", ".join(c.name for c in settings.channels if c.type == "email") or "none"
    raise ConfigError([Problem((), f"{flag}: no notification channel named {name!r}{where} "
                                   f"(email channels: {known})", str(file) if file else None)])


def period_text(report: Report) -> str:
    """What the report covers, as its subject says it: a run's start, a day, or first and last day."""
    cover = report.cover
    tz = zone(cover.timezone)
    start = cover.started_at.astimezone(tz)
    if cover.run_id is not None or cover.finished_at is None:
        return start.strftime("%Y-%m-%d %H:%M")
    last = (cover.finished_at - dt.timedelta(seconds=1)).astimezone(tz)  # the end is exclusive
    if last.date() == start.date():
        return start.strftime("%Y-%m-%d")
    return f"{start:%Y-%m-%d} – {last:%Y-%m-%d}"


def subject(report: Report) -> str:
    words = labels(report.language)
    text = words["mail_subject"].format(title=report.cover.title, period=period_text(report),
                                        band=words[report.health.band], score=report.health.score)
    return f"{report.cover.organisation} — {text}" if report.cover.organisation else text


def report_mail(report: Report, paths: Mapping[str, Path], sender: str, to: tuple[str, ...]) -> EmailMessage:
    """The message: text and HTML bodies, the report files attached (within MAX_ATTACHMENT_BYTES)."""
    attached: list[Path] = []
    left_out: list[Path] = []
    budget = MAX_ATTACHMENT_BYTES
    for fmt in sorted(paths, key=lambda f: ATTACH_ORDER.index(f) if f in ATTACH_ORDER else len(ATTACH_ORDER)):
        size = paths[fmt].stat().st_size
        (attached if size <= budget else left_out).append(paths[fmt])
        budget -= size if size <= budget else 0
    context = {
        "report": report,
        "t": labels(report.language),
        "status_order": STATUS_ORDER,
        "status_colours": STATUS_COLOURS,
        "findings": report.findings[:TOP_FINDINGS],
        "more": max(0, len(report.findings) - TOP_FINDINGS),
        "attached": [p.name for p in attached],
        "left_out": [str(p.resolve()) for p in left_out],
        "host": socket.getfqdn(),
    }
    mail = EmailMessage()
    mail["Subject"] = subject(report)
    mail["From"] = sender
    mail["To"] = ", ".join(to)
    mail["Date"] = formatdate(localtime=True)
    mail["Message-ID"] = make_msgid("report")
    mail["X-Patrol-Severity"] = report.overview.worst_status.name
    mail.set_content(render_template("mail.txt", **context))
    mail.add_alternative(render_template("mail.html", **context), subtype="html")
    for path in attached:
        fmt = path.suffix.lstrip(".")
        maintype, subtype = MIME_TYPES.get(fmt, ("application", "octet-stream"))
        mail.add_attachment(path.read_bytes(), maintype=maintype, subtype=subtype, filename=path.name)
    return mail


def send_report(channel: Email, report: Report, paths: Mapping[str, Path]) -> EmailMessage:
    """Build and deliver the message; DeliveryError (with the server's reason) when it is not accepted."""
    mail = report_mail(report, paths, channel.sender, channel.config.to)
    channel.deliver(mail)
    return mail
