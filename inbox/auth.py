"""Accounts, sessions, CSRF tokens and login rate limiting of the web inbox.

- Accounts are tied to the officials directory: the user name is the employee id, and only
  an active official of the ``officials`` table may sign in. Passwords are hashed with
  argon2id (argon2-cffi's defaults); a hash made with older parameters is re-hashed at the
  next successful login.
- Sessions are opaque and server-side: the cookie carries 32 random bytes, the store keeps
  their sha256, the official, a CSRF token and an expiry. The expiry slides: a request moves
  it to ``session_hours`` later, never past ``session_max_hours`` after signing in. Signing
  out deletes the row.
- Every POST must carry the session's CSRF token (compared in constant time). The login form,
  which has no session yet, uses a double-submit cookie instead.
- Rate limiting counts failed attempts in the store (``web_login_attempts``), so it holds
  across restarts and across several server processes: more than ``max_failures_per_account``
  failures for one account, or ``max_failures_per_address`` from one address, within
  ``lockout_minutes`` refuse further attempts until the window has passed.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Column, Connection, delete, func, insert, select, update

from naebu.settings.web import WebSettings
from naebu.store.tables import officials
from naebu.store.web_tables import web_login_attempts, web_sessions, web_users

_hasher = PasswordHasher()
#: A hash verified when the account does not exist, so timing does not tell which ids exist.
_DUMMY_HASH = _hasher.hash("naebu-no-such-account")
MIN_PASSWORD_LENGTH = 10


class AccountError(ValueError):
    """A refused account change, in Korean and English (one line)."""

    def __init__(self, ko: str, en: str) -> None:
        self.ko, self.en = ko, en
        super().__init__(f"{ko} ({en})")


def token_hash(token: str) -> str:
    """The stored form of a session token."""
    return hashlib.sha256(token.encode()).hexdigest()


def same(a: str | None, b: str | None) -> bool:
    """Constant-time equality of two tokens (False when either is missing)."""
    return bool(a) and bool(b) and hmac.compare_digest(str(a), str(b))


# -- accounts ----------------------------------------------------------------------------------


def set_password(conn: Connection, employee_id: str, password: str, *, now: datetime) -> bool:
    """Create or update the account of ``employee_id``; True when it was created.

    The official must be in the ``officials`` table (the directory as of the last run) and
    active; the password needs :data:`MIN_PASSWORD_LENGTH` characters. Existing sessions of
    the account end (a password change signs everyone out).
    """
    row = conn.execute(select(officials).where(officials.c.employee_id == employee_id)).first()
    if row is None:
        raise AccountError(
            f"직원 {employee_id}은(는) 담당자 명부에 없습니다 (naebu run 후 다시 시도하십시오)",
            f"employee {employee_id} is not in the officials directory of the store; "
            "run naebu once so the directory is stored",
        )
    if not row.active:
        raise AccountError(
            f"직원 {employee_id}은(는) 재직 중이 아닙니다", f"employee {employee_id} is not active"
        )
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(
            f"비밀번호는 {MIN_PASSWORD_LENGTH}자 이상이어야 합니다",
            f"the password needs at least {MIN_PASSWORD_LENGTH} characters",
        )
    hashed = _hasher.hash(password)
    exists = conn.execute(
        select(web_users.c.employee_id).where(web_users.c.employee_id == employee_id)
    ).first()
    if exists:
        conn.execute(
            update(web_users)
            .where(web_users.c.employee_id == employee_id)
            .values(password_hash=hashed, disabled=False, updated_at=now)
        )
    else:
        conn.execute(
            insert(web_users).values(
                employee_id=employee_id,
                password_hash=hashed,
                disabled=False,
                created_at=now,
                updated_at=now,
            )
        )
    conn.execute(delete(web_sessions).where(web_sessions.c.employee_id == employee_id))
    return not exists


def disable_account(conn: Connection, employee_id: str, *, now: datetime) -> None:
    """Disable an account and end its sessions."""
    changed = conn.execute(
        update(web_users)
        .where(web_users.c.employee_id == employee_id)
        .values(disabled=True, updated_at=now)
    ).rowcount
    if not changed:
        raise AccountError(f"계정 {employee_id}이(가) 없습니다", f"no account {employee_id}")
    conn.execute(delete(web_sessions).where(web_sessions.c.employee_id == employee_id))


def list_accounts(conn: Connection) -> list[dict[str, object]]:
    """Every account with the official's name, department and role."""
    q = (
        select(
            web_users.c.employee_id,
            web_users.c.disabled,
            web_users.c.updated_at,
            officials.c.name,
            officials.c.department,
            officials.c.role,
            officials.c.active,
        )
        .select_from(
            web_users.outerjoin(officials, officials.c.employee_id == web_users.c.employee_id)
        )
        .order_by(web_users.c.employee_id)
    )
    return [dict(r._mapping) for r in conn.execute(q)]


# -- login and rate limiting -------------------------------------------------------------------


@dataclass(frozen=True)
class LoginResult:
    """What :func:`check_login` decided: ``ok``, or why not (``bad`` or ``locked``)."""

    outcome: str  # "ok", "bad", "locked"
    employee_id: str | None = None


def _failures(conn: Connection, column: Column[str], value: str, since: datetime) -> int:
    q = select(func.count()).where(
        column == value,
        web_login_attempts.c.at >= since,
        web_login_attempts.c.success.is_(False),
    )
    return int(conn.execute(q).scalar_one())


def check_login(
    conn: Connection,
    employee_id: str,
    password: str,
    address: str,
    settings: WebSettings,
    *,
    now: datetime,
) -> LoginResult:
    """Check a password, counting the attempt; refuse while the account or address is locked.

    A locked-out attempt is not verified at all (and not counted again), so guessing during a
    lockout learns nothing.
    """
    employee_id = employee_id.strip()[:100]
    since = now - timedelta(minutes=settings.lockout_minutes)
    conn.execute(
        delete(web_login_attempts).where(web_login_attempts.c.at < now - timedelta(days=30))
    )
    if (
        _failures(conn, web_login_attempts.c.account, employee_id, since)
        >= settings.max_failures_per_account
        or _failures(conn, web_login_attempts.c.address, address, since)
        >= settings.max_failures_per_address
    ):
        return LoginResult("locked")
    row = conn.execute(
        select(web_users, officials.c.active)
        .select_from(
            web_users.outerjoin(officials, officials.c.employee_id == web_users.c.employee_id)
        )
        .where(web_users.c.employee_id == employee_id)
    ).first()
    ok = False
    try:
        ok = _hasher.verify(row.password_hash if row else _DUMMY_HASH, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        ok = False
    ok = ok and row is not None and not row.disabled and bool(row.active)
    conn.execute(
        insert(web_login_attempts).values(
            at=now, account=employee_id, address=address[:100], success=ok
        )
    )
    if not ok or row is None:
        return LoginResult("bad")
    if _hasher.check_needs_rehash(row.password_hash):
        conn.execute(
            update(web_users)
            .where(web_users.c.employee_id == employee_id)
            .values(password_hash=_hasher.hash(password))
        )
    return LoginResult("ok", employee_id)


# -- sessions ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Session:
    """A signed-in official's session."""

    employee_id: str
    csrf_token: str
    method: str


def open_session(
    conn: Connection, employee_id: str, method: str, settings: WebSettings, *, now: datetime
) -> str:
    """Start a session and return the token for the cookie (the store keeps its hash)."""
    token = secrets.token_urlsafe(32)
    conn.execute(
        delete(web_sessions).where(web_sessions.c.expires_at < now)
    )  # housekeeping: expired sessions of anyone
    conn.execute(
        insert(web_sessions).values(
            token_hash=token_hash(token),
            employee_id=employee_id,
            csrf_token=secrets.token_urlsafe(32),
            method=method,
            created_at=now,
            last_seen_at=now,
            expires_at=_expiry(now, now, settings),
        )
    )
    return token


#: A session's expiry is written again only when a request comes this long after the last
#: write: a page view does not cost a write each time, and the idle limit moves by minutes.
SLIDE_EVERY = timedelta(minutes=1)


def _expiry(created_at: datetime, now: datetime, settings: WebSettings) -> datetime:
    return min(
        now + timedelta(hours=settings.session_hours),
        created_at + timedelta(hours=settings.session_max_hours),
    )


def find_session(
    conn: Connection, token: str | None, *, now: datetime, settings: WebSettings | None = None
) -> Session | None:
    """The live session of cookie ``token`` (None when absent, unknown or expired).

    With ``settings``, the request counts as activity: the session's expiry slides to
    ``session_hours`` from ``now``, capped at ``session_max_hours`` after it was opened.
    """
    if not token:
        return None
    row = conn.execute(
        select(web_sessions).where(web_sessions.c.token_hash == token_hash(token))
    ).first()
    if row is None or row.expires_at <= now:
        return None
    if settings is not None and now - row.last_seen_at >= SLIDE_EVERY:
        conn.execute(
            update(web_sessions)
            .where(web_sessions.c.token_hash == row.token_hash)
            .values(last_seen_at=now, expires_at=_expiry(row.created_at, now, settings))
        )
    return Session(row.employee_id, row.csrf_token, row.method)


def session_owner(conn: Connection, token: str | None) -> str | None:
    """Whose session cookie ``token`` was, even when it has expired (None once the row is
    gone): a draft kept after expiry is for that official only."""
    if not token:
        return None
    return conn.execute(
        select(web_sessions.c.employee_id).where(web_sessions.c.token_hash == token_hash(token))
    ).scalar_one_or_none()


def close_session(conn: Connection, token: str | None) -> None:
    """End the session of cookie ``token``."""
    if token:
        conn.execute(delete(web_sessions).where(web_sessions.c.token_hash == token_hash(token)))
