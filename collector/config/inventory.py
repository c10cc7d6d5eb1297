"""The inventory: Ansible's YAML inventory format, so an existing Ansible inventory works as it is.

    all:                      # optional; other top-level groups are children of all
      vars: {...}
      hosts: {web01: {ansible_host: 10.0.0.11}, ...}
      children:
        linux: {hosts: ..., children: ..., vars: ...}

Variables merge as Ansible merges them: ``all`` first, then groups by depth (a child after its
parent), groups at the same depth by name, and the host's own variables last. Host patterns
(``select``) follow Ansible too; see ``collector.config.patterns``.
"""
from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from pathlib import Path as FilePath
from typing import Any

from checks.errors import ConfigError, Path, Problem
from checks.params import suggest
from checks.target import LOCAL, Target
from collector.config import patterns
from collector.config.patterns import is_ipv6
from collector.config.variables import check_vars
from collector.config.yamlfile import load_yaml, locate

SECTIONS = ("hosts", "children", "vars")
# One host entry may expand to this many hosts: "web[0:9999999999]" was expanded name by name (ten million
# took ten seconds) until memory ran out, instead of being refused.
MAX_RANGE_HOSTS = 100_000


@dataclass
class Inventory:
    path: FilePath
    hosts: dict[str, Target]  # in inventory order: the order hosts first appear in the file
    groups: dict[str, set[str]]  # group -> every host in it, directly or through its children
    all_vars: dict[str, Any] = field(default_factory=dict)  # the 'all' group's, for implicit localhost

    def select(self, pattern: str) -> list[Target]:
        """The hosts an Ansible host pattern selects, in inventory order.

        Raises ConfigError if any term of the pattern names no host and no group (a typo would
        otherwise quietly patrol nothing).
        """
        names = patterns.evaluate(pattern, self.hosts, self.groups, str(self.path))
        selected = [target for name, target in self.hosts.items() if name in names]
        # Ansible's implicit localhost: usable by name without being listed, never matched by 'all'.
        selected += [self._implicit_localhost(name) for name in sorted(names - self.hosts.keys())]
        return selected

    def parents(self) -> dict[str, list[str]]:
        """host -> the hosts it depends on (``patrol_parents``: a name or a list), for hosts that have any."""
        out = {}
        for name, target in self.hosts.items():
            value = target.vars.get("patrol_parents")
            if value:
                out[name] = [value] if isinstance(value, str) else list(value)
        return out

    def _implicit_localhost(self, name: str) -> Target:
        # Like Ansible's: in no group, but with the variables of 'all', and always reached in process.
        return Target(name, {**self.all_vars, "connection": LOCAL}, ())


def load_inventory(path: str | FilePath) -> Inventory:
    """Read and validate an inventory file; raise ConfigError listing every problem found."""
    data, lines = load_yaml(path)
    parser = _Parser()
    parser.parse(data)
    if parser.problems:
        raise ConfigError(locate(parser.problems, path, lines))
    inventory = parser.build(FilePath(path))
    unknown = [
        Problem(("patrol_parents",), f"host {name!r} depends on {parent!r}, which is not a host of the inventory")
        for name, parents in inventory.parents().items()
        for parent in parents
        if parent not in inventory.hosts
    ]
    if unknown:
        raise ConfigError([p.located(str(path), None) for p in unknown])
    return inventory


@dataclass
class _Group:
    name: str
    vars: dict[str, Any] = field(default_factory=dict)
    hosts: list[str] = field(default_factory=list)
    parents: list[str] = field(default_factory=list)


class _Parser:
    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.groups: dict[str, _Group] = {"all": _Group("all"), "ungrouped": _Group("ungrouped")}
        self.host_vars: dict[str, dict[str, Any]] = {}  # insertion order is inventory order

    def problem(self, path: Path, message: str) -> None:
        self.problems.append(Problem(path, message))

    # -- reading -----------------------------------------------------------------------------------

    def parse(self, data: Any) -> None:
        if not isinstance(data, dict):
            self.problem((), "expected a mapping of groups, such as 'all:' with 'hosts:', 'children:' "
                             "and 'vars:'")
            return
        for key, body in data.items():
            name = self.name(key, (key,), "group")
            if name is not None:
                self.group(name, body, (key,))

    def name(self, key: Any, path: Path, what: str) -> str | None:
        if isinstance(key, str) and key.strip():
            return key
        if isinstance(key, int) and not isinstance(key, bool):
            return str(key)  # "1:" reads as an integer; Ansible takes it as text too
        self.problem(path, f"expected a {what} name, got {key!r} (quote it if it is meant as a name)")
        return None

    def group(self, name: str, body: Any, path: Path) -> None:
        self.groups.setdefault(name, _Group(name))
        if body is None:
            return  # "linux:" with nothing under it: an empty group, as in Ansible
        if not isinstance(body, dict):
            self.problem(path, f"group {name!r} must be a mapping with 'hosts', 'children' or 'vars' "
                               f"(got {_kind(body)})")
            return
        for key, value in body.items():
            where = path + (key,)
            if key == "hosts":
                self.hosts(name, value, where)
            elif key == "children":
                self.children(name, value, where)
            elif key == "vars":
                self.group_vars(name, value, where)
            else:
                hint = suggest(str(key), SECTIONS) or (
                    "; hosts go under 'hosts:', child groups under 'children:', variables under 'vars:'")
                self.problem(where, f"unknown key {key!r} in group {name!r}{hint}")

    def hosts(self, group: str, value: Any, path: Path) -> None:
        if value is None:
            return
        if isinstance(value, str):
            value = {value: None}  # Ansible accepts a single host name here
        if not isinstance(value, dict):
            self.problem(path, "'hosts' must be a mapping of host names to their variables, "
                               f"such as 'web01: {{ansible_host: 10.0.0.11}}' (got {_kind(value)})")
            return
        for key, host_vars in value.items():
            where = path + (key,)
            entry = self.name(key, where, "host")
            if entry is None:
                continue
            if host_vars is None:
                host_vars = {}
            elif isinstance(host_vars, dict):
                check_vars(host_vars, where, self.problems)
            else:
                self.problem(where, f"the variables of host {entry!r} must be a mapping "
                                    f"(got {_kind(host_vars)})")
                host_vars = {}
            try:
                names, port = host_names(entry)
            except ValueError as exc:
                self.problem(where, str(exc))
                continue
            if port is not None:
                host_vars = {"ansible_port": port, **host_vars}  # explicit variables win, as in Ansible
            for name in names:
                self.add_host(name, group, host_vars)

    def add_host(self, name: str, group: str, host_vars: dict[str, Any]) -> None:
        # A host listed in several places gets the union of its variables, the later listing winning.
        self.host_vars.setdefault(name, {}).update(host_vars)
        members = self.groups[group].hosts
        if name not in members:
            members.append(name)

    def children(self, parent: str, value: Any, path: Path) -> None:
        if value is None:
            return
        if isinstance(value, str):
            value = {value: None}
        if not isinstance(value, dict):
            self.problem(path, "'children' must be a mapping of group names to group definitions "
                               f"(got {_kind(value)})")
            return
        for key, body in value.items():
            where = path + (key,)
            name = self.name(key, where, "group")
            if name is None:
                continue
            if name == "all":
                self.problem(where, "'all' contains every group and cannot be the child of one")
                continue
            self.group(name, body, where)
            if name == parent or parent in self.descendants(name):
                self.problem(where, f"group {name!r} cannot be a child of {parent!r}: {parent!r} is already "
                                    f"inside {name!r}, which would make a loop")
            elif parent not in self.groups[name].parents:
                self.groups[name].parents.append(parent)

    def group_vars(self, group: str, value: Any, path: Path) -> None:
        if value is None:
            return
        if not isinstance(value, dict):
            self.problem(path, f"'vars' must be a mapping of variable names to values (got {_kind(value)})")
            return
        check_vars(value, path, self.problems)
        self.groups[group].vars.update(value)

    def descendants(self, name: str) -> set[str]:
        found: set[str] = set()
        todo = [name]
        while todo:
            current = todo.pop()
            for group in self.groups.values():
                if current in group.parents and group.name not in found:
                    found.add(group.name)
                    todo.append(group.name)
        return found

    # -- building ----------------------------------------------------------------------------------

    def build(self, path: FilePath) -> Inventory:
        for group in self.groups.values():
            if group.name != "all" and not group.parents:
                group.parents.append("all")  # as Ansible: a group nobody contains is a child of all
        depth: dict[str, int] = {}

        def depth_of(name: str) -> int:
            # The longest way down from 'all' (Ansible's group depth): a child always outranks its parents.
            if name not in depth:
                parents = self.groups[name].parents
                depth[name] = 1 + max(depth_of(p) for p in parents) if parents else 0
            return depth[name]

        ancestors: dict[str, set[str]] = {}

        def ancestors_of(name: str) -> set[str]:
            if name not in ancestors:
                found = {name}
                for parent in self.groups[name].parents:
                    found |= ancestors_of(parent)
                ancestors[name] = found
            return ancestors[name]

        memberships: dict[str, set[str]] = {name: {"all"} for name in self.host_vars}
        for group in self.groups.values():
            for host in group.hosts:
                memberships[host] |= ancestors_of(group.name)
        for groups in memberships.values():
            # Ansible's 'ungrouped': exactly the hosts that are in no group but all (and ungrouped).
            if groups - {"all", "ungrouped"}:
                groups.discard("ungrouped")
            else:
                groups.add("ungrouped")

        hosts: dict[str, Target] = {}
        members: dict[str, set[str]] = {name: set() for name in self.groups}
        for host, groups in memberships.items():
            merged: dict[str, Any] = {}
            for group in sorted(groups, key=lambda name: (depth_of(name), name)):
                merged.update(self.groups[group].vars)
                members[group].add(host)
            merged.update(self.host_vars[host])
            hosts[host] = Target(host, merged, tuple(sorted(groups)))
        return Inventory(path, hosts, members, dict(self.groups["all"].vars))


def host_names(entry: str) -> tuple[list[str], int | None]:
    """Ansible's host entry forms: ``web01``, ``web01:2222``, ``[2001:db8::1]:2222``, ``web[01:20]``."""
    port = None
    match = re.fullmatch(r"(.+):([0-9]+)", entry)
    # The colon of a port is outside brackets and not part of a bare IPv6 address.
    if match and not is_ipv6(entry) and match.group(1).count("[") == match.group(1).count("]"):
        entry, port = match.group(1), int(match.group(2))
        if not 1 <= port <= 65535:
            raise ValueError(f"port {port} is out of range: expected 1 to 65535")
    if entry.startswith("[") and entry.endswith("]") and is_ipv6(entry[1:-1]):
        return [entry[1:-1]], port
    if re.search(r"\[[^\]]*:[^\]]*\]", entry) and not is_ipv6(entry):
        return expand_range(entry), port
    return [entry], port


def expand_range(entry: str) -> list[str]:
    """Expand an Ansible host range: ``web[01:03]`` -> web01, web02, web03; ``db-[a:c]``; ``[1:9:2]``."""
    head, _, rest = entry.partition("[")
    spec, _, tail = rest.partition("]")
    bounds = spec.split(":")
    if len(bounds) not in (2, 3) or not bounds[1]:
        raise ValueError(f"host range {entry!r}: expected [start:end] or [start:end:step]")
    start, end = bounds[0] or "0", bounds[1]
    try:
        step = int(bounds[2]) if len(bounds) == 3 else 1
    except ValueError:
        raise ValueError(f"host range {entry!r}: the step must be a whole number") from None
    if step < 1:
        raise ValueError(f"host range {entry!r}: the step must be at least 1")
    if start.isdigit() and end.isdigit():
        if start.startswith("0") and len(start) > 1 and len(start) != len(end):
            raise ValueError(f"host range {entry!r}: a zero-padded start and its end must be equally wide")
        width = len(start) if start.startswith("0") else 0
        numbers = range(int(start), int(end) + 1, step)
        _check_range_size(entry, len(numbers))
        values = [str(n).zfill(width) for n in numbers]
    elif len(start) == 1 and len(end) == 1 and start in string.ascii_letters and end in string.ascii_letters:
        letters = string.ascii_letters
        values = list(letters[letters.index(start):letters.index(end) + 1:step])
    else:
        raise ValueError(f"host range {entry!r}: expected numbers ([01:20]) or single letters ([a:f])")
    if not values:
        raise ValueError(f"host range {entry!r}: the start is after the end")
    names: list[str] = []
    for value in values:
        name = head + value + tail
        names += expand_range(name) if re.search(r"\[[^\]]*:[^\]]*\]", name) else [name]
        _check_range_size(entry, len(names))  # ranges in ranges multiply
    return names


def _check_range_size(entry: str, count: int) -> None:
    if count > MAX_RANGE_HOSTS:
        raise ValueError(f"host range {entry!r} expands to more than {MAX_RANGE_HOSTS} hosts")


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"{value!r}"
