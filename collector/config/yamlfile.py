"""YAML files read with the line of every value, so a problem can say where it is.

PyYAML's ``safe_load`` forgets positions, so we compose the node tree ourselves and construct
plain dicts, lists and scalars from it, remembering the line of each node under its path.
"""
from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path as FilePath
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from checks.errors import ConfigError, Path, Problem

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_MERGE = "tag:yaml.org,2002:merge"
_INT = "tag:yaml.org,2002:int"
_DIGITS = re.compile(r"[-+]?[0-9][0-9_]*")

# Aliases can make a small file expand enormously ("billion laughs"); nothing we read is this big.
MAX_NODES = 1_000_000
# Without aliases a file has fewer values than bytes; through them a ten-line file reached MAX_NODES, which
# took seconds and 160 MB to refuse. Merging defaults (<<: *defaults) into every host stays far below this.
MAX_ALIASED = 100_000
# Configuration is a few levels deep; a deeper document is refused before building it (which recurses)
# could exhaust Python's stack (a RecursionError instead of a ConfigError).
MAX_DEPTH = 100


@dataclass
class LineMap:
    """1-based line of every value in a document, keyed by its path (mapping keys, list indexes)."""

    lines: dict[Path, int] = field(default_factory=dict)

    def line(self, path: Iterable[str | int]) -> int | None:
        """Line of ``path``, or of its deepest known ancestor (a missing key points at its mapping)."""
        parts = tuple(path)
        for end in range(len(parts), -1, -1):
            found = self.lines.get(parts[:end])
            if found is not None:
                return found
        return None


def load_yaml(path: str | FilePath) -> tuple[Any, LineMap]:
    """Parse one YAML document safely; raise ConfigError naming the file and line on any failure."""
    file = str(path)
    text = _read(file)
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            raise ConfigError([Problem((), "the file is empty; expected a YAML mapping", file, 1)])
        lines = LineMap()
        data = _Builder(loader, file, lines).build(root, (), root.start_mark.line + 1)
    except yaml.MarkedYAMLError as exc:
        raise ConfigError([_syntax_problem(exc, file)]) from None
    except yaml.YAMLError as exc:  # reader errors (control characters) carry no mark
        raise ConfigError([Problem((), f"not a valid YAML file: {exc}", file)]) from None
    except RecursionError:
        # PyYAML recurses where this module does not look: its pure-Python composer (CSafeLoader stops at
        # 1000 levels) and chains of merge keys (<<: *a, where a merges b, ...).
        raise ConfigError([Problem((), "the document is nested, or chains merge keys, too deeply", file)]) from None
    finally:
        loader.dispose()
    return data, lines


def locate(problems: Iterable[Problem], file: str | FilePath, lines: LineMap) -> list[Problem]:
    """Fill in the file and line of problems that do not know them yet."""
    return [p if p.file else p.located(str(file), lines.line(p.path)) for p in problems]


def _read(file: str) -> str:
    try:
        with open(file, encoding="utf-8-sig") as handle:  # -sig: tolerate a BOM from Windows editors
            return handle.read()
    except FileNotFoundError:
        message = "file not found"
    except IsADirectoryError:
        message = "is a directory; expected a YAML file"
    except PermissionError:
        message = "file is not readable by this user"
    except UnicodeDecodeError as exc:
        message = f"not UTF-8 text (invalid byte at offset {exc.start}); expected a UTF-8 YAML file"
    except OSError as exc:
        message = f"cannot be read: {exc.strerror or exc.__class__.__name__}"
    raise ConfigError([Problem((), message, file)])


def _syntax_problem(exc: yaml.MarkedYAMLError, file: str) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark else None
    message = exc.problem or "invalid YAML"
    if exc.context:
        # PyYAML's context ("while parsing a block mapping") says where the enclosing construct began.
        context_line = f" started on line {exc.context_mark.line + 1}" if exc.context_mark else ""
        message = f"{message} ({exc.context}{context_line})"
    return Problem((), f"invalid YAML: {message}", file, line)


class _Builder:
    def __init__(self, loader: Any, file: str, lines: LineMap) -> None:
        self.loader = loader
        self.file = file
        self.lines = lines
        self.count = 0
        self.aliased = 0  # values built again because an alias repeats them
        self.repeating = 0  # > 0 while building a node met before (through an alias)
        self.built: set[int] = set()
        self.active: set[int] = set()  # nodes being built: meeting one again means a recursive alias

    def build(self, node: Node, path: Path, line: int) -> Any:
        if len(path) > MAX_DEPTH:
            raise self._error(node, f"values are nested more than {MAX_DEPTH} levels deep")
        self.lines.lines[path] = line  # assigned, not setdefault: a key overriding a merged one wins
        self.count += 1
        # A node met before is built again through an alias or a merge key, and so is everything in it.
        repeated = id(node) in self.built
        self.built.add(id(node))
        self.aliased += repeated or self.repeating > 0
        if self.count > MAX_NODES or self.aliased > MAX_ALIASED:
            limit = MAX_NODES if self.count > MAX_NODES else MAX_ALIASED
            raise self._error(node, f"the document expands to more than {limit} values through aliases")
        if isinstance(node, ScalarNode):
            return self._scalar(node)
        if id(node) in self.active:
            raise self._error(node, "an alias refers to a value that contains it")
        self.repeating += repeated
        self.active.add(id(node))
        try:
            if isinstance(node, SequenceNode):
                self._expect_tag(node, _SEQ, "a sequence")
                items = enumerate(node.value)
                return [self.build(item, path + (i,), item.start_mark.line + 1) for i, item in items]
            self._expect_tag(node, _MAP, "a mapping")
            return self._mapping(node, path)
        finally:
            self.active.discard(id(node))
            self.repeating -= repeated

    def _mapping(self, node: MappingNode, path: Path) -> dict:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == _MERGE:
                continue
            key = self._key(key_node)
            line = key_node.start_mark.line + 1
            if key in seen:
                # Ansible warns and keeps the last; a silently ignored host or variable is worse.
                message = f"duplicate key {key!r} (first on line {seen[key]})"
                raise ConfigError([Problem(path + (key,), message, self.file, line)])
            seen[key] = line
        # Merge keys (<<: *defaults) come first so the mapping's own keys override them, as YAML says.
        self.loader.flatten_mapping(node)
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = self._key(key_node)
            out[key] = self.build(value_node, path + (key,), key_node.start_mark.line + 1)
        return out

    def _key(self, node: Node) -> Any:
        if not isinstance(node, ScalarNode):
            raise self._error(node, "a mapping key must be a plain value, not a mapping or a list")
        return self._scalar(node)

    def _scalar(self, node: ScalarNode) -> Any:
        shown = node.value if len(node.value) <= 40 else node.value[:40] + "..."
        too_large = f"the number {shown} is too large (at most about 1.8e308)"
        try:
            value = self.loader.construct_object(node, deep=True)
        except (ValueError, KeyError, AttributeError, TypeError, OverflowError):
            if node.tag == _INT and _DIGITS.fullmatch(node.value):  # past Python's 4,300 digits for int()
                raise self._error(node, too_large) from None
            # PyYAML's constructors trust an explicit tag's value: "!!int x", "!!bool maybe" or "!!timestamp
            # 2026-13-45" raised ValueError, KeyError or AttributeError out of the loader.
            short = node.tag.removeprefix("tag:yaml.org,2002:")
            raise self._error(node, f"{shown!r} is not a valid !!{short} value") from None
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > sys.float_info.max:
            # Numbers are used as floats (thresholds, durations, sizes): float(10**400) raised OverflowError
            # out of the checks' validators instead of a problem here.
            raise self._error(node, too_large)
        return value

    def _expect_tag(self, node: Node, tag: str, what: str) -> None:
        if node.tag != tag:
            raise self._error(node, f"unsupported YAML tag {node.tag!r} on {what}")

    def _error(self, node: Node, message: str) -> ConfigError:
        return ConfigError([Problem((), message, self.file, node.start_mark.line + 1)])
