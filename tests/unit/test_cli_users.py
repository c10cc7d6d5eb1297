"""``patrol user``: console users from the command line, with passwords from a file or the terminal."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from collector.cli import cli, main
from collector.store.store import Store
from collector.web.accounts import Accounts, LoginRefused


@pytest.fixture
def db(tmp_path):
    return f"sqlite:///{tmp_path}/p.db"


def patrol(capsys, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    out, err = capsys.readouterr()
    return exit_info.value.code or 0, out, err


def accounts(db: str) -> tuple[Store, Accounts]:
    store = Store.open(db)
    return store, Accounts.from_store(store)


def test_add_passwd_role_remove_with_password_files(tmp_path, db, capsys):
    secret = tmp_path / "pw"
    secret.write_text("first-admin-password\n", encoding="utf-8")
    code, out, _ = patrol(capsys, "user", "add", "root.admin", "--role", "admin", "--password-file", str(secret),
                          "--db", db)
    assert code == 0 and "added with role admin" in out
    store, users = accounts(db)
    assert users.login("root.admin", "first-admin-password").session.user.role == "admin"
    code, _, err = patrol(capsys, "user", "add", "root.admin", "--role", "viewer", "--password-file", str(secret),
                          "--db", db)
    assert code == 1 and "already exists" in err
    secret.write_text("second-admin-password\n", encoding="utf-8")
    assert patrol(capsys, "user", "passwd", "root.admin", "--password-file", str(secret), "--db", db)[0] == 0
    with pytest.raises(LoginRefused):
        users.login("root.admin", "first-admin-password")
    users.login("root.admin", "second-admin-password")
    code, out, _ = patrol(capsys, "user", "list", "--db", db)
    assert "root.admin" in out and "admin" in out and "second-admin-password" not in out and "$argon2" not in out
    assert patrol(capsys, "user", "remove", "root.admin", "--db", db)[0] == 0
    assert users.user("root.admin") is None
    code, _, err = patrol(capsys, "user", "remove", "root.admin", "--db", db)
    assert code == 1 and "no user 'root.admin'" in err
    store.close()


def test_a_weak_password_in_a_file_is_refused_before_anything_is_stored(tmp_path, db, capsys):
    secret = tmp_path / "pw"
    secret.write_text("short\n", encoding="utf-8")
    code, _, err = patrol(capsys, "user", "add", "li", "--role", "viewer", "--password-file", str(secret), "--db", db)
    assert code == 64 and "at least 12 characters" in err
    store, users = accounts(db)
    assert users.users() == []
    store.close()


def test_the_password_is_asked_twice_when_no_file_is_given(db):
    runner = CliRunner()
    typed = "too-short\ntoo-short\nduty-engineer-pw\nduty-engineer-pw\n"
    result = runner.invoke(cli, ["user", "add", "wang", "--role", "operator", "--lang", "zh", "--db", db], input=typed)
    assert result.exit_code == 0, result.output
    assert "at least 12 characters" in result.output  # the first try, refused with the reason
    assert "duty-engineer-pw" not in result.output  # hidden input
    store, users = accounts(db)
    user = users.login("wang", "duty-engineer-pw").session.user
    assert (user.role, user.language) == ("operator", "zh")
    store.close()
