"""Property tests of every configuration loader on hostile files: whatever the file holds, the loader either
loads it or raises its configuration error, each problem saying where (file and line, or the field) —
never another exception, never a hang.

The files are valid configurations with parts replaced by random values (text in any script, huge and
non-finite numbers, wrong types, nesting, YAML's own surprises such as ``yes``, ``0x1F`` or ``.nan``),
random edits of their text (a character inserted, a cut, a tag), random bytes, and documents built to
expand through anchors and aliases ("billion laughs") or to nest thousands of levels deep. Examples are
derandomized, so every run tries the same files; FUZZ_EXAMPLES raises the count for a longer local run.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.config import AgentConfigError
from agent.config import load as load_agent_config
from checks.errors import ConfigError
from checks.registry import default_registry
from collector.config.inventory import load_inventory
from collector.config.playbook import load_playbook
from collector.config.yamlfile import load_yaml
from collector.report.knowledge import read_file as read_knowledge
from collector.serve import load_settings

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "150"))
FUZZ = settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
REGISTRY = default_registry()

# -- valid files, the starting point of every mutation -------------------------------------------------

INVENTORY = {"all": {
    "vars": {"ansible_user": "patrol", "pg_password": {"env": "PATROL_FUZZ_SECRET"}},
    "hosts": {"localhost": {"connection": "local"}},
    "children": {
        "linux": {"hosts": {"web[01:03]": {"ansible_host": "10.0.0.11", "patrol_agent": True},
                            "db01:2222": None, "[2001:db8::1]": {"patrol_parents": "web01"}},
                  "vars": {"patrol_category": "hosts"}},
        "network": {"vars": {"patrol_category": "network", "snmp_community": {"file": "/nonexistent/community"}},
                    "hosts": {"sw01": {"snmp_version": "2c"}}},
    }}}
PLAYBOOK = {
    "name": "daily-patrol", "description": "Morning patrol", "schedule": "0 8 * * *",
    "report": {"formats": ["html", "json", "md"], "organisation": "Ops", "reviewer": "Manager"},
    "tasks": [{"name": "Host health", "hosts": "linux:!db*", "timeout": 30, "checks": [
        {"cpu": {"warning": 80, "critical": 90}},
        {"disk": {"warning": 80, "critical": 90, "free_critical": "2GiB", "exclude": ["/boot/efi"]}},
        {"processes": {"required": ["sshd"]}}, "uptime",
        {"tcp_connect": {"endpoints": ["22", "db01:5432"]}},
        {"http": {"url": "https://example.com/", "warning": "1:"}},
    ]}],
}
SETTINGS = {
    "listen": "127.0.0.1:9000", "timezone": "Asia/Shanghai", "max_body_bytes": 1048576, "grace_seconds": 30,
    "workers": 2,
    "events": {"open_after": 3, "resolve_after": 2, "reopen_within": "5m", "checks": {"uptime": {"open_after": 1}}},
    "notifications": {
        "language": "en",
        "channels": [
            {"name": "ops-hook", "type": "webhook", "url": "https://hooks.example/patrol",
             "secret": {"env": "HOOK_SECRET"}},
            {"name": "duty-mail", "type": "email", "smtp_host": "mail.example", "smtp_port": 587,
             "username": "patrol", "password": {"file": "/etc/patrol/smtp-password"},
             "from": "patrol@example.com", "to": ["duty@example.com"]},
            {"name": "ops-ding", "type": "dingtalk", "url": {"env": "DING_URL"}, "secret": {"env": "DING_SECRET"},
             "language": "zh"},
            {"name": "am", "type": "alertmanager", "url": "http://127.0.0.1:9093"},
            {"name": "run", "type": "command", "command": ["/bin/true"]},
        ],
        "routes": [{"match": {"severity": "critical"}, "channels": ["ops-hook", "duty-mail"], "continue": True},
                   {"match": {"group": ["databases"], "check": "tablespace_*"}, "channels": ["ops-ding"]},
                   {"channels": ["am"]}],
        "escalation": [{"after": "10m", "channels": ["duty-mail"]},
                       {"after": "30m", "channels": ["ops-ding"], "match": {"severity": "critical"}}],
        "grouping": {"wait": "1s", "window": "10s"},
        "retries": {"attempts": 5, "backoff": "2s", "max_backoff": "5m"},
        "templates": {"subject": "[{{ worst }}] {{ count }} Patrol event(s)"},
    },
    "report": {"organisation": "ACME", "formats": ["html", "xlsx"], "language": "zh", "timezone": "Asia/Shanghai",
               "email": "duty-mail"},
}
KNOWLEDGE = {"check": "disk",
             "recommendations": {"WARNING": {"en": "Find what grew.", "zh": "请找出增长来源。"},
                                 "CRITICAL": {"en": "Free space now."}},
             "items": {"/var/log*": {"WARNING": {"en": "Rotate the logs."}}}}
AGENT = {"collector": "https://collector.example.net:8443", "name": "web01", "token_file": "agent.token",
         "spool": "spool", "insecure_http": False, "max_spool_bytes": "100MiB", "batch_max_results": 500,
         "push_interval": "10s", "plan_interval": "5m", "max_backoff": "1m", "jitter": 2}

# -- hostile values --------------------------------------------------------------------------------------

TRICKY = ["", " ", "~", "null", "yes", "no", "on", "0x1F", "0o17", "1e999", "-1e999", ".nan", ".inf", "1_000",
          "12:30:00", "2026-11-23", "2026-11-23T08:00:00+08:00", "*", "&a", "!!binary aGk=", "{env: }",
          "'", '"', "[", "{", "%", "@", "`", "|", ">", "#", "- x", "a: b", "\t", "\u00a0", "\u200b", "\ufeff",
          "巡检", "..", "../../etc/passwd", "/dev/zero", "\\\\server\\share", "a" * 5000, "web[0:99999999999]",
          "web[01:10]:22", "[::1]:99999", "~(", "*" * 300, "{{ notices", "{% for %}", "0" * 400 + "1", "9" * 5000,
          "pat_" + "A" * 43]
SCALARS = st.one_of(
    st.none(), st.booleans(),
    st.integers(), st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40), st.sampled_from(TRICKY),
    st.binary(max_size=20).map(lambda b: b.decode("latin-1")),
)
KEYS = st.one_of(st.text(max_size=12), st.sampled_from(["env", "file", "name", "type", "hosts", "vars", "children",
                                                          "tasks", "checks", "url", "match", "channels", "<<"]),
                 st.integers(), st.booleans(), st.none())
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(KEYS, inner, max_size=4)),
                      max_leaves=12)


def paths_of(node: Any, prefix: tuple = ()) -> list[tuple]:
    """Every place in a document: mapping keys and list indexes, the root included."""
    out = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            out += paths_of(value, prefix + (key,))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            out += paths_of(value, prefix + (index,))
    return out


def same_kind(value: Any) -> st.SearchStrategy:
    if isinstance(value, bool):
        return st.booleans()
    if isinstance(value, int):
        return st.one_of(st.integers(), st.integers(min_value=-(10**400), max_value=10**400))
    if isinstance(value, float):
        return st.floats(allow_nan=True, allow_infinity=True)
    if isinstance(value, str):
        return st.one_of(st.text(min_size=1, max_size=40), st.sampled_from(TRICKY), st.just(value + value))
    if isinstance(value, list):
        return st.lists(st.sampled_from(value), max_size=len(value) + 2) if value else st.just([])
    return st.just(value)


@st.composite
def mutated(draw: Any, seed: Any) -> Any:
    """The seed document with one to four places replaced, removed or given an extra key (or, once in twenty,
    a random value instead)."""
    doc = copy.deepcopy(seed)
    if draw(st.integers(0, 19)) == 0:
        return draw(VALUES)  # not a document of this kind at all
    for _ in range(draw(st.integers(1, 4))):
        places = paths_of(doc)[1:]
        if not places:
            break
        path = draw(st.sampled_from(places))
        action = draw(st.sampled_from(["replace", "same kind", "remove", "add"]))
        parent = doc
        for part in path[:-1]:
            parent = parent[part]
        if action == "same kind":  # another value of the same type: often still valid, so loading is tried too
            parent[path[-1]] = draw(same_kind(parent[path[-1]]))
        elif action == "replace":
            parent[path[-1]] = draw(VALUES)
        elif action == "remove":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[draw(KEYS)] = draw(VALUES)
        else:
            parent.append(draw(VALUES))
    return doc


@st.composite
def tame(draw: Any, seed: Any) -> str:
    """The seed with one value replaced by another of its type: often still valid, so the loaders' accepting
    paths (and what they build from odd but valid values) are tried as well."""
    doc = copy.deepcopy(seed)
    path = draw(st.sampled_from(paths_of(doc)[1:]))
    parent = doc
    for part in path[:-1]:
        parent = parent[part]
    parent[path[-1]] = draw(same_kind(parent[path[-1]]))
    return dump(doc)


def dump(doc: Any) -> str:
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)


@st.composite
def hostile_text(draw: Any, seed: Any) -> str:
    """The YAML text of a mutated seed, sometimes edited as text too."""
    text = dump(draw(mutated(seed)))
    edit = draw(st.sampled_from(["none", "none", "insert", "cut", "tag", "anchor"]))
    if edit == "insert":
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.one_of(st.text(max_size=5), st.sampled_from(TRICKY))) + text[at:]
    elif edit == "cut":
        text = text[:draw(st.integers(0, len(text)))]
    elif edit == "tag":
        tag = draw(st.sampled_from(["!!python/object/apply:os.system ['true']", "!!python/name:os.system",
                                    "!!set", "!!omap", "!!binary", "!!timestamp", "!custom", "!!str", "!!float",
                                    "!!int", "!!bool", "!!null", "!!merge"]))
        text = f"--- {tag}\n{text}" if draw(st.booleans()) else text.replace(": ", f": {tag} ", 1)
    elif edit == "anchor":
        text = "defaults: &d {a: 1}\n" + text.replace(": ", ": *d\n#", 1) if draw(st.booleans()) else (
            text + "\nextra: {<<: *undefined}\n")
    return text


def laughs(levels: int, width: int, top: str) -> str:
    """A "billion laughs" document: ``width ** levels`` values through aliases, the last one under ``top``."""
    lines = ['a0: &a0 ["lol"]']
    for n in range(1, levels + 1):
        lines.append(f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * width)}]")
    lines.append(f"{top}: *a{levels}")
    return "\n".join(lines) + "\n"


def nested(depth: int, key: str) -> str:
    """A document nesting ``depth`` levels of flow lists and mappings under ``key``."""
    return f"{key}: " + "[{a: " * (depth // 2) + "1" + "}]" * (depth // 2) + "\n"


MAX_MESSAGE = 20_000  # a problem may quote what it refuses, but not a megabyte of expanded aliases
EXTREMES = [laughs(9, 9, "vars"), laughs(6, 20, "hosts"), laughs(9, 9, "tasks"), laughs(5, 12, "name"),
            laughs(5, 12, "listen"), laughs(5, 12, "check"), nested(5000, "all"),
            nested(900, "tasks"), nested(400, "notifications"), nested(200, "name"), "a: " + "[" * 100000 + "\n",
            "- " * 5000 + "x\n", "&a [*a]\n", "a: &a {b: *a}\n"]

# -- the property ----------------------------------------------------------------------------------------


def assert_located(error: ConfigError, file: Path) -> None:
    assert error.problems, "a ConfigError without problems says nothing"
    for problem in error.problems:
        assert problem.message.strip(), problem
        assert len(problem.message) <= MAX_MESSAGE, f"a problem of {len(problem.message)} characters"
        assert problem.file or problem.path, f"{problem} names neither a file nor a field"
        if problem.file == str(file):
            assert problem.line is None or problem.line >= 1, problem
    str(error)  # the message is printable


def load_or_config_error(load: Any, file: Path, text: str | bytes) -> bool:
    """Whether the file loaded (False: refused with a located ConfigError)."""
    if isinstance(text, bytes):
        file.write_bytes(text)
    else:
        file.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        load(file)
    except ConfigError as exc:
        assert_located(exc, file)
        return False
    return True


def assert_both_outcomes(outcomes: list[bool]) -> None:
    """Mutations that every loader refuses, or none does, would test nothing of the validation."""
    assert any(outcomes) and not all(outcomes), f"{sum(outcomes)} of {len(outcomes)} files loaded"


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("config-fuzz")
    (root / "inventory.yaml").write_text(dump(INVENTORY), encoding="utf-8")
    (root / "agent.token").write_text("pat_" + "x" * 43 + "\n", encoding="utf-8")
    (root / "agent.token").chmod(0o600)
    return root


def inventory_of(site: Path):
    return load_inventory(site / "inventory.yaml")


LOADERS = {
    "inventory": (INVENTORY, lambda site: load_inventory),
    "playbook": (PLAYBOOK, lambda site: lambda path: load_playbook(path, REGISTRY, inventory_of(site))),
    "serve settings": (SETTINGS, lambda site: lambda path: load_settings(path, {})),
    "knowledge file": (KNOWLEDGE, lambda site: read_knowledge),
}


def test_the_seeds_are_valid(site):
    """Each mutation starts from a file its loader accepts, so the mutations are what gets refused."""
    for name, (seed, loader) in LOADERS.items():
        file = site / f"seed-{name.replace(' ', '-')}.yaml"
        file.write_text(dump(seed), encoding="utf-8")
        loader(site)(file)
    agent_file = site / "agent.yaml"
    agent_file.write_text(dump(AGENT), encoding="utf-8")
    load_agent_config({}, str(agent_file))


@pytest.mark.parametrize("name", list(LOADERS))
def test_a_hostile_file_is_loaded_or_refused_with_a_located_config_error(site, name):
    seed, loader = LOADERS[name]
    load = loader(site)
    file = site / f"fuzz-{name.replace(' ', '-')}.yaml"  # not the site's inventory.yaml

    outcomes: list[bool] = []

    @FUZZ
    @given(text=st.one_of(hostile_text(seed), tame(seed), st.binary(max_size=200)))
    def fuzz(text):
        outcomes.append(load_or_config_error(load, file, text))

    fuzz()
    assert_both_outcomes(outcomes)


@pytest.mark.parametrize("name", list(LOADERS))
@pytest.mark.parametrize("text", EXTREMES, ids=[f"extreme{n}" for n in range(len(EXTREMES))])
def test_alias_bombs_and_deep_nesting_are_refused_with_a_config_error(site, name, text):
    seed, loader = LOADERS[name]
    file = site / f"extreme-{name.replace(' ', '-')}.yaml"
    file.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        loader(site)(file)
    assert_located(caught.value, file)


def test_a_hostile_agent_config_file_is_loaded_or_refused_with_an_agent_config_error(site):
    file = site / "agent.yaml"

    outcomes: list[bool] = []

    def load(path: Path) -> None:
        try:
            load_agent_config({}, str(path))
            outcomes.append(True)
        except AgentConfigError as exc:
            outcomes.append(False)
            # Each problem names the file (and line) or, for a required setting the file lacks, its flag.
            assert exc.problems and all(str(path) in p or p.startswith("--") for p in exc.problems), exc.problems
            assert all(len(p) <= MAX_MESSAGE for p in exc.problems)

    @FUZZ
    @given(text=st.one_of(hostile_text(AGENT), tame(AGENT), st.binary(max_size=200)))
    def fuzz(text):
        # Relative paths in the file are read against its directory: the seed's token file is there.
        load_or_config_error(load, file, text)

    fuzz()
    assert_both_outcomes(outcomes)


# -- what the fuzz found, each pinned by a test of its own -----------------------------------------------


@pytest.mark.parametrize("depth", [150, 900])
def test_values_nested_deeper_than_the_limit_are_a_config_error_with_their_line(site, depth):
    """Building the values recursed once per level: a few hundred levels were a RecursionError."""
    file = site / "deep.yaml"
    file.write_text("all:\n  vars:\n    x: " + "[" * depth + "]" * depth + "\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="nested more than 100 levels deep") as caught:
        load_inventory(file)
    [problem] = caught.value.problems
    assert (problem.file, problem.line) == (str(file), 3)


def test_a_document_expanding_to_half_a_million_values_through_aliases_is_refused_quickly(site):
    """Only a million values in all were refused: an eleven-line file could make half a million (and a million
    took seconds and 160 MB to refuse)."""
    file = site / "laughs.yaml"
    file.write_text(laughs(6, 9, "all"), encoding="utf-8")  # 9 ** 6 = 531441 values under "all"
    with pytest.raises(ConfigError, match="more than 100000 values through aliases") as caught:
        load_yaml(file)
    [problem] = caught.value.problems
    assert problem.file == str(file) and problem.line


def test_merging_defaults_into_thousands_of_hosts_still_loads(site):
    """The alias limit leaves room for what aliases are for."""
    hosts = "".join(f"        h{n:04}: {{<<: *defaults, ansible_host: 10.0.{n // 256}.{n % 256}}}\n"
                    for n in range(3000))
    file = site / "merged.yaml"
    file.write_text("all:\n  vars:\n    base: &defaults {ansible_user: patrol, ansible_port: 22, "
                    "patrol_category: hosts, snmp_version: 2c, ansible_become: false}\n"
                    "  children:\n    linux:\n      hosts:\n" + hosts, encoding="utf-8")
    inventory = load_inventory(file)
    assert len(inventory.hosts) == 3000 and inventory.hosts["h2999"].vars["ansible_user"] == "patrol"


@pytest.mark.parametrize("value", ["!!int x", "!!float abc", "!!bool maybe", "!!timestamp 2026-13-45",
                                   "!!timestamp soon", "{!!int x: 1}"])
def test_a_value_that_its_explicit_tag_cannot_read_is_a_config_error_with_its_line(site, value):
    """PyYAML's constructors trust an explicit tag: these raised ValueError, KeyError or AttributeError."""
    assert_refused_variable(site, value, "is not a valid !!")


def assert_refused_variable(site: Path, value: str, match: str) -> None:
    """An inventory whose fourth line sets a variable to ``value`` is refused with one problem, on that line."""
    file = site / "variable.yaml"
    file.write_text(f"all:\n  vars:\n    ok: 1\n    x: {value}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=match) as caught:
        load_inventory(file)
    [problem] = caught.value.problems
    assert (problem.file, problem.line) == (str(file), 4)


@pytest.mark.parametrize("digits", [400, 5000])
def test_a_number_beyond_float_range_is_a_config_error_with_its_line(site, digits):
    """Past float range, float() in the checks' validators overflowed; past 4,300 digits int() itself refuses."""
    assert_refused_variable(site, "9" * digits, r"the number 9{40}\.\.\. is too large")


@pytest.mark.parametrize("entry", ["web[1:200000]", "web[0:99999999999]", "r[0:999][0:999]"])
def test_a_host_range_of_more_than_100000_hosts_is_refused_naming_it(site, entry):
    """"web[0:99999999999]" was expanded name by name until memory ran out."""
    file = site / "range.yaml"
    file.write_text(f"all:\n  hosts:\n    web01: {{}}\n    '{entry}': {{}}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="expands to more than 100000 hosts") as caught:
        load_inventory(file)
    [problem] = caught.value.problems
    assert (problem.file, problem.line, problem.path) == (str(file), 4, ("all", "hosts", entry))


# What the fuzz found in the agent's configuration (agent/config.py): each escaped as another exception.


def refusal(file: Path) -> str:
    """The one problem the agent's configuration loader reports in ``file`` (others name the flags of required
    settings the file then lacks)."""
    with pytest.raises(AgentConfigError) as caught:
        load_agent_config({}, str(file))
    [problem] = [p for p in caught.value.problems if not p.startswith("--")]
    assert problem.startswith(str(file)), problem
    return problem


def test_agent_config_that_is_not_utf8_is_an_agent_config_error(site):
    """A UnicodeDecodeError escaped: only OSError was caught."""
    file = site / "agent-latin1.yaml"
    file.write_bytes("name: w\xe9b01\n".encode("latin-1"))
    assert "expected UTF-8 text (byte 7 is not)" in refusal(file)


def test_agent_config_with_a_huge_spool_size_is_an_agent_config_error(site):
    """int(float("9" * 400) * unit) is int(inf): an OverflowError escaped."""
    file = site / "agent-huge.yaml"
    file.write_text(dump({**AGENT, "max_spool_bytes": "9" * 400 + " GiB"}), encoding="utf-8")
    problem = refusal(file)
    assert ": max_spool_bytes: expected a size of at least" in problem and len(problem) < 400, problem


@pytest.mark.parametrize("quoted", [False, True])
def test_agent_config_with_a_number_of_thousands_of_digits_is_an_agent_config_error(site, quoted):
    """int() refuses more than 4,300 digits: a ValueError escaped, from PyYAML or from the whole-number check."""
    file = site / "agent-digits.yaml"
    number = "9" * 5000
    others = {k: v for k, v in AGENT.items() if k != "batch_max_results"}
    file.write_text(dump(others) + f"batch_max_results: {repr(number) if quoted else number}\n", encoding="utf-8")
    problem = refusal(file)
    if quoted:
        assert ": batch_max_results: expected a whole number from 1 to" in problem and len(problem) < 400, problem
    else:
        assert "a number of thousands of digits" in problem


def test_agent_config_with_a_huge_interval_is_an_agent_config_error(site):
    """float() of an integer beyond float range: an OverflowError escaped."""
    file = site / "agent-interval.yaml"
    file.write_text(dump({**AGENT, "push_interval": 10**400}), encoding="utf-8")
    assert ": push_interval: expected seconds from" in refusal(file)


def test_agent_config_with_a_badly_tagged_value_is_an_agent_config_error(site):
    """PyYAML's constructors raise ValueError (also KeyError, AttributeError) for a value its explicit tag cannot
    read: only yaml.YAMLError was caught."""
    file = site / "agent-tagged.yaml"
    others = {k: v for k, v in AGENT.items() if k != "batch_max_results"}
    file.write_text(dump(others) + "batch_max_results: !!int x\n", encoding="utf-8")
    assert "not valid YAML: a value cannot be read as its type" in refusal(file)


def test_agent_config_messages_stay_short_for_an_alias_bomb(site):
    """Refused values were quoted whole: an alias bomb under a setting made a message of millions of characters
    (nine levels: a hang)."""
    file = site / "agent-laughs.yaml"
    file.write_text(laughs(9, 9, "name") + dump({k: v for k, v in AGENT.items() if k != "name"}),
                    encoding="utf-8")
    with pytest.raises(AgentConfigError) as caught:
        load_agent_config({}, str(file))
    problems = caught.value.problems
    assert any(": name: expected the inventory host name" in p for p in problems), problems
    assert all(len(p) <= 1000 for p in problems), max(map(len, problems))
