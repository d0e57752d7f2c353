"""The README written next to the demo data (Korean first, then English)."""

from __future__ import annotations

from naebu.demo import writers
from naebu.demo.people import CITIES
from naebu.demo.volumes import Volumes

RULE_TITLES = {
    "PROP-BELOW-APPRAISAL": "공유재산 감정평가액 평균 미만 매각",
    "PROP-STALE-APPRAISAL": "1년 지난 감정평가로 매각",
    "CONTRACT-NEAR-LIMIT": "수의계약 한도(2천만원) 직하 계약",
    "PAY-SELF-APPROVAL": "기안자와 결재자가 같은 지출",
    "CARD-NIGHT": "업무추진비 심야 사용(23시~06시)",
    "CARD-HOLIDAY": "업무추진비 주말·공휴일 사용",
    "CARD-SPLIT": "업무추진비 같은 날 같은 가맹점 분할 결제",
    "CARD-PERPERSON": "업무추진비 1인당 4만원 초과",
    "CARD-MERCHANT": "업무추진비 제한업종·가맹점 사용",
    "ATT-OVERTIME-ON-LEAVE": "휴가·출장일 초과근무",
    "PERMIT-LATE": "인허가 법정처리기한 초과",
    "LEVY-REDUCTION-NO-CODE": "감면사유 코드 없는 세외수입 감면",
    "PROP-NO-APPRAISAL": "감정평가 없는 공유재산 매각",
    "PROP-SOLE-SOURCE-NO-GROUND": "허용 사유 없는 수의매각",
    "PROP-SPLIT-PARCEL": "분할 필지를 같은 매수인에게 수의매각",
    "PROP-PRICE-CUT": "유찰 후 허용 범위를 넘은 가격 인하",
    "PROP-PROCEEDS-LATE": "60일 안에 매각대금 미수납",
    "PROP-TITLE-BEFORE-PAYMENT": "완납 전 소유권 이전",
    "REV-RECEIPT-OTHER-ACCOUNT": "공금 계좌가 아닌 계좌로 수납",
    "CONTRACT-SPLIT": "수의계약 분할 의심",
    "CONTRACT-VENDOR-CONCENTRATION": "한 업체에 몰린 수의계약",
    "CONTRACT-SOLE-SOURCE-NO-GROUND": "사유 없는 한도 초과 수의계약",
    "PAY-DUPLICATE": "중복 지급",
    "PAY-ACCOUNT-MISMATCH": "등록 계좌가 아닌 계좌로 지급",
    "PAY-TO-EMPLOYEE": "다른 채주의 지급금이 직원 급여계좌로 입금",
    "PAY-AFTER-ACCOUNT-CHANGE": "거래처 계좌 변경 후 7일 안에 지급",
    "PAY-BEFORE-INSPECTION": "검수 전 대금 지급",
    "ATT-OVERTIME-MONTHLY-CAP": "월 초과근무 57시간 초과",
    "PAYROLL-RETIRED": "퇴직자 급여 지급",
    "PAYROLL-TRANSFER-EXCESS": "급여 이체 총액 > 지급 명세 합계",
    "PERMIT-OPEN-OVERDUE": "처리기한 지난 미처리 인허가",
    "LEVY-MISSING-FOR-PERMIT": "점용허가 후 사용료 미부과",
    "LEVY-REDUCTION-REPEATED": "한 담당자의 반복 재량 감면",
    "SUBSIDY-DUPLICATE": "같은 보조사업 중복 교부",
    "ACCOUNT-DORMANT": "12개월 이상 거래 없는 공금 계좌",
}


def readme_text(
    seed: int,
    size: Volumes,
    counts: dict[str, int],
    planted: dict[str, int],
    quarantine: dict[str, int],
) -> str:
    """The README for one generated demo."""
    tables = "\n".join(
        f"| {t.dataset} | `{t.name}` | {counts[t.dataset]:,} |" for t in writers.TABLES
    )
    scale = size.scale
    if size.cities > 1:
        towns = ", ".join(CITIES[: size.cities])
        province = (
            f"\n\n규모가 커서 한빛시를 포함해 같은 조직의 시·군 {size.cities}곳({towns})이"
            " 한 도(道)처럼 함께 들어 있습니다 (한빛시 외에는 부서명 앞에 시·군 이름).\n"
            f"{size.cities} local governments of the demo city's shape make up this province"
            " (department names start with the local government's name, 한빛시's excepted)."
        )
    else:
        province = ""
    rules = "\n".join(
        f"| `{rule}` | {RULE_TITLES.get(rule, '')} | {n} |" for rule, n in planted.items()
    )
    return f"""# 한빛시 데모 데이터 (naebu demo city)

가상의 지방자치단체 **한빛시**의 2025년 1년치 내부통제 데이터입니다. 실존 인물·업체와 무관한
합성 데이터이며, 같은 seed와 scale이면 항상 같은 파일이 만들어집니다 (seed {seed}, scale {scale:g}).

A synthetic Korean city, 한빛시, for the year 2025: what the city's systems would hand over to
naebu. No real person or firm. Same seed and scale, same bytes (seed {seed}, scale {scale:g}).{province}

## 파일 / Files
- `city.sqlite` - e-호조·새올·인사 시스템을 흉내 낸 원천 테이블 (source tables, source column
  names, dates as `YYYYMMDD` or ISO text, `upd_dt` change stamp used as the watermark).
- `card-drop/` - 카드사 업무추진비 승인내역 월별 CSV (monthly card approvals; odd months cp949,
  even months UTF-8 with BOM; amounts with thousands separators).
- `labels.csv` - 심어 둔 이상 건 정답표 (`rule_id,dataset,record_key`): every planted anomaly.
  Near-misses (e.g. a sale at exactly the appraisal mean, a card use at 22:59) are present and
  must NOT fire.

| dataset | table | rows |
|---|---|---|
{tables}
| card_transactions | `card-drop/*.csv` | {counts["card_transactions"]:,} |

## 심어 둔 이상 건 / Planted anomalies
| rule | 내용 | planted |
|---|---|---|
{rules}

## 격리되어야 할 불량 행 / Rows a connector must quarantine
- 지출(`expd_rsltn`): 지급일자 `20251301`, 지급액 `미정` ({quarantine["payments"]} rows)
- 카드 CSV: 승인일자 `2025-02-30`, 승인금액 `1만2천원?` ({quarantine["cards"]} rows)

`config.toml` (저장소 최상위)이 이 원천 컬럼을 표준 데이터셋 컬럼으로 연결합니다.
The repository's `config.toml` maps these source columns onto naebu's canonical datasets.
"""
