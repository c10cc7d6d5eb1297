"""``patrol user``: the people who sign in to the web console, on the store directly (``--db``).

The first admin is made here (``patrol user add NAME --role admin``): there is no default account
and no default password. A password comes from ``--password-file`` (its first line) or is asked for
twice on the terminal; it is never an argument, which would end up in the shell history and ``ps``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from collector.cli_options import db_option

EX_NOT_FOUND = 1


def _password_file_option(f):
    return click.option(
        "--password-file",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        default=None,
        help="Read the password from the first line of FILE ('-': standard input) instead of prompting.",
    )(f)


def _read_password(name: str, password_file: Path | None) -> str:
    from collector.web.accounts import password_problem

    if password_file is not None:
        text = sys.stdin.read() if str(password_file) == "-" else password_file.read_text(encoding="utf-8")
        password = text.splitlines()[0] if text else ""
        problem = password_problem(name, password)
        if problem:
            raise click.UsageError(f"{password_file}: {problem}")
        return password
    while True:
        password = click.prompt(f"password for {name}", hide_input=True, confirmation_prompt=True)
        problem = password_problem(name, password)
        if problem is None:
            return password
        click.echo(f"patrol: {problem}; try again", err=True)


def _accounts(db_url: str | None):
    from collector.store.store import Store, default_url
    from collector.web.accounts import Accounts

    store = Store.open(db_url or default_url())
    return store, Accounts.from_store(store)


def _change(db_url: str | None, call, done: str) -> None:
    """``call(accounts)`` on the store; an AccountError is the command's error (exit 1), else ``done``."""
    from collector.web.accounts import AccountError

    store, accounts = _accounts(db_url)
    with store:
        try:
            call(accounts)
        except AccountError as exc:
            click.echo(f"patrol: {exc}", err=True)
            sys.exit(EX_NOT_FOUND)
    click.echo(done)


@click.group()
def user() -> None:
    """Console users: roles viewer (read), operator (acknowledge, maintenance, run now), admin (users, tokens)."""


@user.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(["viewer", "operator", "admin"]), required=True)
@click.option("--lang", "language", type=click.Choice(["en", "zh"]), default="en", show_default=True,
              help="Language of the console for this user.")
@_password_file_option
@db_option
def user_add(name, role, language, password_file, db_url) -> None:
    """Add a user who signs in with NAME and a password."""
    password = _read_password(name, password_file)
    _change(db_url, lambda accounts: accounts.add_user(name, role, password, language),
            f"user {name!r} added with role {role}")


@user.command("passwd")
@click.argument("name")
@_password_file_option
@db_option
def user_passwd(name, password_file, db_url) -> None:
    """Set NAME's password; their sessions end and a lock from failed logins is lifted."""
    password = _read_password(name, password_file)
    _change(db_url, lambda accounts: accounts.set_password(name, password),
            f"password of {name!r} changed; their sessions ended")


@user.command("role")
@click.argument("name")
@click.argument("role", type=click.Choice(["viewer", "operator", "admin"]))
@db_option
def user_role(name, role, db_url) -> None:
    """Give NAME another role (from their next request on)."""
    _change(db_url, lambda accounts: accounts.set_role(name, role), f"{name!r} is now {role}")


@user.command("remove")
@click.argument("name")
@db_option
def user_remove(name, db_url) -> None:
    """Remove NAME; their sessions end at once."""
    _change(db_url, lambda accounts: accounts.remove_user(name, allow_last_admin=True), f"user {name!r} removed")


@user.command("list")
@db_option
def user_list(db_url) -> None:
    """Users with their role, language, last login and lock (never a password or its hash)."""
    store, accounts = _accounts(db_url)
    with store:
        users = accounts.users()
    if not users:
        click.echo("no users yet: patrol user add NAME --role admin", err=True)
        return
    click.echo(f"{'NAME':<24} {'ROLE':<9} {'LANG':<5} {'LAST LOGIN':<21} LOCKED UNTIL")
    for u in users:
        last = u.last_login_at.strftime("%Y-%m-%d %H:%M:%SZ") if u.last_login_at else "-"
        locked = u.locked_until.strftime("%Y-%m-%d %H:%M:%SZ") if u.locked_until else "-"
        click.echo(f"{u.name:<24} {u.role:<9} {u.language:<5} {last:<21} {locked}")


@user.command("unlock")
@click.argument("name")
@db_option
def user_unlock(name, db_url) -> None:
    """Lift the lock that failed logins put on NAME."""
    _change(db_url, lambda accounts: accounts.unlock(name), f"{name!r} unlocked")
