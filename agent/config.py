"""The agent's settings: command-line flags, or a small YAML file with the same keys.

Every problem is reported at once, each naming the file (and line) or the flag, and what was
expected; the agent then exits 78 (EX_CONFIG). The token itself is read from ``token_file`` and is
never taken from the command line, printed or logged.
"""

from __future__ import annotations

import ipaddress
import math
import os
import re
import reprlib
import socket
import stat
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from checks.params import suggest
from checks.schedule import parse_duration

EX_CONFIG = 78
EX_CANTCREAT = 73

DEFAULT_SPOOL = "/var/lib/patrol-agent"
MiB = 1024 * 1024
MIN_SPOOL_BYTES = 64 * 1024
MAX_BATCH_RESULTS = 10_000  # the collector's limit (docs/api.md)

KEYS = (
    "collector",
    "name",
    "token_file",
    "spool",
    "ca_file",
    "insecure_http",
    "max_spool_bytes",
    "batch_max_results",
    "push_interval",
    "plan_interval",
    "max_backoff",
    "jitter",
)

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?i?b?)\s*$", re.IGNORECASE)
_SIZE_UNITS = {"": 1, "b": 1, "k": 1000, "m": 1000**2, "g": 1000**3, "t": 1000**4,
               "ki": 1024, "mi": 1024**2, "gi": 1024**3, "ti": 1024**4}
# A refused value is quoted, but shortened: an alias bomb under a setting would quote millions of characters.
_SHORT = reprlib.Repr()
_SHORT.maxstring = _SHORT.maxother = 80
_SHORT.maxlevel, _SHORT.maxlist, _SHORT.maxdict = 2, 4, 4


def _shown(value: Any) -> str:
    return _SHORT.repr(value)


_TOKEN_LIKE = re.compile(r"^pat_[A-Za-z0-9_-]{20,}$")
_NAME = re.compile(r"^[^\s/\\]{1,255}$")


class AgentConfigError(Exception):
    """Every problem found in the settings, one per line."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class AgentConfig:
    collector: str  # base URL, without a trailing slash
    name: str  # the inventory host this agent speaks for
    token_file: Path
    spool: Path = Path(DEFAULT_SPOOL)
    ca_file: Path | None = None
    insecure_http: bool = False
    max_spool_bytes: int = 100 * MiB
    batch_max_results: int = 1000
    push_interval: float = 10.0  # seconds between pushes of what was spooled
    plan_interval: float = 60.0  # seconds between plan refreshes
    max_backoff: float = 60.0  # cap of the retry delay after a failed push or plan fetch
    jitter: float = 5.0  # bound of each check's fixed offset from its nominal firing time

    def read_token(self) -> str:
        """The token from ``token_file`` (read each time: a rotated token is picked up)."""
        return read_token(self.token_file)


def read_token(path: Path) -> str:
    text = path.read_text(encoding="utf-8").strip()
    if not text or "\n" in text or " " in text:
        raise ValueError("expected the token alone on one line")
    return text


def default_name() -> str:
    return socket.gethostname().split(".")[0] or "localhost"


def load(flags: Mapping[str, Any], config_file: str | None = None) -> AgentConfig:
    """Merge a config file (if given) with flags (flags win) and validate everything."""
    values: dict[str, tuple[Any, str, Path | None]] = {}  # key -> (value, where, base dir for paths)
    problems: list[str] = []
    if config_file:
        values.update(_read_file(Path(config_file), problems))
    for key, value in flags.items():
        if value is not None:
            values[key] = (value, "--" + key.replace("_", "-"), None)
    config = _validate(values, problems)
    if problems or config is None:
        raise AgentConfigError(problems)
    return config


def _read_file(path: Path, problems: list[str]) -> dict[str, tuple[Any, str, Path | None]]:
    import yaml  # only when a config file is used

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        problems.append(f"{path}: cannot read the config file: {exc.strerror or exc}")
        return {}
    except UnicodeDecodeError as exc:
        problems.append(f"{path}: expected UTF-8 text (byte {exc.start} is not)")
        return {}
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problems.append(f"{where}: not valid YAML: {getattr(exc, 'problem', None) or exc}")
        return {}
    except (ValueError, KeyError, AttributeError, TypeError, OverflowError):
        # PyYAML's constructors trust an explicit tag: "!!int x" or "!!timestamp 2026-13-45" raise these.
        problems.append(f"{path}: not valid YAML: a value cannot be read as its type (a number of thousands of "
                        "digits, or a value its explicit tag such as !!int cannot read)")
        return {}
    except RecursionError:
        problems.append(f"{path}: not valid YAML: nested too deeply")
        return {}
    if data is None:
        return {}
    if not isinstance(data, dict) or not isinstance(node, yaml.MappingNode):
        problems.append(f"{path}: expected a mapping of settings ({', '.join(KEYS)})")
        return {}
    lines: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = key_node.value
        line = key_node.start_mark.line + 1
        if key in lines:
            problems.append(f"{path}:{line}: {key}: duplicate key (first at line {lines[key]})")
        lines[key] = line
    out = {}
    base = path.resolve().parent
    for key, value in data.items():
        where = f"{path}:{lines.get(str(key), '?')}: {key}"
        if key not in KEYS:
            hint = suggest(str(key), KEYS)
            expected = "" if hint else f"; expected one of: {', '.join(KEYS)}"
            problems.append(f"{where}: unknown setting{hint}{expected}")
            continue
        out[key] = (value, where, base)
    return out


def _validate(values: dict[str, tuple[Any, str, Path | None]], problems: list[str]) -> AgentConfig | None:
    def get(key: str) -> tuple[Any, str, Path | None]:
        return values.get(key, (None, "--" + key.replace("_", "-"), None))

    def path_of(key: str) -> Path | None:
        value, where, base = get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            problems.append(f"{where}: expected a file or directory path (got {_shown(value)})")
            return None
        path = Path(value).expanduser()
        return base / path if base is not None and not path.is_absolute() else path

    out: dict[str, Any] = {}

    # collector
    value, where, _ = get("collector")
    insecure = _boolean(*get("insecure_http")[:2], problems)
    if value is None:
        problems.append(f"{where}: required: the collector's base URL (e.g. https://patrol.example.com:8443)")
    elif not isinstance(value, str):
        problems.append(f"{where}: expected a URL (got {_shown(value)})")
    else:
        url = _collector_url(value, where, bool(insecure), problems)
        if url:
            out["collector"] = url
    out["insecure_http"] = bool(insecure)

    # name
    value, where, _ = get("name")
    if value is None:
        value = default_name()
    if not isinstance(value, str) or not _NAME.match(value):
        problems.append(f"{where}: expected the inventory host name of this machine (got {_shown(value)})")
    else:
        out["name"] = value

    # token_file: must be readable and hold one token; its content is never shown
    value, where, _ = get("token_file")
    if value is None:
        problems.append(f"{where}: required: a file holding this agent's token (patrol token create --agent NAME)")
    elif isinstance(value, str) and _TOKEN_LIKE.match(value.strip()):
        # The token itself where its file belongs: say so without repeating it (it would land in logs).
        problems.append(f"{where}: this looks like a token, not a file name: put the token in a file readable "
                        "only by the agent and give that file (a command line is visible to every user)")
    elif (token_file := path_of("token_file")) is not None:
        try:
            read_token(token_file)
            out["token_file"] = token_file
        except OSError as exc:
            problems.append(f"{where}: cannot read {token_file}: {exc.strerror or exc}")
        except ValueError as exc:
            problems.append(f"{where}: {token_file}: {exc}")

    spool = path_of("spool")
    if spool is not None:
        out["spool"] = spool

    ca_file = path_of("ca_file")
    if ca_file is not None:
        if not ca_file.is_file():
            problems.append(f"{get('ca_file')[1]}: no such file: {ca_file} (a PEM file of the CA that signed the "
                            "collector's certificate)")
        else:
            out["ca_file"] = ca_file

    size = _size(*get("max_spool_bytes")[:2], problems)
    if size is not None:
        out["max_spool_bytes"] = size
    count = _integer(*get("batch_max_results")[:2], 1, MAX_BATCH_RESULTS, problems)
    if count is not None:
        out["batch_max_results"] = count
    for key, low, high in (("push_interval", 0.1, 3600), ("plan_interval", 1, 86400), ("max_backoff", 0.1, 3600),
                           ("jitter", 0, 300)):
        seconds = _seconds(*get(key)[:2], low, high, problems)
        if seconds is not None:
            out[key] = seconds
    if problems:
        return None
    return AgentConfig(**out)


def _collector_url(text: str, where: str, insecure: bool, problems: list[str]) -> str | None:
    parts = urlsplit(text.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        problems.append(f"{where}: expected an http:// or https:// URL with a host (got {_shown(text)})")
        return None
    if parts.username or parts.password:
        problems.append(f"{where}: credentials do not belong in the URL; put the token in token_file")
        return None
    if parts.query or parts.fragment:
        problems.append(f"{where}: expected a base URL without query or fragment (got {_shown(text)})")
        return None
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        problems.append(f"{where}: bad port in {_shown(text)}")
        return None
    if parts.scheme == "http" and not insecure and not is_loopback(parts.hostname):
        problems.append(
            f"{where}: refusing plain http:// to {parts.hostname}, which is not this machine: the token and the "
            "results would cross the network unencrypted. Use https:// (ca_file for a private CA), or set "
            "insecure_http: true (--insecure-http) if you accept that"
        )
        return None
    return text.strip().rstrip("/")


def is_loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost.localdomain", "ip6-localhost") or host.lower().endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _boolean(value: Any, where: str, problems: list[str]) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    problems.append(f"{where}: expected true or false (got {_shown(value)})")
    return None


def _integer(value: Any, where: str, low: int, high: int, problems: list[str]) -> int | None:
    if value is None:
        return None
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) <= 20:  # int() stops at 4,300
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        problems.append(f"{where}: expected a whole number from {low} to {high} (got {_shown(value)})")
        return None
    return value


def _seconds(value: Any, where: str, low: float, high: float, problems: list[str]) -> float | None:
    if value is None:
        return None
    seconds: float | None = None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value) if abs(value) <= sys.float_info.max else math.inf  # float(10**400) overflows
    elif isinstance(value, str):
        try:
            seconds = float(value)
        except ValueError:
            try:
                seconds = parse_duration(value.strip())
            except ValueError:
                seconds = None
    if seconds is None or not low <= seconds <= high:
        problems.append(f"{where}: expected seconds from {low:g} to {high:g}, as a number or a duration such as "
                        f"'30s' or '2m' (got {_shown(value)})")
        return None
    return seconds


def _size(value: Any, where: str, problems: list[str]) -> int | None:
    if value is None:
        return None
    size: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        size = value
    elif isinstance(value, str):
        match = _SIZE.match(value)
        if match:
            unit = match.group(2).lower().removesuffix("b")
            number = float(match.group(1)) * _SIZE_UNITS.get(unit, math.nan)
            if math.isfinite(number):  # "9" * 400 + "GiB" is inf, and int(inf) raises
                size = int(number)
    if size is None or size < MIN_SPOOL_BYTES:
        problems.append(f"{where}: expected a size of at least {MIN_SPOOL_BYTES // 1024} KiB, in bytes or with a "
                        f"unit such as '100MB' or '1GiB' (got {_shown(value)})")
        return None
    return size


def token_file_warning(path: Path) -> str | None:
    """A warning when the token file can be read by other users."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        return (f"{path} is readable by other users (mode {stat.S_IMODE(mode):04o}); "
                f"chmod 600 {path}")
    return None


def prepare_spool(path: Path) -> None:
    """Create the spool directory (0700) or fail with OSError."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not os.access(path, os.W_OK | os.X_OK):
        raise PermissionError(13, "not writable", str(path))
