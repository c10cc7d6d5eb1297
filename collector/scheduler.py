"""Scheduled patrols inside the collector.

Each firing of a playbook's schedule is a patrol run, exactly as ``patrol run`` makes one: the
checks of hosts without an agent run here, now; hosts with an agent run the same schedule
themselves and push results stamped with the same ``scheduled_at``. After a grace period the run
is closed: the agents' results are attached to it, and every check an agent did not report becomes
a failed collection (UNKNOWN, with the reason), never a missing line. Then the report is written.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler

from checks.base import failure_result
from checks.result import Result
from checks.status import Status
from collector.config.playbook import Playbook
from collector.config.site import SiteWatcher
from collector.patrol import complete_run
from collector.planner import Assignment, plan
from collector.report.settings import ReportSettings, with_report_defaults
from collector.runner import Runner
from collector.store.store import Store

log = logging.getLogger("patrol.scheduler")

RELOAD_SECONDS = 30
REQUESTS_SECONDS = 3  # how often the queue of "run now" requests (the console's) is read


class PatrolScheduler:
    def __init__(
        self,
        site: SiteWatcher,
        store: Store,
        report_dir: Path,
        grace_seconds: float = 60.0,
        runner: Runner | None = None,
        timezone: str = "UTC",
        report_defaults: ReportSettings | None = None,
    ) -> None:
        self.site = site
        self.report_defaults = report_defaults  # the settings file's report: section
        self.store = store
        self.report_dir = report_dir
        self.grace_seconds = grace_seconds
        self.timezone = ZoneInfo(timezone)  # cron schedules are read in it, as the agents read them
        self.runner = runner or Runner()  # one rate tracker for the life of the service
        self.scheduler = BackgroundScheduler(
            timezone=dt.UTC,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 30},
        )

    def _playbook(self, name: str) -> Playbook | None:
        playbook = self.site.site.playbooks.get(name)
        return with_report_defaults(playbook, self.report_defaults) if playbook is not None else None

    def start(self) -> None:
        self.sync()
        self.scheduler.add_job(self._reload, "interval", seconds=RELOAD_SECONDS, id="reload-config")
        self.scheduler.add_job(self.take_requests, "interval", seconds=REQUESTS_SECONDS, id="run-requests")
        self.scheduler.start()

    def shutdown(self) -> None:
        self.scheduler.shutdown(wait=False)

    def _reload(self) -> None:
        if self.site.reload_if_changed():
            self.sync()

    def sync(self) -> None:
        """One job per scheduled playbook; jobs of removed or changed playbooks are replaced."""
        wanted = {f"patrol:{name}": pb for name, pb in self.site.site.playbooks.items() if pb.schedule}
        for job in self.scheduler.get_jobs():
            if job.id.startswith("patrol:") and job.id not in wanted:
                job.remove()
        for job_id, playbook in wanted.items():
            self.scheduler.add_job(
                self.fire,
                playbook.schedule.trigger(self.timezone),
                args=[playbook.name],
                id=job_id,
                replace_existing=True,
            )
            log.info("playbook %s scheduled: %s", playbook.name, playbook.schedule.text)

    def take_requests(self) -> list[int]:
        """Run the patrols asked for by hand (the console's "run now"), each once; their run ids."""
        from collector.store.run_requests import RunRequests

        queue = RunRequests(self.store)
        run_ids = []
        for request in queue.take():
            try:
                run_id = self.run_now(request.playbook, request.requested_by)
            except Exception as exc:  # noqa: BLE001 - a bad request must not stop the queue
                log.error("run of %s asked by %s failed: %s", request.playbook, request.requested_by, exc)
                queue.finish(request.id, None, str(exc))
                continue
            queue.finish(request.id, run_id, None if run_id is not None else "no such playbook")
            if run_id is not None:
                run_ids.append(run_id)
        return run_ids

    def run_now(self, name: str, requested_by: str) -> int | None:
        """A run of playbook ``name`` now, scheduled or not. Agents run their checks on the playbook's
        schedule only, so their checks are listed as not collected in this run, with that reason."""
        playbook = self._playbook(name)
        if playbook is None:
            return None
        log.info("playbook %s run now, asked by %s", name, requested_by)
        return self.fire(name, on_demand=requested_by)

    def fire(self, name: str, now: dt.datetime | None = None, on_demand: str | None = None) -> int | None:
        """One firing: open the run, check the hosts without agents, and close it now or after the grace.
        ``on_demand``: who asked for this run now (not a firing of the schedule)."""
        playbook = self._playbook(name)
        if playbook is None or (playbook.schedule is None and on_demand is None):
            return None
        if on_demand is not None:
            scheduled_at = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0)
        else:
            scheduled_at = playbook.schedule.latest_fire_time(now or dt.datetime.now(dt.UTC), self.timezone)
        try:
            assignments = plan(playbook, self.site.site.inventory, self.site.registry)
        except Exception as exc:  # noqa: BLE001 - a firing must never kill the scheduler
            log.error("playbook %s not run: %s", name, exc)
            return None
        run_id = self.store.start_run(
            playbook=playbook.name,
            playbook_path=str(playbook.path),
            description=playbook.description,
            source="schedule" if on_demand is None else "console",
            inspector=playbook.report.inspector or on_demand or "patrol scheduler",
            started_at=scheduled_at,
        )
        here = [a for a in assignments if not a.target.has_agent]
        by_agents = [a for a in assignments if a.target.has_agent]
        results = self.runner.run(here)
        if on_demand is not None:
            results += [
                failure_result(a.target.name, a.check.name, Status.UNKNOWN,
                               "run on demand: the agent runs this check on the playbook's schedule only")
                for a in by_agents
            ]
            by_agents = []
        self.store.add_results(run_id, [stamp(r, playbook.name, scheduled_at) for r in results])
        log.info("playbook %s run %d: %d checks here, %d by agents", name, run_id, len(here), len(by_agents))
        if by_agents:
            close_at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=self.grace_seconds)
            self.scheduler.add_job(
                self.close,
                "date",
                run_date=close_at,
                args=[run_id, name, scheduled_at, assignments],
                id=f"close:{run_id}",
                misfire_grace_time=None,
            )
        else:
            self.close(run_id, name, scheduled_at, assignments, agents=on_demand is None)
        return run_id

    def close(self, run_id: int, name: str, scheduled_at: dt.datetime, assignments: list[Assignment],
              agents: bool = True) -> None:
        """``agents``: gather the agents' results of this firing (False: a run on demand, already complete)."""
        playbook = self._playbook(name)
        by_agents = [a for a in assignments if a.target.has_agent] if agents else []
        agent_hosts = sorted({a.target.name for a in by_agents})
        received = self.store.attach_results(run_id, name, scheduled_at, agent_hosts) if agent_hosts else []
        reported = {(r.target, r.check) for r in received}
        missing = [
            stamp(
                failure_result(
                    a.target.name,
                    a.check.name,
                    Status.UNKNOWN,
                    f"the agent did not report this check within {self.grace_seconds:g} s of the scheduled time",
                ),
                name,
                scheduled_at,
            )
            for a in by_agents
            if (a.target.name, a.check.name) not in reported
        ]
        if missing:
            self.store.add_results(run_id, missing)
        targets = list({a.target.name: a.target for a in assignments}.values())
        if playbook is None:  # removed from the configuration while the run was open: close it, no report
            log.warning("playbook %s disappeared before run %d closed; no report written", name, run_id)
        _, status, reports = complete_run(self.store, run_id, playbook, targets, len(assignments), self.report_dir)
        log.info(
            "playbook %s run %d closed: %s; report %s",
            name,
            run_id,
            status.value,
            ", ".join(map(str, reports.values())),
        )


def stamp(result: Result, playbook: str, scheduled_at: dt.datetime) -> Result:
    return result.model_copy(update={"playbook": playbook, "scheduled_at": scheduled_at})
