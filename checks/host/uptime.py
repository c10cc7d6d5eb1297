"""uptime — time since boot; a recent reboot is worth a look even when everything came back."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from pydantic import Field

from checks.base import Check, CheckContext, Outcome, metric
from checks.params import CheckParams
from checks.thresholds import Levels, LowerLimit


class UptimeParams(CheckParams):
    warning: LowerLimit | None = Field(default=600, description="seconds since boot below which to warn")
    critical: LowerLimit | None = Field(default=None, description="seconds since boot below which critical")


def human_duration(seconds: float) -> str:
    seconds = int(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min {seconds % 60} s"


class UptimeCheck(Check):
    name = "uptime"
    title = "Time since boot (recent reboot detection)"
    Params = UptimeParams
    connection_kind = "host"
    metrics = {"uptime": "seconds since the host booted"}
    example = "- uptime: {warning: 600}"

    def run(self, ctx: CheckContext, params: UptimeParams) -> Iterable[Outcome]:
        host = ctx.connection("host")
        boot = host.boot_time()
        uptime = max(0.0, host.now() - boot)
        booted = dt.datetime.fromtimestamp(boot, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        yield Outcome(
            summary=f"up {human_duration(uptime)} (booted {booted})",
            metrics=[metric("uptime", round(uptime, 1), "s")],
            levels={"uptime": Levels(params.warning, params.critical)},
        )
