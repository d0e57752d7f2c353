"""The README's promises: two quick-start lines, and CI runs exactly the second."""

from __future__ import annotations

import re

from conftest import ROOT


def quick_start_lines() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block, "Quick start has a sh code block"
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_quick_start_has_exactly_two_lines() -> None:
    lines = quick_start_lines()
    assert len(lines) == 2
    assert "naebu run --once" in lines[0]
    assert "pytest" in lines[1]


def test_ci_runs_the_readme_test_line() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert quick_start_lines()[1] in ci.splitlines()


def test_generated_rule_reference_is_current() -> None:
    from naebu import docgen

    current = docgen.DOC.read_text(encoding="utf-8")
    assert docgen.render(current) == current, (
        "run `python -m naebu.docgen` and commit docs/rules.md"
    )


def test_every_function_and_dataset_is_documented() -> None:
    from naebu.core.datasets import DATASETS
    from naebu.engine.expr import FUNCTIONS

    doc = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    for name, fn in FUNCTIONS.items():
        assert f"`{name}(" in doc and fn.doc, name
    for ds in DATASETS.values():
        for column in ds.columns:
            assert f"| `{column.name}` |" in doc


def test_generated_vocabulary_is_current() -> None:
    from naebu import docgen

    current = docgen.SOURCES_DOC.read_text(encoding="utf-8")
    assert docgen.VOCAB_START in current, "docs/sources.md has the vocabulary markers"
    assert docgen.render_vocabulary(current) == current, (
        "run `python -m naebu.docgen` and commit docs/sources.md"
    )
