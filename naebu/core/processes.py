"""Processes of this host: whether the one that wrote a ``running`` row or claimed a message is
still alive (the run ledger, naebu/pipeline/ledger.py, and the outbox, alerts/stuck.py)."""

from __future__ import annotations

import os


def process_alive(pid: int) -> bool:
    """Whether a process with this id runs on this host (signal 0 probes without touching it)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True
