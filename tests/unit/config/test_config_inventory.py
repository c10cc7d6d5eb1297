"""The Ansible YAML inventory: groups, precedence, validation of the connection vocabulary."""
from __future__ import annotations

import pytest

from checks.errors import ConfigError
from collector.config.inventory import expand_range, host_names, load_inventory

PRECEDENCE = """
    all:
      vars: {level: all, site: hq, only_all: 1}
      children:
        linux:
          vars: {level: linux, only_linux: 1}
          hosts:
            web01: {ansible_host: 10.0.0.11}
            db01:
          children:
            prod:
              vars: {level: prod}
              hosts:
                db01: {level: host}
                web02:
        apache:
          vars: {level: apache, web: apache}
          hosts:
            web01:
        nginx:
          vars: {level: nginx, web: nginx}
          hosts:
            web01: {ansible_port: 8022}
      hosts:
        lonely:
    backup:
      hosts:
        bak01:
    """


def test_vars_merge_with_ansible_precedence(write):
    inventory = load_inventory(write("inventory.yaml", PRECEDENCE))
    db01 = inventory.hosts["db01"].vars
    web01 = inventory.hosts["web01"].vars
    web02 = inventory.hosts["web02"].vars
    assert db01["level"] == "host"  # host vars beat every group
    assert web02["level"] == "prod"  # a child group beats its parent
    assert web02["only_linux"] == 1 and web02["only_all"] == 1  # inherited through the parents
    # Siblings at the same depth merge in alphabetical order: nginx after linux and apache.
    assert web01["level"] == "nginx" and web01["web"] == "nginx"
    # A host listed twice gets the union of its variables.
    assert web01["ansible_host"] == "10.0.0.11" and web01["ansible_port"] == 8022
    assert inventory.hosts["lonely"].vars == {"level": "all", "site": "hq", "only_all": 1}


def test_groups_children_and_implicit_groups(write):
    inventory = load_inventory(write("inventory.yaml", PRECEDENCE))
    assert list(inventory.hosts) == ["web01", "db01", "web02", "lonely", "bak01"]  # first appearance
    assert inventory.groups["linux"] == {"web01", "db01", "web02"}  # including its child prod
    assert inventory.groups["prod"] == {"db01", "web02"}
    assert inventory.groups["all"] == set(inventory.hosts)
    assert inventory.groups["ungrouped"] == {"lonely"}
    assert inventory.groups["backup"] == {"bak01"}  # a top-level group is a child of all
    assert inventory.hosts["web02"].groups == ("all", "linux", "prod")
    assert inventory.hosts["web01"].groups == ("all", "apache", "linux", "nginx")
    assert inventory.hosts["lonely"].groups == ("all", "ungrouped")
    assert inventory.hosts["web01"].address == "10.0.0.11" and inventory.hosts["web01"].port(22) == 8022


def test_file_without_all_and_empty_groups(write):
    inventory = load_inventory(write("inventory.yaml", """
        linux:
          hosts:
            web01:
        empty:
        network:
          hosts:
        """))
    assert inventory.groups["empty"] == set() and inventory.groups["network"] == set()
    assert inventory.hosts["web01"].groups == ("all", "linux")
    assert inventory.select("empty") == []  # a group that exists is not an error, even when empty


def test_host_ranges_ports_and_single_host_strings(write):
    inventory = load_inventory(write("inventory.yaml", """
        all:
          children:
            web:
              hosts:
                web[01:03].example.com:
                db-[a:b]:2222: {ansible_user: patrol}
                "[2001:db8::1]:830":
            one:
              hosts: solo
        """))
    assert list(inventory.hosts) == ["web01.example.com", "web02.example.com", "web03.example.com",
                                     "db-a", "db-b", "2001:db8::1", "solo"]
    assert inventory.hosts["db-b"].vars == {"ansible_port": 2222, "ansible_user": "patrol"}
    assert inventory.hosts["2001:db8::1"].vars == {"ansible_port": 830}


def test_host_name_forms():
    assert host_names("web01") == (["web01"], None)
    assert host_names("web01:2222") == (["web01"], 2222)
    assert host_names("fe80::1") == (["fe80::1"], None)
    assert host_names("10.0.0.1:22") == (["10.0.0.1"], 22)
    assert expand_range("n[1:7:3]") == ["n1", "n4", "n7"]
    assert expand_range("r[1:2]-[a:b]") == ["r1-a", "r1-b", "r2-a", "r2-b"]
    for bad in ("web[3:1]", "web[01:100]", "web[a:]", "web[1:5:0]"):
        with pytest.raises(ValueError):
            expand_range(bad)


def test_architecture_example_loads(config_fixtures):
    inventory = load_inventory(config_fixtures / "inventory.yaml")
    db01 = inventory.hosts["db01"]
    assert db01.groups == ("all", "linux", "postgres")
    assert db01.secret_keys() == ["postgres_password"]
    assert inventory.hosts["core-sw1"].vars["snmp_auth_key"] == {"env": "SNMP_AUTH"}
    assert inventory.hosts["web01"].has_agent


def test_wrong_types_name_file_line_and_field(write):
    path = write("inventory.yaml", """
        all:
          children:
            linux:
              hosts:
                web01:
                  ansible_host: 10.0
                  ansible_port: twenty-two
                  ansible_user: [root]
                  connection: winrm
                  patrol_agent: "yes"
                  ssh_host_key_policy: lax
                  snmp_version: 2
                  snmp_port: 70000
                  unknown_var: anything goes
        """)
    with pytest.raises(ConfigError) as excinfo:
        load_inventory(path)
    problems = excinfo.value.problems
    assert [(p.path[-1], p.line) for p in problems] == [
        ("ansible_host", 6), ("ansible_port", 7), ("ansible_user", 8), ("connection", 9),
        ("patrol_agent", 10), ("ssh_host_key_policy", 11), ("snmp_version", 12), ("snmp_port", 13),
    ]
    assert all(p.file == str(path) for p in problems)
    assert str(problems[1]) == (f"{path}:7: all.children.linux.hosts.web01.ansible_port: "
                                "expected a port number from 1 to 65535 (got 'twenty-two')")
    assert "'local', 'ssh'" in problems[3].message
    assert "'strict', 'tofu', 'accept-new'" in problems[5].message


def test_accepted_vocabulary_values(write):
    inventory = load_inventory(write("inventory.yaml", """
        all:
          vars: {snmp_version: 3, ansible_port: "2222", ansible_connection: local,
                 ssh_host_key_policy: accept-new}
          hosts:
            a: {snmp_version: 1, snmp_port: 161, patrol_agent: false, ansible_host: null, ssh_password: null}
            b: {snmp_version: "2c", connection: ssh}
        """))
    assert inventory.hosts["a"].is_local and inventory.hosts["b"].connection == "ssh"


@pytest.mark.parametrize("name", [
    "ssh_password", "snmp_community", "postgres_password", "snmp_auth_key", "snmp_priv_key",
    "api_token", "client_secret", "ansible_become_password",
])
def test_inline_secret_is_rejected_without_echoing_it(write, name):
    path = write("inventory.yaml", f"""
        all:
          hosts:
            db01:
              {name}: s3cr3t-value
        """)
    with pytest.raises(ConfigError) as excinfo:
        load_inventory(path)
    (problem,) = excinfo.value.problems
    assert (problem.path, problem.line) == (("all", "hosts", "db01", name), 4)
    assert "inline" in problem.message and "{env: VARIABLE}" in problem.message
    assert "s3cr3t" not in str(excinfo.value)


def test_secret_references_are_accepted_and_malformed_ones_rejected(write):
    ok = write("ok.yaml", """
        all:
          vars: {snmp_community: {env: SNMP_COMMUNITY}}
          hosts:
            db01: {postgres_password: {file: /etc/patrol/pg.secret}}
        """)
    assert load_inventory(ok).hosts["db01"].secret_keys() == ["snmp_community", "postgres_password"]
    bad = write("bad.yaml", """
        all:
          vars:
            snmp_community: {env: ""}
            tomcat_password: {vault: x}
            redfish_password: 1234
        """)
    with pytest.raises(ConfigError) as excinfo:
        load_inventory(bad)
    assert [p.line for p in excinfo.value.problems] == [3, 4, 5]
    assert "non-empty" in excinfo.value.problems[0].message
    assert "expected a secret reference" in excinfo.value.problems[1].message


def test_structure_problems_are_all_reported_with_hints(write):
    path = write("inventory.yaml", """
        all:
          children:
            linux:
              host:
                web01:
              web02: {}
            db:
              hosts: [db01, db02]
              vars: [a]
            net: 5
          hosts:
            web03: [1]
        """)
    with pytest.raises(ConfigError) as excinfo:
        load_inventory(path)
    messages = {p.line: p.message for p in excinfo.value.problems}
    assert set(messages) == {4, 6, 8, 9, 10, 12}
    assert messages[4] == "unknown key 'host' in group 'linux' (did you mean 'hosts'?)"
    assert "hosts go under 'hosts:'" in messages[6]
    assert "'hosts' must be a mapping" in messages[8] and "got a list" in messages[8]
    assert "'vars' must be a mapping" in messages[9]
    assert "group 'net' must be a mapping" in messages[10]
    assert "variables of host 'web03'" in messages[12]


def test_group_loops_and_all_as_a_child_are_errors(write):
    path = write("inventory.yaml", """
        a:
          children:
            b:
              children:
                a:
        c:
          children:
            all:
        """)
    with pytest.raises(ConfigError) as excinfo:
        load_inventory(path)
    messages = [p.message for p in excinfo.value.problems]
    assert len(messages) == 2
    assert "loop" in messages[0]
    assert "'all'" in messages[1]


def test_root_must_be_a_mapping(write):
    with pytest.raises(ConfigError) as excinfo:
        load_inventory(write("inventory.yaml", "- web01\n- web02\n"))
    (problem,) = excinfo.value.problems
    assert problem.line == 1 and "mapping of groups" in problem.message


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        load_inventory(tmp_path / "inventory.yaml")
