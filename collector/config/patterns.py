"""Ansible host patterns, evaluated as Ansible's inventory manager evaluates them.

A pattern is terms joined by ``,`` (or ``:``, Ansible's older separator). A term is a host or group
name, a glob (``web*``, ``db[0-9]*``) or a regular expression (``~(web|db)\\d+``, matched from the
start of the name as Ansible does); ``&term`` intersects, ``!term`` excludes. Whatever the order they
are written in, unions apply first, then intersections, then exclusions: ``a:!b:c`` is (a + c) - b.
A term that matches a group selects every host in it; a glob or regex also matches host names.
"""
from __future__ import annotations

import fnmatch
import ipaddress
import re
from collections.abc import Callable, Collection, Mapping

from checks.errors import ConfigError, Problem
from checks.params import suggest

# Reachable by name without being in the inventory (Ansible's implicit localhost).
LOCALHOST_NAMES = ("localhost", "127.0.0.1", "::1")
# A term with one of these may mean host names even when it also matches groups.
_HOST_WILDCARDS = (".", "?", "*", "[")
# A term is anything but whitespace, ':', '[' and ']', or a whole bracketed part (db[0-9]).
_TERM = re.compile(r"(?:[^\s:\[\]]|\[[^\]]*\])+")


def split(pattern: str) -> list[str]:
    if "," in pattern:
        parts = pattern.split(",")
    elif is_ipv6(pattern.strip()):
        parts = [pattern]  # its colons are not separators
    else:
        parts = _TERM.findall(pattern)
        if _TERM.sub("", pattern).strip(": \t\r\n"):
            # Between terms only separators may remain; a lone '[' left over must not be silently dropped.
            raise ConfigError([Problem((), f"host pattern {pattern!r} has an unclosed '[' or a stray ']'")])
    return [part.strip() for part in parts if part.strip()]


def syntax_problem(pattern: str) -> str | None:
    """What is wrong with the pattern's syntax (an unclosed '[', a bad ~regex), or None. It says nothing
    of whether its terms match hosts: a stored pattern may outlive the hosts it named."""
    try:
        terms = split(pattern)
    except ConfigError as exc:
        return exc.problems[0].message
    if not terms:
        return "the host pattern is empty"
    for term in terms:
        body = term[1:] if term[0] in "&!" else term
        if body.startswith("~"):
            try:
                re.compile(body[1:])
            except re.error as exc:
                return f"{body!r} is not a valid regular expression: {exc}"
    return None


def order(terms: list[str]) -> list[str]:
    unions = [t for t in terms if t[0] not in "&!"]
    intersections = [t for t in terms if t[0] == "&"]
    exclusions = [t for t in terms if t[0] == "!"]
    # Only '&' or '!' terms: they narrow everything, as in Ansible.
    return (unions or ["all"]) + intersections + exclusions


def evaluate(pattern: str, hosts: Collection[str], groups: Mapping[str, set[str]], source: str) -> set[str]:
    """Names of the hosts ``pattern`` selects; ConfigError naming every term that matches nothing."""
    terms = split(pattern)
    if not terms:
        raise ConfigError([Problem((), "the host pattern is empty; expected a host or group name, or 'all'")])
    problems = []
    selected: set[str] = set()
    for term in order(terms):
        operator, body = (term[0], term[1:]) if term[0] in "&!" else ("", term)
        try:
            matched = _match(body, hosts, groups, plain=operator == "")
        except re.error as exc:
            message = f"host pattern {pattern!r}: {body!r} is not a valid regular expression: {exc}"
            problems.append(Problem((), message))
            continue
        if matched is None:
            where = f"host pattern {pattern!r}" if body == pattern else f"host pattern {pattern!r}: {body!r}"
            hint = suggest(body.lstrip("~"), [*groups, *hosts])
            problems.append(Problem((), f"{where} matches no host or group in {source}{hint}"))
            continue
        if operator == "&":
            selected &= matched
        elif operator == "!":
            selected -= matched
        else:
            selected |= matched
    if problems:
        raise ConfigError(problems)
    return selected


def _match(body: str, hosts: Collection[str], groups: Mapping[str, set[str]], plain: bool) -> set[str] | None:
    """Hosts one term selects, or None if it matches no host and no group."""
    if not body:
        return None
    if plain and body in hosts:
        return {body}  # Ansible: a host's own name selects that host, even if a group has the same name
    matches = _matcher(body)
    matched_groups = [name for name in groups if matches(name)]
    selected: set[str] = set()
    for name in matched_groups:
        selected |= groups[name]
    matched_hosts: list[str] = []
    if not matched_groups or body[0] == "~" or any(w in body for w in _HOST_WILDCARDS):
        matched_hosts = [name for name in hosts if matches(name)]
        selected.update(matched_hosts)
    if not matched_groups and not matched_hosts:
        return {body} if body in LOCALHOST_NAMES else None
    return selected


def _matcher(body: str) -> Callable[[str], object]:
    if body.startswith("~"):
        return re.compile(body[1:]).match  # Ansible anchors at the start (re.match), not re.search
    return re.compile(fnmatch.translate(body)).match  # case-sensitive, like Ansible


def is_ipv6(text: str) -> bool:
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return True
