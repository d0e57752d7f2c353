"""End to end, as a user runs it: the demo city through both connector kinds to alerts
delivered to a real SMTP server and a local HTTP webhook, in Korean.

Each test works in its own folder holding a copy of the shipped config.toml and rules/, and
runs ``naebu`` as a subprocess, so what is tested is what a new user gets.
"""

from __future__ import annotations

import csv
import json
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT, run_cli
from servers import body_text, smtp_server, webhook_server

from naebu.engine.loader import load_rules

SCALE = "0.3"
RULE_IDS = sorted(r.meta.id for r in load_rules([ROOT / "rules"], root=ROOT).rules)
TITLES = {r.meta.id: r.meta.title for r in load_rules([ROOT / "rules"], root=ROOT).rules}


@pytest.fixture(scope="module")
def demo_city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo city, generated once for this module (tests copy it)."""
    folder = tmp_path_factory.mktemp("demo")
    result = run_cli("demo", "--out", str(folder / "demo-city"), "--scale", SCALE, cwd=folder)
    assert result.returncode == 0, result.stderr
    return folder / "demo-city"


def _workdir(tmp_path: Path, demo_city: Path, extra_config: str = "") -> Path:
    shutil.copy(ROOT / "config.toml", tmp_path / "config.toml")
    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    shutil.copytree(demo_city, tmp_path / "demo-city")
    if extra_config:
        with (tmp_path / "config.toml").open("a", encoding="utf-8") as f:
            f.write("\n" + extra_config)
    return tmp_path


def _labels(workdir: Path) -> set[tuple[str, str, str]]:
    with (workdir / "demo-city" / "labels.csv").open(encoding="utf-8") as f:
        return {(r["rule_id"], r["dataset"], r["record_key"]) for r in csv.DictReader(f)}


def _alerts(workdir: Path) -> list[dict[str, str]]:
    result = run_cli("alerts", "list", "--format", "json", cwd=workdir)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _recipients(workdir: Path) -> set[str]:
    with sqlite3.connect(workdir / "var" / "naebu.sqlite") as db:
        return {r[0] for r in db.execute("select distinct recipient from deliveries")}


def test_first_run_alerts_every_rule_and_second_run_adds_none(
    tmp_path: Path, demo_city: Path
) -> None:
    workdir = _workdir(tmp_path, demo_city)
    first = run_cli("run", "--once", cwd=workdir, subprocess=True)
    assert first.returncode == 0, first.stdout + first.stderr
    out = first.stdout
    for rule_id in RULE_IDS:
        line = next(line for line in out.splitlines() if line.startswith(rule_id + " "))
        findings, new = (int(x.replace(",", "")) for x in line.split()[1:3])
        assert 0 < new <= findings, line  # one alert per case: a month of overtime is one
        assert TITLES[rule_id] in line

    # Every planted anomaly is in exactly one alert (its case's), and nothing else is.
    alerts = _alerts(workdir)
    raised = {(a["rule_id"], a["dataset"], k) for a in alerts for k in a["records"]}
    assert len(raised) == sum(len(a["records"]) for a in alerts)
    assert raised == _labels(workdir)
    assert len(alerts) < len(raised)  # cases of many records (overtime months, duplicates)
    assert all(a["assignee"] and a["deadline"] and a["status"] == "raised" for a in alerts)

    # The default config needs no network: digests land in the local outbox file.
    outbox = [
        json.loads(line)
        for line in (workdir / "var" / "outbox.jsonl").read_text("utf-8").splitlines()
    ]
    assert outbox and all(m["subject"].startswith("[내부통제]") for m in outbox)
    # 청백-e routing: the official in charge, the department's manager, and for high
    # severity the audit office each get one digest.
    recipients = _recipients(workdir)
    assert {m["recipient"] for m in outbox} == recipients
    assert {a["assignee"] for a in alerts} <= recipients
    assert len(outbox) == len(recipients)

    second = run_cli("run", "--once", cwd=workdir, subprocess=True)
    assert second.returncode == 0, second.stderr
    assert "new alerts: 0 " in second.stdout
    assert len(_alerts(workdir)) == len(alerts)


def test_bad_rows_are_quarantined_with_reasons_and_the_rest_evaluated(
    tmp_path: Path, demo_city: Path
) -> None:
    workdir = _workdir(tmp_path, demo_city)
    result = run_cli("run", "--once", cwd=workdir)
    assert result.returncode == 0, result.stderr
    rows = {line.split()[0]: line.split() for line in result.stdout.splitlines() if line.split()}
    assert rows["payments"][3] == "2" and rows["cards"][3] == "2"
    assert "quarantined rows: 4" in result.stdout

    with sqlite3.connect(workdir / "var" / "naebu.sqlite") as db:
        reasons = dict(
            db.execute("select source || ' ' || location, reason from quarantine").fetchall()
        )
    assert len(reasons) == 4
    text = "\n".join(f"{k}: {v}" for k, v in reasons.items())
    assert "amount: '미정' is not a number" in text
    assert "paid_on: '20251301' is not a valid date" in text
    assert "approved_date: '2025-02-30' is not a valid date" in text
    assert "amount: '1만2천원?' is not a number" in text
    # the raw row is kept for the people who fix the source
    with sqlite3.connect(workdir / "var" / "naebu.sqlite") as db:
        raw = json.loads(
            db.execute(
                "select raw from quarantine where reason like 'amount: ''미정''%'"
            ).fetchone()[0]
        )
    assert "미정" in raw.values()
    # the other rows of those batches were read and evaluated: every card/payment label fired
    alerts = {(a["rule_id"], k) for a in _alerts(workdir) for k in a["records"]}
    card_labels = {(r, k) for r, d, k in _labels(workdir) if d in ("card_transactions", "payments")}
    assert card_labels and card_labels <= alerts


def test_delivery_to_smtp_and_webhook_in_korean(tmp_path: Path, demo_city: Path) -> None:
    with smtp_server() as smtp, webhook_server() as hook:
        channels = (
            "[[notify.channels]]\n"
            'name = "email"\n'
            f'url = "mailto://127.0.0.1:{smtp.port}?from=naebu@demo.naebu.local&to={{email}}&mode=insecure"\n'
            "[[notify.channels]]\n"
            'name = "audit-webhook"\n'
            f'url = "json://127.0.0.1:{hook.port}/naebu"\n'
        )
        workdir = _workdir(tmp_path, demo_city, channels)
        result = run_cli("run", "--once", cwd=workdir)
        assert result.returncode == 0, result.stdout + result.stderr
        alerts = _alerts(workdir)
        recipients = _recipients(workdir)
        assert {a["assignee"] for a in alerts} <= recipients
        assert f"{len(recipients) * 2} sent" in result.stdout

        # one mail per recipient, to the address in the officials directory, in Korean
        assert len(smtp.messages) == len(recipients)
        addresses = {rcpt for _, rcpts in smtp.envelopes for rcpt in rcpts}
        assert addresses == {f"{r}@demo.naebu.local" for r in recipients}
        sale = next(a for a in alerts if a["rule_id"] == "PROP-BELOW-APPRAISAL")
        mail = smtp.to(f"{sale['assignee']}@demo.naebu.local")[0]
        assert str(mail["Subject"]).startswith("[내부통제] 확인이 필요한 경보")
        body = body_text(mail)
        assert "공유재산 매각가격이 감정평가액 산술평균 미만" in body
        assert f"대상: 공유재산 매각 {sale['record_key']}" in body
        assert "처리 기한: " + sale["deadline"][:10] in body
        assert "매각가" in body and "감정평가 평균" in body

        # the webhook got the same digests as JSON
        assert len(hook.posts) == len(recipients)
        assert all(p["title"].startswith("[내부통제]") for p in hook.posts)
        assert any(
            "공유재산 매각가격이 감정평가액 산술평균 미만" in p["message"] for p in hook.posts
        )
        assert set(hook.paths) == {"/naebu"}

        # a second run sends nothing again
        again = run_cli("run", "--once", cwd=workdir)
        assert again.returncode == 0
        assert len(smtp.messages) == len(recipients) and len(hook.posts) == len(recipients)


def test_unreachable_channel_keeps_digests_in_the_outbox(tmp_path: Path, demo_city: Path) -> None:
    with webhook_server() as hook:
        hook.fail = True
        workdir = _workdir(
            tmp_path,
            demo_city,
            f'[[notify.channels]]\nname = "hook"\nurl = "json://127.0.0.1:{hook.port}/x"\n',
        )
        first = run_cli("run", "--once", cwd=workdir)
        assert first.returncode == 0, first.stderr
        assert "0 sent" in first.stdout and hook.posts == []
        with sqlite3.connect(workdir / "var" / "naebu.sqlite") as db:
            waiting = db.execute(
                "select count(*) from outbox where status = 'retrying'"
            ).fetchone()[0]
            db.execute("update outbox set next_attempt_at = '2000-01-01 00:00:00'")
        assert waiting > 0
        hook.fail = False
        second = run_cli("run", "--once", cwd=workdir)
        assert f"{waiting} sent" in second.stdout
        assert len(hook.posts) == waiting


def test_daemon_repeats_on_schedule_and_stops_on_sigterm(tmp_path: Path, demo_city: Path) -> None:
    workdir = _workdir(tmp_path, demo_city)
    cfg = workdir / "config.toml"
    text = cfg.read_text(encoding="utf-8")
    assert "interval_minutes = 15" in text
    cfg.write_text(
        text.replace("interval_minutes = 15", "interval_minutes = 0.05"), encoding="utf-8"
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "naebu.cli", "run"],
        cwd=workdir,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        finished = 0
        while time.monotonic() < deadline and finished < 2:
            time.sleep(0.5)
            db = workdir / "var" / "naebu.sqlite"
            if db.exists():
                try:
                    with sqlite3.connect(db) as conn:
                        finished = conn.execute(
                            "select count(*) from runs where status = 'ok'"
                        ).fetchone()[0]
                except sqlite3.OperationalError:
                    continue  # the daemon is still creating the schema
        assert finished >= 2, "the daemon did not repeat its run"
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    alerts = _alerts(workdir)
    records = [(a["rule_id"], a["dataset"], k) for a in alerts for k in a["records"]]
    assert set(records) == _labels(workdir)
    assert len(records) == len(_labels(workdir))  # each record in one alert
