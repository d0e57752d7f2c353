"""Structured logs: plain text for a terminal, one JSON object a line for a log shipper.

``naebu run --log-format json`` (or ``[daemon] log_format = "json"``). Every record has
``ts``, ``level``, ``logger`` and ``message``; fields passed with ``extra={...}`` (a run's id,
job and counts) are added as keys of their own, so they can be queried without parsing text.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Attributes every LogRecord has; anything else on a record came from ``extra``.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """A log record as one line of JSON."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                out[key] = value
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


def configure_logging(fmt: str, level: int = logging.INFO) -> None:
    """Route every log record to stderr in ``fmt`` (``text`` or ``json``) at ``level``."""
    root = logging.getLogger()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # APScheduler logs every job start at INFO; that is noise next to naebu's own run log.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    # Alembic logs its plugin set-up at INFO; naebu.store.migrations logs what it migrates.
    logging.getLogger("alembic").setLevel(logging.WARNING)
