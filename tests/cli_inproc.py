"""``naebu ARGS`` run in the test's own process, as a fresh ``python -m naebu.cli`` would run it.

A subprocess pays Python, pandas and SQLAlchemy imports (a second or more) for every command;
most CLI tests are about what a command prints and stores, not about the process, so
:func:`run_cli_inproc` runs :func:`naebu.cli.main` through click's :class:`CliRunner` and
returns what :func:`subprocess.run` would: a :class:`CompletedProcess` with ``returncode``,
``stdout`` and ``stderr`` kept apart.

A command changes process-global state a real process would drop when it exits; each call
starts from what a fresh process has and puts the test's state back afterwards:

- the working directory and ``os.environ`` (``env`` added, ``NAEBU_CONFIG`` unset unless
  given, as the subprocess runner does), and ``sys.argv`` (``naebu.logfilter`` reads the
  config path from it before click parses the command line);
- logging: the root logger's handlers and level (``main`` calls ``logging.basicConfig``,
  which does nothing while pytest's capture handlers are on the root logger, so ``-v`` and
  log lines on stderr would silently differ), every existing logger's level, handlers,
  ``propagate`` and ``disabled`` (``naebu run`` sets some), ``logging.disable``, and the log
  scrubber of :mod:`naebu.logfilter` (record factory, ``Logger.makeRecord``, the installed
  :class:`~naebu.logfilter.Scrubber` and its secrets);
- the working-day calendar's city holidays (``[calendar]``, put in force for the whole
  process by :func:`naebu.engine.calendar_settings.apply`);
- signal handlers, warnings filters, and the compute backends a command opened
  (``naebu.engine.backends`` keeps them for the life of the process: a Dask cluster).

An exception escaping the command is raised again (with the command's output attached)
rather than turned into exit code 1: in a subprocess it would be a traceback on stderr, which
a test expecting exit code 1 for a user's mistake must not mistake for one.

What stays different from a subprocess: Python warnings go to pytest's warning capture, not
to stderr; the interpreter is pytest's (its recursion depth, its imported modules).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any

from click.testing import CliRunner

#: What ``python -m naebu.cli`` calls itself in usage lines and errors.
PROG_NAME = "python -m naebu.cli"


def run_cli_inproc(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> CompletedProcess[str]:
    """Run ``naebu ARGS`` in this process with ``cwd`` as working directory and ``env`` added
    to the environment; restore both and the process-global state the command touched."""
    from naebu import cli

    overrides: dict[str, str | None] = {"NAEBU_CONFIG": None, **(env or {})}
    # fd capture: output written by child processes and C code reaches the result too.
    runner = CliRunner(capture="fd")
    with _fresh_process_state([cli.__file__, *args], cwd):
        result = runner.invoke(cli.main, list(args), env=overrides, prog_name=PROG_NAME)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        error = result.exception
        error.add_note(f"raised by `naebu {' '.join(args)}` in {cwd}")
        error.add_note("stdout:\n" + result.stdout[-4000:])
        error.add_note("stderr:\n" + result.stderr[-4000:])
        raise error
    return CompletedProcess([PROG_NAME, *args], result.exit_code, result.stdout, result.stderr)


@contextlib.contextmanager
def _fresh_process_state(argv: list[str], cwd: Path) -> Iterator[None]:
    """What a fresh process has, for the length of the block; the caller's state after."""
    old_cwd = os.getcwd()
    old_argv = sys.argv
    old_environ = dict(os.environ)
    with (
        warnings.catch_warnings(),
        _fresh_logging(),
        _fresh_calendar(),
        _signal_handlers_kept(),
        _backends_closed(),
    ):
        os.chdir(cwd)
        sys.argv = argv
        try:
            yield
        finally:
            sys.argv = old_argv
            os.chdir(old_cwd)
            if dict(os.environ) != old_environ:
                os.environ.clear()
                os.environ.update(old_environ)


@contextlib.contextmanager
def _fresh_logging() -> Iterator[None]:
    from naebu import logfilter

    root = logging.getLogger()
    manager = logging.Logger.manager
    loggers = [
        logger for logger in manager.loggerDict.values() if isinstance(logger, logging.Logger)
    ]
    saved = [(lg, lg.level, list(lg.handlers), lg.propagate, lg.disabled) for lg in loggers]
    root_state = (root.level, list(root.handlers))
    disabled = manager.disable
    factory = logging.getLogRecordFactory()
    make_record = logging.Logger.__dict__["makeRecord"]
    scrubber = logfilter._installed
    # A fresh process: no handler on the root logger (so basicConfig takes effect), WARNING,
    # and no scrubber installed yet (the command installs one with its config's secrets).
    root.handlers = []
    root.setLevel(logging.WARNING)
    logfilter._installed = None
    try:
        yield
    finally:
        logfilter._installed = scrubber
        logging.Logger.makeRecord = make_record  # type: ignore[method-assign]
        logging.setLogRecordFactory(factory)
        logging.disable(disabled)
        for handler in root.handlers:
            if handler not in root_state[1]:
                handler.close()  # the command's StreamHandler on the runner's stderr
        root.setLevel(root_state[0])
        root.handlers = root_state[1]
        for logger, level, handlers, propagate, was_disabled in saved:
            logger.setLevel(level)
            logger.handlers = handlers
            logger.propagate = propagate
            logger.disabled = was_disabled


@contextlib.contextmanager
def _fresh_calendar() -> Iterator[None]:
    from naebu.core import workdays

    before = workdays.city_holidays()
    workdays.configure()  # the national calendar alone, as a fresh process starts
    try:
        yield
    finally:
        workdays.configure(before.extra, before.removed)


@contextlib.contextmanager
def _signal_handlers_kept() -> Iterator[None]:
    saved: dict[signal.Signals, Any] = {}
    for sig in signal.valid_signals():
        with contextlib.suppress(ValueError, OSError):
            saved[sig] = signal.getsignal(sig)
    try:
        yield
    finally:
        for sig, handler in saved.items():
            # None: a handler not installed from Python, which cannot be put back (or changed).
            if handler is not None and signal.getsignal(sig) is not handler:
                signal.signal(sig, handler)


@contextlib.contextmanager
def _backends_closed() -> Iterator[None]:
    """Close the backends the command opened (a process's exit would have)."""
    before = _open_backends()
    try:
        yield
    finally:
        backends = sys.modules.get("naebu.engine.backends")
        if backends is not None:
            opened = backends._OPEN  # private, but the only record of what is open
            for key in set(opened) - before:
                opened.pop(key).close()


def _open_backends() -> set[tuple[object, ...]]:
    backends = sys.modules.get("naebu.engine.backends")
    return set(backends._OPEN) if backends is not None else set()
