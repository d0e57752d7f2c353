"""One run: pull every source, evaluate the rules, store alerts, notify.

:mod:`.run` orchestrates a run through its stages: :mod:`.pull`, :mod:`.evaluate` (with the
incremental :mod:`.planner`) and :mod:`.alerting`; :mod:`.summary` is what a run did and its
ledger row, :mod:`.summary_text` its lines for the command line.
"""

from naebu.pipeline.run import load_ruleset, run_once
from naebu.pipeline.summary import RunSummary, SourceReport
from naebu.pipeline.summary_text import summary_lines

__all__ = ["RunSummary", "SourceReport", "load_ruleset", "run_once", "summary_lines"]
