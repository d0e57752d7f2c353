"""Precision and recall of the rules against a labels file (``rule_id,dataset,record_key``).

The labels are the ground truth (the demo city writes them for the anomalies it plants; an
audit office can keep its own from confirmed cases). The predictions are the alerts in the
store, or the findings of a replay over the store's records.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from naebu.problems import Problem, ProblemsError

Key = tuple[str, str, str]
LABEL_COLUMNS = ("rule_id", "dataset", "record_key")


@dataclass(frozen=True)
class Score:
    """Counts and rates for one rule (or all of them)."""

    rule_id: str
    true_positives: int
    false_positives: int
    false_negatives: int

    @property
    def precision(self) -> float | None:
        """Share of flagged records that are labelled (None when nothing was flagged)."""
        flagged = self.true_positives + self.false_positives
        return self.true_positives / flagged if flagged else None

    @property
    def recall(self) -> float | None:
        """Share of labelled records that were flagged (None when nothing is labelled)."""
        labelled = self.true_positives + self.false_negatives
        return self.true_positives / labelled if labelled else None

    def as_json(self) -> dict[str, object]:
        """JSON-safe form."""
        return {
            "rule_id": self.rule_id,
            "labelled": self.true_positives + self.false_negatives,
            "flagged": self.true_positives + self.false_positives,
            "true_positives": self.true_positives,
            "false_positives": self.false_positives,
            "false_negatives": self.false_negatives,
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


def score(predicted: Iterable[Key], labels: set[Key], rule_ids: Iterable[str]) -> list[Score]:
    """One score per rule (every rule in ``rule_ids`` or the labels), then ``ALL``."""
    predicted = set(predicted)
    rules = sorted(set(rule_ids) | {k[0] for k in labels} | {k[0] for k in predicted})
    scores = []
    for rule_id in rules:
        p = {k for k in predicted if k[0] == rule_id}
        t = {k for k in labels if k[0] == rule_id}
        scores.append(Score(rule_id, len(p & t), len(p - t), len(t - p)))
    scores.append(
        Score("ALL", len(predicted & labels), len(predicted - labels), len(labels - predicted))
    )
    return scores
