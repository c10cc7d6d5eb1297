"""The ``notifications:`` section of a settings file: channels, routes, escalation, grouping, templates, retries.

Every model is frozen and forbids unknown keys; ``load_notifications`` validates the section and reports
every problem at once with its file, line and field. Secrets are references (``{env: X}``/``{file: P}``),
resolved when the notifier starts, never stored in the models.
"""

from __future__ import annotations

import datetime as dt
import re
import urllib.parse
from collections.abc import Mapping
from pathlib import Path as FilePath
from typing import Annotated, Any, Literal, Union

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PositiveInt,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from checks.errors import ConfigError, Path, Problem
from checks.params import describe_error, suggest
from checks.secrets import reference_problem
from collector.notify.notice import Change

SEVERITIES = ("WARNING", "CRITICAL", "UNKNOWN", "NODATA")
CHANGES: tuple[Change, ...] = (
    "opened", "escalated", "acknowledged", "resolved", "reopened", "severity_changed", "flapping",
)
TEMPLATE_KINDS = ("subject", "text", "markdown", "html")


class Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


# -- value types -----------------------------------------------------------------------------------

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(value: Any) -> Any:
    """``10s``, ``1m30s``, ``500ms``, ``1.5h`` or a number of seconds -> timedelta; anything else passes on."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 10s, 5m or 1h30m")
    if isinstance(value, int | float):
        return dt.timedelta(seconds=value)
    if isinstance(value, str) and not value.startswith("P"):  # "P..." is ISO 8601, pydantic's own JSON form
        text = value.strip().replace(" ", "")
        if not text or _DURATION.sub("", text):
            raise ValueError("expected a duration such as 10s, 5m or 1h30m (units: ms, s, m, h, d)")
        return dt.timedelta(seconds=sum(float(n) * _UNITS[u] for n, u in _DURATION.findall(text)))
    return value


def _positive(value: dt.timedelta) -> dt.timedelta:
    if value <= dt.timedelta(0):
        raise ValueError("must be longer than zero")
    return value


def _not_negative(value: dt.timedelta) -> dt.timedelta:
    if value < dt.timedelta(0):
        raise ValueError("must not be negative")
    return value


def _at_most_5m(value: dt.timedelta) -> dt.timedelta:
    if value > dt.timedelta(minutes=5):
        raise ValueError("must be at most 5m")
    return value


Duration = Annotated[dt.timedelta, BeforeValidator(parse_duration), AfterValidator(_positive)]
Delay = Annotated[dt.timedelta, BeforeValidator(parse_duration), AfterValidator(_not_negative)]


def _secret(value: Any) -> Any:
    problem = reference_problem(value)
    if problem:
        raise ValueError(problem)
    return dict(value)


def _robot_url(value: Any) -> Any:
    if isinstance(value, str):
        raise ValueError(
            "the robot's webhook URL carries its access token, so it is a secret: "
            "use {env: VARIABLE} or {file: /path/to/secret}"
        )
    return _secret(value)


# A secret reference, resolved when the notifier starts: {"env": "NAME"} or {"file": "/path"}.
Secret = Annotated[dict[str, str], BeforeValidator(_secret)]
RobotUrl = Annotated[dict[str, str], BeforeValidator(_robot_url)]


def _http_url(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    parts = urllib.parse.urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("expected an http:// or https:// URL")
    if parts.password:
        raise ValueError("a password may not be written in a URL: use the channel's password or token field")
    return value


HttpUrl = Annotated[str, AfterValidator(_http_url)]


def _url_or_secret(value: Any) -> Any:
    return _secret(value) if isinstance(value, Mapping) else _http_url(value)


UrlOrSecret = Annotated[Union[str, dict[str, str]], BeforeValidator(_url_or_secret)]
StringOrSecret = Annotated[
    Union[str, dict[str, str]], BeforeValidator(lambda v: _secret(v) if isinstance(v, Mapping) else v)
]


def _language(value: Any) -> Any:
    if isinstance(value, str):
        from collector.report.labels import normalise_language

        try:
            return normalise_language(value)
        except ValueError:
            raise ValueError(f"unsupported language {value!r}: expected en or zh") from None
    return value


Language = Annotated[Literal["en", "zh"], BeforeValidator(_language)]


def _one_or_many(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


def _severities(value: Any) -> Any:
    values = _one_or_many(value)
    if isinstance(values, list | tuple):
        out = []
        for v in values:
            if not isinstance(v, str) or v.upper() not in SEVERITIES:
                hint = suggest(str(v).lower(), [s.lower() for s in SEVERITIES]) if isinstance(v, str) else ""
                raise ValueError(f"unknown severity {v!r}{hint}; expected {', '.join(s.lower() for s in SEVERITIES)}")
            out.append(v.upper())
        return out
    return values


def _changes(value: Any) -> Any:
    values = _one_or_many(value)
    if isinstance(values, list | tuple):
        for v in values:
            if v not in CHANGES:
                raise ValueError(f"unknown state change {v!r}{suggest(str(v), CHANGES)}; expected {', '.join(CHANGES)}")
    return values


def _non_empty(value: tuple) -> tuple:
    # An AfterValidator rather than min_length: pydantic would also report a list whose only item is
    # invalid as empty.
    if not value:
        raise ValueError("expected at least one value")
    return value


Names = Annotated[tuple[str, ...], BeforeValidator(_one_or_many)]
ChannelName = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=64)]


# -- templates, grouping, retries -------------------------------------------------------------------

def _template_source(value: Any) -> Any:
    """A template is written inline, or read from ``{file: PATH}`` when the settings are loaded."""
    if isinstance(value, Mapping):
        if set(value) != {"file"} or not isinstance(value["file"], str) or not value["file"].strip():
            raise ValueError("expected the template itself, or {file: /path/to/template}")
        path = FilePath(value["file"]).expanduser()
        try:
            return path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ValueError(f"template file {path} does not exist") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ValueError(f"template file {path} cannot be read: {exc.__class__.__name__}") from None
    return value


TemplateText = Annotated[str, BeforeValidator(_template_source)]


class Templates(Model):
    """Jinja2 templates replacing the defaults; any kind left out keeps the default of the language."""

    subject: TemplateText | None = Field(default=None, description="one line: e-mail subject, robot title")
    text: TemplateText | None = Field(default=None, description="plain text: e-mail, webhook, command")
    markdown: TemplateText | None = Field(default=None, description="DingTalk, WeCom and Feishu messages")
    html: TemplateText | None = Field(default=None, description="e-mail HTML part (autoescaped)")

    @field_validator(*TEMPLATE_KINDS)
    @classmethod
    def _compile(cls, source: str | None, info: ValidationInfo) -> str | None:
        from collector.notify.templates import template_problem

        if source is not None:
            problem = template_problem(str(info.field_name), source)
            if problem:
                raise ValueError(problem)
        return source

    def merged(self, override: Templates | None) -> Templates:
        if override is None:
            return self
        chosen = {}
        for kind in TEMPLATE_KINDS:
            own = getattr(override, kind)
            chosen[kind] = own if own is not None else getattr(self, kind)
        return Templates.model_construct(**chosen)


class Grouping(Model):
    """Notices for the same channel (and ``by`` fields) that arrive close together become one message."""

    wait: Delay = Field(default=dt.timedelta(seconds=1), description="how long the first notice waits for others")
    window: Delay = Field(default=dt.timedelta(seconds=10), description="least time between two messages of a group")
    by: tuple[Literal["severity", "target", "check", "change", "group"], ...] = Field(
        default=(), description="notice fields that split a channel's notices into separate groups"
    )
    max_notices: PositiveInt = Field(default=50, le=1000, description="a group this large is sent at once")


class Retries(Model):
    """Failed deliveries are tried again after backoff, backoff × 2, ... up to max_backoff."""

    attempts: PositiveInt = Field(default=5, le=100, description="tries in all, the first one included")
    backoff: Duration = Field(default=dt.timedelta(seconds=2), description="wait before the second try")
    max_backoff: Duration = Field(default=dt.timedelta(minutes=5), description="longest wait between tries")


# -- routing -------------------------------------------------------------------------------------

class Match(Model):
    """Conditions on a notice; all given ones must hold. A list means any of its values."""

    severity: Annotated[tuple[str, ...] | None, BeforeValidator(_severities)] = Field(
        default=None, description="warning, critical, unknown, nodata"
    )
    change: Annotated[tuple[Change, ...] | None, BeforeValidator(_changes)] = Field(
        default=None, description="opened, escalated, acknowledged, resolved, reopened, severity_changed, flapping"
    )
    check: Names | None = Field(default=None, description="check names or globs (disk, tablespace_*)")
    group: Names | None = Field(default=None, description="inventory groups; the target must be in one of them")
    target: str | None = Field(default=None, description="host pattern over the target's name and groups")
    labels: dict[str, str] = Field(default_factory=dict, description="labels the notice must carry, with values")

    @field_validator("target")
    @classmethod
    def _target(cls, value: str | None) -> str | None:
        if value is not None:
            from collector.notify.routing import target_pattern_problem

            problem = target_pattern_problem(value)
            if problem:
                raise ValueError(problem)
        return value


class Route(Model):
    """Notices matching ``match`` go to ``channels``; evaluation stops at the first match unless ``continue``."""

    match: Match = Field(default_factory=Match, description="conditions; none given matches every notice")
    channels: Annotated[tuple[ChannelName, ...], BeforeValidator(_one_or_many), AfterValidator(_non_empty)]
    continue_: bool = Field(default=False, alias="continue", description="also try the routes after this one")


class EscalationLevel(Model):
    """Level n: an event still unacknowledged ``after`` its first notice is told to ``channels``."""

    after: Duration = Field(description="time since the event's first notice (not since the previous level)")
    channels: Annotated[tuple[ChannelName, ...], BeforeValidator(_one_or_many), AfterValidator(_non_empty)]
    match: Match | None = Field(default=None, description="only events matching this escalate to this level")


# -- channels ------------------------------------------------------------------------------------

class ChannelBase(Model):
    name: ChannelName
    timeout: Annotated[Duration, AfterValidator(_at_most_5m)] = Field(
        default=dt.timedelta(seconds=10), description="longest wait for the receiver in one try (at most 5m)"
    )
    language: Language | None = Field(default=None, description="en or zh (default: the section's language)")
    templates: Templates | None = Field(default=None, description="templates for this channel only")
    grouping: Grouping | None = Field(default=None, description="grouping for this channel only")
    retries: Retries | None = Field(default=None, description="retries for this channel only")
    send_resolved: bool = Field(
        default=True, description="tell the channel when an event it was told about is acknowledged or resolved"
    )


class WebhookChannel(ChannelBase):
    type: Literal["webhook"]
    url: UrlOrSecret
    secret: Secret | None = Field(default=None, description="HMAC-SHA256 key for the Patrol-Signature header")
    headers: dict[str, StringOrSecret] = Field(default_factory=dict, description="extra request headers")


class AlertmanagerChannel(ChannelBase):
    type: Literal["alertmanager"]
    url: HttpUrl = Field(description="Alertmanager's base URL, e.g. http://alertmanager:9093")
    labels: dict[str, str] = Field(default_factory=dict, description="extra labels on every alert")
    username: str | None = None
    password: Secret | None = None
    token: Secret | None = Field(default=None, description="bearer token")
    resend: Duration = Field(
        default=dt.timedelta(minutes=1), description="firing alerts are sent again this often, as Prometheus does"
    )

    @model_validator(mode="after")
    def _auth(self) -> AlertmanagerChannel:
        if (self.username is None) != (self.password is None):
            raise ValueError("username and password go together: give both or neither")
        if self.token is not None and self.username is not None:
            raise ValueError("give either a token or a username and password, not both")
        return self


def _address(value: Any) -> Any:
    if isinstance(value, str) and not re.fullmatch(r"[^@\s<>]+@[^@\s<>]+", value):
        raise ValueError(f"{value!r} is not an e-mail address")
    return value


Address = Annotated[str, AfterValidator(_address)]


class EmailChannel(ChannelBase):
    type: Literal["email"]
    smtp_host: str = Field(min_length=1)
    smtp_port: int = Field(default=587, ge=1, le=65535)
    tls: Literal["starttls", "ssl", "none"] = Field(
        default="starttls", description="starttls (port 587), ssl (implicit TLS, port 465) or none (port 25)"
    )
    ca_file: FilePath | None = Field(default=None, description="CA certificates to verify the server with")
    username: str | None = None
    password: Secret | None = None
    sender: Address | None = Field(default=None, alias="from", description="From address (default patrol@HOST)")
    to: Annotated[tuple[Address, ...], BeforeValidator(_one_or_many), AfterValidator(_non_empty)]

    @model_validator(mode="after")
    def _auth(self) -> EmailChannel:
        if (self.username is None) != (self.password is None):
            raise ValueError("username and password go together: give both or neither")
        if self.password is not None and self.tls == "none":
            raise ValueError("tls: none would send the password unencrypted; use starttls or ssl")
        return self


class DingTalkChannel(ChannelBase):
    type: Literal["dingtalk"]
    url: RobotUrl = Field(description="the robot's webhook URL, .../robot/send?access_token=...")
    secret: Secret | None = Field(default=None, description="the robot's signing secret (SEC...)")


class WeComChannel(ChannelBase):
    type: Literal["wecom"]
    url: RobotUrl = Field(description="the robot's webhook URL, .../cgi-bin/webhook/send?key=...")


class FeishuChannel(ChannelBase):
    type: Literal["feishu"]
    url: RobotUrl = Field(description="the robot's webhook URL, .../open-apis/bot/v2/hook/...")
    secret: Secret | None = Field(default=None, description="the robot's signing secret")


class CommandChannel(ChannelBase):
    type: Literal["command"]
    command: Annotated[tuple[str, ...], BeforeValidator(_one_or_many), AfterValidator(_non_empty)] = Field(
        description="program and arguments, run without a shell"
    )
    env: dict[str, StringOrSecret] = Field(default_factory=dict, description="extra environment variables")

    @field_validator("command")
    @classmethod
    def _command(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value[0].strip():
            raise ValueError("the program name is empty")
        return value


CHANNEL_TYPES: dict[str, type[ChannelBase]] = {
    "webhook": WebhookChannel,
    "alertmanager": AlertmanagerChannel,
    "email": EmailChannel,
    "dingtalk": DingTalkChannel,
    "wecom": WeComChannel,
    "feishu": FeishuChannel,
    "command": CommandChannel,
}

ChannelSettings = Annotated[
    Union[
        WebhookChannel, AlertmanagerChannel, EmailChannel, DingTalkChannel, WeComChannel, FeishuChannel, CommandChannel
    ],
    Field(discriminator="type"),
]


class NotificationSettings(Model):
    """The ``notifications:`` section."""

    channels: tuple[ChannelSettings, ...] = ()
    routes: tuple[Route, ...] = Field(default=(), description="tried in order; the first match wins unless continue")
    escalation: tuple[EscalationLevel, ...] = Field(default=(), description="levels 1, 2, ... in order")
    grouping: Grouping = Field(default_factory=Grouping)
    retries: Retries = Field(default_factory=Retries)
    templates: Templates = Field(default_factory=Templates)
    language: Language = "en"
    queue_size: PositiveInt = Field(default=1000, description="notices a channel holds before dropping the oldest")

    def channel(self, name: str) -> ChannelBase:
        for channel in self.channels:
            if channel.name == name:
                return channel
        raise KeyError(name)

    def escalation_after(self, level: int) -> dt.timedelta | None:
        """When level ``level`` (1, 2, ...) is due, counted from the event's first notice; None past the last."""
        return self.escalation[level - 1].after if 1 <= level <= len(self.escalation) else None


# -- loading -------------------------------------------------------------------------------------

SECTION: Path = ("notifications",)


def load_notifications(data: Any, file: str | FilePath | None = None, lines: Any = None,
                       path: Path = SECTION) -> NotificationSettings:
    """Validate the ``notifications:`` section of a settings file.

    ``data`` is the section's value, ``lines`` the LineMap of the whole file (from ``load_yaml``), ``path``
    where the section sits in it. Raises ConfigError with every problem, each with its file, line and field.
    """
    if data is None:
        return NotificationSettings()
    problems: list[Problem] = []
    settings = None
    if not isinstance(data, Mapping):
        got = type(data).__name__
        problems.append(Problem(path, f"expected a mapping (channels, routes, escalation, ...), got {got}"))
    else:
        try:
            settings = NotificationSettings.model_validate(dict(data))
        except ValidationError as exc:
            problems.extend(validation_problems(exc, path))
        problems.extend(reference_problems(data, path))
    if problems:
        if file is not None and lines is not None:
            from collector.config.yamlfile import locate

            problems = locate(problems, file, lines)
        elif file is not None:
            problems = [p if p.file else p.located(str(file), None) for p in problems]
        problems = sorted(dict.fromkeys(problems), key=lambda p: p.line or 0)
        raise ConfigError(problems)
    assert settings is not None
    return settings


def validation_problems(exc: ValidationError, path: Path = SECTION) -> list[Problem]:
    """Pydantic's errors as problems, with the channel type pydantic puts in a union's location removed."""
    problems = []
    for error in exc.errors(include_url=False):
        loc = tuple(error["loc"])
        model: Any = NotificationSettings
        inner = loc
        if len(loc) >= 2 and loc[0] == "channels" and isinstance(loc[1], int):
            kinds = ", ".join(CHANNEL_TYPES)
            if error["type"] == "union_tag_invalid":
                tag = str(error["ctx"]["tag"])
                message = f"unknown channel type {tag!r}{suggest(tag, CHANNEL_TYPES)}; expected one of: {kinds}"
                problems.append(Problem(path + loc[:2] + ("type",), message))
                continue
            if error["type"] == "union_tag_not_found":
                problems.append(Problem(path + loc[:2], f"the channel has no type; expected one of: {kinds}"))
                continue
            if len(loc) >= 3 and loc[2] in CHANNEL_TYPES:
                model = CHANNEL_TYPES[str(loc[2])]
                loc = loc[:2] + loc[3:]
                inner = loc[2:]
        if error["type"] == "extra_forbidden":
            name = str(loc[-1])
            known = _known_keys(model, inner[:-1])
            hint = suggest(name, known)
            expected = f"; expected one of: {', '.join(sorted(known))}" if known and not hint else ""
            message = f"unknown parameter {name!r}{hint}{expected}"
        else:
            written = error.get("input")
            quiet = isinstance(written, Mapping) or repr(written) in error["msg"] or any(
                word in error["msg"] for word in ("secret", "password", "token", "template"))
            # Never echo what was written for a secret (it may be one), nor a whole template or mapping.
            message = describe_error({k: v for k, v in error.items() if not (quiet and k == "input")} | {"loc": inner},
                                     model)
        problems.append(Problem(path + loc, message))
    return problems


def _known_keys(model: Any, loc: tuple) -> list[str]:
    """The keys (aliases where a field has one) of the model that ``loc`` points into."""
    current = model
    for part in loc:
        if isinstance(part, int) or current is None:
            continue
        fields = getattr(current, "model_fields", {})
        info = fields.get(part) or next((f for f in fields.values() if f.alias == part), None)
        current = _inner_model(info.annotation) if info else None
    if current is None or not hasattr(current, "model_fields"):
        return []
    return [info.alias or name for name, info in current.model_fields.items()]


def _inner_model(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def reference_problems(data: Mapping, path: Path = SECTION) -> list[Problem]:
    """Channel names used by routes and escalation levels must exist; channel names must be unique."""
    problems = []
    channels = data.get("channels")
    names: dict[str, int] = {}
    if isinstance(channels, list):
        for i, channel in enumerate(channels):
            if isinstance(channel, Mapping) and isinstance(channel.get("name"), str):
                name = channel["name"]
                if name in names:
                    problems.append(Problem(path + ("channels", i, "name"),
                                            f"duplicate channel name {name!r} (first at channels[{names[name]}])"))
                else:
                    names[name] = i
    for section in ("routes", "escalation"):
        entries = data.get(section)
        if not isinstance(entries, list):
            continue
        for i, entry in enumerate(entries):
            used = entry.get("channels") if isinstance(entry, Mapping) else None
            used = [used] if isinstance(used, str) else used
            if not isinstance(used, list):
                continue
            for j, name in enumerate(used):
                if isinstance(name, str) and name not in names:
                    where = path + (section, i, "channels", j) if isinstance(entry.get("channels"), list) \
                        else path + (section, i, "channels")
                    known = f"; channels are: {', '.join(names)}" if names else "; no channel is defined"
                    problems.append(Problem(where, f"unknown channel {name!r}{suggest(name, list(names))}{known}"))
    levels = data.get("escalation")
    if isinstance(levels, list):
        previous = None
        for i, level in enumerate(levels):
            try:
                after = parse_duration(level.get("after")) if isinstance(level, Mapping) else None
            except ValueError:
                after = None
            if not isinstance(after, dt.timedelta):
                continue
            if previous is not None and after <= previous:
                problems.append(Problem(path + ("escalation", i, "after"),
                                        "escalation levels count from the event's first notice: each level's 'after' "
                                        "must be later than the previous level's"))
            previous = after
    return problems
