"""The ``naebu`` command line: one module per command under :mod:`naebu.commands`.

Exit codes: 0 success; 1 a problem in the user's files or data (config, rule files, a source
that failed), printed one line each, never a traceback; 2 wrong usage of the command.
"""

from __future__ import annotations

import logging
import sys

import click

from naebu.commands.alerts import alerts
from naebu.commands.audit import audit
from naebu.commands.backtest import backtest
from naebu.commands.check import check
from naebu.commands.demo import demo
from naebu.commands.evaluate import evaluate
from naebu.commands.export import export
from naebu.commands.outbox import outbox
from naebu.commands.run import run
from naebu.commands.serve import serve
from naebu.commands.status import status
from naebu.commands.suppress import suppress
from naebu.commands.test_rule import test_rule
from naebu.commands.users import users
from naebu.logfilter import install_for_command_line


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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


for command in (
    demo,
    check,
    run,
    alerts,
    test_rule,
    backtest,
    evaluate,
    export,
    status,
    suppress,
    audit,
    outbox,
    serve,
    users,
):
    main.add_command(command)


if __name__ == "__main__":  # pragma: no cover
    main()
