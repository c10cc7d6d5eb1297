"""snmp_system — reachability, identity (sysName, sysDescr) and uptime with reboot detection."""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import Field

from checks.base import CheckContext, Outcome, metric
from checks.host.uptime import human_duration
from checks.params import CheckParams
from checks.snmp import oids
from checks.snmp.base import SnmpCheck, text
from checks.status import Status
from checks.thresholds import Levels, LowerLimit

TICKS_WRAP = 2**32  # sysUpTime is TimeTicks (1/100 s, 32 bits): it wraps after about 497 days


class SnmpSystemParams(CheckParams):
    warning: LowerLimit | None = Field(default=600, description="seconds since the agent restarted below which to warn")
    critical: LowerLimit | None = Field(default=None, description="seconds since restart below which critical")
    reboot: Status = Field(
        default=Status.WARNING, description="status when sysUpTime went back since the previous poll (a reboot)"
    )


def rebooted(previous: int | None, current: int, elapsed: float) -> bool:
    """Did sysUpTime go back between two polls ``elapsed`` seconds apart (a restart, not a wrap)?"""
    if previous is None or current >= previous:
        return False
    # A 32-bit wrap: the previous value was within the elapsed time (plus slack) of 2**32.
    expected = previous + int(elapsed * 100)
    wrapped = expected >= TICKS_WRAP and abs((expected - TICKS_WRAP) - current) <= max(1000, int(elapsed * 10))
    return not wrapped


class SnmpSystemCheck(SnmpCheck):
    name = "snmp_system"
    title = "SNMP reachability, identity (sysName, sysDescr) and uptime with reboot detection"
    Params = SnmpSystemParams
    metrics = {
        "up": "1 when the device answered SNMP",
        "uptime": "seconds since the SNMP agent (re)started (sysUpTime)",
    }
    example = "- snmp_system: {warning: 600}"

    def poll(self, ctx: CheckContext, session, params: SnmpSystemParams) -> Iterator[Outcome]:
        got = session.get([oids.SYS_DESCR, oids.SYS_OBJECT_ID, oids.SYS_UPTIME, oids.SYS_NAME], self.budget(ctx))
        ticks = got.get(oids.parse(oids.SYS_UPTIME))
        if ticks is None or not isinstance(ticks.value, int):
            yield Outcome(summary="the device answered but has no sysUpTime", status=Status.UNKNOWN, collected=False)
            return
        uptime = ticks.value / 100.0
        key = ("snmp_system", ctx.target.name)
        previous = ctx.rates.previous(key)
        elapsed = ctx.rates.clock() - previous.at if previous else 0.0
        restarted = rebooted(previous.values.get("ticks") if previous else None, ticks.value, elapsed)
        ctx.rates.update(key, {"ticks": ticks.value})
        name = text(got[oids.parse(oids.SYS_NAME)].value) if oids.parse(oids.SYS_NAME) in got else ""
        descr = text(got[oids.parse(oids.SYS_DESCR)].value) if oids.parse(oids.SYS_DESCR) in got else ""
        summary = f"{name or ctx.target.name}: up {human_duration(uptime)}"
        if descr:
            summary += f"; {descr[:120]}"
        status = None
        if restarted:
            summary = f"restarted since the previous poll; {summary}"
            status = params.reboot
        yield Outcome(
            summary=summary,
            metrics=[metric("up", 1), metric("uptime", uptime, "s")],
            levels={"uptime": Levels(params.warning, params.critical)},
            status=status,
        )
