"""Scrubbing secrets and personal data out of every log record.

Logs go to journald, to a log shipper, to a terminal an operator pastes into a ticket: they
leave the system as surely as a notification does. So every record naebu (or a library it
uses) logs is scrubbed when it is created, before any handler or formatter sees it:

- **Configured secrets**: the value of every environment variable the config file names as
  ``${NAME}`` (database passwords, apprise tokens), and of any environment variable whose
  name says it is secret (``*PASSWORD*``, ``*TOKEN*``, ``*SECRET*``...), becomes ``***``.
- **Passwords in URLs**: ``scheme://user:password@host`` -> ``scheme://user:***@host``, for
  URLs that reach a log without going through ``hide_password`` or apprise's privacy form.
- **Personal data**: resident registration, phone and account numbers are masked with
  :func:`naebu.core.masking.mask_text`, as in notifications.

The scrubbing is installed as a log record factory (:func:`install`), not a handler filter:
a factory sees every record of every logger, including handlers added later (the daemon's
JSON handler, a test's capture), and a filter on one handler would miss the others.
Exception tracebacks are rendered and scrubbed too, since an exception's text can quote a
connection string or a record.

Fields passed with ``extra={...}`` are set on a record by ``Logger.makeRecord`` *after* the
factory ran, so :func:`install` also wraps ``Logger.makeRecord`` (the class attribute, so
loggers made before it are covered) to scrub them: text anywhere inside them (nested dicts
and lists, such as a run summary, included) is scrubbed, numbers, booleans and None are kept,
and any other object is rendered as scrubbed text (the JSON formatter would render it with
``str()`` anyway).
"""

from __future__ import annotations

import logging
import os
import re
import traceback
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from naebu.core.masking import mask_text

REDACTED = "***"

#: Environment variable names treated as secret even if no config names them.
_SECRET_NAME = re.compile(r"PASSWORD|PASSWD|PWD|TOKEN|SECRET|API_?KEY|PRIVATE|CREDENTIAL", re.I)
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
# user:password@ in a URL; the password may hold anything but '@', '/' and whitespace.
_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][\w+.-]*://[^\s:/@]*:)(?P<pw>[^\s@/]+)(?P<at>@)")
#: Secrets shorter than this are not scrubbed: a 1-3 character value would garble every line.
MIN_SECRET_LENGTH = 4


class Scrubber:
    """Replaces known secret values, URL passwords and personal numbers in text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        """Scrub these values too (short and empty ones are ignored)."""
        self._secrets.update(s for s in secrets if s and len(s) >= MIN_SECRET_LENGTH)
        # Longest first, so a secret containing another is replaced whole.
        ordered = sorted(self._secrets, key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, ordered))) if ordered else None

    @property
    def secrets(self) -> frozenset[str]:
        """The values being scrubbed."""
        return frozenset(self._secrets)

    def __call__(self, text: str) -> str:
        """``text`` with every secret, URL password and personal number hidden."""
        if not text:
            return text
        if self._pattern is not None:
            text = self._pattern.sub(REDACTED, text)
        text = _URL_PASSWORD.sub(
            lambda m: (
                m.group("head") + REDACTED + m.group("at")
                if m.group("pw") != REDACTED
                else m.group(0)
            ),
            text,
        )
        return mask_text(text)


def env_secrets(config_text: str | None = None, environ: dict[str, str] | None = None) -> set[str]:
    """The secret values in the environment: those the config names as ``${NAME}``, and those
    of variables whose name says they are secret."""
    env = os.environ if environ is None else environ
    names = {n for n in env if _SECRET_NAME.search(n)}
    if config_text:
        names |= set(_ENV_REF.findall(config_text))
    return {env[n] for n in names if env.get(n)}


def config_path_from_args(args: Iterable[str]) -> Path:
    """The config file a command line will use (``--config PATH``, ``$NAEBU_CONFIG``,
    ``./config.toml``), found before click parses the sub-command's options."""
    args = list(args)
    for i, arg in enumerate(args):
        if arg == "--config" and i + 1 < len(args):
            return Path(args[i + 1])
        if arg.startswith("--config="):
            return Path(arg.split("=", 1)[1])
    return Path(os.environ.get("NAEBU_CONFIG") or "config.toml")


def _scrub_record(record: logging.LogRecord, scrub: Callable[[str], str]) -> None:
    try:
        message = record.getMessage()
    except Exception:  # a broken format string: keep the raw text, scrubbed
        message = f"{record.msg!s} {record.args!r}"
    if record.exc_info and record.exc_info[0] is not None:
        # The traceback joins the message, rendered and scrubbed now: a formatter would
        # render ``exc_info`` again, unscrubbed (the JSON formatter ignores ``exc_text``).
        message += "\n" + "".join(traceback.format_exception(*record.exc_info)).rstrip()
        record.exc_info = None
        record.exc_text = None
    record.msg = scrub(message)
    record.args = None
    if record.stack_info:
        record.stack_info = scrub(record.stack_info)


def scrub_value(value: Any, scrub: Callable[[str], str], depth: int = 0) -> Any:
    """``value`` (an ``extra`` field) with all text inside it scrubbed; a new object, the
    caller's own data is not changed."""
    if isinstance(value, str):
        return scrub(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    if depth >= 12:  # deeper than any summary naebu logs: render it rather than recurse
        return scrub(str(value))
    if isinstance(value, Mapping):
        return {
            (scrub(k) if isinstance(k, str) else k): scrub_value(v, scrub, depth + 1)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [scrub_value(v, scrub, depth + 1) for v in value]
    return scrub(str(value))


def _scrub_extras(record: logging.LogRecord, extra: Mapping[str, Any], scrub: Scrubber) -> None:
    for key in extra:
        if key in record.__dict__:
            record.__dict__[key] = scrub_value(record.__dict__[key], scrub)


_installed: Scrubber | None = None


def install(secrets: Iterable[str] = ()) -> Scrubber:
    """Scrub every log record created from now on; idempotent (a second call adds secrets).

    Returns the :class:`Scrubber`, to which more secrets can be added later.
    """
    global _installed
    if _installed is not None:
        _installed.add(secrets)
        return _installed
    scrubber = Scrubber(secrets)
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        _scrub_record(record, scrubber)
        return record

    logging.setLogRecordFactory(factory)
    original = logging.Logger.makeRecord

    def make_record(self: logging.Logger, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = original(self, *args, **kwargs)
        # makeRecord(name, level, fn, lno, msg, args, exc_info, func=None, extra=None, ...)
        extra = kwargs.get("extra", args[8] if len(args) > 8 else None)
        if extra:
            _scrub_extras(record, extra, scrubber)
        return record

    logging.Logger.makeRecord = make_record  # type: ignore[method-assign]
    _installed = scrubber
    return scrubber


def install_for_command_line(args: Iterable[str]) -> Scrubber:
    """:func:`install` with the secrets of the config file the command line names."""
    path = config_path_from_args(args)
    try:
        text: str | None = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        text = None  # the command itself reports an unreadable config
    return install(env_secrets(text))
