"""The agent's life: plan, schedule, spool, push, and a clean stop.

The main thread runs the network loop (plan refresh and pushes, each with its own timer and
backoff); APScheduler's threads run the checks and write their results to the spool. Nothing is
sent that was not spooled first, and nothing leaves the spool before the collector acknowledged it.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

from agent import __version__
from agent.backoff import Backoff
from agent.client import CollectorClient, TransportError
from agent.config import AgentConfig
from agent.jobs import CheckRunner, CheckScheduler
from agent.plan import PlanCache, PlanError, parse_plan
from agent.spool import Batch, Spool
from checks.registry import Registry
from checks.result import Result

log = logging.getLogger("patrol.agent")

FLUSH_SECONDS = 5.0  # how long a stop may spend sending what is spooled
STATUS_SECONDS = 300.0
REPEAT_PROBLEM_SECONDS = 300.0  # a persisting problem is logged again this often
# 4xx answers that say nothing about the batch itself: keep it and retry. 404/405/421 mean a wrong URL or
# a proxy in the way (the batch is fine); 409/425 are transient by definition.
RETRY_4XX = frozenset({401, 403, 404, 405, 407, 408, 409, 421, 425, 429})


class SpoolLocked(Exception):
    pass


class Agent:
    def __init__(
        self,
        config: AgentConfig,
        client: CollectorClient | None = None,
        registry: Registry | None = None,
        status_seconds: float = STATUS_SECONDS,
        flush_seconds: float = FLUSH_SECONDS,
    ) -> None:
        self.config = config
        self.status_seconds = status_seconds
        self.flush_seconds = flush_seconds
        self.stop_event = threading.Event()
        self._lock_fd: int | None = _lock_spool(config.spool)
        self.spool = Spool(config.spool, config.name, config.max_spool_bytes, config.batch_max_results)
        self.plan_cache = PlanCache(config.spool / "plan.json")
        self._token: str | None = None
        self.client = client or CollectorClient(config.collector, config.name, self.token, config.ca_file)
        self.runner = CheckRunner(config.name, registry)
        self.scheduler = CheckScheduler(self.runner, self.spool_results, jitter=config.jitter)
        self.push_backoff = Backoff(base=1.0, cap=config.max_backoff)
        self.plan_backoff = Backoff(base=1.0, cap=min(config.max_backoff, config.plan_interval))
        self.compress = True
        self.etag: str | None = None
        self.plan_size: int | None = None
        self.lost_results = 0  # results that could not even be written to the spool (disk full)
        self.collector_state = "not contacted yet"
        self._problems: dict[str, tuple[str, float]] = {}

    # -- helpers ---------------------------------------------------------------------------------

    def token(self) -> str:
        if self._token is None:
            self._token = self.config.read_token()
        return self._token

    def _reread_token(self) -> None:
        try:
            self._token = self.config.read_token()
        except (OSError, ValueError) as exc:
            log.error("cannot read the token file %s: %s", self.config.token_file, exc)

    def _problem(self, kind: str, level: int, message: str, *args: Any, same: str | None = None) -> None:
        """Log a problem when it first appears, when it changes, and every few minutes while it lasts.

        ``same`` is what identifies the problem (default: the whole message); counts and delays in the
        message may change without the problem being logged again.
        """
        text = message % args if args else message
        identity = text if same is None else same
        now = time.monotonic()
        previous = self._problems.get(kind)
        if previous is None or previous[0] != identity or now - previous[1] >= REPEAT_PROBLEM_SECONDS:
            self._problems[kind] = (identity, now)
            log.log(level, "%s", text)

    def _solved(self, kind: str, message: str, *args: Any) -> None:
        if self._problems.pop(kind, None) is not None:
            log.info(message, *args)

    def request_stop(self, why: str = "") -> None:
        if why:
            log.info("%s: stopping", why)
        self.stop_event.set()

    # -- results into the spool ------------------------------------------------------------------

    def spool_results(self, results: list[Result]) -> None:
        try:
            self.spool.append(r.to_json_dict() for r in results)
        except OSError as exc:
            self.lost_results += len(results) - getattr(exc, "written", 0)
            self._problem("spool-write", logging.ERROR, "cannot write to the spool %s: %s; %d result(s) lost so far",
                          self.config.spool, exc, self.lost_results, same=str(exc))
        else:
            self._solved("spool-write", "writing to the spool works again")

    # -- the plan --------------------------------------------------------------------------------

    def load_cached_plan(self) -> None:
        cached = self.plan_cache.load()
        if cached is None:
            log.info("no cached plan: waiting for the collector's before running checks")
            return
        etag, raw = cached
        if self._apply(raw, etag):
            log.info("running the cached plan (%d checks) until the collector answers", self.plan_size)

    def _apply(self, raw: dict, etag: str | None) -> bool:
        try:
            plan, problems = parse_plan(raw, self.config.name)
        except PlanError as exc:
            log.error("the collector's plan cannot be used: %s; keeping the current one", exc)
            return False
        for problem in problems:
            log.warning("plan: %s; left out", problem)
        self.scheduler.apply(plan)
        self.etag = etag
        self.plan_size = len(plan.entries)
        return True

    def refresh_plan(self) -> bool:
        """Ask the collector for the plan; True when it answered (whatever it said)."""
        try:
            answer = self.client.fetch_plan(self.etag if self.plan_size is not None else None)
        except TransportError as exc:
            self._problem("plan", logging.WARNING, "plan: %s; running the %s", exc, self._plan_words())
            return False
        status = answer.status
        if status == 200:
            etag = answer.headers.get("etag")
            if not isinstance(answer.data, dict):
                self._problem("plan", logging.ERROR, "plan: the collector's answer is not a JSON object")
                return True
            changed = etag is None or etag != self.etag
            if changed and self._apply(answer.data, etag):
                try:
                    self.plan_cache.save(etag, answer.data)
                except OSError as exc:
                    log.warning("cannot cache the plan in %s: %s", self.plan_cache.path, exc)
                log.info("plan: %d checks (etag %s)", self.plan_size, etag)
            self._solved("plan", "plan: the collector answers again")
            return True
        if status == 304:
            self._solved("plan", "plan: the collector answers again")
            return True
        if status == 401:
            self._reread_token()
            self._problem("plan", logging.ERROR, "plan: the collector refused the token (401 %s): check %s "
                          "(patrol token create --agent %s); running the %s", answer.detail, self.config.token_file,
                          self.config.name, self._plan_words())
            return True
        if status == 403:
            self._problem("plan", logging.ERROR, "plan: the token is not allowed this agent's plan (403 %s): is it "
                          "the token of agent %r? running the %s", answer.detail, self.config.name,
                          self._plan_words())
            return True
        if status == 404:
            self._problem("plan", logging.ERROR, "plan: this host is not an agent host in the inventory (404): the "
                          "collector's inventory needs a host named %r with patrol_agent: true; running the %s",
                          self.config.name, self._plan_words())
            return True
        self._problem("plan", logging.WARNING, "plan: the collector answered %d %s; running the %s", status,
                      answer.detail, self._plan_words())
        return status < 500 and status not in (408, 429)

    def _plan_words(self) -> str:
        if self.plan_size is None:
            return "no plan yet (no checks)"
        return f"last known plan ({self.plan_size} checks)"

    # -- pushing ---------------------------------------------------------------------------------

    def push_pending(self, deadline: float | None = None) -> float | None:
        """Send what is spooled, oldest first. None when all was sent, else the seconds to wait before retrying."""
        sealed = False
        while True:
            if deadline is None and self.stop_event.is_set():
                return 0.0
            if deadline is not None and time.monotonic() >= deadline:
                return 0.0
            batch = self.spool.next_batch()
            if batch is None:
                # The backlog is out: what accumulated meanwhile goes too, once (the open segment keeps
                # filling during an outage and is sealed by size, not once per push interval).
                if not sealed and self.spool.seal():
                    sealed = True
                    continue
                return None
            timeout = 30.0 if deadline is None else max(0.5, deadline - time.monotonic())
            retry = self._send(batch, timeout)
            if retry is not None:
                self.spool.release(batch)
                return retry

    def _send(self, batch: Batch, timeout: float) -> float | None:
        """None when the batch left the spool (acknowledged or rejected), else the delay before a retry."""
        if batch.targets != {self.config.name}:
            # Spooled under another name (the agent was renamed): this token may not push them, and a 403
            # would block everything behind them forever.
            others = ", ".join(sorted(repr(t) for t in batch.targets))
            self.spool.reject(batch, f"results of target {others}, but this agent is now {self.config.name!r}; "
                              "its token may not push them")
            log.error("batch %s holds results of %s, not of %r (was the agent renamed?); moved to %s",
                      batch.batch_id, others, self.config.name, self.spool.rejected_dir)
            return None
        body = batch.body(self.config.name)
        while True:
            try:
                answer = self.client.push(body, compress=self.compress, timeout=timeout)
            except TransportError as exc:
                return self._push_failed(f"{exc}")
            if answer.status == 415 and self.compress:
                log.warning("the collector refuses gzip-encoded batches (415 %s); sending them uncompressed",
                            answer.detail)
                self.compress = False
                continue
            break
        del body
        status = answer.status
        if status == 200:
            self.spool.ack(batch)
            self.push_backoff.reset()
            duplicate = isinstance(answer.data, dict) and answer.data.get("duplicate") is True
            log.debug("batch %s: %d result(s) %s", batch.batch_id, batch.count,
                      "already held by the collector" if duplicate else "delivered")
            self.collector_state = "ok"
            self._solved("push", "collector reachable again: delivering what was spooled")
            return None
        if status == 401:
            self._reread_token()
            return self._push_failed(f"the collector refused the token (401 {answer.detail}): check "
                                     f"{self.config.token_file}", logging.ERROR)
        if status == 403:
            return self._push_failed(f"the token may not push results for {self.config.name!r} (403 "
                                     f"{answer.detail}): is it the token of agent {self.config.name!r}?",
                                     logging.ERROR)
        if status in RETRY_4XX or status >= 500 or status < 200 or 300 <= status < 400:
            return self._push_failed(f"the collector answered {status} {answer.detail}".rstrip(),
                                     retry_after=answer.retry_after)
        if 400 <= status < 500:
            reason = f"{status} {answer.detail}".rstrip()
            self.spool.reject(batch, f"HTTP {reason}\nbatch_id: {batch.batch_id}\nresults: {batch.count}")
            hint = " (lower batch_max_results)" if status == 413 else ""
            log.error("batch %s (%d results) refused by the collector: %s%s; moved to %s, not retried", batch.batch_id,
                      batch.count, reason, hint, self.spool.rejected_dir)
            return None
        # 2xx other than 200: not the contract's acknowledgement; keep the batch.
        return self._push_failed(f"unexpected answer {status} {answer.detail}".rstrip())

    def _push_failed(self, why: str, level: int = logging.WARNING, retry_after: float = 0.0) -> float:
        delay = self.push_backoff.next_delay(at_least=retry_after)
        self.collector_state = f"failing ({why})"
        batches, results, _ = self.spool.pending()
        self._problem("push", level, "push: %s; %d result(s) kept in the spool, retrying with backoff (next in "
                      "%.1f s)", why, results, delay, same=why)
        return delay

    # -- status ----------------------------------------------------------------------------------

    def status_line(self) -> str:
        batches, results, size = self.spool.pending()
        c = self.spool.counters()
        plan = "no plan" if self.plan_size is None else f"{self.plan_size} checks (etag {self.etag})"
        lost = f", {self.lost_results} lost (spool not writable)" if self.lost_results else ""
        return (f"status: plan {plan}; pending {results} results in {batches} batches ({size} bytes); this run: "
                f"{self.spool.spooled_results} spooled, {self.spool.delivered_results} delivered{lost}; since the "
                f"spool was created: {c['dropped_results']} dropped (spool full), {c['corrupt_records']} corrupt, "
                f"{c['rejected_results']} rejected; collector {self.collector_state}")

    # -- the loop --------------------------------------------------------------------------------

    def run(self) -> int:
        """Run until ``request_stop``; then stop within ``flush_seconds`` (plus the checks' grace) and return 0."""
        batches, results, size = self.spool.pending()
        log.info("patrol-agent %s for %s: collector %s, spool %s (%d results in %d batches pending)", __version__,
                 self.config.name, self.config.collector, self.config.spool, results, batches)
        self.load_cached_plan()
        self.scheduler.start()
        # The network loop has its own thread, so a stop never waits for a collector that does not answer.
        network = threading.Thread(target=self.network_loop, name="patrol-network", daemon=True)
        network.start()
        while not self.stop_event.wait(1.0):
            pass
        return self.shutdown(network)

    def network_loop(self) -> None:
        now = time.monotonic()
        next_plan, next_push, next_status = now, now, now + self.status_seconds
        while not self.stop_event.is_set():
            now = time.monotonic()
            if now >= next_plan:
                try:
                    answered = self.refresh_plan()
                except Exception as exc:  # noqa: BLE001 - this thread must not die: nothing would be sent again
                    answered = False
                    self._problem("plan-error", logging.ERROR, "plan refresh failed unexpectedly: %s: %s; retrying "
                                  "with backoff", type(exc).__name__, exc)
                if answered:
                    self.plan_backoff.reset()
                    next_plan = time.monotonic() + self.config.plan_interval
                else:
                    next_plan = time.monotonic() + max(1.0, self.plan_backoff.next_delay())
            if now >= next_push and not self.stop_event.is_set():
                try:
                    retry = self.push_pending()
                except Exception as exc:  # noqa: BLE001 - e.g. OSError from a full spool disk: retry, never die
                    retry = self.push_backoff.next_delay()
                    self._problem("push-error", logging.ERROR, "push failed unexpectedly: %s: %s; the spool is "
                                  "kept, retrying in %.1f s", type(exc).__name__, exc, retry,
                                  same=f"{type(exc).__name__}: {exc}")
                else:
                    self._solved("push-error", "pushing works again")
                next_push = time.monotonic() + (self.config.push_interval if retry is None else retry)
            if now >= next_status:
                log.info("%s", self.status_line())
                next_status = now + self.status_seconds
            self.stop_event.wait(max(0.02, min(next_plan, next_push, next_status) - time.monotonic()))

    def shutdown(self, network: threading.Thread | None = None) -> int:
        deadline = time.monotonic() + self.flush_seconds
        self.scheduler.stop(wait=min(2.0, self.flush_seconds / 2))
        if network is not None:
            network.join(max(0.0, deadline - time.monotonic()))
        if network is not None and network.is_alive():
            log.warning("the collector did not answer within %g s; stopping with results still spooled (sent when "
                        "the agent starts again)", self.flush_seconds)
        else:
            self.spool.seal()
            if self.spool.has_sealed():
                retry = self.push_pending(deadline=deadline)
                if retry is not None:
                    log.info("stopping with results still spooled; they are sent when the agent starts again")
        log.info("stopped; %s", self.status_line())
        self.close()
        return 0

    def close(self) -> None:
        """Release the spool (idempotent)."""
        if self._lock_fd is None:
            return
        self.scheduler.stop(wait=0)
        self.spool.close()
        _unlock(self._lock_fd)
        self._lock_fd = None


def _lock_spool(spool: Path) -> int:
    spool.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(spool / "lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise SpoolLocked(f"another patrol-agent is using the spool {spool}") from None
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    return fd


def _unlock(fd: int) -> None:
    try:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
    except OSError:
        pass
