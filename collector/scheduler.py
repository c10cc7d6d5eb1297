"""Scheduled patrols inside the collector.

Each firing of a playbook's schedule is a patrol run, exactly as ``patrol run`` makes one: the
checks of hosts without an agent run in the collector, now; hosts with an agent run the same
schedule themselves and push results stamped with the same ``scheduled_at``. After a grace period
the run is closed: the agents' results are attached to it, and every check an agent did not report
becomes a failed collection (UNKNOWN, with the reason), never a missing line. Then the report is
written.

Several replicas (``patrol serve`` on one PostgreSQL) share this work through the store:
- the replica holding the ``scheduler`` lease fires the schedules; the others take the lease over
  when it stops renewing (and fire, late, a firing their dead predecessor missed). A firing's run is
  unique in the store (``patrol_runs.firing``), so even two replicas that both think they lead open it
  once;
- a run is opened with one poll task per target the collector checks itself, and every replica's
  poller takes tasks (collector.poller), the firing replica first;
- whichever replica sees a run due (its grace over, every task done) claims its closing and closes it.
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
from collector.errors import StoreError
from collector.patrol import complete_run
from collector.planner import Assignment, plan
from collector.poller import Poller
from collector.report.settings import ReportSettings, with_report_defaults
from collector.runner import Runner
from collector.store.leases import Leases, replica_id
from collector.store.poll_tasks import PollTasks
from collector.store.store import Store

log = logging.getLogger("patrol.scheduler")

RELOAD_SECONDS = 30
REQUESTS_SECONDS = 3  # how often the queue of "run now" requests (the console's) is read
CLOSE_SECONDS = 2  # how often runs due to close are looked for
LEASE = "scheduler"


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
        holder: str | None = None,
        lease_seconds: float = 15.0,
        poll_lease_seconds: float = 30.0,
    ) -> None:
        """``holder``: this replica's name in leases (default: host, pid and a random part);
        ``lease_seconds``: how long the scheduler lease outlives its holder's last renewal;
        ``poll_lease_seconds``: the same for a poll task."""
        self.site = site
        self.report_defaults = report_defaults  # the settings file's report: section
        self.store = store
        self.report_dir = report_dir
        self.grace_seconds = grace_seconds
        self.timezone = ZoneInfo(timezone)  # cron schedules are read in it, as the agents read them
        self.runner = runner or Runner()  # one rate tracker for the life of the service
        self.holder = holder or replica_id()
        self.lease_seconds = lease_seconds
        self.leases = Leases(store)
        self.tasks = PollTasks(store)
        self.poller = Poller(site, store, self.runner, self.holder, poll_lease_seconds)
        self.leading = False
        self._started = False  # lead() has answered once: getting the lease later is regaining it, not starting
        self.scheduler = BackgroundScheduler(
            timezone=dt.UTC,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 30},
        )

    def _playbook(self, name: str) -> Playbook | None:
        playbook = self.site.site.playbooks.get(name)
        return with_report_defaults(playbook, self.report_defaults) if playbook is not None else None

    def start(self) -> None:
        self.sync()
        self._lead_safely()
        self.scheduler.add_job(self._reload, "interval", seconds=RELOAD_SECONDS, id="reload-config")
        self.scheduler.add_job(self._safely, "interval", args=[self.take_requests], seconds=REQUESTS_SECONDS,
                               id="run-requests")
        self.scheduler.add_job(self._lead_safely, "interval", seconds=self.lease_seconds / 3, id="lease")
        self.scheduler.add_job(self._safely, "interval", args=[self.close_due], seconds=CLOSE_SECONDS,
                               id="close-runs")
        self.scheduler.start()
        self.poller.start()

    def shutdown(self) -> None:
        """Stop; the lease is given up so that another replica fires the next schedules at once."""
        self.scheduler.shutdown(wait=False)
        self.poller.close()
        try:
            if self.leases.release(LEASE, self.holder):
                log.info("replica %s gave up the scheduler lease", self.holder)
        except Exception as exc:  # noqa: BLE001 - the lease then runs out by itself
            log.warning("cannot give up the scheduler lease (it runs out in %g s): %s", self.lease_seconds, exc)

    # -- the lease ------------------------------------------------------------------------------------

    def lead(self) -> bool:
        """Take or renew the scheduler lease; whether this replica fires the schedules now. Taking it over
        from a replica that died fires what that replica missed."""
        lease = self.leases.acquire(LEASE, self.holder, self.lease_seconds)
        if lease.held != self.leading:
            if lease.held:
                log.info("replica %s fires the schedules now%s", self.holder,
                         f" (taken over from {lease.taken_over}, silent for {self.lease_seconds:g} s)"
                         if lease.taken_over else "")
            else:
                log.warning("replica %s lost the scheduler lease to %s", self.holder, lease.holder)
        regained = lease.held and not self.leading and self._started  # after a while without it
        self.leading = lease.held
        if lease.taken_over or regained:
            self.catch_up()  # the firings nobody could open meanwhile (a dead leader, a database outage)
        self._started = True
        return lease.held

    def _lead_safely(self) -> bool:
        try:
            return self.lead()
        except StoreError as exc:  # a database outage: not leading until it is back
            if self.leading:
                log.error("cannot renew the scheduler lease: %s", exc)
            self.leading = False
            return False

    def _safely(self, step) -> None:
        """A periodic step; a database outage is one line in the log (the step runs again on its own)."""
        try:
            step()
        except StoreError as exc:
            log.warning("%s skipped: %s", step.__name__, exc)

    def catch_up(self, now: dt.datetime | None = None) -> list[int]:
        """Fire each schedule's latest firing if it was due within the lease's length and nobody opened
        its run (the previous holder died before it could); the runs opened."""
        now = now or dt.datetime.now(dt.UTC)
        window = dt.timedelta(seconds=2 * self.lease_seconds + 30)
        opened = []
        for playbook in list(self.site.site.playbooks.values()):
            if playbook.schedule is None or now - playbook.schedule.latest_fire_time(now, self.timezone) > window:
                continue
            # The checks are left to the pollers (this one's included): run here, inside the lease's
            # renewal, a slow patrol would let the lease run out.
            run_id = self.fire(playbook.name, now=now, leading=True, check_here=False)
            if run_id is not None:
                log.warning("playbook %s: fired late, at takeover (the previous replica missed it)", playbook.name)
                opened.append(run_id)
        return opened

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

    def fire(self, name: str, now: dt.datetime | None = None, on_demand: str | None = None,
             leading: bool | None = None, check_here: bool = True) -> int | None:
        """One firing: open the run with its poll tasks, check the hosts without agents (with the other
        replicas' pollers), and close it now or once the grace has passed. ``on_demand``: who asked for
        this run now (not a firing of the schedule). A schedule's firing happens only on the replica that
        holds the scheduler lease (``leading``: known already); None when this replica did not open it.
        ``check_here`` False: open the run and leave all its targets to the pollers."""
        playbook = self._playbook(name)
        if playbook is None or (playbook.schedule is None and on_demand is None):
            return None
        if on_demand is None and not (leading or self._lead_safely()):
            return None  # another replica fires the schedules
        if on_demand is not None:
            scheduled_at = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0)
        else:
            scheduled_at = playbook.schedule.latest_fire_time(now or dt.datetime.now(dt.UTC), self.timezone)
        try:
            assignments = plan(playbook, self.site.site.inventory, self.site.registry)
        except Exception as exc:  # noqa: BLE001 - a firing must never kill the scheduler
            log.error("playbook %s not run: %s", name, exc)
            return None
        here = sorted({a.target.name for a in assignments if not a.target.has_agent})
        by_agents = [a for a in assignments if a.target.has_agent]
        collect = on_demand is None and bool(by_agents)
        close_after = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=self.grace_seconds if collect else 0)
        run_id = self.tasks.open_run(
            targets=here,
            firing=f"{playbook.name}@{scheduled_at.isoformat()}" if on_demand is None else None,
            close_after=close_after,
            collect_agents=collect,
            playbook=playbook.name,
            playbook_path=str(playbook.path),
            description=playbook.description or "",
            source="schedule" if on_demand is None else "console",
            inspector=playbook.report.inspector or on_demand or "patrol scheduler",
            started_at=scheduled_at,
        )
        if run_id is None:
            log.info("playbook %s firing %s was opened by another replica", name, scheduled_at.isoformat())
            return None
        if on_demand is not None and by_agents:
            self.store.add_results(run_id, [
                stamp(failure_result(a.target.name, a.check.name, Status.UNKNOWN,
                                     "run on demand: the agent runs this check on the playbook's schedule only"),
                      playbook.name, scheduled_at)
                for a in by_agents
            ])
        checked = self.poller.work(run_id=run_id) if check_here else 0
        log.info("playbook %s run %d: %d of %d targets checked here, %d checks by agents", name, run_id, checked,
                 len(here), len(by_agents))
        self.close_due()
        return run_id

    def close_due(self) -> list[int]:
        """Close every run whose time came and whose poll tasks are all done, each by one replica; their ids."""
        closed = []
        for due in self.tasks.due_runs():
            if not self.tasks.claim_close(due.id):
                continue  # another replica closes it
            playbook = self._playbook(due.playbook)
            try:
                assignments = plan(playbook, self.site.site.inventory, self.site.registry) if playbook else []
            except Exception as exc:  # noqa: BLE001 - the playbook broke since the firing: close without it
                log.error("playbook %s cannot be planned to close run %d: %s", due.playbook, due.id, exc)
                assignments = []
            try:
                self.close(due.id, due.playbook, due.scheduled_at, assignments, agents=due.collect_agents)
            except StoreError:
                raise  # the database is away: the claim runs out and the run is closed later
            except Exception:  # noqa: BLE001 - one run that cannot close must not keep the others open
                log.exception("run %d of %s could not be closed; tried again in 5 minutes", due.id, due.playbook)
                continue
            closed.append(due.id)
        return closed

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
        here = [a for a in assignments if not a.target.has_agent]
        if here:  # a target whose checks no replica stored (its playbook changed under a poller): say so
            stored = {(r.target, r.check) for r in self.store.run_results(run_id)}
            missing += [
                stamp(failure_result(a.target.name, a.check.name, Status.UNKNOWN,
                                     "not checked: the collector did not store a result of this check for this run"),
                      name, scheduled_at)
                for a in here if (a.target.name, a.check.name) not in stored
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
