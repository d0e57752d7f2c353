"""[city] government_type: the kind of government chooses the thresholds in force, by law.

공유재산 및 물품 관리법 시행령 제27조제4항: an appraisal may be skipped under KRW 10m, or under
KRW 30m in a 특별시·광역시 (area) and a 시 of 500,000 people or more.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
from conftest import ROOT, run_cli, write_config

from naebu.core import datasets
from naebu.core.government import Government
from naebu.core.problems import ProblemsError
from naebu.engine.examples import records_frame, run_examples
from naebu.engine.loader import load_rules
from naebu.engine.registry import EvalContext
from naebu.settings.config import load_config

RULES = ROOT / "rules"
#: The rules `naebu check` reads in the config tests: the files with government-dependent values
#: (the whole pack's examples would triple the time and test nothing more here).
PROPERTY_RULES = RULES / "property"
ARTICLE = "공유재산 및 물품 관리법 시행령 제27조제4항"


def _no_appraisal_rule(government: Government | None):  # type: ignore[no-untyped-def]
    ruleset = load_rules([RULES / "property"], root=ROOT, government=government)
    assert [str(p) for p in ruleset.problems] == []
    return ruleset.by_id()["PROP-NO-APPRAISAL"]


def _fires(rule, record: dict) -> bool:  # type: ignore[no-untyped-def]
    frame, bad = records_frame(datasets.get("property_sales"), [record], "T", "test")
    assert not bad
    frames = {d: frame if d == "property_sales" else pd.DataFrame() for d in rule.datasets}
    return bool(rule.evaluate(frames, EvalContext(now=datetime(2100, 1, 1))))


SALE_20M = {
    "sale_id": "S-20M",
    "appraisal_count": 0,
    "planned_price": 20_000_000,
    "sale_price": 20_000_000,
    "contract_date": "2025-05-02",
}


def test_switching_from_gun_to_jachigu_changes_the_threshold_in_force() -> None:
    gun = _no_appraisal_rule(Government.of("군"))
    gu = _no_appraisal_rule(Government.of("자치구"))
    assert gun.meta.params["min_value"] == 10_000_000
    assert gu.meta.params["min_value"] == 30_000_000
    (in_force,) = gu.meta.government_params
    assert (in_force.value, in_force.chosen, in_force.basis) == (
        30_000_000,
        "metropolitan_area",
        ARTICLE,
    )
    # A KRW 20m sale without an appraisal: unlawful in a 군, lawful in a 자치구.
    assert _fires(gun, SALE_20M)
    assert not _fires(gu, SALE_20M)


def test_a_gun_of_a_gwangyeoksi_and_a_large_si_take_the_metropolitan_value() -> None:
    gijang = Government("군", metropolitan_area=True, name="부산광역시 기장군")
    assert _no_appraisal_rule(gijang).meta.params["min_value"] == 30_000_000
    large = Government("시", large_city=True)
    assert _no_appraisal_rule(large).meta.params["min_value"] == 30_000_000
    assert _no_appraisal_rule(Government.of("도")).meta.params["min_value"] == 10_000_000
    # No [city]: the default, and no problem.
    assert _no_appraisal_rule(None).meta.params["min_value"] == 10_000_000


@pytest.mark.parametrize("kind", ["군", "자치구", "광역시", "교육청"])
def test_the_pack_examples_hold_whatever_the_city(kind: str) -> None:
    """Examples run with the defaults, or the government they name: not with the city's."""
    ruleset = load_rules([RULES], root=ROOT, government=Government.of(kind))
    assert [str(p) for p in ruleset.problems] == []
    rules = [r for r in ruleset.rules if r.meta.government_params]
    assert rules, "some rule depends on the kind of government"
    assert [str(p) for p in run_examples(rules)] == []


def _city_config(tmp_path: Path, city: str) -> Path:
    return write_config(
        tmp_path,
        f'[rules]\npaths = ["{PROPERTY_RULES}"]\n[store]\nurl = "sqlite:///var/s.db"\n\n[city]\n{city}\n',
    )


def test_naebu_check_shows_the_values_in_force_and_their_articles(tmp_path: Path) -> None:
    shown = {}
    for kind in ("군", "자치구"):
        folder = tmp_path / kind
        folder.mkdir()
        cfg = _city_config(folder, f'name = "시험{kind}"\ngovernment_type = "{kind}"')
        result = run_cli("check", "--config", str(cfg), cwd=folder)
        assert result.returncode == 0, result.stderr
        shown[kind] = result.stdout
    assert "government type: 시험군, 군" in shown["군"]
    assert "government type: 시험자치구, 자치구 (특별시·광역시 지역)" in shown["자치구"]
    assert f"PROP-NO-APPRAISAL params.min_value = 10,000,000 (default) - {ARTICLE}" in shown["군"]
    assert (
        f"PROP-NO-APPRAISAL params.min_value = 30,000,000 (특별시·광역시 지역) - {ARTICLE}"
        in shown["자치구"]
    )


def test_an_unknown_government_type_is_a_located_error(tmp_path: Path) -> None:
    cfg = _city_config(tmp_path, 'name = "한빛"\ngovernment_type = "자치군"')
    with pytest.raises(ProblemsError) as info:
        load_config(cfg)
    (problem,) = info.value.problems
    assert problem.line == 8 and problem.key == "city.government_type"
    assert "unknown government type '자치군'" in problem.message
    assert problem.hint and "자치구" in problem.hint
    result = run_cli("check", "--config", str(cfg), cwd=tmp_path)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "config.toml:8: city.government_type: unknown government type '자치군'" in result.stderr


def test_city_settings_that_cannot_hold_are_located(tmp_path: Path) -> None:
    cases = {
        'government_type = "교육청"': ("city.metropolitan_area", "특별시·광역시"),
        'government_type = "군"\nlarge_city = true': ("city.large_city", "only a 시"),
        'government_type = "군"\nmetropolitan_area = "yes"': (
            "city.metropolitan_area",
            "true or false",
        ),
        'name = "한빛시"': ("city.government_type", "missing"),
        'government_type = "시"\npopulation = 600000': ("city.population", "unknown key"),
    }
    for body, (key, text) in cases.items():
        with pytest.raises(ProblemsError) as info:
            load_config(_city_config(tmp_path, body))
        assert any(p.key == key and text in p.message and p.line for p in info.value.problems), (
            body,
            [str(p) for p in info.value.problems],
        )
    ok = load_config(_city_config(tmp_path, 'government_type = "교육청"\nmetropolitan_area = true'))
    assert ok.city == Government("교육청", metropolitan_area=True)


RULE = """
[[rule]]
id = "T-GOV"
title = "t"
title_en = "t"
type = "match"
dataset = "property_sales"
severity = "low"
basis = "공유재산 및 물품 관리법 시행령 제27조제4항"
when = "sale_price >= params.min_value"

[rule.params.by_government]
{table}

[[rule.example]]
fires = true
record = {{ sale_price = 40_000_000 }}

[[rule.example]]
fires = false
record = {{ sale_price = 1 }}
"""


def _problems(tmp_path: Path, table: str) -> list[str]:
    (tmp_path / "r.toml").write_text(RULE.format(table=table), encoding="utf-8")
    return [str(p) for p in load_rules([tmp_path], root=tmp_path).problems]


def test_by_government_mistakes_are_located(tmp_path: Path) -> None:
    unknown = _problems(tmp_path, 'min_value = { "자치군" = 1, default = 2, basis = "제27조" }')
    assert any("r.toml:13: rule T-GOV: params.by_government.min_value.자치군: unknown government type" in p
               and "did you mean '자치구'?" in p for p in unknown), unknown  # fmt: skip
    no_default = _problems(tmp_path, 'min_value = { "자치구" = 1, basis = "제27조" }')
    assert any("params.by_government.min_value: no default value" in p for p in no_default)
    no_basis = _problems(tmp_path, 'min_value = { "자치구" = 1, default = 2 }')
    assert any("params.by_government.min_value.basis: missing or empty" in p for p in no_basis)
    kinds = _problems(tmp_path, 'min_value = { "자치구" = "많이", default = 2, basis = "제27조" }')
    assert any("min_value.자치구: must be" in p for p in kinds), kinds
    good = _problems(tmp_path, 'min_value = { "자치구" = 30, default = 20, basis = "제27조" }')
    assert good == []


def test_a_shared_parameter_is_written_once(tmp_path: Path) -> None:
    """PROP-PRICE-CUT and PROP-BELOW-APPRAISAL read one [params] of their file."""
    ruleset = load_rules([RULES / "property"], root=ROOT)
    rules = ruleset.by_id()
    for name in ("floor", "step", "first_cut_round"):
        assert (
            rules["PROP-PRICE-CUT"].meta.params[name]
            == rules["PROP-BELOW-APPRAISAL"].meta.params[name]
        )
    assert "floor" not in rules["PROP-NO-APPRAISAL"].meta.params  # only what a rule names
    text = '[params]\nlimit = 5\n\n[[rule]]\nid = "T-1"\ntitle = "t"\ntitle_en = "t"\n'
    text += 'type = "match"\ndataset = "payments"\nseverity = "low"\n'
    text += 'when = "amount > params.limit"\nparams = { limit = 6 }\n'
    (tmp_path / "r.toml").write_text(text, encoding="utf-8")
    problems = [str(p) for p in load_rules([tmp_path], root=tmp_path).problems]
    assert any("params.limit: also given in the file's [params]" in p for p in problems), problems


@pytest.mark.parametrize(
    ("round_", "price", "fires"),
    [(1, 95_000_000, True), (3, 90_000_000, False), (3, 85_000_000, True), (4, 80_000_000, False),
     (None, 85_000_000, False), (None, 79_000_000, True)],
)  # fmt: skip
def test_below_appraisal_allows_the_lawful_price_of_the_round(round_, price, fires) -> None:  # type: ignore[no-untyped-def]
    rule = load_rules([RULES / "property"], root=ROOT).by_id()["PROP-BELOW-APPRAISAL"]
    record = {"sale_id": "S", "appraisal_count": 2, "appraisal_mean": 100_000_000,
              "sale_price": price, "contract_date": "2025-05-02"}  # fmt: skip
    if round_ is not None:
        record["tender_round"] = round_
    assert _fires(rule, record) is fires


def test_what_runs_is_audited_shared_and_government_values_included() -> None:
    """Rule-change auditing hashes what runs: a shared [params] value or the city's kind of
    government changes a rule's version, though the rule's own table did not change."""
    from naebu.rulechanges import current_versions

    def version(government: Government | None) -> dict:
        ruleset = load_rules([RULES / "property"], root=ROOT, government=government)
        return current_versions(ruleset, root=ROOT)

    gun, gu = version(Government.of("군")), version(Government.of("자치구"))
    assert gun["PROP-NO-APPRAISAL"].content_hash != gu["PROP-NO-APPRAISAL"].content_hash
    assert gu["PROP-NO-APPRAISAL"].content["params_in_force"] == {"min_value": 30_000_000}
    shared = gun["PROP-BELOW-APPRAISAL"].content["params_in_force"]
    assert shared == {"first_cut_round": 3, "floor": 0.8, "step": 0.1}
    # A rule with neither keeps the hash of its table alone.
    assert "params_in_force" not in gun["PROP-STALE-APPRAISAL"].content


FALLBACK_RULE = """
[[rule]]
id = "T-FB"
title = "t"
title_en = "t"
type = "match"
dataset = "property_sales"
severity = "low"
when = "sale_price >= params.min_value and planned_price >= params.min_value"
optional = ["planned_price"]

[rule.params.by_government]
min_value = { "자치구" = 30_000_000, default = 10_000_000, basis = "제27조제4항" }

[[rule.example]]
fires = true
record = { sale_price = 20_000_000, planned_price = 20_000_000, contract_date = "2025-05-02" }

[[rule.example]]
fires = false
government = "자치구"
record = { sale_price = 20_000_000, planned_price = 20_000_000, contract_date = "2025-05-02" }

[rule.fallback]
when = "sale_price >= params.min_value"

[[rule.fallback.example]]
fires = true
record = { sale_price = 20_000_000, contract_date = "2025-05-02" }

[[rule.fallback.example]]
fires = false
record = { sale_price = 9_000_000, contract_date = "2025-05-02" }
"""


def test_a_fallbacks_examples_also_run_with_the_defaults(tmp_path: Path) -> None:
    (tmp_path / "r.toml").write_text(FALLBACK_RULE, encoding="utf-8")
    ruleset = load_rules([tmp_path], root=tmp_path, government=Government.of("자치구"))
    assert [str(p) for p in ruleset.problems] == []
    (rule,) = ruleset.rules
    assert rule.meta.params["min_value"] == 30_000_000
    assert rule.fallback is not None and rule.fallback.meta.params["min_value"] == 30_000_000
    assert [str(p) for p in run_examples(ruleset.rules)] == []


def test_without_city_naebu_check_says_the_defaults_are_in_force(tmp_path: Path) -> None:
    cfg = write_config(
        tmp_path, f'[rules]\npaths = ["{PROPERTY_RULES}"]\n[store]\nurl = "sqlite:///var/s.db"\n'
    )
    result = run_cli("check", "--config", str(cfg), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "government type: not set ([city] government_type in config.toml)" in result.stdout
    assert f"PROP-NO-APPRAISAL params.min_value = 10,000,000 (default) - {ARTICLE}" in result.stdout
