"""The synonym dictionary of ``naebu sources suggest``: how Korean exports name things.

``connectors/synonyms.toml`` ships with naebu; a city adds its own files of the same layout in
``[onboarding] synonyms`` (naebu/settings/config.py). Three kinds of tables:

- ``[columns.DATASET]``: canonical column = source headers. ``[columns."*"]`` gives headers to
  that column of every dataset that has it (``department``, ``official_id``, ``updated_at``);
- ``[values."DATASET.COLUMN"]``: canonical code = source values (value maps);
- ``[constants."DATASET.COLUMN"]``: ``value`` and ``reason``, proposed when a file lacks the
  column (a card company's approvals are card payments);
- ``[derive."DATASET.COLUMN"]``: ``from`` (header stems) and ``expression``, proposed when the
  column is spread over numbered columns or written with a unit (``14일``).

Headers and values are compared :func:`normalise`-d.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from naebu.core import datasets
from naebu.core.problems import Problem, did_you_mean

_SECTIONS = ("columns", "values", "constants", "derive")
_BRACKETED = re.compile(r"[(\[{（［<〈][^)\]}）］>〉]*[)\]}）］>〉]")
_NOISE = re.compile(r"[\s_·\-./:~*※#]+")


@dataclass
class Synonyms:
    """The synonym dictionary: header synonyms, value synonyms and constant hints."""

    #: (dataset, column) -> source headers, as written.
    columns: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    #: "dataset.column" -> canonical code -> source values.
    values: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    #: "dataset.column" -> (value, reason).
    constants: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: "dataset.column" -> (header stems, expression template).
    derive: dict[str, tuple[list[str], str]] = field(default_factory=dict)

    def add(self, raw: dict[str, object], file: str, problems: list[Problem]) -> None:
        """Add the tables of one synonym file; a mistake in it is a located problem."""
        for section, body in raw.items():
            if section not in _SECTIONS or not isinstance(body, dict):
                problems.append(
                    Problem(
                        file,
                        f"unknown table [{section}]",
                        key=section,
                        hint='[columns.DATASET], [values."DATASET.COLUMN"], '
                        '[constants."DATASET.COLUMN"] or [derive."DATASET.COLUMN"]',
                    )
                )
                continue
            for name, entries in body.items():
                where = f"{section}.{name}"
                if section == "columns" and name == "*" and isinstance(entries, dict):
                    self._everywhere(entries, file, where, problems)
                    continue
                if section == "columns":
                    if name not in datasets.DATASETS or not isinstance(entries, dict):
                        problems.append(_unknown_dataset(file, where, name))
                        continue
                    for column, headers in entries.items():
                        if self._column_ok(file, f"{where}.{column}", name, column, problems):
                            self.columns.setdefault((name, column), []).extend(
                                _strings(headers, file, f"{where}.{column}", problems)
                            )
                    continue
                ds, _, column = name.partition(".")
                if not self._column_ok(file, where, ds, column, problems):
                    continue
                if not isinstance(entries, dict):
                    problems.append(Problem(file, "must be a table", key=where))
                elif section == "values":
                    codes = self.values.setdefault(name, {})
                    for code, variants in entries.items():
                        codes.setdefault(str(code), []).extend(
                            _strings(variants, file, f"{where}.{code}", problems)
                        )
                elif section == "constants":
                    self.constants[name] = (
                        str(entries.get("value", "")),
                        str(entries.get("reason", "")),
                    )
                else:
                    stems = _strings(entries.get("from", []), file, f"{where}.from", problems)
                    self.derive[name] = (stems, str(entries.get("expression", "")))

    def _everywhere(
        self, entries: dict[str, object], file: str, where: str, problems: list[Problem]
    ) -> None:
        """``[columns."*"]``: headers of a column every dataset having it shares."""
        for column, headers in entries.items():
            names = _strings(headers, file, f"{where}.{column}", problems)
            owners = [d for d in datasets.DATASETS.values() if column in d.by_name]
            if not owners:
                problems.append(
                    Problem(file, f"no dataset has a column {column!r}", key=f"{where}.{column}")
                )
            for ds in owners:
                self.columns.setdefault((ds.name, column), []).extend(names)

    def code_share(self, dataset: str, column: str, values: list[str]) -> float:
        """The share of ``values`` that are codes of the column or their known synonyms."""
        if not values:
            return 0.0
        variants = self.values.get(f"{dataset}.{column}", {})
        known = {normalise(v) for code, names in variants.items() for v in (code, *names)}
        known |= {normalise(c) for c in self.vocabulary(dataset, column)}
        if not known:
            return 0.0
        return sum(normalise(v) in known for v in values) / len(values)

    @staticmethod
    def _column_ok(file: str, where: str, ds: str, column: str, problems: list[Problem]) -> bool:
        if ds not in datasets.DATASETS:
            problems.append(_unknown_dataset(file, where, ds))
            return False
        if column not in datasets.get(ds).by_name:
            problems.append(
                Problem(
                    file,
                    f"{column!r} is not a column of dataset {ds}",
                    key=where,
                    hint=did_you_mean(column, datasets.get(ds).by_name) or None,
                )
            )
            return False
        return True

    def vocabulary(self, dataset: str, column: str) -> tuple[str, ...]:
        """The canonical codes of a coded column (naebu/core/datasets.py, else this dictionary)."""
        col = datasets.get(dataset).by_name[column]
        declared = tuple(getattr(col, "values", ()) or ())
        return declared or tuple(self.values.get(f"{dataset}.{column}", {}))


def _unknown_dataset(file: str, where: str, name: str) -> Problem:
    return Problem(
        file,
        f"unknown dataset {name!r}",
        key=where,
        hint=did_you_mean(name, datasets.DATASETS) or "one of: " + ", ".join(datasets.DATASETS),
    )


def _strings(value: object, file: str, where: str, problems: list[Problem]) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    problems.append(
        Problem(file, "must be a list of text", key=where, hint='["지급일자", "지급일"]')
    )
    return []


def load_synonyms(extra: Iterable[Path] = ()) -> tuple[Synonyms, list[Problem]]:
    """The shipped dictionary plus the city's own files, and the problems found in them."""
    synonyms = Synonyms()
    problems: list[Problem] = []
    shipped = resources.files("connectors").joinpath("synonyms.toml").read_text(encoding="utf-8")
    synonyms.add(tomllib.loads(shipped), "connectors/synonyms.toml", problems)
    for path in extra:
        shown = _shown(path)
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            problems.append(Problem(shown, "synonym file not found", key="onboarding.synonyms"))
            continue
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            problems.append(Problem(shown, f"not valid UTF-8 TOML: {exc}"))
            continue
        synonyms.add(raw, shown, problems)
    return synonyms, problems


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def normalise(text: str) -> str:
    """A header or value as compared: NFKC, bracketed units and notes dropped, no spaces or
    punctuation, latin lower-cased (``"지급 금액(원)"`` -> ``"지급금액"``)."""
    text = unicodedata.normalize("NFKC", text).strip()
    stripped = _BRACKETED.sub("", text)
    text = stripped if stripped.strip() else text
    return _NOISE.sub("", text).casefold()
