"""Ansible host patterns over a real inventory file."""
from __future__ import annotations

import pytest

from checks.errors import ConfigError
from collector.config.inventory import Inventory, load_inventory
from collector.config.patterns import order, split

INVENTORY = """
    all:
      children:
        linux:
          hosts:
            web01:
            web02:
            db01:
            db02:
            db10:
          children:
            prod:
              hosts:
                web01:
                db01:
        web:
          hosts:
            web01:
            web02:
        windows:
      hosts:
        mail.example.com:
    """


@pytest.fixture
def inventory(write) -> Inventory:
    return load_inventory(write("inventory.yaml", INVENTORY))


def names(inventory: Inventory, pattern: str) -> list[str]:
    return [target.name for target in inventory.select(pattern)]


EVERYONE = ["web01", "web02", "db01", "db02", "db10", "mail.example.com"]


@pytest.mark.parametrize("pattern, expected", [
    ("all", EVERYONE),
    ("*", EVERYONE),
    ("linux", ["web01", "web02", "db01", "db02", "db10"]),
    ("prod", ["web01", "db01"]),
    ("db02", ["db02"]),
    ("ungrouped", ["mail.example.com"]),
    ("windows", []),  # a group with no hosts: nothing, but no error
    ("web*", ["web01", "web02"]),  # the group 'web' and the hosts web01, web02
    ("db[0-9]*", ["db01", "db02", "db10"]),
    ("db?0", ["db10"]),
    ("*.example.com", ["mail.example.com"]),
    ("~db0[12]", ["db01", "db02"]),
    ("~(web|db)01", ["web01", "db01"]),
    ("~.*01", ["web01", "db01"]),
    ("web:db01", ["web01", "web02", "db01"]),
    ("web,db01", ["web01", "web02", "db01"]),
    ("db01, web02", ["web02", "db01"]),  # inventory order, whatever the pattern's order
    ("linux:&prod", ["web01", "db01"]),
    ("linux:!prod", ["web02", "db02", "db10"]),
    ("linux:&web:!prod", ["web02"]),
    ("!prod", ["web02", "db02", "db10", "mail.example.com"]),  # only exclusions: from all
    ("&prod", ["web01", "db01"]),
])
def test_pattern_forms(inventory, pattern, expected):
    assert names(inventory, pattern) == expected


def test_unions_first_then_intersections_then_exclusions(inventory):
    # Written left to right this would be ((prod - web01) + web); Ansible applies all unions first.
    assert names(inventory, "prod:!web01:web") == ["web02", "db01"]
    assert names(inventory, "!web01:prod:web") == ["web02", "db01"]
    # '&' after a later union still narrows the whole union.
    assert names(inventory, "web:&prod:db02") == ["web01"]


def test_regex_matches_from_the_start_of_the_name_as_ansible_does(inventory):
    with pytest.raises(ConfigError):
        inventory.select("~eb01")  # re.match: no name starts with 'eb01'


def test_unknown_pattern_suggests_a_name(inventory, tmp_path):
    with pytest.raises(ConfigError) as excinfo:
        inventory.select("webz")
    assert str(excinfo.value) == (
        f"host pattern 'webz' matches no host or group in {tmp_path / 'inventory.yaml'} (did you mean 'web'?)"
    )


def test_every_unmatched_term_is_reported(inventory):
    with pytest.raises(ConfigError) as excinfo:
        inventory.select("linux:&prd:!dbx9")
    messages = [p.message for p in excinfo.value.problems]
    assert len(messages) == 2
    assert messages[0].startswith("host pattern 'linux:&prd:!dbx9': 'prd' matches no host or group")
    assert "(did you mean 'prod'?)" in messages[0]
    assert "'dbx9'" in messages[1]


@pytest.mark.parametrize("pattern, message", [
    ("", "empty"),
    (" , ", "empty"),
    ("~web[0-9", "unclosed"),
    ("~(web", "not a valid regular expression"),
])
def test_malformed_patterns(inventory, pattern, message):
    with pytest.raises(ConfigError, match=message):
        inventory.select(pattern)


def test_implicit_localhost(inventory):
    (target,) = inventory.select("localhost")
    assert target.name == "localhost" and target.is_local and target.groups == ()
    assert "localhost" not in names(inventory, "all")


def test_a_listed_localhost_is_the_inventory_one(write):
    path = write("inventory.yaml", "all:\n  hosts:\n    localhost: {ansible_port: 2022}\n")
    inventory = load_inventory(path)
    (target,) = inventory.select("localhost")
    assert target.vars == {"ansible_port": 2022} and target.groups == ("all", "ungrouped")


def test_split_and_order():
    assert split("a:b:&c:!d") == ["a", "b", "&c", "!d"]
    assert split("a, b ,c") == ["a", "b", "c"]
    assert split("db[0:3]:web") == ["db[0:3]", "web"]  # a bracket keeps its colon
    assert split("fe80::1") == ["fe80::1"]
    assert order(["!a", "b", "&c", "d"]) == ["b", "d", "&c", "!a"]
    assert order(["!a"]) == ["all", "!a"]
