"""Inventory variables of SSH targets: validated before any connection, every problem named."""

from __future__ import annotations

import getpass
from pathlib import Path

import pytest

from checks.ssh.settings import Endpoint, SshSettings, SshSettingsError
from checks.target import Target


def settings(**vars_) -> SshSettings:
    return SshSettings.from_target(Target("db01", vars_))


def test_defaults_strict_host_keys_in_the_users_known_hosts(tmp_path):
    key = tmp_path / "id"
    key.write_text("x")
    s = settings(ansible_host="10.0.0.21", ansible_user="patrol", ssh_private_key_file=str(key))
    assert s.endpoint == Endpoint("10.0.0.21", 22, "patrol")
    assert s.policy == "strict" and s.known_hosts == Path("~/.ssh/known_hosts").expanduser()
    assert s.endpoint.known_hosts_name == "10.0.0.21" and s.timeout == 10.0 and s.jump is None
    assert Endpoint("h", 2222, "u").known_hosts_name == "[h]:2222"


def test_every_problem_is_reported_at_once_with_its_variable():
    with pytest.raises(SshSettingsError) as err:
        settings(ansible_user=7, ansible_port="x", ssh_host_key_policy="ask", ssh_timeout=0, ssh_jump_host="a@b@c")
    message = str(err.value)
    for expected in (
        "db01: ",
        "ansible_user: expected the account name to log in as, not 7",
        "ansible_port: must be a TCP port",
        "ssh_host_key_policy: must be one of strict, tofu, accept-new, not 'ask'",
        "ssh_private_key_file: set it or ssh_password",
        "ssh_timeout: must be a number of seconds",
        "ssh_jump_host: expected [user@]host[:port]",
    ):
        assert expected in message, expected


def test_missing_key_file_is_named():
    with pytest.raises(SshSettingsError, match="ssh_private_key_file: /nonexistent/key does not exist"):
        settings(ansible_user="u", ssh_private_key_file="/nonexistent/key")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("bastion", Endpoint("bastion", 22, "patrol")),
        ("jump@bastion:2200", Endpoint("bastion", 2200, "jump")),
        ("[::1]:2222", Endpoint("::1", 2222, "patrol")),
    ],
)
def test_jump_host_forms(text, expected):
    s = settings(ansible_user="patrol", ssh_password={"env": "X"}, ssh_jump_host=text, ssh_timeout=3)
    assert s.jump == expected and s.has_password and s.timeout == 3.0


def test_accept_new_is_openssh_s_name_for_tofu():
    assert settings(ansible_user="u", ssh_password={"env": "X"}, ssh_host_key_policy="accept-new").policy == "tofu"


def test_the_account_defaults_to_the_local_user_as_in_ansible():
    assert settings(ssh_password={"env": "X"}).endpoint.user == getpass.getuser()
