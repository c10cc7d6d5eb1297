"""The poller in a collector replica: takes poll tasks from the store and runs their targets' checks.

Every replica runs one. A task is one target's checks in one run (collector.store.poll_tasks); the
replica holds it with a lease renewed every third of its length while the checks run, and stores the
results together with the task's end. A replica killed mid-task stops renewing, and another replica's
poller takes the task once the lease has run out. A task taken ``MAX_ATTEMPTS`` times without an end
(its replicas keep dying on it) is ended with UNKNOWN results that say so, not taken for ever.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict

from checks.base import failure_result
from checks.status import Status
from collector.config.site import SiteWatcher
from collector.planner import Assignment, plan
from collector.runner import Runner
from collector.store.poll_tasks import PollTask, PollTasks

log = logging.getLogger("patrol.poller")

MAX_ATTEMPTS = 3
LOOK_SECONDS = 1.0  # how often an idle poller looks for tasks (a dead replica's, another replica's firing)


class Poller:
    def __init__(self, site: SiteWatcher, store, runner: Runner, holder: str, lease_seconds: float = 30.0,
                 batch: int = 16) -> None:
        self.site = site
        self.tasks = PollTasks(store)
        self.runner = runner
        self.holder = holder
        self.lease_seconds = lease_seconds
        self.batch = batch
        self.done = 0  # tasks this replica finished
        self.lost = 0  # tasks whose lease ran out before this replica finished them
        self._plans: dict[tuple[int, str], dict[str, list[Assignment]] | str] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- the work -------------------------------------------------------------------------------------

    def work(self, run_id: int | None = None) -> int:
        """Take and run tasks until none is left to take (``run_id``: only that run's); the number done."""
        finished = 0
        while not self._stop.is_set():
            taken = self.tasks.take(self.holder, self.lease_seconds, self.batch, run_id=run_id)
            if not taken:
                return finished
            finished += self._run(taken)
        return finished

    def _run(self, taken: list[PollTask]) -> int:
        stop_renewing = threading.Event()
        renewing = threading.Thread(target=self._renew, args=({task.id for task in taken}, stop_renewing),
                                    name="patrol-poll-lease", daemon=True)
        renewing.start()
        finished = 0
        try:
            runnable: list[tuple[PollTask, list[Assignment]]] = []
            for task in taken:
                assignments = self._assignments(task)
                if isinstance(assignments, str):
                    log.warning("poll task %d (%s in run %d): %s", task.id, task.target, task.run_id, assignments)
                    finished += self._finish(task, [])
                elif task.attempts > MAX_ATTEMPTS:
                    reason = (f"not checked: the collector replicas running these checks stopped {MAX_ATTEMPTS} "
                              "times before they ended (see their logs)")
                    finished += self._finish(task, [failure_result(a.target.name, a.check.name, Status.UNKNOWN,
                                                                   reason) for a in assignments])
                else:
                    runnable.append((task, assignments))
            finished += self._run_checks(runnable)
        finally:
            stop_renewing.set()
            renewing.join(5)
        return finished

    def _run_checks(self, runnable: list[tuple[PollTask, list[Assignment]]]) -> int:
        """Run the tasks' checks together (one runner: targets in parallel); each task ends when its
        target's last check does."""
        by_target = {task.target: (task, list(assignments)) for task, assignments in runnable}
        left = {task.target: len(assignments) for task, assignments in runnable}
        results: dict[str, list] = defaultdict(list)
        finished = 0

        def on_done(a: Assignment, done: list) -> None:
            nonlocal finished
            task = by_target[a.target.name][0]
            results[task.target].extend(r.model_copy(update={"playbook": task.playbook,
                                                              "scheduled_at": task.scheduled_at}) for r in done)
            left[task.target] -= 1
            if left[task.target] == 0:
                finished += self._finish(task, results.pop(task.target))

        self.runner.run([a for _, assignments in by_target.values() for a in assignments], on_done=on_done)
        return finished

    def _finish(self, task: PollTask, results: list) -> int:
        if self.tasks.finish(task, self.holder, results):
            self.done += 1
            return 1
        self.lost += 1
        log.warning("poll task %d (%s in run %d): its lease ran out before its checks ended; another replica "
                    "runs them, these results are dropped", task.id, task.target, task.run_id)
        return 0

    def _renew(self, held: set[int], stop: threading.Event) -> None:
        while not stop.wait(self.lease_seconds / 3):
            try:
                kept = self.tasks.renew(self.holder, held, self.lease_seconds)
            except Exception as exc:  # noqa: BLE001 - a database outage: the next turn tries again
                log.warning("cannot renew the leases of poll tasks: %s", exc)
                continue
            held &= kept  # a lease lost is not renewed again

    def _assignments(self, task: PollTask) -> list[Assignment] | str:
        """The task's target's checks in its playbook, as this replica's configuration has them (or why not)."""
        site = self.site.site
        key = (id(site), task.playbook)
        if key not in self._plans:
            if len(self._plans) > 256:  # configurations come and go on reloads: forget the old ones
                self._plans.clear()
            playbook = site.playbooks.get(task.playbook)
            if playbook is None:
                self._plans[key] = f"playbook {task.playbook!r} is not in this replica's configuration"
            else:
                try:
                    grouped: dict[str, list[Assignment]] = defaultdict(list)
                    for a in plan(playbook, site.inventory, self.site.registry):
                        grouped[a.target.name].append(a)
                    self._plans[key] = dict(grouped)
                except Exception as exc:  # noqa: BLE001 - a bad playbook ends its tasks, not the poller
                    self._plans[key] = f"playbook {task.playbook!r} cannot be planned: {exc}"
        planned = self._plans[key]
        if isinstance(planned, str):
            return planned
        return planned.get(task.target) or f"{task.target} is not in playbook {task.playbook!r} here"

    # -- the background thread ------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="patrol-poller", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        failing = False
        while not self._stop.wait(LOOK_SECONDS):
            try:
                if self.tasks.waiting():
                    self.work()
                if failing:
                    log.info("the poller reaches the store again")
                failing = False
            except Exception as exc:  # noqa: BLE001 - the loop must outlive a database outage
                if not failing:
                    log.error("the poller cannot take tasks (retrying): %s", exc)
                failing = True

    def close(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
