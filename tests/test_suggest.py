"""`naebu sources suggest`: files shaped like real Korean exports are guessed right.

Each export below is written the way the city's systems write theirs: Korean headers, CP949,
a title row (and a unit line, blank rows or a merged banner) above the header, dates as
20250312 or 2025.03.12, amounts with commas, values in the system's own words. For each one
the test asserts the dataset, that at least 90% of its mappable columns are guessed right
(and hardly any wrong), and that the printed section, pasted into a config, passes the checks.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from suggest_files import EXPORTS, Export, rows, title, write

from naebu.cli import main
from naebu.connectors import check_source, make_connector
from naebu.connectors.base import SourceState
from naebu.connectors.source_settings import SourceConfig
from naebu.connectors.suggest import load_synonyms, normalise, suggest
from naebu.settings.config import load_config

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
ROOT = Path(__file__).resolve().parents[1]
#: The mapping helper's config keys (values, constants) are there once its branch is merged.
MAPPING_KEYS = "values" in getattr(SourceConfig, "__dataclass_fields__", {})


def _accuracy(suggestion, export: Export) -> tuple[float, list[str]]:  # type: ignore[no-untyped-def]
    """Share of the expected columns guessed right, and the wrong guesses."""
    got = suggestion.mapping
    right = sum(got.get(c) == h for c, h in export.expected.items())
    wrong = [f"{c}={h}" for c, h in got.items() if export.expected.get(c) != h]
    return right / len(export.expected), wrong


@pytest.mark.parametrize("export", EXPORTS, ids=[e.dataset for e in EXPORTS])
def test_export_dataset_and_columns_are_guessed(tmp_path: Path, export: Export) -> None:
    path = write(tmp_path, export)
    synonyms, problems = load_synonyms()
    assert problems == []
    s = suggest(path, synonyms)
    assert s.dataset == export.dataset, s.ranking[:3]
    assert s.sample.header_row == len(export.preamble) + 1
    assert s.sample.encoding == "cp949"
    accuracy, wrong = _accuracy(s, export)
    assert accuracy >= 0.9, (accuracy, s.mapping)
    assert len(wrong) <= max(1, len(export.expected) // 10), wrong


def _section(tmp_path: Path, export: Export, *extra: str) -> tuple[Path, str]:
    drops = tmp_path / "drops"
    drops.mkdir()
    path = write(drops, export)
    (tmp_path / "config.toml").write_text(
        '[store]\nurl = "sqlite:///var/naebu.sqlite"\n[rules]\npaths = []\n', encoding="utf-8"
    )
    result = CliRunner().invoke(
        main,
        ["sources", "suggest", str(path), "--config", str(tmp_path / "config.toml"), *extra],
    )
    assert result.exit_code == 0, result.output
    return path, result.output


def _paste(tmp_path: Path, section: str, rules: str = "[]") -> Path:
    if not MAPPING_KEYS:
        # Until the mapping helper's config keys land, the value maps are left out.
        section = re.sub(
            r"(?ms)^\[sources\.[^\]]+\.values\.[^\]]+\].*?(?=^\[|^# rules|\Z)", "", section
        )
    config = tmp_path / "config.toml"
    config.write_text(
        f'[store]\nurl = "sqlite:///var/naebu.sqlite"\n[rules]\npaths = {rules}\n\n{section}',
        encoding="utf-8",
    )
    return config


@pytest.mark.parametrize("export", EXPORTS, ids=[e.dataset for e in EXPORTS])
def test_pasted_section_loads_checks_and_reads_every_row(tmp_path: Path, export: Export) -> None:
    _, section = _section(tmp_path, export)
    config = load_config(_paste(tmp_path, section))
    [source] = config.sources.values()
    assert check_source(source, "config.toml") == []
    batches = list(make_connector(source).pull(SourceState()))
    read = sum(len(b.frame) for b in batches)
    quarantined = [q for b in batches for q in b.quarantined]
    assert read == len(export.rows) and not quarantined, quarantined[:3]
    if export.dataset == "card_transactions":
        frame = batches[0].frame
        assert str(frame["approved_date"].iloc[0].date()) == "2025-03-01"
        assert frame["amount"].iloc[0] == 21_300


def test_card_section_proposes_formats_values_and_passes_naebu_check(tmp_path: Path) -> None:
    card = next(e for e in EXPORTS if e.dataset == "card_transactions")
    _, section = _section(tmp_path, card)
    assert "header_row = 3" in section and 'encoding = "cp949"' in section
    assert 'approved_date = "%Y.%m.%d"' in section
    assert re.search(r'^"신용카드" = "카드" +# 0\.90 synonym', section, re.M)
    assert re.search(r"^approval_id = \"승인번호\" +# 0\.\d\d synonym", section, re.M)
    contracts = next(e for e in EXPORTS if e.dataset == "contracts")
    (tmp_path / "c").mkdir()
    _, other = _section(tmp_path / "c", contracts)
    assert re.search(r'^"수의계약" = "수의"', other, re.M)
    assert re.search(r'^"2인 이상 견적" = "수의"', other, re.M)
    config = _paste(tmp_path, section, rules=json.dumps([str(ROOT / "rules")]))
    result = CliRunner().invoke(main, ["check", "--config", str(config)])
    assert result.exit_code == 0, result.output


def test_card_file_without_a_payment_method_gets_a_commented_constant(tmp_path: Path) -> None:
    card = next(e for e in EXPORTS if e.dataset == "card_transactions")
    slim = Export(card.name, card.dataset, card.preamble, card.header[:-1],
                  [r[:-1] for r in card.rows], {})  # fmt: skip
    drops = tmp_path / "drops"
    drops.mkdir()
    path = write(drops, slim)
    config = tmp_path / "config.toml"
    config.write_text(f"[rules]\npaths = [{json.dumps(str(ROOT / 'rules'))}]\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["sources", "suggest", str(path), "--config", str(config)])
    section = result.output
    assert re.search(r'^# payment_method = "카드" +# 카드사 승인내역은', section, re.M)
    assert "[sources.카드승인내역.constants]" not in section
    assert "CARD-NIGHT: not evaluable (missing card_transactions.payment_method)" in section
    assert re.search(
        r"live too once the commented lines above are uncommented: .*CARD-NIGHT", section
    )


def test_forced_dataset_json_and_rules_made_live(tmp_path: Path) -> None:
    card = next(e for e in EXPORTS if e.dataset == "card_transactions")
    drops = tmp_path / "drops"
    drops.mkdir()
    path = write(drops, card)
    config = tmp_path / "config.toml"
    config.write_text(f"[rules]\npaths = [{json.dumps(str(ROOT / 'rules'))}]\n", encoding="utf-8")
    result = CliRunner().invoke(
        main, ["sources", "suggest", str(path), "--config", str(config), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["dataset"] == "card_transactions" and data["header_row"] == 3
    states = {r["rule_id"]: r["state"] for r in data["rules"]}
    assert states["CARD-NIGHT"] == "live" and states["CARD-MERCHANT"] == "live"
    assert "[sources." in data["section"]
    forced = CliRunner().invoke(
        main, ["sources", "suggest", str(path), "--config", str(config), "--dataset", "payments"]
    )
    assert forced.exit_code == 0 and 'dataset = "payments"' in forced.output
    assert "given with --dataset" in forced.output
    bad = CliRunner().invoke(main, ["sources", "suggest", str(path), "--dataset", "paymens"])
    assert bad.exit_code == 2 and "did you mean 'payments'" in bad.output


def test_city_synonyms_extend_the_dictionary(tmp_path: Path) -> None:
    (tmp_path / "my-headers.toml").write_text(
        '[columns.payments]\npayment_id = ["결의서 관리 코드"]\n', encoding="utf-8"
    )
    (tmp_path / "config.toml").write_text(
        '[onboarding]\nsynonyms = ["my-headers.toml"]\n', encoding="utf-8"
    )
    config = load_config(tmp_path / "config.toml")
    synonyms, problems = load_synonyms(config.onboarding.synonyms)
    assert problems == [] and "결의서 관리 코드" in synonyms.columns[("payments", "payment_id")]
    (tmp_path / "bad.toml").write_text('[columns.paymnts]\nx = ["a"]\n', encoding="utf-8")
    _, problems = load_synonyms([tmp_path / "bad.toml"])
    assert "unknown dataset 'paymnts'" in str(problems[0]) and "payments" in str(problems[0])
    (tmp_path / "config.toml").write_text('[onboarding]\nsynonyms = ["nope.toml"]\n')
    with pytest.raises(Exception, match="synonym file nope.toml not found"):
        load_config(tmp_path / "config.toml")


def test_normalise_drops_units_spaces_and_brackets() -> None:
    assert normalise("지급 금액(원)") == "지급금액"
    assert normalise("처리기간 [일]") == "처리기간"
    assert normalise("ＡＰＰＲＯＶＡＬ_ID") == "approvalid"


@pytest.mark.skipif(not (REAL / "seoul-districts-expense").is_dir(), reason="../shared/data/real absent: the real Seoul district files are not on this machine")  # fmt: skip
@pytest.mark.parametrize("name", ["ep", "guro", "mapo", "nowon", "sdm"])
def test_real_seoul_district_files_are_card_transactions(name: str) -> None:
    synonyms, _ = load_synonyms()
    s = suggest(REAL / "seoul-districts-expense" / f"{name}_expense_raw.csv", synonyms)
    assert s.dataset == "card_transactions"
    assert s.mapping["amount"] == "사용금액" and s.mapping["approved_date"] == "사용일"
    assert s.mapping["merchant_name"] in ("사용장소", "식당명")


def test_xlsx_of_another_city_with_spelled_out_headers(tmp_path: Path) -> None:
    """Headers not written as in the dictionary (spaces, units, longer words), in a workbook
    with a merged title: still the right dataset and at least 90% of the columns."""
    import openpyxl

    header = ["지출결의 No.", "결의일", "지급 금액(원)", "채주 성명", "입금은행계좌번호",
              "지출 부서명", "기안자 사번", "세금계산서 승인번호", "지출 적요", "계약 관리번호",
              "최종 결재자", "비고"]  # fmt: skip
    expected = dict(zip(["payment_id", "paid_on", "amount", "payee_name", "payee_account",
                         "department", "official_id", "invoice_no", "purpose", "contract_id",
                         "approver_id"], header, strict=False))  # fmt: skip
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "지출내역"
    ws.append(["2025년 지출결의 내역"])
    ws.merge_cells("A1:L1")
    ws.append(header)
    for i in range(25):
        ws.append([f"J{i:05d}", f"2025.03.{i + 1:02d}", 10_000 * (i + 1), f"업체{i}",
                   f"100-{i:04d}", "재무과", f"E{i:04d}", f"T{i:06d}", "물품 구입",
                   f"C{i:04d}", f"E9{i:03d}", ""])  # fmt: skip
    path = tmp_path / "지출.xlsx"
    book.save(path)
    synonyms, _ = load_synonyms()
    s = suggest(path, synonyms)
    export = Export(path.name, "payments", [], header, [], expected)
    accuracy, wrong = _accuracy(s, export)
    assert s.dataset == "payments" and s.sample.header_row == 2 and s.sample.sheet == "지출내역"
    assert accuracy >= 0.9 and not wrong, (accuracy, wrong)
    assert s.formats == {"paid_on": "%Y.%m.%d"}


def _uncomment(section: str) -> str:
    """The section with its proposed derived columns and constants switched on."""
    out = []
    for line in section.splitlines():
        if re.match(r"# \[sources\.[^\]]+\.(derive|constants)\]", line):
            line = line[2:].split("#")[0].rstrip()
        elif re.match(r"# [a-z_]+ = ", line):
            line = line[2:]
        out.append(line)
    return "\n".join(out) + "\n"


@pytest.mark.skipif(not MAPPING_KEYS, reason="derive and constants need the mapping branch")
def test_uncommented_derive_and_constants_load_and_read(tmp_path: Path) -> None:
    sales = Export(
        "매각대장.csv",
        "property_sales",
        title("공유재산 매각대장", 8),
        [
            "매각번호",
            "소재지번",
            "매각방법",
            "감정평가액1",
            "감정평가액2",
            "감정평가일1",
            "감정평가일2",
            "매각금액",
            "계약일",
        ],  # fmt: skip
        rows(
            12,
            lambda i: [
                f"S{i}",
                f"한빛동 {i}",
                "수의매각",
                f"{(i + 1) * 1000:,}",
                "" if i % 2 else f"{(i + 1) * 3000:,}",
                "2025.01.10",
                "" if i % 2 else "2024.12.01",
                f"{(i + 1) * 1500:,}",
                "2025.03.02",
            ],
        ),  # fmt: skip
        {},
    )
    _, section = _section(tmp_path, sales)
    assert "# appraisal_mean = 'mean_present(감정평가액1, 감정평가액2)'" in section
    config = load_config(_paste(tmp_path, _uncomment(section)))
    [source] = config.sources.values()
    assert check_source(source, "config.toml") == []
    batches = list(make_connector(source).pull(SourceState()))
    frame = batches[0].frame
    assert not [q for b in batches for q in b.quarantined]
    assert frame["appraisal_mean"].tolist()[:2] == [2000.0, 2000.0]
    assert frame["appraisal_count"].tolist()[:2] == [2, 1]
    assert str(frame["appraisal_date"].iloc[0].date()) == "2024-12-01"
    assert frame["method"].tolist()[0] == "수의"


def test_sqlite_file_gives_a_sql_section_per_table(tmp_path: Path) -> None:
    import sqlite3

    drops = tmp_path / "exports"
    drops.mkdir()
    with sqlite3.connect(drops / "재정.sqlite") as db:
        db.execute(
            'CREATE TABLE "지출결의" (지출결의번호 TEXT, 지출부서 TEXT, 채주명 TEXT, '
            "지출금액 REAL, 지출일자 TEXT, 변경일시 TEXT)"
        )
        db.executemany(
            'INSERT INTO "지출결의" VALUES (?, ?, ?, ?, ?, ?)',
            [
                (
                    f"P{i}",
                    "회계과",
                    f"업체{i}",
                    1000.0 * (i + 1),
                    f"202503{i + 1:02d}",
                    f"2025-03-{i + 1:02d} 09:00:00",
                )
                for i in range(9)
            ],  # fmt: skip
        )
        db.execute(
            'CREATE TABLE "세입수납" (수납번호 TEXT, 납부자 TEXT, 수납금액 INTEGER, 수납일자 TEXT)'
        )
        db.execute("INSERT INTO \"세입수납\" VALUES ('R1', '김', 5000, '2025-03-02')")
    config = tmp_path / "config.toml"
    config.write_text("[rules]\npaths = []\n", encoding="utf-8")
    result = CliRunner().invoke(
        main, ["sources", "suggest", str(drops / "재정.sqlite"), "--config", str(config)]
    )
    assert result.exit_code == 0, result.output
    out = result.output
    assert 'kind = "sql"' in out and 'url = "sqlite:///exports/재정.sqlite"' in out
    assert 'table = "지출결의"' in out and 'watermark = "변경일시"' in out
    assert 'dataset = "receipts"' in out and 'dataset = "payments"' in out
    config.write_text(f"[rules]\npaths = []\n\n{out}", encoding="utf-8")
    sources = load_config(config).sources
    assert len(sources) == 2
    payments = next(s for s in sources.values() if s.dataset == "payments")
    assert check_source(payments, "config.toml") == []
    batches = list(make_connector(payments).pull(SourceState()))
    assert sum(len(b.frame) for b in batches) == 9
    assert not [q for b in batches for q in b.quarantined]
    listed = CliRunner().invoke(
        main, ["sources", "suggest", str(drops / "재정.sqlite"), "--format", "json"]
    )
    assert [d["table"] for d in json.loads(listed.output)] == ["세입수납", "지출결의"]
    one = CliRunner().invoke(
        main, ["sources", "suggest", str(drops / "재정.sqlite"), "--table", "없음"]
    )
    assert one.exit_code == 1 and "no table '없음' - tables: 세입수납, 지출결의" in one.output


def test_tab_separated_export_gets_its_delimiter(tmp_path: Path) -> None:
    levies = next(e for e in EXPORTS if e.dataset == "levies")
    drops = tmp_path / "drops"
    drops.mkdir()
    rows = [*levies.preamble, levies.header, *levies.rows]
    (drops / "부과.txt").write_bytes("\n".join("\t".join(r) for r in rows).encode("cp949"))
    (tmp_path / "config.toml").write_text("[rules]\npaths = []\n", encoding="utf-8")
    result = CliRunner().invoke(
        main,
        ["sources", "suggest", str(drops / "부과.txt"), "--config", str(tmp_path / "config.toml")],
    )
    assert result.exit_code == 0, result.output
    assert 'delimiter = "\\t"' in result.output and 'dataset = "levies"' in result.output
    assert 'pattern = "부과.txt"' in result.output
    config = _paste(tmp_path, result.output)
    [source] = load_config(config).sources.values()
    batches = list(make_connector(source).pull(SourceState()))
    assert sum(len(b.frame) for b in batches) == len(levies.rows)


def test_workbook_with_a_cover_sheet_uses_the_sheet_that_fits(tmp_path: Path) -> None:
    import openpyxl

    permits = next(e for e in EXPORTS if e.dataset == "permits")
    book = openpyxl.Workbook()
    cover = book.active
    cover.title = "표지"
    cover.append(["민원 처리 현황 보고"])
    cover.append(["작성: 민원여권과"])
    data = book.create_sheet("처리대장")
    for row in [*permits.preamble, permits.header, *permits.rows]:
        data.append(row)
    book.save(tmp_path / "민원.xlsx")
    (tmp_path / "config.toml").write_text("[rules]\npaths = []\n", encoding="utf-8")
    result = CliRunner().invoke(
        main,
        [
            "sources",
            "suggest",
            str(tmp_path / "민원.xlsx"),
            "--config",
            str(tmp_path / "config.toml"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert 'sheet = "처리대장"' in result.output and 'dataset = "permits"' in result.output
    [source] = load_config(_paste(tmp_path, result.output)).sources.values()
    batches = list(make_connector(source).pull(SourceState()))
    assert sum(len(b.frame) for b in batches) == len(permits.rows)
