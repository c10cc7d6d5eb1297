"""restic and borg checks against real repositories the test makes (stale backups through the tools' own
--time / --timestamp options), wrong passwords, missing repositories and a repository that hangs."""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import time
from pathlib import Path

import pytest

from checks.status import Status

from .backup_support import by_item, require, run_check

pytestmark = pytest.mark.integration

RESTIC_PASSWORD = "restic-Pa55-" + os.urandom(4).hex()
BORG_PASSPHRASE = "borg-Pa55-" + os.urandom(4).hex()
WRONG = "wrong-Pa55-" + os.urandom(4).hex()
HOST = socket.gethostname()


def tool(env: dict, *argv: str) -> str:
    done = subprocess.run(argv, env={**os.environ, **env}, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, f"{' '.join(argv)}: {done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("backups")
    (root / "src").mkdir()
    (root / "src" / "data.bin").write_bytes(os.urandom(50_000))
    # A borg repository whose config is a FIFO: opening it blocks forever, like a hung network mount.
    (root / "hung").mkdir()
    os.mkfifo(root / "hung" / "config")
    return root


@pytest.fixture(autouse=True)
def tool_dirs(workdir, monkeypatch):
    """The tools' caches and borg's security records in the test's directory, not root's home; the
    passwords in the variables the inventory references."""
    monkeypatch.setenv("RESTIC_CACHE_DIR", str(workdir / "restic-cache"))
    monkeypatch.setenv("BORG_BASE_DIR", str(workdir / "borg-base"))
    monkeypatch.setenv("TEST_RESTIC_PW", RESTIC_PASSWORD)
    monkeypatch.setenv("TEST_BORG_PW", BORG_PASSPHRASE)
    monkeypatch.setenv("TEST_WRONG_PW", WRONG)


@pytest.fixture(scope="module")
def restic_repo(workdir) -> Path:
    require("restic")
    repo = workdir / "restic"
    env = {
        "RESTIC_REPOSITORY": str(repo),
        "RESTIC_PASSWORD": RESTIC_PASSWORD,
        "RESTIC_CACHE_DIR": str(workdir / "restic-cache"),
    }
    tool(env, "restic", "init")
    tool(env, "restic", "backup", "--json", str(workdir / "src"))
    # A host whose last backup is years old, made with restic's own --time (and --host) options.
    tool(env, "restic", "backup", "--host", "oldhost", "--time", "2020-01-01 00:00:00", str(workdir / "src"))
    return repo


@pytest.fixture(scope="module")
def borg_repo(workdir) -> Path:
    require("borg")
    repo = workdir / "borg"
    env = {"BORG_REPO": str(repo), "BORG_PASSPHRASE": BORG_PASSPHRASE, "BORG_BASE_DIR": str(workdir / "borg-base")}
    tool(env, "borg", "init", "--encryption=repokey-blake2")
    tool(env, "borg", "create", "--timestamp", "2020-01-01T00:00:00", "::old-2020", str(workdir / "src"))
    tool(env, "borg", "create", "--json", "::new-today", str(workdir / "src"))
    return repo


def assert_secret_nowhere(results, caplog, *secrets: str) -> None:
    text = json.dumps([r.to_json_dict() for r in results]) + caplog.text
    for secret in secrets:
        assert secret not in text


# -- restic ----------------------------------------------------------------------------------------

RESTIC_VARS = {"restic_password": {"env": "TEST_RESTIC_PW"}}


def test_restic_fresh_host_ok_and_stale_host_critical(restic_repo, workdir):
    results = by_item(run_check("restic", {"repository": str(restic_repo), "name": "r"}, RESTIC_VARS))
    paths = str(workdir / "src")
    fresh, stale = results[f"r {HOST}:{paths}"], results[f"r oldhost:{paths}"]
    assert fresh.status is Status.OK, fresh.summary
    assert fresh.metric("age").value < 600
    assert fresh.metric("size").value == 50_000  # restic stats: the restore size of the snapshot
    assert stale.status is Status.CRITICAL and stale.metric("age").value > 5 * 365 * 86400
    assert "age" in stale.summary and "> 93600" in stale.summary


def test_restic_filters_and_an_empty_selection(restic_repo):
    results = run_check(
        "restic",
        {"repository": str(restic_repo), "hosts": ["oldhost"], "max_age": "3000d", "stats": False},
        RESTIC_VARS,
    )
    assert [r.status for r in results] == [Status.OK] and results[0].metric("size") is None
    (none,) = run_check("restic", {"repository": str(restic_repo), "hosts": ["nobody"]}, RESTIC_VARS)
    assert none.status is Status.CRITICAL and none.summary == "no snapshot found (hosts nobody)"


def test_restic_wrong_password_is_unknown_and_never_shown(restic_repo, caplog):
    caplog.set_level(logging.DEBUG)
    results = run_check("restic", {"repository": str(restic_repo)}, {"restic_password": {"env": "TEST_WRONG_PW"}})
    (result,) = results
    assert result.status is Status.UNKNOWN and result.item == str(restic_repo)
    assert result.summary.startswith("wrong repository password (restic: Fatal: wrong password or no key found")
    assert_secret_nowhere(results, caplog, WRONG, RESTIC_PASSWORD)


def test_restic_missing_password_variable_is_unknown(restic_repo):
    (result,) = run_check("restic", {"repository": str(restic_repo)}, {"restic_password": {"env": "TEST_UNSET_PW"}})
    assert result.status is Status.UNKNOWN and "TEST_UNSET_PW is not set" in result.summary


def test_restic_missing_repository_is_critical(workdir):
    (result,) = run_check("restic", {"repository": str(workdir / "no-such-repo")}, RESTIC_VARS)
    assert result.status is Status.CRITICAL and result.summary.startswith("repository not found:")


def test_restic_hanging_repository_is_unknown_at_the_timeout(restic_repo):
    # A REST server that accepts connections and never answers (restic checks a local repository's
    # config size before opening it, so the FIFO that hangs borg does not hang restic).
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        repository = f"rest:http://127.0.0.1:{silent.getsockname()[1]}/"
        started = time.monotonic()
        (result,) = run_check("restic", {"repository": repository, "timeout": 4}, RESTIC_VARS)
    took = time.monotonic() - started
    assert result.status is Status.UNKNOWN and "restic did not finish within" in result.summary, result.summary
    assert 2.5 < took < 8


# -- borg ------------------------------------------------------------------------------------------

BORG_VARS = {"borg_password": {"env": "TEST_BORG_PW"}}


def test_borg_latest_archive_ok_with_size_and_duration(borg_repo):
    (result,) = run_check("borg", {"repository": str(borg_repo), "name": "b"}, BORG_VARS)
    assert result.item == f"b {HOST}" and result.status is Status.OK, result.summary
    assert result.summary.startswith("latest archive new-today ")
    assert result.metric("archives").value == 2 and result.metric("age").value < 600
    assert result.metric("size").value == 50_000 and result.metric("duration") is not None


def test_borg_stale_archive_is_critical(borg_repo):
    (result,) = run_check(
        "borg", {"repository": str(borg_repo), "glob_archives": "old-*", "warning": "1d", "critical": "2d"}, BORG_VARS
    )
    assert result.status is Status.CRITICAL and result.summary.startswith("latest archive old-2020 ")
    assert result.metric("archives").value == 1 and result.metric("age").value > 5 * 365 * 86400


def test_borg_wrong_passphrase_is_unknown_and_never_shown(borg_repo, caplog):
    caplog.set_level(logging.DEBUG)
    results = run_check("borg", {"repository": str(borg_repo)}, {"borg_password": {"env": "TEST_WRONG_PW"}})
    (result,) = results
    assert result.status is Status.UNKNOWN and result.summary.startswith("wrong repository passphrase")
    assert_secret_nowhere(results, caplog, WRONG, BORG_PASSPHRASE)


def test_borg_missing_repository_is_critical(workdir):
    (result,) = run_check("borg", {"repository": str(workdir / "no-such-borg")}, BORG_VARS)
    assert result.status is Status.CRITICAL and "does not exist" in result.summary


def test_borg_hanging_repository_is_unknown_at_the_timeout(workdir, borg_repo):
    started = time.monotonic()
    (result,) = run_check("borg", {"repository": str(workdir / "hung"), "timeout": 4}, BORG_VARS)
    took = time.monotonic() - started
    assert result.status is Status.UNKNOWN and "borg did not finish within" in result.summary, result.summary
    assert 2.5 < took < 8


def test_restic_over_ssh_gets_the_password_on_stdin(restic_repo, sshd, known_hosts, ssh_account, caplog):
    """The same check on an agentless host: restic runs as the SSH user, its password sent on stdin."""
    caplog.set_level(logging.DEBUG)
    import pwd
    import shutil
    import tempfile

    owner = pwd.getpwnam(ssh_account.user)
    root = Path(tempfile.mkdtemp(prefix="patrol-restic-"))
    try:
        root.chmod(0o755)
        shutil.copytree(restic_repo, root / "repo")
        for path in [root / "repo", *(root / "repo").rglob("*")]:
            os.chown(path, owner.pw_uid, owner.pw_gid)
        results = run_check(
            "restic",
            {"repository": str(root / "repo"), "name": "r", "hosts": [HOST]},
            sshd.target_vars(known_hosts, connection="ssh", **RESTIC_VARS),
        )
        (result,) = results
        assert result.status is Status.OK and result.metric("size").value == 50_000, result.summary
        wrong = run_check(
            "restic",
            {"repository": str(root / "repo")},
            sshd.target_vars(known_hosts, connection="ssh", restic_password={"env": "TEST_WRONG_PW"}),
        )
        assert wrong[0].status is Status.UNKNOWN and wrong[0].summary.startswith("wrong repository password")
        assert_secret_nowhere(results + wrong, caplog, WRONG, RESTIC_PASSWORD)
    finally:
        shutil.rmtree(root)
