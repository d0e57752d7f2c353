"""The ``naebu`` command line: one module per command under :mod:`naebu.commands`.

Exit codes: 0 success; 1 a problem in the user's files or data (config, rule files, a source
that failed), printed one line each, never a traceback; 2 wrong usage of the command.
"""

from __future__ import annotations

import atexit
import gc
import importlib
import logging
import sys

import click

from naebu.logfilter import install_for_command_line

#: Command name -> the module under naebu.commands defining it (as the attribute named
#: like the module). Imported only when the command runs or help lists them: ``naebu run``
#: does not pay for the web server's, the demo generator's or the password hasher's imports.
COMMANDS = {
    "demo": "demo",
    "check": "check",
    "run": "run",
    "alerts": "alerts",
    "test-rule": "test_rule",
    "backtest": "backtest",
    "evaluate": "evaluate",
    "export": "export",
    "status": "status",
    "suppress": "suppress",
    "audit": "audit",
    "outbox": "outbox",
    "serve": "serve",
    "users": "users",
    "bench": "bench",
    "sources": "sources",
    "rules": "rules",
    "report": "report",
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported when first asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*COMMANDS, *super().list_commands(ctx)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = COMMANDS.get(cmd_name)
        if module is None:
            return super().get_command(ctx, cmd_name)
        command = getattr(importlib.import_module(f"naebu.commands.{module}"), module)
        assert isinstance(command, click.Command) and command.name == cmd_name, cmd_name
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="log progress to stderr")
@click.version_option(package_name="naebu")
def main(verbose: bool) -> None:
    """naebu (내부통제): rules-based internal-control alerts for Korean local governments."""
    # Every log record is scrubbed of configured secrets and personal numbers (see
    # naebu.logfilter), whatever handler writes it: the daemon's, a library's, a test's.
    install_for_command_line(sys.argv[1:])
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def entry() -> None:
    """The ``naebu`` executable (and ``python -m naebu.cli``): :func:`main` in a process of
    its own.

    The cyclic garbage collector is kept off what lives as long as the process: the modules
    imported so far (pandas, SQLAlchemy, pyarrow: hundreds of thousands of objects it would
    otherwise walk again on every full collection of a run), and at exit everything left,
    which Python would walk once more before tearing it down (0.2 s of every command). Only
    here, not in :func:`main`, which tests call in their own long-lived process.
    """
    gc.freeze()
    atexit.register(gc.freeze)
    main()


if __name__ == "__main__":  # pragma: no cover
    entry()
