"""Precision and recall of the rules against a labels file (``rule_id,dataset,record_key``).

The labels are the ground truth (the demo city writes them for the anomalies it plants; an
audit office can keep its own from confirmed cases): each row names a record that belongs to
a real case. The predictions are cases: the alerts in the store with their member records, or
the findings of a replay over the store's records grouped into cases as a run would.

An alert answers for a case, so **precision** counts cases: a case alert is right when one of
its records is labelled. **Recall** counts labelled records: one is found when a case alert of
its rule holds it. (Counting records for precision would reward a rule for splitting one
breach into many alerts; counting cases for recall would let one alert hide missed records.)
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from naebu.core.problems import Problem, ProblemsError

Key = tuple[str, str, str]
#: A predicted case: rule id, dataset and the keys of its records.
CaseKeys = tuple[str, str, frozenset[str]]
LABEL_COLUMNS = ("rule_id", "dataset", "record_key")


@dataclass(frozen=True)
class Score:
    """Counts and rates for one rule (or all of them): cases flagged, labelled records found."""

    rule_id: str
    #: Cases (alerts) holding at least one labelled record.
    true_positives: int
    #: Cases holding none.
    false_positives: int
    #: Labelled records no case holds.
    false_negatives: int
    #: Labelled records some case holds.
    found: int = 0

    @property
    def precision(self) -> float | None:
        """Share of flagged cases that hold a labelled record (None when nothing was flagged)."""
        flagged = self.true_positives + self.false_positives
        return self.true_positives / flagged if flagged else None

    @property
    def recall(self) -> float | None:
        """Share of labelled records some case holds (None when nothing is labelled)."""
        labelled = self.found + self.false_negatives
        return self.found / labelled if labelled else None

    def as_json(self) -> dict[str, object]:
        """JSON-safe form."""
        return {
            "rule_id": self.rule_id,
            "labelled": self.found + self.false_negatives,
            "flagged": self.true_positives + self.false_positives,
            "true_positives": self.true_positives,
            "false_positives": self.false_positives,
            "false_negatives": self.false_negatives,
            "found": self.found,
            "precision": self.precision,
            "recall": self.recall,
        }


def read_labels(path: Path) -> set[Key]:
    """The labelled records; a malformed file is a located problem, not a traceback."""
    shown = str(path)
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.DictReader(f)
            missing = [c for c in LABEL_COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise ProblemsError(
                    [
                        Problem(
                            shown,
                            f"missing column {missing[0]!r}",
                            line=1,
                            hint="header: rule_id,dataset,record_key",
                        )
                    ]
                )
            labels = set()
            for line, row in enumerate(reader, start=2):
                key = tuple((row.get(c) or "").strip() for c in LABEL_COLUMNS)
                if not all(key):
                    raise ProblemsError(
                        [
                            Problem(
                                shown,
                                "empty value",
                                line=line,
                                hint="every row needs all three columns",
                            )
                        ]
                    )
                labels.add((key[0], key[1], key[2]))
            return labels
    except FileNotFoundError:
        raise ProblemsError([Problem(shown, "labels file not found")]) from None
    except UnicodeDecodeError:
        raise ProblemsError(
            [Problem(shown, "not UTF-8 text", hint="save the labels as UTF-8 CSV")]
        ) from None


def score(cases: Iterable[CaseKeys], labels: set[Key], rule_ids: Iterable[str]) -> list[Score]:
    """One score per rule (every rule in ``rule_ids`` or the labels), then ``ALL``."""
    cases = list(cases)
    rules = sorted(set(rule_ids) | {k[0] for k in labels} | {c[0] for c in cases})
    scores = [_score(rule_id, [c for c in cases if c[0] == rule_id],
                     {k for k in labels if k[0] == rule_id}) for rule_id in rules]  # fmt: skip
    scores.append(
        Score(
            "ALL",
            sum(s.true_positives for s in scores),
            sum(s.false_positives for s in scores),
            sum(s.false_negatives for s in scores),
            sum(s.found for s in scores),
        )
    )
    return scores


def _score(rule_id: str, cases: list[CaseKeys], labels: set[Key]) -> Score:
    held = {(r, d, k) for r, d, keys in cases for k in keys}
    right = sum(1 for r, d, keys in cases if any((r, d, k) in labels for k in keys))
    found = len(labels & held)
    return Score(rule_id, right, len(cases) - right, len(labels) - found, found)


def record_cases(keys: Iterable[Key]) -> list[CaseKeys]:
    """Each record a case of its own (predictions that know no cases)."""
    return [(r, d, frozenset((k,))) for r, d, k in dict.fromkeys(keys)]
