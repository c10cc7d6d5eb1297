"""Runs the plan: one APScheduler job per plan entry, each firing on the playbook's schedule.

Firing times are the schedule's own (``checks.schedule``: ``@every N`` at multiples of N seconds
since the epoch, cron as cron reads it), moved by a small fixed offset per agent and entry (a
"splay", at most ``jitter`` seconds and at most half the interval) so that a thousand agents do not
all hit the collector in the same second. The offset is fixed, not drawn at each firing, so the
agent always knows the **nominal** firing time and stamps it on every result as ``scheduled_at``:
that is how the collector matches a result to its patrol run.

A check that this agent does not know, cannot load, or whose parameters it rejects (a newer
collector, an older agent) still fires: it produces an UNKNOWN result saying so, never a crash.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED
from apscheduler.triggers.base import BaseTrigger

from agent import __version__
from agent.plan import Plan, PlanEntry
from checks.backup.shell import local_shell
from checks.base import Check, CheckContext, failure_result
from checks.errors import CheckUnavailable, ConfigError
from checks.host.source import local_host_source
from checks.params import CheckParams
from checks.rates import RateTracker
from checks.registry import Registry, UnknownCheck, default_registry
from checks.result import Result
from checks.secrets import Scrubber
from checks.status import Status
from checks.target import Target

log = logging.getLogger("patrol.agent.jobs")

MISFIRE_GRACE_SECONDS = 30  # a firing that cannot start within this is skipped (logged), not run late
WARN_EVERY_SECONDS = 300.0


def splay(agent: str, entry_id: str, bound: float) -> float:
    """A fixed pseudo-random offset in [0, bound) for this agent and plan entry."""
    if bound <= 0:
        return 0.0
    digest = hashlib.sha256(f"{agent}\0{entry_id}".encode()).digest()
    return round(int.from_bytes(digest[:8], "big") / 2**64 * bound, 3)


class OffsetTrigger(BaseTrigger):
    """Fires ``offset`` seconds after each firing of ``inner``; ``nominal`` maps a firing back."""

    def __init__(self, inner: Any, offset: float, every: float | None = None) -> None:
        self.inner = inner
        self.delta = dt.timedelta(seconds=offset)
        self.every = every

    def get_next_fire_time(self, previous_fire_time: dt.datetime | None, now: dt.datetime) -> dt.datetime | None:
        previous = previous_fire_time - self.delta if previous_fire_time is not None else None
        nominal = self.inner.get_next_fire_time(previous, now - self.delta)
        return None if nominal is None else nominal + self.delta

    def nominal(self, fire_time: dt.datetime) -> dt.datetime:
        """The schedule's own firing time that ``fire_time`` (a time this trigger returned) stands for."""
        at = (fire_time - self.delta).astimezone(dt.UTC)
        if self.every:  # exactly a multiple of the interval since the epoch, as the collector computes it
            seconds = round(at.timestamp() / self.every) * self.every
            return dt.datetime.fromtimestamp(seconds, dt.UTC)
        return at  # cron: the inner trigger's own datetime, exactly

    def __str__(self) -> str:
        return f"{self.inner} +{self.delta.total_seconds():g}s"


@dataclass
class Prepared:
    """A plan entry ready to fire: its check and validated parameters, or why it cannot run."""

    entry: PlanEntry
    trigger: OffsetTrigger
    check: Check | None = None
    params: CheckParams | None = None
    error: str | None = None

    @property
    def check_name(self) -> str:
        return self.entry.check[:100]


class CheckRunner:
    """Runs one check on this host, as ``patrol run`` does for a ``connection: local`` target."""

    def __init__(self, agent: str, registry: Registry | None = None, rates: RateTracker | None = None) -> None:
        self.target = Target(agent, {"connection": "local"})
        self.registry = registry or default_registry()
        self.rates = rates or RateTracker()  # one for the agent's life: counters become rates between runs
        self.scrubber = Scrubber()

    def prepare(self, entry: PlanEntry) -> tuple[Check | None, CheckParams | None, str | None]:
        try:
            check = self.registry.get(entry.check)
        except UnknownCheck as exc:
            return None, None, (f"{exc}: not known to this agent (patrol-agent {__version__}); upgrade the agent "
                                "or install the package that provides the check")
        except CheckUnavailable as exc:
            return None, None, f"cannot check: {exc}"
        try:
            params = check.validate(entry.params)
        except ConfigError as exc:
            problems = "; ".join(str(p) for p in exc.problems)
            return check, None, f"parameters not valid for this agent (patrol-agent {__version__}): {problems}"
        return check, params, None

    def run(self, prepared: Prepared) -> list[Result]:
        """Never raises: every failure is an UNKNOWN result."""
        if prepared.error is not None or prepared.check is None or prepared.params is None:
            reason = prepared.error or "the check could not be prepared"
            return [failure_result(self.target.name, prepared.check_name, Status.UNKNOWN, reason)]
        ctx = CheckContext(target=self.target, connections={"host": local_host_source, "shell": local_shell},
                           rates=self.rates, scrubber=self.scrubber)
        try:
            return prepared.check.execute(ctx, prepared.params)
        except Exception as exc:  # noqa: BLE001 - execute does not raise; if it ever does, report it
            return [failure_result(self.target.name, prepared.check_name, Status.UNKNOWN,
                                   f"agent error: {exc.__class__.__name__}: {exc}")]


def stamp(results: list[Result], prepared: Prepared, scheduled_at: dt.datetime) -> list[Result]:
    playbook = prepared.entry.playbook[:200] if prepared.entry.playbook else None
    return [r.model_copy(update={"playbook": playbook, "scheduled_at": scheduled_at}) for r in results]


class CheckScheduler:
    """The plan's jobs in an APScheduler 3 BackgroundScheduler; finished results go to ``on_results``."""

    def __init__(
        self,
        runner: CheckRunner,
        on_results: Callable[[list[Result]], None],
        jitter: float = 5.0,
        max_workers: int = 4,
    ) -> None:
        from apscheduler.executors.pool import ThreadPoolExecutor
        from apscheduler.schedulers.background import BackgroundScheduler

        self.runner = runner
        self.on_results = on_results
        self.jitter = jitter
        self.scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(max_workers)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": MISFIRE_GRACE_SECONDS},
            timezone=dt.UTC,
        )
        self.scheduler.add_listener(
            self._on_event, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES
        )
        self._jobs: dict[str, Prepared] = {}
        self._timezone: str | None = None
        self._busy = 0
        self._idle = threading.Condition()
        self._warned: dict[tuple[str, str], float] = {}
        self.runs = 0

    # -- the plan --------------------------------------------------------------------------------

    def apply(self, plan: Plan) -> None:
        """Schedule ``plan``: new entries are added, changed ones replaced, vanished ones removed."""
        zone = self._zone(plan.timezone)
        if plan.timezone != self._timezone:
            for job_id in list(self._jobs):
                self._remove(job_id)
            self._timezone = plan.timezone
        wanted = {entry.id: entry for entry in plan.entries}
        for job_id, prepared in list(self._jobs.items()):
            if job_id not in wanted or wanted[job_id].key != prepared.entry.key:
                self._remove(job_id)
        for entry in plan.entries:
            if entry.id in self._jobs:
                continue
            every = entry.schedule.every_seconds
            offset = splay(self.runner.target.name, entry.id, min(self.jitter, every / 2) if every else self.jitter)
            trigger = OffsetTrigger(entry.schedule.trigger(zone), offset, every)
            check, params, error = self.runner.prepare(entry)
            prepared = Prepared(entry, trigger, check, params, error)
            if error:
                log.warning("plan entry %s (%s, playbook %s): %s; it will report UNKNOWN", entry.id, entry.check,
                            entry.playbook, error)
            self._jobs[entry.id] = prepared
            self.scheduler.add_job(self._fire, trigger, args=[prepared], id=entry.id,
                                   name=f"{entry.check} [{entry.playbook}] {entry.schedule.text}")

    def _remove(self, job_id: str) -> None:
        self._jobs.pop(job_id, None)
        try:
            self.scheduler.remove_job(job_id)
        except Exception:  # noqa: BLE001 - JobLookupError: already gone
            pass

    @staticmethod
    def _zone(name: str | None) -> Any:
        """The zone cron schedules are read in: the plan's, else UTC, as the collector's scheduler reads them
        (both sides must agree, or scheduled_at would not match the collector's run)."""
        if name:
            try:
                from zoneinfo import ZoneInfo

                return ZoneInfo(name)
            except (ValueError, KeyError, OSError) as exc:
                log.warning("the plan names time zone %r, unknown here (%s); cron schedules use UTC", name, exc)
        return dt.UTC

    @property
    def job_count(self) -> int:
        return len(self._jobs)

    # -- running ---------------------------------------------------------------------------------

    def start(self) -> None:
        self.scheduler.start()

    def stop(self, wait: float = 2.0) -> None:
        """Fire nothing more; give checks already running up to ``wait`` seconds to finish and spool."""
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        deadline = time.monotonic() + wait
        with self._idle:
            while self._busy and time.monotonic() < deadline:
                self._idle.wait(max(0.0, deadline - time.monotonic()))

    def _fire(self, prepared: Prepared) -> tuple[Prepared, list[Result]]:
        with self._idle:
            self._busy += 1
        return prepared, self.runner.run(prepared)

    def _on_event(self, event: Any) -> None:
        code = event.code
        if code == EVENT_JOB_MISSED:
            self._warn(event.job_id, "missed", "a firing of job %s was skipped: it could not start within %d s of "
                       "its time (the agent was suspended or overloaded)", event.job_id, MISFIRE_GRACE_SECONDS)
            return
        if code == EVENT_JOB_MAX_INSTANCES:
            self._warn(event.job_id, "busy", "job %s is still running from its previous firing; this firing is "
                       "skipped (the check takes longer than its interval)", event.job_id)
            return
        try:
            if code == EVENT_JOB_EXECUTED:
                prepared, results = event.retval
            else:  # EVENT_JOB_ERROR: _fire never raises, but the scheduler might
                prepared = self._jobs.get(event.job_id)
                if prepared is None:
                    return
                results = [failure_result(self.runner.target.name, prepared.check_name, Status.UNKNOWN,
                                          f"agent error: {event.exception!r}")]
            nominal = prepared.trigger.nominal(event.scheduled_run_time)
            self.on_results(stamp(results, prepared, nominal))
            self.runs += 1
        except Exception:  # noqa: BLE001 - a listener must not die silently
            log.exception("cannot hand over the results of job %s", event.job_id)
        finally:
            with self._idle:
                self._busy = max(0, self._busy - 1)
                self._idle.notify_all()

    def _warn(self, job_id: str, kind: str, message: str, *args: Any) -> None:
        now = time.monotonic()
        if now - self._warned.get((job_id, kind), -WARN_EVERY_SECONDS) >= WARN_EVERY_SECONDS:
            self._warned[(job_id, kind)] = now
            log.warning(message, *args)
