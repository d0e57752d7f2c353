"""The Jinja2 sandbox every message is rendered in, and the words messages share.

Templates (``templates/*.j2``) are configuration an operator may edit, so they run in a
sandbox. Text parts (``*.j2``) are rendered without escaping; HTML parts (``*.html.j2``) in a
second environment that escapes every value (a rule's message or an official's comment may
hold ``<script>``). Both are masked afterwards (:mod:`naebu.core.masking`) by their callers.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any, NamedTuple

from jinja2 import FileSystemLoader, StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

from naebu.alerts.digest_fragments import OnceExtension
from naebu.engine.rule import SEVERITIES

TEMPLATES = Path(__file__).parent / "templates"

SEVERITY_LABELS = {
    "ko": {"low": "낮음", "medium": "보통", "high": "높음", "critical": "심각"},
    "en": {"low": "low", "medium": "medium", "high": "high", "critical": "critical"},
}

#: How a recipient is told about an alert that is not theirs to handle.
ROLE_LABELS = {
    "ko": {"official": "처리 담당", "manager": "부서관리자 통보", "audit": "감사부서 통보"},
    "en": {
        "official": "to handle",
        "manager": "for the department manager",
        "audit": "for the audit office",
    },
}

#: Severity -> rank, higher is more severe (digests write the most severe alerts first).
SEVERITY_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}


class MailParts(NamedTuple):
    """One rendered message: its subject, its text (every channel) and its HTML (email)."""

    subject: str
    body: str
    html: str


_env: SandboxedEnvironment | None = None
_html_env: SandboxedEnvironment | None = None


def environment() -> SandboxedEnvironment:
    """The sandboxed Jinja2 environment of the text templates (plain text, no autoescape)."""
    global _env
    if _env is None:
        _env = SandboxedEnvironment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=False,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            undefined=StrictUndefined,
            extensions=[OnceExtension],
        )
    return _env


def html_environment() -> SandboxedEnvironment:
    """The sandboxed Jinja2 environment of the HTML templates: every value is escaped."""
    global _html_env
    if _html_env is None:
        _html_env = SandboxedEnvironment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=True,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            undefined=StrictUndefined,
            extensions=[OnceExtension],
        )
    return _html_env


def per_rule(rules: Iterable[tuple[str, str]]) -> list[dict[str, Any]]:
    """How many items each rule has, from one ``(rule_id, title)`` per item, most first: the
    part of a digest counted, not written out (``more`` in the templates)."""
    counts = Counter(rules)  # in C: an auditor's digest of a province counts thousands
    return [
        {"rule_id": rule_id, "title": title, "count": n}
        for (rule_id, title), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
