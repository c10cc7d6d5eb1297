"""Alertmanager: ``POST /api/v2/alerts``, one alert per event.

Labels: ``alertname`` (the check), ``target``, ``check``, ``item`` (when there is one), ``severity``
(lower case), then the channel's ``labels`` and the notice's own labels. Annotations: ``summary``,
``description``, ``event_id``, ``state``, and ``acknowledged_by``/``comment`` when there are some.

Alertmanager forgets an alert whose ``endsAt`` passes, so, as Prometheus does, a firing alert is sent
with ``endsAt`` four ``resend`` intervals ahead and sent again every ``resend`` while it fires. A resolved
event is sent with ``endsAt`` at its resolution. A severity change changes the label set, which to
Alertmanager is another alert: the old one is resolved at the same time.
"""

from __future__ import annotations

import datetime as dt
import re

from collector.notify.channels.base import Channel, json_bytes
from collector.notify.notice import Notice, utc
from collector.notify.settings import AlertmanagerChannel
from collector.notify.templates import Message

_LABEL_NAME = re.compile(r"[^a-zA-Z0-9_]")
ENDED = ("resolved", "closed")


def timestamp(value: dt.datetime) -> str:
    return utc(value).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Alertmanager(Channel):
    def __init__(self, settings: AlertmanagerChannel, secrets, session_factory) -> None:
        super().__init__(settings, secrets, session_factory)
        self.url = settings.url.rstrip("/") + "/api/v2/alerts"
        self.refresh_seconds = settings.resend.total_seconds()
        self.extra_labels = {_label_name(k): v for k, v in settings.labels.items()}
        self.headers = {}
        self.auth = None
        token = secrets.get(settings.token, "token")
        if token:
            self.headers["Authorization"] = f"Bearer {token}"
        password = secrets.get(settings.password, "password")
        if settings.username is not None and password is not None:
            self.auth = (settings.username, password)
        self._firing: dict[str, dict] = {}  # fingerprint -> the alert last sent for it, while it fires

    def send(self, message: Message) -> None:
        now = dt.datetime.now(dt.UTC)
        alerts: list[dict] = []
        firing = dict(self._firing)
        for notice in message.notices:
            alert = self.alert(notice, now)
            previous = firing.pop(notice.fingerprint, None)
            if previous is not None and previous["labels"] != alert["labels"]:
                alerts.append({**previous, "endsAt": timestamp(now)})
            if notice.state not in ENDED:
                firing[notice.fingerprint] = alert
            alerts.append(alert)
        self.post(self.url, json_bytes(alerts), self.headers, self.auth)
        self._firing = firing  # only what Alertmanager took

    def refresh(self) -> None:
        if not self._firing:
            return
        ends = timestamp(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=4 * self.refresh_seconds))
        alerts = [{**alert, "endsAt": ends} for alert in self._firing.values()]
        self.post(self.url, json_bytes(alerts), self.headers, self.auth)

    def alert(self, notice: Notice, now: dt.datetime) -> dict:
        labels = {_label_name(k): v for k, v in notice.labels.items()}
        labels.update(self.extra_labels)
        labels.update(alertname=notice.check, target=notice.target, check=notice.check,
                      severity=notice.severity.lower())
        if notice.item:
            labels["item"] = notice.item
        annotations = {
            "summary": notice.summary,
            "description": " · ".join(p for p in (notice.target, notice.check, notice.item) if p)
            + f": {notice.summary}",
            "event_id": str(notice.event_id),
            "state": notice.state,
        }
        if notice.actor and notice.state != "firing":
            annotations["acknowledged_by" if notice.state == "acknowledged" else "resolved_by"] = notice.actor
        if notice.comment:
            annotations["comment"] = notice.comment
        if notice.state in ENDED:
            ends = notice.at
        else:
            ends = now + dt.timedelta(seconds=4 * self.refresh_seconds)
        return {"labels": labels, "annotations": annotations, "startsAt": timestamp(notice.first_seen),
                "endsAt": timestamp(ends)}


def _label_name(name: str) -> str:
    clean = _LABEL_NAME.sub("_", name)
    return "_" + clean if clean[:1].isdigit() or not clean else clean

