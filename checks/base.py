"""The check contract.

A check is one small class: a parameter schema (``Params``) and a ``run`` that yields outcomes.
``Check.execute`` is the error boundary around it: it owns the timeout, turns any exception or
timeout into an UNKNOWN result with a clear reason, evaluates thresholds, scrubs secrets from every
message and stamps the result records. A check body contains only its own logic.
"""

from __future__ import annotations

import abc
import datetime as dt
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from checks.errors import CheckUnavailable, Path
from checks.params import CheckParams, validate_params
from checks.rates import RateTracker
from checks.result import Metric, Result, ThresholdSpec, Unit
from checks.secrets import Scrubber, SecretError
from checks.status import Status
from checks.target import Target
from checks.thresholds import Levels
from checks.timeouts import CallTimedOut, call_with_timeout
from checks.units import format_value

Clock = Callable[[], dt.datetime]


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class CheckContext:
    """What a running check may use besides its parameters; injected so tests can replace any part.

    ``connections`` maps a kind of connection ("host" for host figures, later "ssh", "snmp", ...) to a
    factory taking the target. ``rates`` outlives a single run in agents and pollers, so counters
    become rates between consecutive runs.
    """

    target: Target
    connections: Mapping[str, Callable[[Target], Any]] = field(default_factory=dict)
    rates: RateTracker = field(default_factory=RateTracker)
    scrubber: Scrubber = field(default_factory=Scrubber)
    deadline: float = float("inf")  # time.monotonic() value by which the check must be done

    def connection(self, kind: str) -> Any:
        factory = self.connections.get(kind)
        if factory is None:
            raise CheckUnavailable(f"no {kind!r} connection is available for {self.target.connection!r} targets")
        return factory(self.target)

    def secret(self, key: str) -> str | None:
        return self.target.secret(key, self.scrubber)

    def remaining(self) -> float:
        return max(0.0, self.deadline - time.monotonic())


@dataclass
class Outcome:
    """What a check's ``run`` yields for one item.

    ``levels`` maps metric names to the warning/critical pair applied to them; the status is the
    worst of those evaluations and of ``status`` (for states no figure expresses, such as a link
    that is down or a required process that is missing).
    """

    summary: str
    item: str = ""
    metrics: Sequence[Metric] = ()
    levels: Mapping[str, Levels] = field(default_factory=dict)
    status: Status | None = None
    collected: bool = True


def metric(name: str, value: float, unit: Unit = "", **labels: str) -> Metric:
    return Metric(name=name, value=value, unit=unit, labels=labels)


class Check(abc.ABC):
    """Base class of every check. Subclasses set the class attributes and implement ``run``."""

    name: ClassVar[str]
    title: ClassVar[str]  # one line, shown in listings and the check reference
    Params: ClassVar[type[CheckParams]] = CheckParams
    default_timeout: ClassVar[float] = 30.0
    connection_kind: ClassVar[str | None] = None  # e.g. "host": the run needs ctx.connection(kind)
    # True when the check reaches the target by itself from wherever it runs (ping, http, a Nagios plugin):
    # the poller runs it without first probing the target over SSH, an agent runs it on its own host.
    own_connection: ClassVar[bool] = False
    metrics: ClassVar[Mapping[str, str]] = {}  # metric name -> description, for the reference and tests
    example: ClassVar[str] = ""  # a playbook snippet for the reference

    def validate(self, data: Mapping[str, Any] | None, path: Path = ()) -> CheckParams:
        return validate_params(self.Params, data, path)

    @abc.abstractmethod
    def run(self, ctx: CheckContext, params: Any) -> Iterable[Outcome]:
        """Yield one outcome per item. Raise on failure: the base class reports it."""

    # -- the error boundary ---------------------------------------------------------------------

    def execute(self, ctx: CheckContext, params: CheckParams, clock: Clock = utcnow) -> list[Result]:
        """Run the check under its timeout; always returns at least one result, never raises."""
        timeout = params.timeout or self.default_timeout
        started_at = clock()
        start = time.monotonic()
        ctx.deadline = min(ctx.deadline, start + timeout)
        outcomes: list[Outcome] = []  # filled as the check yields, so a timeout keeps what was done
        boundary = f"check:{self.name}:{ctx.target.name}"

        def work() -> None:
            for outcome in self.run(ctx, params):
                outcomes.append(outcome)

        failure: Outcome | None = None
        try:
            call_with_timeout(work, timeout, boundary)
        except CallTimedOut as exc:
            if exc.name != boundary:  # a bounded call inside the check, not the check itself
                failure = Outcome(summary=self.describe_failure(exc), status=Status.UNKNOWN, collected=False)
            else:
                reason = f"timed out after {timeout:g} s"
                if outcomes:
                    reason += f" ({len(outcomes)} item(s) checked before)"
                failure = Outcome(summary=reason, status=Status.UNKNOWN, collected=False)
        except (Exception, SystemExit) as exc:  # noqa: BLE001 - the boundary: every failure is UNKNOWN
            failure = Outcome(summary=self.describe_failure(exc), status=Status.UNKNOWN, collected=False)
        duration = time.monotonic() - start
        done = list(outcomes)
        if failure is not None:
            done.append(failure)
        elif not done:
            done.append(Outcome(summary="the check returned no items", status=Status.UNKNOWN, collected=False))
        return [self._record(ctx, outcome, started_at, duration) for outcome in done]

    @staticmethod
    def describe_failure(exc: BaseException) -> str:
        if isinstance(exc, CheckUnavailable):
            return f"cannot check: {exc}"
        if isinstance(exc, SecretError):
            return f"missing secret: {exc}"
        if isinstance(exc, PermissionError):
            return f"permission denied: {exc}"
        if isinstance(exc, TimeoutError):
            return f"timed out: {exc}" if str(exc) else "timed out"
        text = str(exc) or exc.__class__.__name__
        return f"check failed: {exc.__class__.__name__}: {text}"

    def _record(self, ctx: CheckContext, outcome: Outcome, started_at: dt.datetime, duration: float) -> Result:
        statuses = [outcome.status] if outcome.status else []
        thresholds = []
        breaches = []
        values = {m.name: m for m in outcome.metrics}
        for name, levels in outcome.levels.items():
            if not levels.active:
                continue
            thresholds.append(
                ThresholdSpec(
                    metric=name,
                    warning=levels.warning.text if levels.warning else None,
                    critical=levels.critical.text if levels.critical else None,
                )
            )
            measured = values.get(name)
            if measured is None:
                continue
            status = levels.evaluate(measured.value)
            statuses.append(status)
            breached = levels.breached(measured.value)
            if breached is not None:
                breaches.append(
                    f"{name} {format_value(measured.value, measured.unit)} {breached.describe(measured.unit)}"
                )
        status = Status.worst(statuses)
        summary = outcome.summary
        if breaches:
            summary += f" ({'; '.join(breaches)})"
        return Result(
            target=ctx.target.name,
            check=self.name,
            item=outcome.item,
            status=status,
            summary=one_line(ctx.scrubber.scrub(summary)),
            metrics=list(outcome.metrics),
            thresholds=thresholds,
            started_at=started_at,
            duration_seconds=round(duration, 6),
            collected=outcome.collected,
        )


def one_line(text: str, limit: int = 2000) -> str:
    """A summary is one line (exception texts often are not) and bounded, as the result record demands."""
    return " ".join(text.split())[:limit]


def failure_result(
    target: str, check: str, status: Status, reason: str, started_at: dt.datetime | None = None, duration: float = 0.0
) -> Result:
    """A result for a check that did not run at all (target unreachable, no way to reach it)."""
    return Result(
        target=target,
        check=check,
        status=status,
        summary=one_line(reason),
        started_at=started_at or utcnow(),
        duration_seconds=round(duration, 6),
        collected=False,
    )
