"""Runs assignments concurrently, each under its own timeout, and hands back every result.

A hung check costs only its own timeout: the executor's workers wait on the check's bounded call,
never on the check itself (see checks.timeouts). A slow or unreachable target is probed once, in
parallel with everything else, and costs only its own probe timeout.
"""

from __future__ import annotations

import concurrent.futures as cf
from collections import defaultdict
from collections.abc import Callable, Iterable

from checks.base import CheckContext, failure_result
from checks.rates import RateTracker
from checks.result import Result
from checks.secrets import Scrubber, SecretError
from checks.status import Status
from checks.target import Target
from collector import reach
from collector.planner import Assignment

OnDone = Callable[[Assignment, list[Result]], None]
Gate = tuple[Status, str] | None


class Runner:
    def __init__(
        self,
        max_workers: int = 16,
        rates: RateTracker | None = None,
        scrubber: Scrubber | None = None,
        connections_for: Callable = reach.connections_for,
        blocked: Callable[[Target], Gate] = reach.blocked,
    ) -> None:
        self.max_workers = max_workers
        self.rates = rates or RateTracker()
        self.scrubber = scrubber or Scrubber()
        self.connections_for = connections_for
        self.blocked = blocked

    def run(self, assignments: Iterable[Assignment], on_done: OnDone | None = None) -> list[Result]:
        by_target: dict[str, list[Assignment]] = defaultdict(list)
        for a in assignments:
            by_target[a.target.name].append(a)
        results: list[Result] = []
        # Connections opened during this run (one SSH connection per target), closed when it ends.
        opened = reach.RunConnections(self.scrubber)

        def finish(a: Assignment, done: list[Result]) -> None:
            results.extend(done)
            if on_done:
                on_done(a, done)

        with opened, cf.ThreadPoolExecutor(max_workers=self.max_workers, thread_name_prefix="patrol") as pool:
            checks: dict[cf.Future, Assignment] = {}
            # Checks that reach the target themselves (ping, http, ...) skip the SSH probe: a router or a
            # web front end need not answer on port 22 for its links to be measured.
            for items in by_target.values():
                for a in [a for a in items if reach.reaches_itself(a.target, a.check)]:
                    checks[pool.submit(self.execute, a, opened)] = a
                    items.remove(a)
            gates = {pool.submit(self._gate, items[0].target): name for name, items in by_target.items() if items}
            pending: set[cf.Future] = set(gates) | set(checks)
            while pending:
                done, pending = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
                for future in done:
                    if future in gates:
                        gate = future.result()
                        for a in by_target[gates[future]]:
                            if gate is None:
                                submitted = pool.submit(self.execute, a, opened)
                                checks[submitted] = a
                                pending.add(submitted)
                            else:
                                finish(a, [failure_result(a.target.name, a.check.name, *gate)])
                    else:
                        finish(checks[future], future.result())
        return results

    def _gate(self, target: Target) -> Gate:
        try:
            return self.blocked(target)
        except Exception as exc:  # noqa: BLE001 - a failed probe must not take the run down
            return Status.UNKNOWN, f"cannot determine how to reach the target: {exc}"

    def execute(self, a: Assignment, opened: reach.RunConnections | None = None) -> list[Result]:
        ctx = CheckContext(
            target=a.target,
            connections=self.connections_for(a.target, opened),
            rates=self.rates,
            scrubber=self.scrubber,
        )
        try:
            for key in a.target.secret_keys():
                ctx.secret(key)  # registers each resolved value with the scrubber before the check runs
        except SecretError as exc:
            return [failure_result(a.target.name, a.check.name, Status.UNKNOWN, f"missing secret: {exc}")]
        return a.check.execute(ctx, a.params)
