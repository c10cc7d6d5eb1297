"""Messages from notices: Jinja2 templates with defaults in English and Chinese.

Four kinds, rendered as a channel needs them: ``subject`` (one line), ``text`` (plain), ``markdown`` (the
robots) and ``html`` (e-mail; autoescaped). Templates see ``notices`` (a list of notice views, below),
``count``, ``changes`` ({change: count}), ``worst`` (the worst severity), ``channel``, ``language``, ``t``
(the fixed wording of the language) and, except in the subject itself, ``subject``.

A notice view has every field of ``Notice`` (times as aware datetimes in the notifier's zone) plus
``severity_label``, ``change_label``, ``state_label`` (in the language), ``what`` (``target · check · item``)
and ``duration`` (how long the event had lasted at the change). Filters: ``time`` (2024-05-01 10:00:03),
``clock`` (10:00:03).
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from jinja2 import Environment, StrictUndefined, TemplateError, TemplateSyntaxError

from collector.notify.notice import Notice, utc
from collector.report.render import format_duration

SEVERITY_ORDER = ("CRITICAL", "NODATA", "UNKNOWN", "WARNING")  # worst first

_EN = {
    "WARNING": "WARNING",
    "CRITICAL": "CRITICAL",
    "UNKNOWN": "UNKNOWN",
    "NODATA": "NO DATA",
    "opened": "Firing",
    "escalated": "Escalated",
    "acknowledged": "Acknowledged",
    "resolved": "Resolved",
    "reopened": "Reopened",
    "severity_changed": "Severity changed",
    "flapping": "Flapping",
    "firing": "firing",
    "closed": "closed",
    "events": "events",
    "since": "since",
    "lasted": "lasted",
    "results": "results",
    "level": "escalation level",
    "by": "by",
    "comment": "comment",
    "target": "Target",
    "check": "Check",
    "item": "Item",
    "severity": "Severity",
    "change": "Change",
    "summary": "Summary",
    "first_seen": "First seen",
    "footer": "Sent by Patrol",
    "sep": ", ",
    "colon": ": ",
}

_ZH = {
    "WARNING": "警告",
    "CRITICAL": "严重",
    "UNKNOWN": "未知",
    "NODATA": "无数据",
    "opened": "告警",
    "escalated": "升级",
    "acknowledged": "已确认",
    "resolved": "已恢复",
    "reopened": "再次告警",
    "severity_changed": "级别变化",
    "flapping": "抖动",
    "firing": "告警中",
    "closed": "已关闭",
    "events": "条事件",
    "since": "开始于",
    "lasted": "持续",
    "results": "次结果",
    "level": "升级级别",
    "by": "操作人",
    "comment": "备注",
    "target": "对象",
    "check": "检查",
    "item": "检查项",
    "severity": "级别",
    "change": "变化",
    "summary": "摘要",
    "first_seen": "首次发现",
    "footer": "由 Patrol 发送",
    "sep": "，",
    "colon": "：",
}

LABELS = {"en": _EN, "zh": _ZH}

# -- default templates ----------------------------------------------------------------------------

_SUBJECT = {
    "en": (
        "{% if count == 1 %}{% set n = notices[0] %}"
        "[{{ n.change_label }}] {{ n.severity_label }} {{ n.what }}: {{ n.summary }}"
        "{% else %}[Patrol] {{ count }} events: "
        "{% for change, k in changes.items() %}{{ k }} {{ t[change]|lower }}{{ ', ' if not loop.last }}{% endfor %}"
        "{% endif %}"
    ),
    "zh": (
        "{% if count == 1 %}{% set n = notices[0] %}"
        "【{{ n.change_label }}】{{ n.severity_label }} {{ n.what }}：{{ n.summary }}"
        "{% else %}[Patrol] {{ count }} 条事件："
        "{% for change, k in changes.items() %}{{ k }} 条{{ t[change] }}{{ '，' if not loop.last }}{% endfor %}"
        "{% endif %}"
    ),
}

_TEXT = """\
{% for n in notices %}
{{ n.change_label }} · {{ n.severity_label }} · {{ n.what }}
  {{ n.summary }}
  {{ t.since }} {{ n.first_seen|time }}{{ t.sep }}{{ t.lasted }} {{ n.duration }}{{ t.sep }}\
{{ n.count }} {{ t.results }}
{% if n.escalation_level %}
  {{ t.level }} {{ n.escalation_level }}
{% endif %}
{% if n.actor %}
  {{ t.by }} {{ n.actor }}{% if n.comment %}{{ t.colon }}{{ n.comment }}{% endif %}

{% elif n.comment %}
  {{ t.comment }}{{ t.colon }}{{ n.comment }}
{% endif %}
{% if not loop.last %}

{% endif %}
{% endfor %}
"""

_MARKDOWN = """\
{% for n in notices %}
**{{ n.change_label }}** · {{ n.severity_label }} · {{ n.what }}

{{ n.summary }}

{{ t.since }} {{ n.first_seen|time }} · {{ t.lasted }} {{ n.duration }} · {{ n.count }} {{ t.results }}\
{% if n.escalation_level %} · {{ t.level }} {{ n.escalation_level }}{% endif %}\
{% if n.actor %} · {{ t.by }} {{ n.actor }}{% endif %}\
{% if n.comment %} · {{ n.comment }}{% endif %}
{{ "\n" if not loop.last }}
{% endfor %}
"""

_HTML = """\
<!DOCTYPE html>
<html lang="{{ language }}"><head><meta charset="utf-8"><title>{{ subject }}</title></head>
<body style="font-family: sans-serif; font-size: 14px; color: #222;">
<h2 style="font-size: 16px;">{{ subject }}</h2>
<table style="border-collapse: collapse;" cellpadding="6">
<tr style="background: #f2f2f2; text-align: left;">
<th>{{ t.change }}</th><th>{{ t.severity }}</th><th>{{ t.target }}</th><th>{{ t.check }}</th><th>{{ t.item }}</th>
<th>{{ t.summary }}</th><th>{{ t.first_seen }}</th></tr>
{% for n in notices %}
<tr style="border-top: 1px solid #ddd;">
<td>{{ n.change_label }}</td>
<td style="color: {{ colours[n.severity] if n.change != 'resolved' else '#1e8449' }}; font-weight: bold;">\
{{ n.severity_label }}</td>
<td>{{ n.target }}</td><td>{{ n.check }}</td><td>{{ n.item }}</td>
<td>{{ n.summary }}{% if n.actor %}<br><small>{{ t.by }} {{ n.actor }}{% if n.comment %}: {{ n.comment }}\
{% endif %}</small>{% endif %}</td>
<td>{{ n.first_seen|time }}<br><small>{{ t.lasted }} {{ n.duration }}</small></td>
</tr>
{% endfor %}
</table>
<p style="color: #888; font-size: 12px;">{{ t.footer }}</p>
</body></html>
"""

DEFAULTS = {
    "en": {"subject": _SUBJECT["en"], "text": _TEXT, "markdown": _MARKDOWN, "html": _HTML},
    "zh": {"subject": _SUBJECT["zh"], "text": _TEXT, "markdown": _MARKDOWN, "html": _HTML},
}

COLOURS = {"CRITICAL": "#c0392b", "WARNING": "#b9770e", "UNKNOWN": "#7f8c8d", "NODATA": "#7f8c8d"}


# -- rendering ------------------------------------------------------------------------------------

def _environment(autoescape: bool) -> Environment:
    env = Environment(autoescape=autoescape, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                      keep_trailing_newline=False)
    env.filters["time"] = lambda v: v.strftime("%Y-%m-%d %H:%M:%S") if isinstance(v, dt.datetime) else str(v)
    env.filters["clock"] = lambda v: v.strftime("%H:%M:%S") if isinstance(v, dt.datetime) else str(v)
    return env


@functools.lru_cache(maxsize=2)
def environment(autoescape: bool) -> Environment:
    return _environment(autoescape)


@functools.lru_cache(maxsize=256)
def _compile(kind: str, source: str):
    return environment(kind == "html").from_string(source)


def template_problem(kind: str, source: str) -> str | None:
    """What is wrong with a template: a syntax error, or a name it uses that templates do not get."""
    try:
        template = _compile(kind, source)
    except TemplateSyntaxError as exc:
        return f"template syntax error on its line {exc.lineno}: {exc.message}"
    for language in LABELS:
        try:
            context = batch_context(_sample_notices(), "sample", language, dt.UTC)
            if kind != "subject":
                context["subject"] = "sample"
            template.render(context)
        except TemplateError as exc:
            return f"the template fails on a sample notice: {exc.message or exc}"
        except Exception as exc:  # noqa: BLE001 - any error a template raises is the template's problem
            return f"the template fails on a sample notice: {exc.__class__.__name__}: {exc}"
    return None


class Renderer:
    """Renders a channel's messages: its templates (overrides, else the language's defaults), its zone."""

    def __init__(self, templates: Any, language: str, timezone: dt.tzinfo | None = None) -> None:
        self.language = language
        self.timezone = timezone
        self.sources = {
            kind: getattr(templates, kind, None) or DEFAULTS[language][kind] for kind in DEFAULTS[language]
        }

    def message(self, notices: Sequence[Notice], channel: str, delivery_id: str | None = None) -> Message:
        return Message(self, list(notices), channel, delivery_id or uuid.uuid4().hex)

    def render(self, kind: str, context: dict) -> str:
        text = _compile(kind, self.sources[kind]).render(context)
        if kind == "subject":
            return " ".join(text.split())
        return text.strip() + "\n"


class Message:
    """One message for one channel: the notices of a batch, rendered on first use of each kind."""

    def __init__(self, renderer: Renderer, notices: list[Notice], channel: str, delivery_id: str) -> None:
        self.renderer = renderer
        self.notices = notices
        self.channel = channel
        self.id = delivery_id

    @functools.cached_property
    def context(self) -> dict:
        return batch_context(self.notices, self.channel, self.renderer.language, self.renderer.timezone)

    @functools.cached_property
    def subject(self) -> str:
        return self.renderer.render("subject", self.context)

    def _body(self, kind: str) -> str:
        return self.renderer.render(kind, {**self.context, "subject": self.subject})

    @functools.cached_property
    def text(self) -> str:
        return self._body("text")

    @functools.cached_property
    def markdown(self) -> str:
        return self._body("markdown")

    @functools.cached_property
    def html(self) -> str:
        return self._body("html")

    @property
    def worst(self) -> str:
        return worst(self.notices)

    def payload(self) -> dict:
        """The JSON document of the webhook body and the command's standard input."""
        return {
            "version": 1,
            "delivery_id": self.id,
            "channel": self.channel,
            "subject": self.subject,
            "text": self.text,
            "count": len(self.notices),
            "notices": [n.to_json() for n in self.notices],
        }


def worst(notices: Sequence[Notice]) -> str:
    severities = {n.severity for n in notices}
    return next((s for s in SEVERITY_ORDER if s in severities), "UNKNOWN")


def batch_context(notices: Sequence[Notice], channel: str, language: str, timezone: dt.tzinfo | None) -> dict:
    labels = LABELS[language]

    def local(value: dt.datetime) -> dt.datetime:
        return utc(value).astimezone(timezone)  # timezone None: this host's zone

    views = []
    for n in notices:
        view = asdict(n)
        view.update(
            first_seen=local(n.first_seen),
            last_seen=local(n.last_seen),
            at=local(n.at),
            severity_label=labels.get(n.severity, n.severity),
            change_label=labels.get(n.change, n.change),
            state_label=labels.get(n.state, n.state),
            what=" · ".join(part for part in (n.target, n.check, n.item) if part),
            duration=format_duration(max((utc(n.at) - utc(n.first_seen)).total_seconds(), 0.0), language),
        )
        views.append(view)
    return {
        "notices": views,
        "count": len(views),
        "changes": dict(Counter(n.change for n in notices)),
        "worst": worst(notices),
        "channel": channel,
        "language": language,
        "t": labels,
        "colours": COLOURS,
    }


def _sample_notices() -> list[Notice]:
    at = dt.datetime(2024, 5, 1, 2, 0, 3, tzinfo=dt.UTC)
    first = at - dt.timedelta(minutes=12)
    return [
        Notice(1, "web-01/disk//var", "web-01", "disk", "/var", "CRITICAL", "firing", "opened",
               "92% used (critical at 90%)", first, at, 4, at, ("linux", "web"), 0, None, None, {"team": "ops"}),
        Notice(2, "db-01/load/", "db-01", "load", "", "WARNING", "acknowledged", "acknowledged",
               "load 6.2 (warning at 4)", first, at, 9, at, ("linux",), 1, "alice", "looking", {}),
    ]
