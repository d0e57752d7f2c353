"""Hot reload of rule files: each run reads them again; a broken edit keeps the last good rule.

Compliance staff edit rule files on the running server. An edit must take effect at the next
run without a restart, and a mistake in it must not silence the rule (an auditor's typo would
otherwise switch off a control for months). So the daemon keeps the last good version of every
rule by id:

- a rule that loads replaces its previous version;
- a rule whose file has a problem and that no longer loads (its own mistake, or a TOML syntax
  error that takes the whole file down) keeps running in its last good version;
- a rule removed from a file that loads cleanly is dropped;
- an emptied (0-byte) file is a problem of that file ("file is empty"): its rules keep running;
- a rule whose examples fail (a ``[[rule.example]]`` that must fire and does not, or the other
  way round) is a problem too: its last good version keeps running (with none, after a restart,
  it does not run). The examples run again only when a rule file changes.

Every new problem is logged and reported once (the daemon sends it to the admins); when the
files are clean again that is logged too.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field

from engine.examples import run_examples
from engine.loader import RuleSet, load_rules
from engine.registry import RuleType
from naebu.config import Config
from naebu.problems import Problem

log = logging.getLogger(__name__)


@dataclass
class Reload:
    """What one :meth:`RuleKeeper.refresh` found."""

    ruleset: RuleSet
    #: Every problem in the rule files now.
    problems: list[Problem] = field(default_factory=list)
    #: Problems not reported before (to log and send to the admins).
    new_problems: list[Problem] = field(default_factory=list)
    #: Rules running in their last good version, by id.
    kept: list[str] = field(default_factory=list)
    #: True when the files have just become clean after having problems.
    fixed: bool = False


class RuleKeeper:
    """The rules the daemon runs: the rule files as they are now, broken parts replaced by
    their last good version."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.good: dict[str, RuleType] = {}
        self.reported: set[str] = set()
        #: Failing examples of the rule files as they were at :attr:`_examples_of` (a digest).
        self._example_problems: list[Problem] = []
        self._examples_of = ""

    def refresh(self) -> Reload:
        """Read the rule files again (milliseconds for a city's rule pack; the examples, a few
        seconds, run again only when a file has changed)."""
        fresh = load_rules(
            self.config.rule_paths, root=self.config.base_dir, government=self.config.city
        )
        failing = self._failing_examples(fresh)
        fresh.problems.extend(failing)
        failed_ids = {p.rule_id for p in failing}
        rules = {r.meta.id: r for r in fresh.rules if r.meta.id not in failed_ids}
        troubled_files = {p.file for p in fresh.problems}
        kept = []
        for rule_id, old in self.good.items():
            if rule_id not in rules and str(old.meta.file) in troubled_files:
                rules[rule_id] = old
                kept.append(rule_id)
        self.good = rules
        texts = {str(p) for p in fresh.problems}
        new = [p for p in fresh.problems if str(p) not in self.reported]
        fixed = bool(self.reported) and not texts
        self.reported = texts
        for p in new:
            log.error("rule problem: %s", p)
        if kept:
            log.warning("rules running in their last good version: %s", ", ".join(sorted(kept)))
        if fixed:
            log.info("rule files are clean again")
        ruleset = RuleSet(rules=list(rules.values()), problems=[], files=fresh.files)
        return Reload(ruleset, list(fresh.problems), new, sorted(kept), fixed)

    def _failing_examples(self, fresh: RuleSet) -> list[Problem]:
        """Problems of examples that do not behave (not of missing ones: ``naebu check`` says
        those), run again only when the content of a rule file has changed."""
        digest = hashlib.sha256()
        for path in fresh.files:
            try:
                digest.update(str(path).encode() + b"\0" + path.read_bytes() + b"\0")
            except OSError:
                digest.update(str(path).encode() + b"\0?\0")
        if digest.hexdigest() != self._examples_of:
            self._example_problems = [
                p
                for p in run_examples(fresh.rules)
                if p.key and p.key.removeprefix("fallback.").startswith("example[")
            ]
            self._examples_of = digest.hexdigest()
        return list(self._example_problems)
