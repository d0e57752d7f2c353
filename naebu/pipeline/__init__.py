"""One run: pull every source, evaluate the rules, store alerts, notify (see :mod:`.run`)."""

from naebu.pipeline.run import _Run, load_ruleset, run_once
from naebu.pipeline.summary import RunSummary, SourceReport
from naebu.pipeline.summary_text import summary_lines

__all__ = ["RunSummary", "SourceReport", "_Run", "load_ruleset", "run_once", "summary_lines"]
