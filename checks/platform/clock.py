"""clock — the system clock's offset from its time sources, and whether it is synchronised at all.

Read from chrony (``chronyc -c tracking``: reference, stratum, the system clock's offset, root delay and
dispersion, leap status), or where chrony is missing or not running, from ``timedatectl show``
(systemd's ``NTPSynchronized``, whichever daemon keeps the time: no offset figure, only the state).

- not synchronised (leap status "Not synchronised", stratum 0) — CRITICAL;
- |offset| above ``warning`` (1 s) — WARNING, above ``critical`` (60 s) — CRITICAL;
- stratum above ``max_stratum`` (10), or synchronised only to the host's own clock (chrony's ``local``
  directive, reference LOCL) — WARNING;
- chronyd not running: with ``source: chrony`` CRITICAL; with ``auto`` the timedatectl answer decides,
  and UNKNOWN when there is none (another daemon, ntpd say, may keep the time: this check cannot tell).

chronyc's CSV gives the "System time" field with the sign of the correction still to apply: negative
when the clock is fast (``chronyc tracking`` prints the same value as "N seconds fast of NTP time").
The ``offset`` figure here is the clock minus true time: positive when the clock is fast.
No privileges are needed for either command.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from pydantic import Field, PositiveFloat, model_validator

from checks.base import Check, CheckContext, Outcome, metric
from checks.errors import CheckUnavailable
from checks.params import CheckParams
from checks.platform.common import run_tool
from checks.status import Status

LOCAL_REFERENCE = "7F7F0101"  # chrony's reference ID when it serves its own clock ("LOCL", 127.127.1.1)
NOT_RUNNING = ("506 Cannot talk to daemon", "Could not open connection to daemon")


class ClockParams(CheckParams):
    warning: PositiveFloat = Field(default=1.0, description="|offset| in seconds above which to warn")
    critical: PositiveFloat = Field(default=60.0, description="|offset| in seconds above which it is critical")
    max_stratum: int = Field(default=10, ge=1, le=15, description="a stratum above this warns (a poor time source)")
    source: Literal["auto", "chrony", "timedatectl"] = Field(
        default="auto", description="where to read the clock: chrony, timedatectl, or auto (chrony, else timedatectl)"
    )
    chronyc: str = Field(default="chronyc", min_length=1, description="the chronyc program on the host")
    chronyc_host: str | None = Field(
        default=None, min_length=1, pattern=r"^[^\s-]",
        description="chronyc -h: chronyd's command address or socket (default: chronyc's own)",
    )
    chronyc_port: int | None = Field(default=None, ge=1, le=65535, description="chronyc -p: chronyd's command port")

    @model_validator(mode="after")
    def _ordered(self) -> ClockParams:
        if self.warning > self.critical:
            raise ValueError(f"warning ({self.warning:g} s) must not be above critical ({self.critical:g} s)")
        return self


# -- parsing (pure) ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tracking:
    reference_id: str
    reference: str  # the source's name or address ("" for the local clock or none)
    stratum: int
    offset: float  # the system clock minus true time, seconds (positive: fast)
    root_delay: float
    root_dispersion: float
    update_interval: float
    leap: str  # Normal, Insert second, Delete second, Not synchronised

    @property
    def synchronised(self) -> bool:
        return self.leap != "Not synchronised" and self.stratum > 0 and self.reference_id.strip("0") != ""


def parse_tracking(text: str) -> Tracking:
    """``chronyc -c tracking``: one line of 14 comma-separated fields; ValueError otherwise."""
    lines = [line for line in text.splitlines() if line.strip()]
    fields = lines[-1].split(",") if lines else []
    if len(fields) != 14:
        raise ValueError(f"expected 14 comma-separated fields from chronyc -c tracking, got {len(fields)}")
    return Tracking(
        reference_id=fields[0].upper(), reference=fields[1], stratum=int(fields[2]), offset=-float(fields[4]),
        root_delay=float(fields[10]), root_dispersion=float(fields[11]), update_interval=float(fields[12]),
        leap=fields[13].strip(),
    )


def parse_timedatectl(text: str) -> dict[str, str]:
    """``timedatectl show``: KEY=value lines."""
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


def format_offset(offset: float) -> str:
    """0.0000014 -> '1.4 µs fast', -2.4173 -> '2.42 s slow', 0 -> 'on time'."""
    size = abs(offset)
    way = "fast" if offset > 0 else "slow"
    if size == 0:
        return "on time"
    if size < 1e-3:
        return f"{size * 1e6:.3g} µs {way}"
    if size < 1:
        return f"{size * 1e3:.3g} ms {way}"
    return f"{size:.3g} s {way}"


def evaluate_tracking(tracking: Tracking, params: ClockParams) -> Outcome:
    figures = [
        metric("offset", round(tracking.offset, 9), "s"),
        metric("stratum", tracking.stratum),
        metric("root_delay", tracking.root_delay, "s"),
        metric("root_dispersion", tracking.root_dispersion, "s"),
    ]
    if not tracking.synchronised:
        return Outcome(summary=f"not synchronised: chronyd has no usable time source (leap status {tracking.leap}, "
                               f"stratum {tracking.stratum})", status=Status.CRITICAL, metrics=figures)  # fmt: skip
    size = abs(tracking.offset)
    statuses = [Status.OK]
    problems = []
    if size > params.critical:
        statuses.append(Status.CRITICAL)
        problems.append(f"clock {format_offset(tracking.offset)} (critical above {params.critical:g} s)")
    elif size > params.warning:
        statuses.append(Status.WARNING)
        problems.append(f"clock {format_offset(tracking.offset)} (warning above {params.warning:g} s)")
    if tracking.reference_id == LOCAL_REFERENCE:
        statuses.append(Status.WARNING)
        problems.append("synchronised only to its own clock (chrony 'local' directive), not to a time server")
        source = f"its local clock (stratum {tracking.stratum})"
    else:
        source = f"{tracking.reference or tracking.reference_id} (stratum {tracking.stratum})"
        if tracking.stratum > params.max_stratum:
            statuses.append(Status.WARNING)
            problems.append(f"stratum {tracking.stratum} is above {params.max_stratum}")
    summary = f"synchronised to {source}, clock {format_offset(tracking.offset)}"
    if tracking.leap in ("Insert second", "Delete second"):
        summary += f", leap second pending ({tracking.leap.lower()})"
    if problems:
        summary = "; ".join(problems) + " - " + summary
    return Outcome(summary=summary, status=Status.worst(statuses), metrics=figures)


def evaluate_timedatectl(props: dict[str, str], why_not_chrony: str = "") -> Outcome:
    note = f" ({why_not_chrony})" if why_not_chrony else ""
    synced = props.get("NTPSynchronized")
    if synced == "yes":
        return Outcome(summary=f"synchronised (timedatectl: NTPSynchronized=yes; no offset figure){note}",
                       status=Status.OK)  # fmt: skip
    if synced == "no":
        if props.get("NTP") == "no":
            return Outcome(summary=f"not synchronised: no time synchronisation service enabled (timedatectl: NTP=no)"
                                   f"{note}", status=Status.CRITICAL)  # fmt: skip
        return Outcome(summary=f"not synchronised (timedatectl: NTPSynchronized=no){note}", status=Status.CRITICAL)
    raise CheckUnavailable(f"timedatectl show gave no NTPSynchronized state{note}")


# -- the check ----------------------------------------------------------------------------------


class ClockCheck(Check):
    name = "clock"
    title = "Clock: offset from the time sources and synchronisation state (chrony or timedatectl)"
    Params = ClockParams
    connection_kind = "shell"
    metrics = {
        "offset": "the system clock minus true time, as chronyd estimates it (s; positive: the clock is fast)",
        "stratum": "the host's NTP stratum (1 + its source's)",
        "root_delay": "round-trip delay to the stratum-1 source at the root (s)",
        "root_dispersion": "dispersion accumulated up to the root (s): with half the delay, the error bound",
    }
    example = "- clock: {warning: 0.5, critical: 30}"

    def run(self, ctx: CheckContext, params: ClockParams) -> Iterable[Outcome]:
        if params.source == "timedatectl":
            yield evaluate_timedatectl(self._timedatectl(ctx))
            return
        argv = [params.chronyc]
        if params.chronyc_host:
            argv += ["-h", params.chronyc_host]
        if params.chronyc_port:
            argv += ["-p", str(params.chronyc_port)]
        try:
            done = run_tool(ctx, [*argv, "-c", "tracking"])
        except CheckUnavailable as exc:  # chronyc not installed
            if params.source == "chrony":
                raise
            yield self._fallback(ctx, str(exc))
            return
        answer = (done.stdout.decode("utf-8", "replace") + "\n" + done.stderr.decode("utf-8", "replace")).strip()
        if done.exit_status == 0:
            try:
                yield evaluate_tracking(parse_tracking(done.stdout.decode("utf-8", "replace")), params)
                return
            except ValueError as exc:
                raise CheckUnavailable(f"cannot read chronyc -c tracking: {exc}") from None
        reason = " ".join(answer.split()) or f"exit status {done.exit_status}"
        if any(text in answer for text in NOT_RUNNING):
            if params.source == "chrony":
                yield Outcome(summary=f"not synchronised: chronyd is not running (chronyc: {reason})",
                              status=Status.CRITICAL)  # fmt: skip
                return
            yield self._fallback(ctx, f"chronyd is not running: chronyc: {reason}")
            return
        raise CheckUnavailable(f"chronyc -c tracking failed: {reason}")

    def _fallback(self, ctx: CheckContext, why_not_chrony: str) -> Outcome:
        try:
            props = self._timedatectl(ctx)
        except CheckUnavailable as exc:
            raise CheckUnavailable(f"{why_not_chrony}; and {exc}") from None
        return evaluate_timedatectl(props, why_not_chrony)

    def _timedatectl(self, ctx: CheckContext) -> dict[str, str]:
        done = run_tool(ctx, ["timedatectl", "show"])
        if done.exit_status != 0:
            error = done.error_text() or f"exit status {done.exit_status}"
            raise CheckUnavailable(f"timedatectl cannot tell: {error}")
        return parse_timedatectl(done.stdout.decode("utf-8", "replace"))
