"""``kind = "ocds"`` (connectors/ocds.py) and the example over real OCDS samples (examples/ocds).

Small OCDS files written here cover each shape the connector reads (a release package, a
record package linking its releases, JSON lines mixing a release and a package), a malformed
package (one located entry, nothing else lost, no traceback) and an incremental re-run (nothing
taken twice; a later release of a known process updates its record). The example is run as a
user runs it over the 17 publishers' samples in ``../shared/data/real/ocds-samples`` and its
counts are pinned; the award count is checked against the raw JSON read independently, and the
compiled releases against OCP Cardinal's ``coverage`` (the one function its PyPI package has).
"""

from __future__ import annotations

import collections
import hashlib
import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, run_cli, write_config
from history_copy import history_db

from naebu.connectors import SourceState, check_source, make_connector
from naebu.connectors.base import Batch
from naebu.connectors.file_encoding import drop_files
from naebu.connectors.ocds import compile_process
from naebu.connectors.ocds_read import read_file
from naebu.connectors.source_settings import SourceConfig

SAMPLES = ROOT.parent / "shared" / "data" / "real" / "ocds-samples"
EXAMPLE = ROOT / "examples" / "ocds" / "config.toml"
needs_samples = pytest.mark.skipif(
    not SAMPLES.is_dir(),
    reason=f"{SAMPLES} absent: the shared data folder is not beside the repository, "
    "so the example's run over the real OCDS samples is skipped",
)
RULES = (
    "CONTRACT-NEAR-LIMIT",
    "CONTRACT-SOLE-SOURCE-NO-GROUND",
    "CONTRACT-SPLIT",
    "CONTRACT-VENDOR-CONCENTRATION",
)

PUBLISHER = {"name": "테스트시"}
TENDER = {
    "ocid": "ocds-t-1",
    "id": "1-tender",
    "date": "2025-01-05T00:00:00Z",
    "tag": ["tender"],
    "buyer": {"id": "B1", "name": "회계과"},
    "tender": {
        "id": "t1",
        "title": "복사용지 구매",
        "procurementMethod": "direct",
        "mainProcurementCategory": "goods",
    },
}
AWARD = {
    "ocid": "ocds-t-1",
    "id": "1-award",
    "date": "2025-02-01T00:00:00Z",
    "tag": ["award"],
    "awards": [
        {
            "id": "A1",
            "date": "2025-02-01T09:00:00+09:00",
            "value": {"amount": 19_800_000, "currency": "KRW"},
            "suppliers": [{"id": "KR-BRN-1", "name": "가나상사"}],
        }
    ],
}
RECORD = {
    "ocid": "ocds-t-2",
    # A linked release: a pointer, no data; the compiled release is the only copy.
    "releases": [{"url": "https://x/2.json#1", "date": "2025-03-01T00:00:00Z", "tag": ["tender"]}],
    "compiledRelease": {
        "ocid": "ocds-t-2",
        "id": "ocds-t-2-compiled",
        "date": "2025-03-12T00:00:00Z",
        "tag": ["compiled"],
        "buyer": {"name": "총무과"},
        "tender": {"procurementMethod": "open", "mainProcurementCategory": "works"},
        "awards": [
            {
                "id": "A1",
                "date": "2025-03-10",
                "value": {"amount": 50_000_000, "currency": "KRW"},
                "suppliers": [{"name": "다라건설"}],
            }
        ],
        "contracts": [
            {
                "id": "C1",
                "awardID": "A1",
                "dateSigned": "2025-03-12T10:00:00Z",
                "value": {"amount": 49_000_000, "currency": "KRW"},
            }
        ],
    },
}


def release(ocid: str, amount: Any, currency: str | None = "KRW", **more: Any) -> dict[str, Any]:
    """A bare release of one direct award of ``amount``."""
    value = {"amount": amount} | ({"currency": currency} if currency else {})
    return {
        "ocid": ocid,
        "id": f"{ocid}-award",
        "date": "2025-04-01T00:00:00Z",
        "tag": ["award"],
        "buyer": {"name": "회계과"},
        "tender": {"procurementMethod": "direct", "mainProcurementCategory": "services"},
        "awards": [{"id": "A1", "date": "2025-04-01", "value": value, "suppliers": [{"id": "V9"}]}],
        **more,
    }


def write(folder: Path, name: str, value: Any) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    path.write_text(text, encoding="utf-8")
    return path


def source(folder: Path, **options: Any) -> SourceConfig:
    return SourceConfig("ocds", "ocds", "contracts", options={"path": str(folder), **options})


def pull(src: SourceConfig, state: SourceState) -> list[Batch]:
    """Every batch of a pull; the files taken are remembered in ``state`` as a commit would."""
    batches = list(make_connector(src).pull(state))
    for batch in batches:
        assert len(batch.frame) + len(batch.quarantined) <= batch.rows_read
        state.seen_checksums.update(f.checksum for f in batch.files)
    return batches


def rows(batches: list[Batch]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for batch in batches:
        for record in batch.frame.to_dict("records"):
            out[record["contract_id"]] = record
    return out


def quarantined(batches: list[Batch]) -> dict[str, str]:
    return {q.location: q.reason for b in batches for q in b.quarantined}


# -- the shapes -----------------------------------------------------------------------------


def test_packages_records_and_json_lines_become_one_row_per_award(tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    write(drop, "pkg.json", {"uri": "u", "publisher": PUBLISHER, "releases": [TENDER, AWARD]})
    write(drop, "records.json", {"uri": "u", "publisher": PUBLISHER, "records": [RECORD]})
    # The award release again, bare, in a subfolder: the same process, not a second contract.
    write(drop, "again/award.json", AWARD)
    lines = [
        json.dumps(release("ocds-t-3", 12_000_000)),
        "",
        json.dumps({"uri": "u", "publisher": PUBLISHER, "releases": [release("ocds-t-4", 7)]}),
    ]
    write(drop, "more.jsonl", "\n".join(lines) + "\n")

    batches = pull(source(drop), SourceState())
    got = rows(batches)
    assert sorted(got) == ["ocds-t-1/A1", "ocds-t-2/A1", "ocds-t-3/A1", "ocds-t-4/A1"]
    one = got["ocds-t-1/A1"]
    # The tender release and the award release are merged: the method from one, the award
    # from the other; the OCDS words are the canonical codes.
    assert (one["department"], one["vendor_id"], one["method"], one["category"]) == (
        "회계과",
        "KR-BRN-1",
        "수의",
        "물품",
    )
    assert one["amount"] == 19_800_000 and str(one["contract_date"].date()) == "2025-02-01"
    assert one["title"] == "복사용지 구매"
    two = got["ocds-t-2/A1"]
    # The signed contract's value and day; a supplier without an id is known by its name.
    assert (two["amount"], str(two["contract_date"].date())) == (49_000_000, "2025-03-12")
    assert (two["vendor_id"], two["method"], two["category"]) == ("다라건설", "일반경쟁", "공사")
    assert quarantined(batches) == {}
    taken = {Path(f.path).name: f.rows for b in batches for f in b.files}
    assert taken == {"pkg.json": 2, "records.json": 1, "award.json": 1, "more.jsonl": 2}
    assert sum(b.rows_read for b in batches) == 4


def test_amounts_in_other_currencies_are_converted_or_quarantined(tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    write(drop, "a.json", release("ocds-c-1", 300_000, "mxn"))  # lowercase, as Moldova writes
    write(drop, "b.json", release("ocds-c-2", 1_000, "MNX"))  # GACM's misspelt code
    write(drop, "c.json", release("ocds-c-3", 1_000, None))
    batches = pull(source(drop, exchange_rates={"MXN": 60.0}), SourceState())
    assert rows(batches)["ocds-c-1/A1"]["amount"] == 18_000_000
    bad = quarantined(batches)
    assert set(bad) == {"b.json: release awards[0]", "c.json: release awards[0]"}
    assert (
        "in MNX, and there is no exchange rate from MNX to KRW" in bad["b.json: release awards[0]"]
    )
    assert "exchange_rates.MNX" in bad["b.json: release awards[0]"]
    assert "has no currency" in bad["c.json: release awards[0]"]


def test_options_are_checked_without_reading(tmp_path: Path) -> None:
    src = source(tmp_path, exchange_rates={"MXN": 0}, chunk_sise=3)
    problems = [str(p) for p in check_source(src, "config.toml")]
    assert any("unknown option 'chunk_sise'" in p and "chunk_size" in p for p in problems)
    assert any("rate of MXN must be a number above 0" in p for p in problems)
    assert check_source(source(tmp_path, exchange_rates={"MXN": 60.0}), "config.toml") == []


# -- malformed input --------------------------------------------------------------------------


def test_malformed_files_and_releases_are_located_and_the_rest_is_read(tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    write(drop, "good.json", {"uri": "u", "publisher": PUBLISHER, "releases": [TENDER, AWARD]})
    # A package cut in the middle of its second line.
    write(drop, "cut.json", '{"uri": "u", "releases": [\n {"ocid": "ocds-x-1", "date": "20')
    write(drop, "lines.jsonl", json.dumps(release("ocds-x-2", 5)) + "\n{not json\n")
    nameless = release("ocds-x-3", 5)
    del nameless["ocid"]
    undated = release("ocds-x-4", 5)
    del undated["date"]
    write(
        drop,
        "pkg.json",
        {
            "uri": "u",
            "releases": [
                release("ocds-x-5", 5),
                nameless,
                "release",
                undated,
                release("ocds-x-4", 6),
            ],
        },
    )
    taiwan = release("ocds-x-6", 5)
    taiwan["awards"] = {"id": "A1"}  # an object where OCDS has a list (the Taiwan sample)
    write(drop, "tw.json", taiwan)
    write(drop, "empty.json", "")
    # Not OCDS, but some exports are: a bare list of releases (with a stray number in it).
    write(drop, "list.json", [release("ocds-x-7", 5), 5])

    batches = pull(source(drop), SourceState())
    assert sorted(rows(batches)) == ["ocds-t-1/A1", "ocds-x-2/A1", "ocds-x-5/A1", "ocds-x-7/A1"]
    bad = quarantined(batches)
    assert bad["cut.json:2:31"] == (
        "not valid JSON at line 2 column 31: Unterminated string starting at - "
        "the file is cut or hand-edited: ask the publisher for it again; nothing of this file "
        "was read"
    )
    assert bad["lines.jsonl:2"].startswith("not a JSON text at column 2: Expecting property")
    assert bad["pkg.json: releases[1]"].startswith("release without an ocid")
    assert bad["pkg.json: releases[2]"] == "str where a release (a JSON object) was expected"
    # Two releases of one process, one without a date: they cannot be put in order.
    for where in ("pkg.json: releases[3]", "pkg.json: releases[4]"):
        assert bad[where].startswith("the releases of ocds-x-4 cannot be merged (MissingDateKey")
    assert bad["tw.json: release awards"].startswith("awards of ocds-x-6 is a dict")
    assert bad["empty.json"].startswith("empty file: no JSON in it")
    assert (
        bad["list.json: [1]"]
        == "int where a package, record or release (a JSON object) was expected"
    )
    # Per file, every release is either used or quarantined; each file is taken once.
    taken = {Path(f.path).name: f.rows for b in batches for f in b.files}
    assert taken == {
        "good.json": 2,
        "cut.json": 1,
        "lines.jsonl": 2,
        "pkg.json": 5,
        "tw.json": 1,
        "empty.json": 1,
        "list.json": 2,
    }
    assert sum(b.rows_read for b in batches) == 4 + len(bad)


def config_for(folder: Path, drop: Path) -> Path:
    rules = folder / "rules"
    shutil.copytree(ROOT / "rules" / "contracts", rules / "contracts")
    return write_config(
        folder,
        f"""
[store]
url = "sqlite:///store.sqlite"
[rules]
paths = ["rules/contracts"]
[sources.ocds]
kind = "ocds"
dataset = "contracts"
path = {json.dumps(str(drop))}
[routing]
directory = "employees"
[notify]
outbox_file = "outbox.jsonl"
""",
    )


def run(config: Path) -> tuple[int, int, dict[str, int], str]:
    """``naebu run --once``: rows read, quarantined, findings per rule, and stderr."""
    result = run_cli("run", "--once", "--config", str(config), cwd=config.parent)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stdout.splitlines()
    line = next(x for x in lines if x.startswith("ocds "))
    read, bad = (int(x.replace(",", "")) for x in line.split()[2:4])
    findings = {x.split()[0]: int(x.split()[1]) for x in lines if x.split(" ")[0] in RULES}
    return read, bad, findings, result.stderr


def test_a_run_reports_a_malformed_package_in_one_line_and_evaluates_the_rest(
    tmp_path: Path,
) -> None:
    drop = tmp_path / "drop"
    write(drop, "good.json", {"uri": "u", "publisher": PUBLISHER, "releases": [TENDER, AWARD]})
    write(drop, "cut.json", '{"uri": "u", "releases": [\n {"ocid": "ocds-x-1", "date": "20')
    config = config_for(tmp_path, drop)
    read, bad, findings, _ = run(config)
    # The good package's award is just under the sole-source limit: the rule sees it.
    assert (read, bad, findings["CONTRACT-NEAR-LIMIT"]) == (2, 1, 1)
    with sqlite3.connect(tmp_path / "store.sqlite") as db:
        [(where, reason)] = db.execute("select location, reason from quarantine").fetchall()
    assert where == "cut.json:2:31" and "not valid JSON at line 2 column 31" in reason


def test_an_incremental_run_takes_nothing_twice(tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    write(drop, "a.json", {"uri": "u", "publisher": PUBLISHER, "releases": [TENDER, AWARD]})
    write(drop, "b.json", release("ocds-i-1", 10_000_000))
    config = config_for(tmp_path, drop)
    assert run(config)[:2] == (2, 0)
    assert run(config)[:2] == (0, 0)  # no new file: nothing read
    # A later release of a known process, in a new file: only that process is read again,
    # merged with its earlier releases, and its record updated (the same key).
    later = dict(AWARD, id="1-amend", date="2025-05-01T00:00:00Z", tag=["awardUpdate"])
    later["awards"] = [{"id": "A1", "value": {"amount": 25_000_000, "currency": "KRW"}}]
    write(drop, "c.json", later)
    read, bad, findings, _ = run(config)
    assert (read, bad) == (1, 0)
    with sqlite3.connect(tmp_path / "store.sqlite") as db:
        stored = (
            history_db(tmp_path / "store.sqlite")
            .execute(
                "select contract_id, amount, method, department, contract_date from rec_contracts"
                " order by contract_id"
            )
            .fetchall()
        )
        files = db.execute("select count(*) from files_seen").fetchone()[0]
    assert [s[:4] for s in stored] == [
        ("ocds-i-1/A1", 10_000_000, "수의", "회계과"),
        ("ocds-t-1/A1", 25_000_000, "수의", "회계과"),
    ]
    assert files == 3


# -- the example over the shared samples -----------------------------------------------------


def raw_counts() -> tuple[set[tuple[str, str]], set[str], dict[str, int], int]:
    """From the JSON read plainly: (ocid, award id) pairs, ocids, the releases of each file
    (by path; an empty file counts one), and how many files are identical copies of another."""
    pairs: set[tuple[str, str]] = set()
    ocids: set[str] = set()
    per_file: dict[str, int] = {}
    seen: set[str] = set()
    copies = 0

    def take(rel: dict[str, Any]) -> int:
        ocids.add(rel["ocid"])
        awards = rel.get("awards")
        for i, award in enumerate(awards if isinstance(awards, list) else []):
            pairs.add((rel["ocid"], str(award["id"]) if "id" in award else f"awards[{i}]"))
        return 1

    for path in sorted(SAMPLES.rglob("*.json")):
        data = path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        if digest in seen:
            copies += 1
            continue
        seen.add(digest)
        if not data.strip():
            per_file[str(path)] = 1
            continue
        doc = json.loads(data)
        count = 0
        for record in doc.get("records", [doc] if "compiledRelease" in doc else []):
            full = [r for r in record.get("releases", []) if set(r) - {"url", "date", "tag"}]
            for rel in [*full, record.get("compiledRelease")]:
                if rel:
                    rel.setdefault("ocid", record.get("ocid"))
                    count += take(rel)
        if "records" not in doc and "compiledRelease" not in doc:
            for rel in doc.get("releases", [doc]):
                count += take(rel)
        per_file[str(path)] = count
    return pairs, ocids, per_file, copies


@needs_samples
def test_the_example_over_the_shared_samples(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "examples" / "ocds").mkdir(parents=True)
    shutil.copytree(ROOT / "rules" / "contracts", repo / "rules" / "contracts")
    text = EXAMPLE.read_text(encoding="utf-8")
    old = 'path = "../../../shared/data/real/ocds-samples"'
    assert old in text
    config = repo / "examples" / "ocds" / "config.toml"
    config.write_text(text.replace(old, f"path = {json.dumps(str(SAMPLES))}"), encoding="utf-8")

    read, bad, findings, _ = run(config)
    assert (read, bad) == (456, 48)
    assert findings == {
        "CONTRACT-NEAR-LIMIT": 0,
        "CONTRACT-SOLE-SOURCE-NO-GROUND": 8,
        "CONTRACT-SPLIT": 0,
        "CONTRACT-VENDOR-CONCENTRATION": 0,
    }
    with sqlite3.connect(config.parent / "var" / "ocds.sqlite") as db:
        reasons = collections.Counter(
            r.split(" - ")[0].split(" of ocid-")[0]
            for (r,) in db.execute("select reason from quarantine")
        )
        stored = (
            history_db(config.parent / "var" / "ocds.sqlite")
            .execute("select count(*) from rec_contracts")
            .fetchone()[0]
        )
        files = db.execute("select count(*), sum(rows) from files_seen").fetchone()
        taken = dict(db.execute("select path, rows from files_seen").fetchall())
    assert reasons == {
        "contract_date: missing": 36,
        "awards": 11,  # Taiwan: awards is an object
        "empty file: no JSON in it": 1,
    }
    assert stored == read - bad == 408
    # Every award of the raw JSON is a row (typed or quarantined), once; the 11 Taiwanese
    # processes and the empty file are the other quarantined entries.
    pairs, ocids, per_file, copies = raw_counts()
    assert len(pairs) == read - 11 - 1 == 444
    assert len(ocids) == 610
    # 780 files, two of them identical copies of a third (Paraguay's empty files): 778 taken,
    # each with all its releases (used or quarantined) counted, none lost.
    assert (files[0], copies) == (778, 2)
    assert taken == per_file
    assert sum(taken.values()) == 1_012
    # Run again: every file is known by its checksum, nothing is read twice.
    assert run(config)[:3] == (0, 0, dict.fromkeys(RULES, 0))


@needs_samples
def test_compiled_releases_agree_with_cardinal_coverage(tmp_path: Path) -> None:
    cardinal = pytest.importorskip("ocdscardinal", reason="ocdscardinal (the test extra) absent")
    by_ocid: dict[str, list[Any]] = {}
    seen: set[str] = set()
    for path, name in drop_files(SAMPLES, ["**/*.json"]):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest not in seen:
            seen.add(digest)
            for piece in read_file(path, name).pieces:
                by_ocid.setdefault(piece.ocid, []).append(piece)
    lines = tmp_path / "compiled.jsonl"
    with lines.open("w", encoding="utf-8") as out:
        for ocid, pieces in by_ocid.items():
            compiled, why = compile_process(ocid, pieces)
            assert why is None, (ocid, why)
            out.write(json.dumps(compiled, ensure_ascii=False) + "\n")
    counts = cardinal.coverage(str(lines))
    # Cardinal walks the same compiled releases: 610 processes, 444 award objects in award
    # lists (the rows) and 11 processes whose awards is an object (quarantined).
    assert (counts[""], counts["/awards[]/"], counts["/awards/"]) == (610, 444, 11)
