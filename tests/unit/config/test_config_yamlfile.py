"""YAML with line numbers: what the loaders' messages point at."""
from __future__ import annotations

import pytest

from checks.errors import ConfigError, Problem
from collector.config.yamlfile import LineMap, load_yaml, locate


def only_problem(excinfo: pytest.ExceptionInfo[ConfigError]) -> Problem:
    assert len(excinfo.value.problems) == 1
    return excinfo.value.problems[0]


def test_plain_data_and_the_line_of_every_value(write):
    path = write("doc.yaml", """
        all:
          children:
            linux:
              hosts:
                web01:
                  ansible_port: 2222
                  tags: [a, b]
        when: 2024-01-01
        """)
    data, lines = load_yaml(path)
    assert data["all"]["children"]["linux"]["hosts"]["web01"] == {"ansible_port": 2222, "tags": ["a", "b"]}
    assert lines.line(()) == 1
    assert lines.line(("all", "children", "linux", "hosts", "web01")) == 5
    assert lines.line(("all", "children", "linux", "hosts", "web01", "ansible_port")) == 6
    assert lines.line(("all", "children", "linux", "hosts", "web01", "tags", 1)) == 7
    # A path that does not exist points at its deepest known ancestor (a missing key: its mapping).
    assert lines.line(("all", "children", "linux", "hosts", "web01", "ansible_user")) == 5
    assert lines.line(("nowhere", 3)) == 1


def test_merge_keys_and_aliases_keep_yaml_semantics(write):
    path = write("doc.yaml", """
        defaults: &defaults
          port: 22
          user: root
        web01:
          <<: *defaults
          port: 2222
        web02: *defaults
        """)
    data, lines = load_yaml(path)
    assert data["web01"] == {"port": 2222, "user": "root"}
    assert data["web02"] == {"port": 22, "user": "root"}
    assert data["web02"] is not data["defaults"]  # expanded, not shared: callers may modify their copy
    assert lines.line(("web01", "port")) == 6  # the overriding key, not the merged one
    assert lines.line(("web01", "user")) == 3  # where the merged value is written


def test_duplicate_key_is_an_error_naming_both_lines(write):
    path = write("inventory.yaml", """
        all:
          hosts:
            web01: {ansible_port: 22}
            db01: {}
            web01: {ansible_port: 2222}
        """)
    with pytest.raises(ConfigError) as excinfo:
        load_yaml(path)
    problem = only_problem(excinfo)
    assert (problem.file, problem.line, problem.path) == (str(path), 5, ("all", "hosts", "web01"))
    assert "duplicate key 'web01'" in problem.message and "line 3" in problem.message


def test_syntax_error_names_the_line_and_what_was_expected(write):
    path = write("broken.yaml", """
        name: x
        tasks: [a, b
        other: 1
        """)
    with pytest.raises(ConfigError) as excinfo:
        load_yaml(path)
    problem = only_problem(excinfo)
    assert problem.file == str(path)
    assert problem.line == 3
    assert "invalid YAML" in problem.message and "expected ',' or ']'" in problem.message
    assert str(problem).startswith(f"{path}:3: invalid YAML")


def test_bad_indentation_is_reported_at_its_line(write):
    path = write("broken.yaml", "a:\n  b: 1\n c: 2\n")
    with pytest.raises(ConfigError) as excinfo:
        load_yaml(path)
    assert only_problem(excinfo).line == 3


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n"])
def test_empty_file_is_an_error(write, text):
    path = write("empty.yaml", text)
    with pytest.raises(ConfigError) as excinfo:
        load_yaml(path)
    problem = only_problem(excinfo)
    assert problem.file == str(path) and "empty" in problem.message


def test_missing_file_directory_and_binary_file(tmp_path):
    with pytest.raises(ConfigError) as excinfo:
        load_yaml(tmp_path / "nope.yaml")
    assert str(excinfo.value) == f"{tmp_path / 'nope.yaml'}: file not found"

    with pytest.raises(ConfigError) as excinfo:
        load_yaml(tmp_path)
    assert "directory" in only_problem(excinfo).message

    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"a: \xff\xfe\n")
    with pytest.raises(ConfigError) as excinfo:
        load_yaml(binary)
    assert "UTF-8" in only_problem(excinfo).message


def test_unknown_tag_and_several_documents_are_errors(write):
    with pytest.raises(ConfigError) as excinfo:
        load_yaml(write("vault.yaml", "a: 1\nsecret: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n"))
    assert only_problem(excinfo).line == 2 and "!vault" in only_problem(excinfo).message

    with pytest.raises(ConfigError) as excinfo:
        load_yaml(write("two.yaml", "a: 1\n---\nb: 2\n"))
    assert "single document" in only_problem(excinfo).message


def test_recursive_alias_is_an_error(write):
    with pytest.raises(ConfigError) as excinfo:
        load_yaml(write("loop.yaml", "a: &x\n  b: *x\n"))
    assert "contains it" in only_problem(excinfo).message


def test_locate_fills_file_and_line_but_keeps_known_locations():
    lines = LineMap({(): 1, ("tasks",): 4, ("tasks", 0): 5})
    problems = [Problem(("tasks", 0, "hosts"), "bad"), Problem((), "elsewhere", "other.yaml", 9)]
    assert locate(problems, "play.yaml", lines) == [
        Problem(("tasks", 0, "hosts"), "bad", "play.yaml", 5),
        Problem((), "elsewhere", "other.yaml", 9),
    ]
