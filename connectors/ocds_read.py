"""Reading OCDS files into releases, each with where it was read (for ``kind = "ocds"``).

An Open Contracting Data Standard file holds one of several shapes, and real publishers mix
them in one folder (``../shared/data/real/ocds-samples``): a **release package** (``releases``,
with ``publisher``/``uri``), a **record package** (``records``), a bare **record** (``ocid``,
``releases``, ``compiledRelease``), a bare **release** (``ocid``), a bare **compiled release**
(``tag`` holding ``"compiled"``), or **JSON lines** (``.jsonl``, ``.ndjson``, ``.jl``: one of
those per line); a bare JSON list of them is read item by item. :func:`read_file` turns any of them into :class:`Piece` objects (a release or
a compiled release, its ``location`` as ``"file: records[2].releases[0]"`` or ``"file:17"``)
and :class:`~naebu.connectors.base.QuarantinedRow` entries for what cannot be used, each with its
reason: a file that is not JSON (empty, cut, a stray comma) is one entry located at the line and
column the parser stopped, with a hint; a release without an ``ocid`` or that is not an object
is one entry at its position; the rest of the file is read.

A record's ``releases`` may be *linked* releases (only ``url``, ``date`` and ``tag``): they hold
no data and are not pieces; the record's full releases and its ``compiledRelease`` are.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from naebu.connectors.base import QuarantinedRow

#: Suffixes of files holding one JSON text per line.
LINE_SUFFIXES = (".jsonl", ".ndjson", ".jl")
#: Keys of a linked release (a pointer to a release, no data of its own).
_LINKED = {"url", "date", "tag"}
#: Characters of a bad line or file kept in its quarantined entry.
_EXCERPT = 200


@dataclass
class Piece:
    """One release (or compiled release) as read from a file."""

    #: ``"file: releases[3]"``, ``"file: records[0].compiledRelease"``, ``"file:12"``.
    location: str
    #: The file's name relative to the source folder.
    file: str
    ocid: str
    #: ``"release"`` or ``"compiled"`` (a record's compiledRelease, a bare compiled release).
    kind: str
    data: dict[str, Any]


@dataclass
class FileRead:
    """What one file gave: its pieces, what was quarantined, and how many objects it held."""

    pieces: list[Piece] = field(default_factory=list)
    quarantined: list[QuarantinedRow] = field(default_factory=list)

    @property
    def objects(self) -> int:
        """Releases read from the file: used (pieces) plus quarantined."""
        return len(self.pieces) + len(self.quarantined)


def read_file(path: Path, name: str) -> FileRead:
    """Every release of the file at ``path`` (``name``: how locations call it)."""
    out = FileRead()
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        out.quarantined.append(_bad_file(name, f"not UTF-8 text (byte {exc.start})", "UTF-8 JSON"))
        return out
    if path.suffix.lower() in LINE_SUFFIXES:
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            where = f"{name}:{number}"
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                out.quarantined.append(
                    QuarantinedRow(
                        where,
                        {"line": line[:_EXCERPT]},
                        f"not a JSON text at column {exc.colno}: {exc.msg} - each line of a "
                        "JSON lines file is one package, record or release",
                    )
                )
                continue
            _classify(value, where, name, out)
        return out
    if not text.strip():
        out.quarantined.append(_bad_file(name, "empty file: no JSON in it", "a package or release"))
        return out
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        hint = (
            "one JSON text per line? name the file .jsonl"
            if exc.msg == "Extra data"
            else "the file is cut or hand-edited: ask the publisher for it again"
        )
        out.quarantined.append(
            QuarantinedRow(
                f"{name}:{exc.lineno}:{exc.colno}",
                {"file": name, "excerpt": text[max(0, exc.pos - 40) : exc.pos + 40]},
                f"not valid JSON at line {exc.lineno} column {exc.colno}: {exc.msg} - {hint}; "
                "nothing of this file was read",
            )
        )
        return out
    _classify(value, f"{name}:", name, out)
    return out


def _bad_file(name: str, what: str, hint: str) -> QuarantinedRow:
    return QuarantinedRow(
        name, {"file": name}, f"{what} - expected {hint}; nothing of this file was read"
    )


def _classify(value: Any, where: str, name: str, out: FileRead) -> None:
    """Sort one JSON text into pieces and quarantined entries."""
    at = where if where.endswith(":") else where + ":"
    if isinstance(value, list) and where.endswith(":"):
        # Not OCDS, but some exports are a bare list of releases: each item is read as a file.
        for i, item in enumerate(value):
            _classify(item, f"{at} [{i}]", name, out)
        return
    if not isinstance(value, dict):
        where = where.rstrip(":")
        out.quarantined.append(_not_object(where, value, "a package, record or release"))
        return
    if isinstance(value.get("records"), list):
        for i, record in enumerate(value["records"]):
            _record(record, f"{at} records[{i}]", name, out)
    elif "records" in value:
        out.quarantined.append(
            QuarantinedRow(
                where, _excerpt(value), "records is not a list - a record package's records"
            )
        )
    elif (
        "ocid" not in value
        and isinstance(value.get("releases"), list)
        and "compiledRelease" not in value
    ):
        for i, release in enumerate(value["releases"]):
            _release(release, f"{at} releases[{i}]", name, out, "release")
    elif "compiledRelease" in value or ("releases" in value and "ocid" in value):
        _record(value, f"{at} record", name, out)
    elif "releases" in value:
        out.quarantined.append(
            QuarantinedRow(
                where, _excerpt(value), "releases is not a list - a release package's releases"
            )
        )
    else:
        kind = "compiled" if "compiled" in _tags(value) else "release"
        _release(value, f"{at} {kind}", name, out, kind)


def _record(record: Any, where: str, name: str, out: FileRead) -> None:
    if not isinstance(record, dict):
        out.quarantined.append(_not_object(where, record, "a record"))
        return
    releases = record.get("releases") or []
    if not isinstance(releases, list):
        out.quarantined.append(
            QuarantinedRow(where, _excerpt(record), "the record's releases is not a list")
        )
        releases = []
    ocid = record.get("ocid")
    for i, release in enumerate(releases):
        if isinstance(release, dict) and set(release) <= _LINKED:
            continue  # a linked release: a pointer, no data
        _release(release, f"{where}.releases[{i}]", name, out, "release", ocid)
    compiled = record.get("compiledRelease")
    if compiled is not None:
        _release(compiled, f"{where}.compiledRelease", name, out, "compiled", ocid)


def _release(
    release: Any, where: str, name: str, out: FileRead, kind: str, ocid: Any = None
) -> None:
    if not isinstance(release, dict):
        out.quarantined.append(_not_object(where, release, "a release"))
        return
    own = release.get("ocid") or ocid
    if not isinstance(own, str) or not own.strip():
        out.quarantined.append(
            QuarantinedRow(
                where,
                _excerpt(release),
                "release without an ocid - every OCDS release names its contracting process",
            )
        )
        return
    out.pieces.append(Piece(where, name, own.strip(), kind, release))


def _tags(value: dict[str, Any]) -> list[str]:
    tag = value.get("tag")
    return [str(t) for t in tag] if isinstance(tag, list) else []


def _not_object(where: str, value: Any, expected: str) -> QuarantinedRow:
    return QuarantinedRow(
        where,
        {"value": json.dumps(value, ensure_ascii=False)[:_EXCERPT]},
        f"{type(value).__name__} where {expected} (a JSON object) was expected",
    )


def _excerpt(value: dict[str, Any]) -> dict[str, Any]:
    """A JSON-safe excerpt of an object for its quarantined entry."""
    return {
        "keys": ", ".join(list(value)[:20]),
        "ocid": str(value.get("ocid") or ""),
        "id": str(value.get("id") or ""),
    }
