"""Secrets and personal data never leave in logs, errors, ``check`` output or notifications.

The grep test (issue 9, "done when" 4): the demo city, run as a user runs it, with

- a config holding secrets only as ``${ENV}``: a webhook password and a mail password in
  apprise URLs, a database password in a source connection URL;
- personal numbers planted in the source data (a resident registration number, a mobile
  number and an account number in the payee name of every payment);
- a webhook that answers 500 and an SMTP port nobody listens on, so delivery errors are
  logged, and a database that refuses the connection, so a source error is logged;
- ``-v`` logging captured to a file, in text and in JSON.

Then every byte of stdout, stderr, the log file, the outbox (file and table) and what the
webhook.posts is searched for the secrets and the unmasked numbers.
"""

from __future__ import annotations

import json
import logging
import shutil
import sqlite3
from pathlib import Path

import pytest
from conftest import ROOT, run_cli
from servers import free_port, webhook_server

from naebu.logfilter import REDACTED, Scrubber, config_path_from_args, env_secrets, install

RRN = "900101-1234567"
PHONE = "010-9876-5432"
ACCOUNT = "110-123-456789"
HOOK_PASSWORD = "hook-Pa55-9f8e7d"
MAIL_PASSWORD = "mail-Pa55-1a2b3c"
DB_PASSWORD = "db-Pa55-4d5e6f"
SECRETS = (HOOK_PASSWORD, MAIL_PASSWORD, DB_PASSWORD)
UNMASKED = (RRN, "1234567", PHONE, "9876-5432", ACCOUNT, "123-456789")


@pytest.fixture(scope="module")
def demo_city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("demo")
    result = run_cli("demo", "--out", str(folder / "demo-city"), "--scale", "0.2", cwd=folder)
    assert result.returncode == 0, result.stderr
    return folder / "demo-city"


def _plant_personal_numbers(city: Path) -> None:
    """Every payment's payee name and purpose carries an RRN, a phone and an account number."""
    with sqlite3.connect(city / "city.sqlite") as db:
        db.execute(
            "update expd_rsltn set rcvr_nm = rcvr_nm || ? , expd_smry = ?",
            (f" ({RRN}, {PHONE})", f"지급 계좌 {ACCOUNT} 주민 {RRN}"),
        )


def _workdir(tmp_path: Path, demo_city: Path, hook_url: str, smtp_port: int) -> Path:
    shutil.copy(ROOT / "config.toml", tmp_path / "config.toml")
    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    shutil.copytree(demo_city, tmp_path / "demo-city")
    _plant_personal_numbers(tmp_path / "demo-city")
    host_port = hook_url.split("://", 1)[1]
    extra = f"""
[connections.ledger]
url = "postgresql+psycopg2://naebu:${{NAEBU_DB_PASSWORD}}@127.0.0.1:{free_port()}/ledger"

[sources.ledger_payments]
kind = "sql"
connection = "ledger"
dataset = "payments"
table = "expd_rsltn"
watermark = "upd_dt"

[sources.ledger_payments.columns]
payment_id = "pay_no"
amount = "pay_amt"
paid_on = "pay_ymd"
updated_at = "upd_dt"
"""
    notify = f"""max_attempts = 2
retry_base_seconds = 0
timeout_seconds = 3
channels = [
  {{ name = "hook", url = "json://audit:${{NAEBU_HOOK_PASSWORD}}@{host_port}" }},
  {{ name = "mail", url = "mailto://naebu:${{NAEBU_MAIL_PASSWORD}}@127.0.0.1:{smtp_port}?from=naebu@city.go.kr&to={{email}}&mode=insecure" }},
]
"""
    text = (tmp_path / "config.toml").read_text("utf-8")
    if "\n[notify]\n" in text:  # the shipped config has the section: add the keys to it
        text = text.replace("\n[notify]\n", "\n[notify]\n" + notify, 1)
    else:
        text += "\n[notify]\n" + notify
    (tmp_path / "config.toml").write_text(text + extra, encoding="utf-8")
    return tmp_path


def _leaks(name: str, text: str) -> list[str]:
    found = [f"{name}: secret {s!r}" for s in SECRETS if s in text]
    found += [f"{name}: unmasked {n!r}" for n in UNMASKED if n in text]
    return found


def test_no_secret_and_no_personal_number_in_logs_outbox_or_check(
    tmp_path: Path, demo_city: Path
) -> None:
    env = {
        "NAEBU_HOOK_PASSWORD": HOOK_PASSWORD,
        "NAEBU_MAIL_PASSWORD": MAIL_PASSWORD,
        "NAEBU_DB_PASSWORD": DB_PASSWORD,
    }
    with webhook_server() as hook:
        hook.fail = True  # 500: the delivery error is logged
        workdir = _workdir(tmp_path, demo_city, hook.url(), free_port())
        check = run_cli("check", cwd=workdir, env=env, subprocess=True)
        run = run_cli("-v", "run", "--once", cwd=workdir, env=env, subprocess=True)
        hook.fail = False  # the retry is delivered: the webhook sees the bodies
        again = run_cli("-v", "run", "--once", cwd=workdir, env=env, subprocess=True)
        received = json.dumps(hook.posts, ensure_ascii=False)

    # The run did what the test needs: alerts, payments read, delivery and source failures.
    log_text = run.stderr + again.stderr
    assert "ledger_payments" in run.stdout + log_text, "the refused source is reported"
    assert "payments" in run.stdout
    assert "Traceback" not in check.stderr
    # Both runs end normally (exit 1: the refused source), so a missing delivery below is a
    # delivery problem, not a crashed run.
    assert "Traceback" not in run.stderr + again.stderr, again.stderr[-2000:]
    with sqlite3.connect(workdir / "var" / "naebu.sqlite") as db:
        outbox = db.execute("select * from outbox").fetchall()
        alerts = db.execute("select evidence from alerts where dataset = 'payments'").fetchall()
    assert outbox and alerts and hook.posts
    # The store keeps the full values for the authenticated inbox.
    assert any(RRN in (row[0] or "") for row in alerts)
    outbox_text = json.dumps([list(map(str, row)) for row in outbox], ensure_ascii=False)
    assert "900101-1******" in outbox_text, "a planted number reached a notification, masked"
    assert any(REDACTED in line or "****" in line for line in log_text.splitlines())

    leaks = []
    for name, text in [
        ("check stdout", check.stdout),
        ("check stderr", check.stderr),
        ("run stdout", run.stdout + again.stdout),
        ("run log", log_text),
        ("outbox table", outbox_text),
        ("webhook", received),
    ]:
        leaks += _leaks(name, text)
    for path in (workdir / "var").rglob("*"):
        if path.is_file() and path.suffix in (".jsonl", ".log", ".txt"):
            leaks += _leaks(str(path.name), path.read_text("utf-8", errors="replace"))
    assert not leaks, "\n".join(leaks)


# -- the scrubber itself -----------------------------------------------------------------------


def test_scrubber_hides_secrets_url_passwords_and_personal_numbers() -> None:
    scrub = Scrubber(["s3cr3t-token", "abc"])  # "abc" is too short to scrub safely
    text = scrub(
        f"GET json://u:s3cr3t-token@h/x failed; postgresql://naebu:other-pw@db/n; {RRN}; abc"
    )
    assert "s3cr3t-token" not in text and "other-pw" not in text
    assert "postgresql://naebu:***@db/n" in text
    assert "900101-1******" in text and text.endswith("abc")


def test_env_secrets_are_the_referenced_and_the_secret_looking_variables() -> None:
    environ = {"A_URL": "hook-xyz-123", "PGPASSWORD": "pg-pw-1", "HOME": "/root", "EMPTY": ""}
    found = env_secrets('url = "${A_URL}" other = "${EMPTY}"', environ)
    assert found == {"hook-xyz-123", "pg-pw-1"}


def test_config_path_from_args() -> None:
    assert config_path_from_args(["run", "--config", "x.toml"]) == Path("x.toml")
    assert config_path_from_args(["--config=y.toml", "check"]) == Path("y.toml")


def test_installed_factory_scrubs_records_and_exceptions(caplog: pytest.LogCaptureFixture) -> None:
    install(["very-secret-value"])
    log = logging.getLogger("naebu.test_secrets")
    with caplog.at_level(logging.INFO):
        log.info("connecting with %s for %s", "very-secret-value", RRN)
        try:
            raise RuntimeError("refused: very-secret-value " + PHONE)
        except RuntimeError:
            log.exception("source failed")
    text = caplog.text
    assert "very-secret-value" not in text and RRN not in text and PHONE not in text
    assert "RuntimeError" in text  # the traceback is kept, scrubbed


def test_the_daemons_json_handler_gets_scrubbed_records() -> None:
    """The daemon replaces the CLI's handler with its JSON one: the factory still applies."""
    import io

    from naebu.daemon.logs import JsonFormatter

    install(["json-secret-value"])
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    log = logging.getLogger("naebu.test_secrets.json")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        try:
            raise OSError("json-secret-value " + RRN)
        except OSError:
            log.exception("mailto://u:json-secret-value@h failed for %s", ACCOUNT)
    finally:
        log.removeHandler(handler)
    line = json.loads(stream.getvalue())
    assert "json-secret-value" not in stream.getvalue() and RRN not in stream.getvalue()
    assert ACCOUNT not in stream.getvalue() and "OSError" in line["message"]


def test_extra_fields_are_scrubbed_too() -> None:
    """``extra={...}`` is set on a record after the factory ran: the daemon logs each run's
    summary that way (source errors, rule errors), and its JSON lines carry those fields."""
    import io

    from naebu.daemon.logs import JsonFormatter
    from naebu.logfilter import scrub_value

    install(["extra-secret-value"])
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    log = logging.getLogger("naebu.test_secrets.extra")
    log.addHandler(handler)
    log.setLevel(logging.INFO)

    class Opaque:
        def __str__(self) -> str:
            return "opaque extra-secret-value " + PHONE

    summary = {
        "sources": [
            {
                "name": "ledger",
                "error": "source ledger: refused - postgresql://naebu:other-pw@db/x",
                "rows_read": 0,
            }
        ],
        "rule_errors": {"R-1": f"ValueError: bad value {RRN}"},
        "note": ("tuple", ACCOUNT),
        "ok": False,
    }
    try:
        log.info("run #7 partial", extra={"run_id": 7, "run": summary, "who": Opaque()})
        logging.LoggerAdapter(log, {"token": "extra-secret-value"}).warning("adapter")
    finally:
        log.removeHandler(handler)
    text = stream.getvalue()
    first, second = (json.loads(line) for line in text.splitlines())
    for leak in ("extra-secret-value", "other-pw", RRN, PHONE, ACCOUNT):
        assert leak not in text, leak
    # Structure and numbers are kept, so the fields can still be queried.
    assert first["run_id"] == 7 and first["run"]["ok"] is False
    assert first["run"]["sources"][0]["rows_read"] == 0
    assert first["run"]["sources"][0]["error"].endswith("postgresql://naebu:***@db/x")
    assert first["run"]["rule_errors"]["R-1"].endswith("900101-1******")
    assert first["who"].startswith("opaque ***")
    assert second["token"] == REDACTED
    # The caller's own data is not changed.
    assert summary["rule_errors"] == {"R-1": f"ValueError: bad value {RRN}"}
    assert scrub_value({"a": [1, 2.5, None, True]}, str.upper) == {"A": [1, 2.5, None, True]}
