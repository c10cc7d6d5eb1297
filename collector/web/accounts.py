"""Users of the web console, their passwords and sessions, in the store's database.

    accounts = Accounts.from_store(store)
    accounts.add_user("li.wei", "operator", password)
    signed_in = accounts.login("li.wei", password)      # LoginRefused on a wrong password or a lock
    session = accounts.session(signed_in.token)          # None once expired, logged out or revoked

Passwords are kept as Argon2id hashes (argon2-cffi; parameters of RFC 9106's low-memory profile), and
re-hashed at login when the parameters change. A session is a random 256-bit token in a cookie; the
database keeps only its SHA-256 digest and the session's CSRF token. Every login makes a new session,
whatever cookie the browser brought (no fixation). Five wrong passwords in a row lock the account for
15 minutes; while locked, even the right password is refused. An unknown name costs the same hash
verification as a known one and gets the same answer, so neither timing nor wording tells names apart.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import re
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from collector.store.engine import read_connection, write_transaction
from collector.store.models import ROLES, ConsoleSessionRow, UserRow, utcnow

LANGUAGES = ("en", "zh")
ROLE_RANK = {role: rank for rank, role in enumerate(ROLES, start=1)}  # each role can do what those below can
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024  # hashing is costly by design; a megabyte "password" is a denial of service
MAX_FAILURES = 5
LOCK_DURATION = dt.timedelta(minutes=15)
IDLE_TIMEOUT = dt.timedelta(hours=2)  # a session not used for this long ends
SESSION_LIFETIME = dt.timedelta(hours=12)  # one duty shift; then sign in again
TOUCH_EVERY = dt.timedelta(minutes=1)  # last_seen_at is written at most this often
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")

_users = UserRow.__table__
_sessions = ConsoleSessionRow.__table__


class AccountError(ValueError):
    """A request about users that cannot be done (unknown user, name taken, weak password)."""


class LoginRefused(Exception):
    """Wrong name or password, or the account is locked; ``retry_after`` seconds when locked."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class User:
    id: int
    name: str
    role: str
    language: str
    created_at: dt.datetime
    last_login_at: dt.datetime | None
    locked_until: dt.datetime | None
    failed_logins: int

    def can(self, role: str) -> bool:
        """Whether this user has ``role`` or one above it."""
        return ROLE_RANK[self.role] >= ROLE_RANK[role]


@dataclass(frozen=True)
class Session:
    user: User
    csrf_token: str
    created_at: dt.datetime
    expires_at: dt.datetime


@dataclass(frozen=True)
class SignedIn:
    """A new session: ``token`` goes into the cookie and is never stored."""

    token: str
    session: Session


def password_problem(name: str, password: str) -> str | None:
    """Why ``password`` may not be used, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"a password needs at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"a password has at most {MAX_PASSWORD_LENGTH} characters"
    if password.strip().lower() == name.lower() or len(set(password)) < 4:
        return "this password is too easy to guess"
    return None


def default_hasher() -> Any:
    from argon2 import PasswordHasher
    from argon2.profiles import RFC_9106_LOW_MEMORY

    return PasswordHasher.from_parameters(RFC_9106_LOW_MEMORY)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Accounts:
    def __init__(self, engine: Engine, write_lock: Any = None, clock: Callable[[], dt.datetime] = utcnow,
                 hasher: Any = None) -> None:
        """``clock`` and ``hasher`` are injected by tests (a clock to pass lock times, cheap hashing)."""
        self.engine = engine
        self._lock = write_lock or (threading.Lock() if engine.dialect.name == "sqlite" else contextlib.nullcontext())
        self._clock = clock
        self._hasher = hasher or default_hasher()
        self._dummy: str | None = None  # a hash verified when the name is unknown (made on first need)

    @classmethod
    def from_store(cls, store: Any, **kwargs: Any) -> Accounts:
        return cls(store.engine, store.write_lock, **kwargs)

    # -- users -------------------------------------------------------------------------------------

    def add_user(self, name: str, role: str, password: str, language: str = "en") -> User:
        if not _NAME.match(name or ""):
            raise AccountError(
                f"invalid user name {name!r}: expected 1 to 64 letters, digits or . _ @ -, "
                "starting with a letter or digit"
            )
        _check_role(role)
        _check_language(language)
        problem = password_problem(name, password)
        if problem:
            raise AccountError(problem)
        now = self._clock()
        with write_transaction(self.engine, self._lock) as conn:
            if conn.execute(sa.select(_users.c.id).where(_users.c.name == name)).first() is not None:
                raise AccountError(f"user {name!r} already exists (patrol user passwd changes a password)")
            conn.execute(sa.insert(_users).values(
                name=name, role=role, language=language, password_hash=self._hasher.hash(password),
                created_at=now, password_changed_at=now, failed_logins=0,
            ))
        return self.user(name)  # type: ignore[return-value]

    def user(self, name: str) -> User | None:
        with read_connection(self.engine) as conn:
            row = conn.execute(sa.select(_users).where(_users.c.name == name)).first()
        return _user(row) if row is not None else None

    def users(self) -> list[User]:
        with read_connection(self.engine) as conn:
            return [_user(r) for r in conn.execute(sa.select(_users).order_by(_users.c.name))]

    def has_admin(self) -> bool:
        with read_connection(self.engine) as conn:
            return conn.execute(sa.select(_users.c.id).where(_users.c.role == "admin").limit(1)).first() is not None

    def set_password(self, name: str, password: str) -> None:
        """A new password; every session of the user ends (a stolen cookie dies with the old password)."""
        problem = password_problem(name, password)
        if problem:
            raise AccountError(problem)
        password_hash = self._hasher.hash(password)
        with write_transaction(self.engine, self._lock) as conn:
            user_id = self._id(conn, name)
            conn.execute(sa.update(_users).where(_users.c.id == user_id).values(
                password_hash=password_hash, password_changed_at=self._clock(), failed_logins=0, locked_until=None,
            ))
            conn.execute(sa.delete(_sessions).where(_sessions.c.user_id == user_id))

    def set_role(self, name: str, role: str) -> None:
        """Takes effect on the user's next request (sessions read the role from the user)."""
        _check_role(role)
        with write_transaction(self.engine, self._lock) as conn:
            user_id = self._id(conn, name)
            if role != "admin":
                self._keep_an_admin(conn, user_id)
            conn.execute(sa.update(_users).where(_users.c.id == user_id).values(role=role))

    def set_language(self, name: str, language: str) -> None:
        _check_language(language)
        with write_transaction(self.engine, self._lock) as conn:
            conn.execute(sa.update(_users).where(_users.c.id == self._id(conn, name)).values(language=language))

    def unlock(self, name: str) -> None:
        with write_transaction(self.engine, self._lock) as conn:
            conn.execute(sa.update(_users).where(_users.c.id == self._id(conn, name)).values(
                failed_logins=0, locked_until=None))

    def remove_user(self, name: str, allow_last_admin: bool = False) -> None:
        """Remove a user and end their sessions. The last admin stays unless ``allow_last_admin`` (the
        command line may remove it: it can add another; the console cannot, or nobody could)."""
        with write_transaction(self.engine, self._lock) as conn:
            user_id = self._id(conn, name)
            if not allow_last_admin:
                self._keep_an_admin(conn, user_id)
            conn.execute(sa.delete(_sessions).where(_sessions.c.user_id == user_id))
            conn.execute(sa.delete(_users).where(_users.c.id == user_id))

    # -- sign in and out ---------------------------------------------------------------------------

    def login(self, name: str, password: str) -> SignedIn:
        """A new session for the right name and password; ``LoginRefused`` otherwise."""
        if not isinstance(password, str) or len(password) > MAX_PASSWORD_LENGTH:
            raise LoginRefused("wrong user name or password")
        from argon2.exceptions import InvalidHashError, VerificationError

        now = self._clock()
        with write_transaction(self.engine, self._lock, immediate=True) as conn:
            row = conn.execute(sa.select(_users).where(_users.c.name == name)).first() if name else None
            if row is None:
                if self._dummy is None:
                    self._dummy = self._hasher.hash(secrets.token_urlsafe(16))
                with contextlib.suppress(VerificationError, InvalidHashError):
                    self._hasher.verify(self._dummy, password)
                raise LoginRefused("wrong user name or password")
            if row.locked_until is not None and row.locked_until > now:
                raise LoginRefused(
                    "too many failed logins: this account is locked for a while",
                    retry_after=(row.locked_until - now).total_seconds(),
                )
            try:
                self._hasher.verify(row.password_hash, password)
            except (VerificationError, InvalidHashError):
                failures = row.failed_logins + 1
                locked = now + LOCK_DURATION if failures >= MAX_FAILURES else None
                conn.execute(sa.update(_users).where(_users.c.id == row.id).values(
                    failed_logins=0 if locked else failures, locked_until=locked))
                conn.commit()  # the count must survive the refusal below
                raise LoginRefused("wrong user name or password") from None
            values: dict[str, Any] = {"failed_logins": 0, "locked_until": None, "last_login_at": now}
            if self._hasher.check_needs_rehash(row.password_hash):
                values["password_hash"] = self._hasher.hash(password)
            conn.execute(sa.update(_users).where(_users.c.id == row.id).values(**values))
            token = secrets.token_urlsafe(32)
            csrf = secrets.token_urlsafe(32)
            expires = now + SESSION_LIFETIME
            conn.execute(sa.insert(_sessions).values(
                token_hash=_digest(token), user_id=row.id, csrf_token=csrf, created_at=now, last_seen_at=now,
                expires_at=expires,
            ))
            conn.execute(sa.delete(_sessions).where(_sessions.c.expires_at < now))  # housekeeping
        user = self.user(name)
        assert user is not None
        return SignedIn(token, Session(user, csrf, now, expires))

    def session(self, token: str | None) -> Session | None:
        """The live session of a cookie's token, or None (unknown, expired, idle too long, logged out)."""
        if not token or len(token) > 200:
            return None
        now = self._clock()
        digest = _digest(token)
        query = sa.select(
            _users, _sessions.c.csrf_token, _sessions.c.created_at.label("session_created_at"),
            _sessions.c.last_seen_at, _sessions.c.expires_at,
        ).join(_users, _users.c.id == _sessions.c.user_id).where(_sessions.c.token_hash == digest)
        with read_connection(self.engine) as conn:
            row = conn.execute(query).first()
        if row is None or row.expires_at <= now or now - row.last_seen_at > IDLE_TIMEOUT:
            return None
        if now - row.last_seen_at > TOUCH_EVERY:
            with write_transaction(self.engine, self._lock) as conn:
                conn.execute(sa.update(_sessions).where(_sessions.c.token_hash == digest).values(last_seen_at=now))
        return Session(_user(row), row.csrf_token, row.session_created_at, row.expires_at)

    def logout(self, token: str | None) -> None:
        if not token:
            return
        with write_transaction(self.engine, self._lock) as conn:
            conn.execute(sa.delete(_sessions).where(_sessions.c.token_hash == _digest(token)))

    # -- helpers -----------------------------------------------------------------------------------

    def _id(self, conn: Any, name: str) -> int:
        found = conn.execute(sa.select(_users.c.id).where(_users.c.name == name)).first()
        if found is None:
            raise AccountError(f"no user {name!r} (patrol user list shows the users)")
        return int(found.id)

    def _keep_an_admin(self, conn: Any, user_id: int) -> None:
        others = conn.execute(sa.select(sa.func.count()).select_from(_users).where(
            _users.c.role == "admin", _users.c.id != user_id)).scalar_one()
        me = conn.execute(sa.select(_users.c.role).where(_users.c.id == user_id)).scalar_one()
        if me == "admin" and others == 0:
            raise AccountError("this is the last admin: make another user admin first")


def _user(row: Any) -> User:
    return User(
        id=row.id, name=row.name, role=row.role, language=row.language, created_at=row.created_at,
        last_login_at=row.last_login_at, locked_until=row.locked_until, failed_logins=row.failed_logins,
    )


def _check_role(role: str) -> None:
    if role not in ROLE_RANK:
        raise AccountError(f"unknown role {role!r}: expected one of {', '.join(ROLES)}")


def _check_language(language: str) -> None:
    if language not in LANGUAGES:
        raise AccountError(f"unknown language {language!r}: expected one of {', '.join(LANGUAGES)}")
