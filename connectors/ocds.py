"""``kind = "ocds"``: Open Contracting Data Standard files in a folder, onto ``contracts``.

Options:

- ``path``: the folder (relative to the config file), ``pattern``: glob or list of globs
  (default ``["**/*.json", "**/*.jsonl"]``). Release packages, record packages, bare records,
  releases and compiled releases, and JSON lines of any of them (:mod:`naebu.connectors.ocds_read`).
- ``currency``: the currency of the ``amount`` column (default ``"KRW"``); ``exchange_rates``:
  a table of currency code -> units of ``currency`` per unit (``{ MXN = 75.0 }``). An amount in
  ``currency`` is taken as it is, one in a currency with a rate is converted; one in any other
  currency (or with none) is quarantined with the reason, not guessed.
- ``chunk_size``: contracting processes per batch (default 5,000).

**One process, one compiled release.** Every release of an ``ocid`` found in the folder (in any
file, any shape, OCDS 1.0 or 1.1) is merged by ``ocdsmerge`` (the Open Contracting
Partnership's reference implementation) with the merge rules of the OCDS 1.1.5 release schema
shipped beside this module. Compiled releases (a record's ``compiledRelease``) are merged too,
as the release of their date: a record that links its releases has the only copy of some of
them there. An ocid published twice (a bare release and the same release inside a record) is
one process, never two; identical copies are merged once. Releases that ``ocdsmerge`` refuses (no ``date``, a list where an object belongs)
are quarantined with its message, one entry per release.

**One award, one contract row** (:func:`naebu.connectors.ocds_rows.award_rows`): ``contract_id`` is
``ocid/award id``; the rest is read from the award, the contract signed for it (``awardID``)
and the tender, and can be remapped with the usual ``columns``, ``values``, ``constants`` and
``derive`` sections over the row's OCDS columns (``tender/procurementMethodDetails``...).
A process without an award has no contract yet: it gives no row (logged per pull).

**Incremental.** Files are known by checksum (``files_seen``) as with ``kind = "files"``. A pull
with no new file reads nothing. A pull with new files reads the whole folder (taken files too),
so that a process's releases spread over several files merge into one compiled release, and
yields the rows of the processes that appear in a new file only: a later release of a known
process updates its records (same keys), and no other process is read twice. Each file's
``FileTaken.rows`` counts its releases (used + quarantined).
"""

from __future__ import annotations

import functools
import json
import logging
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import ocdsmerge
import pandas as pd
from ocdsmerge.exceptions import OCDSMergeError
from ocdsmerge.rules import get_merge_rules

from naebu.connectors.base import (
    Batch,
    Connector,
    FileTaken,
    QuarantinedRow,
    SourceState,
    add_unmapped,
    check_int,
    check_str,
    keep_last,
)
from naebu.connectors.coerce import empty_frame
from naebu.connectors.file_encoding import checksum, drop_files
from naebu.connectors.mapping import check_columns, map_source
from naebu.connectors.ocds_read import Piece, read_file
from naebu.connectors.ocds_rows import COLUMNS, DEFAULT_VALUES, award_rows
from naebu.connectors.registry import register
from naebu.connectors.source_settings import SourceConfig
from naebu.core.problems import Problem

#: release-schema.json of the open-contracting/standard repository at tag 1__1__5 (Apache-2.0),
#: unchanged: only its merge rules are used. OCDS 1.0 releases are merged under them too, as
#: ocdsmerge does by default (it takes the latest schema; here without fetching it).
SCHEMA = Path(__file__).with_name("ocds-release-schema-1.1.5.json")
log = logging.getLogger(__name__)


@functools.lru_cache(maxsize=1)
def merger() -> ocdsmerge.Merger:
    """The ocdsmerge Merger with the shipped schema's rules (nothing fetched from the web)."""
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    return ocdsmerge.Merger(merge_rules=get_merge_rules(schema))


def compile_process(ocid: str, pieces: list[Piece]) -> tuple[dict[str, Any] | None, str | None]:
    """The compiled release of one process from its pieces, or None and why not.

    Every piece is merged, compiled releases too (as the release of their date): a record may
    link its releases instead of embedding them, so its compiledRelease is the only copy of an
    award, while the folder holds a few of the releases themselves (the planning one).
    """
    releases: dict[str, dict[str, Any]] = {}
    for piece in pieces:
        # The same release read twice (bare and inside a record) is merged once.
        releases.setdefault(json.dumps(piece.data, sort_keys=True), piece.data)
    merge = merger()  # outside the try: a broken schema is no fault of the data
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # duplicate ids in a list: merged as the library does
            return merge.create_compiled_release(list(releases.values())), None
    except (OCDSMergeError, TypeError, AttributeError, KeyError, ValueError) as exc:
        return None, f"{type(exc).__name__}: {exc}"


@register
class OcdsConnector(Connector):
    """Reads OCDS packages, records and releases; one contract row per award."""

    kind = "ocds"
    options = {
        "path": (None, "folder of the OCDS files"),
        "pattern": (["**/*.json", "**/*.jsonl"], "glob (or list of globs) of the files"),
        "currency": ("KRW", "currency of the amount column"),
        "exchange_rates": ({}, "currency -> units of `currency` per unit"),
        "chunk_size": (5_000, "contracting processes per batch"),
    }

    def __init__(self, source: SourceConfig) -> None:
        # The OCDS codelists' words onto the canonical vocabulary, under the city's own maps.
        values = {col: dict(words) for col, words in DEFAULT_VALUES.items()}
        for col, words in source.values.items():
            values.setdefault(col, {}).update(words)
        super().__init__(replace(source, values=values))

    @classmethod
    def check(cls, source: SourceConfig, file: str) -> list[Problem]:
        """Check the options without touching the folder."""
        problems = super().check(source, file)
        key = f"sources.{source.name}"
        check_str(source, file, "path", problems, required=True, hint='path = "ocds"')
        check_str(source, file, "currency", problems)
        check_int(source, file, "chunk_size", 1, problems)
        pattern = source.options.get("pattern", cls.options["pattern"][0])
        patterns = pattern if isinstance(pattern, list) else [pattern]
        if not patterns or not all(isinstance(p, str) and p.strip() for p in patterns):
            problems.append(
                Problem(file, "pattern must be a glob or a list of globs", key=f"{key}.pattern")
            )
        elif any(p.startswith(("/", "\\")) or ".." in Path(p).parts for p in patterns):
            problems.append(
                Problem(
                    file,
                    "pattern is matched inside path and cannot leave it",
                    key=f"{key}.pattern",
                    hint='put the folder in path and the file names in pattern: "**/*.json"',
                )
            )
        rates = source.options.get("exchange_rates", {})
        if not isinstance(rates, dict):
            problems.append(
                Problem(
                    file,
                    "exchange_rates must be a table of currency = rate",
                    key=f"{key}.exchange_rates",
                    hint="exchange_rates = { MXN = 75.0 }",
                )
            )
        else:
            for code, rate in rates.items():
                if isinstance(rate, bool) or not isinstance(rate, int | float) or rate <= 0:
                    problems.append(
                        Problem(
                            file,
                            f"the rate of {code} must be a number above 0, not {rate!r}",
                            key=f"{key}.exchange_rates.{code}",
                            hint=f"{code} = 75.0 (units of the amount's currency per {code})",
                        )
                    )
        return problems

    def pull(self, state: SourceState) -> Iterator[Batch]:
        """Yield the contract rows of the processes in files not taken before."""
        folder = Path(str(self.option("path")))
        if not folder.is_dir():
            raise self.problem(f"folder {folder} not found", "create it or fix path")
        files = list(drop_files(folder, self.option("pattern")))
        sums = {name: checksum(path) for path, name in files}
        taken = set(state.seen_checksums)
        new: list[str] = []
        for _, name in files:
            # A file is known by its content: a copy under another name is taken once.
            if sums[name] not in taken:
                taken.add(sums[name])
                new.append(name)
        if not new:
            return
        firsts = {sums[name]: name for name in reversed([n for _, n in files])}
        # Copies of a file are read once (their releases would be the same pieces twice).
        reads = {name: read_file(path, name) for path, name in files if firsts[sums[name]] == name}
        by_ocid: dict[str, list[Piece]] = {}
        for read in reads.values():
            for piece in read.pieces:
                by_ocid.setdefault(piece.ocid, []).append(piece)
        fresh = list(dict.fromkeys(piece.ocid for name in new for piece in reads[name].pieces))
        quarantined = [q for name in new for q in reads[name].quarantined]
        size = int(self.option("chunk_size"))
        batches = [fresh[i : i + size] for i in range(0, len(fresh), size)] or [[]]
        no_award = 0
        for i, chunk in enumerate(batches):
            batch, empty = self._batch(chunk, by_ocid, quarantined if i == 0 else [])
            no_award += empty
            if i == len(batches) - 1:
                batch.files = [
                    FileTaken(str(folder / name), sums[name], reads[name].objects)
                    for name in dict.fromkeys(new)
                ]
                log.info(
                    "source %s: %d new file(s), %d process(es) read, %d without an award "
                    "(no contract yet)",
                    self.source.name,
                    len(new),
                    len(fresh),
                    no_award,
                )
            yield batch

    def _batch(
        self,
        ocids: list[str],
        by_ocid: Mapping[str, list[Piece]],
        quarantined: list[QuarantinedRow],
    ) -> tuple[Batch, int]:
        """The batch of ``ocids``' compiled releases and how many had no award."""
        rows: list[dict[str, Any]] = []
        locations: list[str] = []
        bad = list(quarantined)
        no_award = 0
        rates = {str(k).upper(): float(v) for k, v in self.option("exchange_rates").items()}
        currency = str(self.option("currency")).upper()
        for ocid in ocids:
            pieces = by_ocid[ocid]
            compiled, why = compile_process(ocid, pieces)
            if compiled is None:
                for piece in pieces:
                    bad.append(
                        QuarantinedRow(
                            piece.location,
                            {"ocid": ocid, "id": str(piece.data.get("id") or "")},
                            f"the releases of {ocid} cannot be merged ({why}) - fix the "
                            "release, or publish a record with its compiledRelease",
                        )
                    )
                continue
            where = pieces[-1].location
            made, refused = award_rows(compiled, where, currency, rates)
            bad.extend(refused)
            if not made and not refused:
                no_award += 1
            for location, row in made:
                locations.append(location)
                rows.append(row)
        if not rows:
            frame = empty_frame(self.dataset)
            return Batch(self.source.name, self.dataset.name, frame, bad, len(bad), None), no_award
        raw = pd.DataFrame(rows, columns=list(COLUMNS), dtype=object)
        check_columns(list(COLUMNS), self.dataset, self.source)
        frame, typed_bad, unmapped = map_source(raw, self.dataset, self.source, locations)
        bad.extend(typed_bad)
        frame = keep_last(frame, self.dataset.key, self.source.name, "ocds")
        batch = Batch(
            self.source.name,
            self.dataset.name,
            frame,
            bad,
            len(rows) + len(bad) - len(typed_bad),
            None,
            unmapped=add_unmapped({}, unmapped),
        )
        return batch, no_award
