"""``patrol-agent``: run this host's share of the playbooks and push the results to the collector.

    patrol-agent --collector https://patrol.example.com:8443 --name web01 --token-file /etc/patrol-agent/token
    patrol-agent --config /etc/patrol-agent/agent.yaml

Exit codes: 0 after SIGTERM/SIGINT, 78 for bad settings, 73 when the spool cannot be used.
See docs/agent.md.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from urllib.parse import urlsplit

from agent import __version__
from agent.config import EX_CANTCREAT, EX_CONFIG, AgentConfigError, is_loopback, load, token_file_warning

log = logging.getLogger("patrol.agent")

# syslog priorities, understood by journald at the start of a line
_PRIORITY = {logging.DEBUG: 7, logging.INFO: 6, logging.WARNING: 4, logging.ERROR: 3, logging.CRITICAL: 2}


class _JournalFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return f"<{_PRIORITY.get(record.levelno, 6)}>{super().format(record)}"


def setup_logging(level: str = "info") -> None:
    handler = logging.StreamHandler(sys.stderr)
    if os.environ.get("JOURNAL_STREAM"):  # stderr goes to journald, which adds time and unit
        handler.setFormatter(_JournalFormatter("%(message)s"))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(getattr(logging, level.upper(), logging.INFO))
    # APScheduler logs a line per job run, and its warnings (skipped runs) are logged by the agent itself,
    # once per job and kind every few minutes instead of at every firing.
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    logging.getLogger("urllib3").setLevel(logging.WARNING)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="patrol-agent",
        allow_abbrev=False,  # "--token pat_..." must not pass for --token-file
        description="Run this host's checks on the collector's schedule, spool every result to disk and push "
        "them to the collector. Settings come from flags or a YAML file with the same keys (flags win).",
    )
    p.add_argument("--config", metavar="FILE", help="YAML file of settings (keys as the long flags, with _)")
    p.add_argument("--collector", metavar="URL", help="the collector's base URL, e.g. https://patrol.example.com:8443")
    p.add_argument("--name", help="this host's name in the inventory (default: the short host name)")
    p.add_argument("--token-file", metavar="FILE", help="file holding this agent's token (never pass it as a flag)")
    p.add_argument("--spool", metavar="DIR", help="spool directory (default /var/lib/patrol-agent)")
    p.add_argument("--ca-file", metavar="FILE", help="PEM CA bundle that signed the collector's certificate")
    p.add_argument("--insecure-http", action="store_const", const=True, default=None,
                   help="allow a plain http:// collector URL that is not on this machine")
    p.add_argument("--max-spool-bytes", metavar="SIZE", help="spool size cap, e.g. 100MB (oldest dropped beyond)")
    p.add_argument("--batch-max-results", metavar="N", help="results per batch at most (default 1000)")
    p.add_argument("--push-interval", metavar="SECONDS", help="seconds between pushes (default 10)")
    p.add_argument("--plan-interval", metavar="SECONDS", help="seconds between plan refreshes (default 60)")
    p.add_argument("--max-backoff", metavar="SECONDS", help="longest wait between retries (default 60)")
    p.add_argument("--jitter", metavar="SECONDS", help="bound of each check's fixed start offset (default 5)")
    p.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    p.add_argument("--version", action="version", version=f"patrol-agent {__version__}")
    return p


FLAGS = ("collector", "name", "token_file", "spool", "ca_file", "insecure_http", "max_spool_bytes",
         "batch_max_results", "push_interval", "plan_interval", "max_backoff", "jitter")


def slim_imports() -> None:
    """Keep requests from loading a character-set detector (about 3 MB of resident memory).

    requests uses one only to guess the encoding of a text body that names none (``Response.text``);
    the agent reads nothing but JSON, which it decodes from bytes. Done in the agent's own process only,
    before anything imports requests.
    """
    if "requests" in sys.modules:
        return
    import warnings

    for name in ("charset_normalizer", "chardet"):
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]
    warnings.filterwarnings("ignore", message="Unable to find acceptable character detection dependency")


def run(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    setup_logging(args.log_level)
    try:
        config = load({key: getattr(args, key) for key in FLAGS}, args.config)
    except AgentConfigError as exc:
        print("patrol-agent: configuration errors:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return EX_CONFIG
    warning = token_file_warning(config.token_file)
    if warning:
        log.warning("%s", warning)
    host = urlsplit(config.collector).hostname or ""
    if config.collector.startswith("http://") and not is_loopback(host):
        log.warning("insecure_http: the token and the results cross the network to %s unencrypted", host)

    slim_imports()
    from agent.service import Agent, SpoolLocked  # the heavy part, after the settings are known to be good

    try:
        agent = Agent(config)
    except SpoolLocked as exc:
        print(f"patrol-agent: {exc}", file=sys.stderr)
        return EX_CANTCREAT
    except OSError as exc:
        print(f"patrol-agent: cannot use the spool directory {config.spool}: {exc.strerror or exc}", file=sys.stderr)
        return EX_CANTCREAT

    def on_signal(signum: int, _frame: object) -> None:
        name = signal.Signals(signum).name
        if agent.stop_event.is_set():
            log.warning("%s again: exiting at once (everything spooled stays in the spool)", name)
            logging.shutdown()
            os._exit(0)
        agent.request_stop(name)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    return agent.run()


def main() -> None:
    code = run()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    # Everything is durable by now; do not wait for a check stuck in the kernel (a hung NFS statvfs)
    # in a worker thread that the interpreter would join at exit.
    os._exit(code)
