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

Rule governance (naebu/rule_drafts.py): when approval is required (``[rules]
require_approval``, by default when the directory has an audit office), a rule runs only in a
version that ran before or that an approved draft brings. An edit made without one is held
back: the rule keeps running in its previous version (with none, after a restart, it does not
run), and the edit is a problem reported once. When an approved draft's versions first run,
the draft becomes live, recorded in the audit trail.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine

from naebu import rule_drafts, rulechanges
from naebu.core.problems import Problem
from naebu.engine.examples import run_examples
from naebu.engine.loader import RuleSet, load_rules
from naebu.engine.registry import RuleType
from naebu.settings.config import Config

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
    #: Rules whose edit waits for approval (running in their previous version, or not at all).
    held: list[str] = field(default_factory=list)
    #: Approved drafts that have just gone live.
    loaded: list[int] = field(default_factory=list)


class RuleKeeper:
    """The rules the daemon runs: the rule files as they are now, broken parts replaced by
    their last good version."""

    def __init__(self, config: Config, engine: Engine | None = None) -> None:
        self.config = config
        #: The store, for rule governance (none: every rule version runs).
        self.engine = engine
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
        held, loaded = self._govern(rules, fresh, kept)
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
        ruleset = RuleSet(
            rules=list(rules.values()), problems=[], files=fresh.files, lists=fresh.lists
        )
        return Reload(ruleset, list(fresh.problems), new, sorted(kept), fixed, held, loaded)

    def _govern(
        self, rules: dict[str, RuleType], fresh: RuleSet, kept: list[str]
    ) -> tuple[list[str], list[int]]:
        """Hold back the rule versions not approved (in ``rules``, in place: the previous
        version, or none); mark approved drafts that now run as live. The held rules, and the
        drafts gone live."""
        if self.engine is None:
            return [], []
        now = datetime.now().replace(microsecond=0)
        whole = RuleSet(rules=list(rules.values()), files=fresh.files, lists=fresh.lists)
        versions = {
            k: v.content_hash
            for k, v in rulechanges.current_versions(
                whole, root=self.config.base_dir, skip=kept
            ).items()
        }
        with self.engine.connect() as conn:
            allowed = (
                rule_drafts.approved_versions(conn)
                if rule_drafts.required(self.config, conn)
                else None
            )
        held = []
        for rule_id, digest in versions.items():
            if allowed is None or rule_id.startswith("list:"):
                continue
            if digest in allowed.get(rule_id, ()):
                continue
            held.append(rule_id)
            file = str(rules[rule_id].meta.file)
            previous = self.good.get(rule_id)
            if previous is not None:
                rules[rule_id] = previous
            else:
                rules.pop(rule_id, None)
            fresh.problems.append(
                Problem(
                    file,
                    (
                        "승인되지 않은 규칙 변경: 이전 버전으로 실행합니다 (changed without an "
                        "approved draft: the previous version runs)"
                        if previous
                        else "승인되지 않은 규칙 변경: 실행하지 않습니다 (changed without an "
                        "approved draft: the rule does not run)"
                    ),
                    rule_id=rule_id,
                    hint="naebu rules propose COPY --replaces FILE, simulate, approve",
                )
            )
        running = {k: v for k, v in versions.items() if k not in held}
        loaded = rule_drafts.mark_loaded(self.engine, running, now=now)
        for draft_id in loaded:
            log.info("approved rule draft #%d is live", draft_id)
        return sorted(held), loaded

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
