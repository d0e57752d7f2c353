"""Real servers for delivery tests: an SMTP server, a webhook, and PostgreSQL when present.

- :func:`smtp_server` runs aiosmtpd on 127.0.0.1 (a free port) and collects every message,
  decoded with ``policy=default`` so Korean subjects and bodies compare as text.
- :func:`hung_smtp_server` accepts SMTP connections and never answers (a hung mail server).
- :func:`webhook_server` runs ``http.server`` in a thread on 127.0.0.1 and collects JSON
  posts; set ``.fail = True`` to answer 500 (a server down) and back to ``False`` to recover.
- :func:`pg_engine` opens the store on PostgreSQL in a fresh schema, dropped afterwards;
  :func:`mysql_engine` does the same on MariaDB/MySQL with a fresh database.
  When the server is unreachable the test is skipped, or fails under ``CI`` (naming it):
  ``services.require_service``.

Use them as context managers or through the fixtures of the same names with ``_fixture``.
"""

from __future__ import annotations

import email
import json
import secrets
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.policy import default
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from services import mysql_url, pg_url, require_service
from sqlalchemy import Engine, create_engine, make_url, text

from naebu.store import tables as store

# -- SMTP ------------------------------------------------------------------------------------


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class SmtpServer:
    """A running SMTP server: its port and the messages it received."""

    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)

    def url(self, to: str, sender: str = "naebu@demo.naebu.local") -> str:
        """An apprise ``mailto://`` URL delivering to this server without TLS."""
        return f"mailto://127.0.0.1:{self.port}?from={sender}&to={to}&mode=insecure"

    def to(self, address: str) -> list[EmailMessage]:
        """The messages whose envelope went to ``address``."""
        return [
            m
            for m, (_, rcpts) in zip(self.messages, self.envelopes, strict=True)
            if address in rcpts
        ]


class _Collector:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server
        self.lock = threading.Lock()

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:  # noqa: N802
        raw = envelope.original_content or envelope.content
        msg = email.message_from_bytes(raw, policy=default)
        with self.lock:
            self.server.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self.server.messages.append(msg)  # type: ignore[arg-type]
        return "250 Message accepted for delivery"


@contextmanager
def smtp_server(port: int | None = None) -> Iterator[SmtpServer]:
    """An aiosmtpd server on 127.0.0.1 collecting messages, for the duration of the block."""
    from aiosmtpd.controller import Controller

    server = SmtpServer(port=port or free_port())
    controller = Controller(
        _Collector(server), hostname="127.0.0.1", port=server.port, ready_timeout=10
    )
    controller.start()
    try:
        yield server
    finally:
        controller.stop()


@dataclass
class HungSmtpServer:
    """A TCP server on 127.0.0.1 that accepts connections and never answers (a hung SMTP
    server: the client waits for the greeting until its timeout); ``connections`` counts the
    connections accepted."""

    port: int
    connections: int = 0

    def url(self, to: str, sender: str = "naebu@demo.naebu.local") -> str:
        """An apprise ``mailto://`` URL delivering to this server without TLS."""
        return f"mailto://127.0.0.1:{self.port}?from={sender}&to={to}&mode=insecure"


@contextmanager
def hung_smtp_server() -> Iterator[HungSmtpServer]:
    """A server that accepts SMTP connections and never says a word, for the block."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    listener.settimeout(0.2)
    server = HungSmtpServer(port=int(listener.getsockname()[1]))
    held: list[socket.socket] = []
    done = threading.Event()

    def accept() -> None:
        while not done.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            held.append(conn)  # kept open, never written to
            server.connections += 1

    thread = threading.Thread(target=accept, name="hung-smtp", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        done.set()
        thread.join(2)
        for conn in held:
            conn.close()
        listener.close()


def body_text(msg: EmailMessage) -> str:
    """The plain-text body of a received mail, decoded."""
    part = msg.get_body(preferencelist=("plain", "html"))
    assert part is not None, "mail has no text body"
    return str(part.get_content())


# -- webhook ---------------------------------------------------------------------------------


@dataclass
class WebhookServer:
    """A running HTTP server collecting JSON posts; ``fail`` makes it answer 500."""

    port: int
    posts: list[dict[str, Any]] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    fail: bool = False
    refused: int = 0

    def url(self, path: str = "/hook") -> str:
        """An apprise ``json://`` URL posting to this server."""
        return f"json://127.0.0.1:{self.port}{path}"


def _handler(server: WebhookServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            if server.fail:
                server.refused += 1
                self.send_response(500)
                self.end_headers()
                self.wfile.write(b"down for maintenance")
                return
            server.posts.append(json.loads(raw.decode("utf-8")))
            server.paths.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass  # keep test output quiet

    return Handler


@contextmanager
def webhook_server() -> Iterator[WebhookServer]:
    """A local HTTP server on 127.0.0.1 collecting JSON posts, for the duration of the block."""
    state = WebhookServer(port=0)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.port = int(httpd.server_address[1])
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


# -- PostgreSQL ------------------------------------------------------------------------------


@contextmanager
def _scratch_store(
    url: str, create: str, drop: str, engine_url: Any, **options: Any
) -> Iterator[Engine]:
    """The naebu store in a namespace created by ``create`` and removed by ``drop``."""
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(create))
    engine = None
    try:
        engine = create_engine(engine_url, pool_pre_ping=True, **options)
        store.metadata.create_all(engine)
        yield engine
    finally:
        if engine is not None:
            engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(drop))
        admin.dispose()


@contextmanager
def pg_engine() -> Iterator[Engine]:
    """The naebu store on PostgreSQL, in a fresh schema dropped at the end."""
    url = require_service("PostgreSQL", pg_url())
    schema = "naebu_test_" + secrets.token_hex(4)
    # store.connect() has no engine options; build the same engine with a search_path.
    with _scratch_store(
        url,
        f'CREATE SCHEMA "{schema}"',
        f'DROP SCHEMA "{schema}" CASCADE',
        url,
        connect_args={"options": f"-csearch_path={schema}"},
    ) as engine:
        yield engine


@contextmanager
def mysql_engine() -> Iterator[Engine]:
    """The naebu store on MariaDB/MySQL, in a fresh database dropped at the end."""
    url = require_service("MariaDB/MySQL", mysql_url())
    name = "naebu_test_" + secrets.token_hex(4)
    with _scratch_store(
        url,
        f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4",
        f"DROP DATABASE `{name}`",
        make_url(url).set(database=name),
    ) as engine:
        yield engine


# -- fixtures --------------------------------------------------------------------------------


@pytest.fixture
def smtp_fixture() -> Iterator[SmtpServer]:
    """:func:`smtp_server` as a fixture."""
    with smtp_server() as server:
        yield server


@pytest.fixture
def webhook_fixture() -> Iterator[WebhookServer]:
    """:func:`webhook_server` as a fixture."""
    with webhook_server() as server:
        yield server


@pytest.fixture
def pg_fixture() -> Iterator[Engine]:
    """:func:`pg_engine` as a fixture."""
    with pg_engine() as engine:
        yield engine


# -- sample data -----------------------------------------------------------------------------
# A small officials directory and rule set shared by the alert and outbox tests.

EMPLOYEES = [
    # employee_id, name, department, position, role, supervisor_id, email, active
    ("E001", "김민수", "재무과", "주무관", "담당자", "E010", "kim@demo.naebu.local", True),
    ("E002", "이영희", "재무과", "주무관", "담당자", "E010", "lee@demo.naebu.local", False),
    ("E003", "박지훈", "재무과", "주무관", "담당자", "E002", "park@demo.naebu.local", False),
    ("E010", "최재원", "재무과", "과장", "부서관리자", None, "choi@demo.naebu.local", True),
    ("E020", "정수진", "회계과", "팀장", "부서관리자", None, "jung@demo.naebu.local", True),
    ("E021", "오세훈", "회계과", "주무관", "담당자", "E020", "oh@demo.naebu.local", False),
    ("E030", "한가람", "감사실", "감사관", "감사자", None, "han@demo.naebu.local", True),
    ("E040", "윤서연", "세무과", "주무관", "담당자", None, None, True),
]


def employees_frame() -> Any:
    """The sample ``employees`` frame (canonical columns)."""
    import pandas as pd

    cols = ["employee_id", "name", "department", "position", "role", "supervisor_id", "email"]
    rows = [dict(zip([*cols, "active"], r, strict=True)) for r in EMPLOYEES]
    frame = pd.DataFrame(rows)
    frame["active"] = frame["active"].astype("boolean")
    frame["notify_url"] = None
    return frame


def directory_with_two_auditors() -> Any:
    """The sample directory plus a second 감사자 (E031), so an auditor's own alert can be
    reviewed by someone else."""
    from naebu.alerts.directory import Directory, Official
    from naebu.alerts.routing_settings import RoutingConfig

    base = Directory.from_frame(employees_frame())
    second = Official("E031", "서민재", "감사실", "주무관", "감사자", "E030", None, None, True)
    return Directory([*base, second], routing=RoutingConfig())


def sample_rules() -> dict[str, Any]:
    """Two rules: a high-severity payment rule (3 days) and a low contract rule (10 days)."""
    from pathlib import Path

    from naebu.engine.rule import RuleMeta

    return {
        "R-PAY-DUP": RuleMeta(
            id="R-PAY-DUP",
            title="동일 거래처 중복 지급 의심",
            title_en="Possible duplicate payment",
            type="match",
            dataset="payments",
            severity="high",
            file=Path("rules/payments.toml"),
            deadline_days=3,
        ),
        "R-CON-SPLIT": RuleMeta(
            id="R-CON-SPLIT",
            title="수의계약 분할 의심",
            title_en="Possible split contract",
            type="match",
            dataset="contracts",
            severity="low",
            file=Path("rules/contracts.toml"),
        ),
    }


def finding(
    key: str,
    *,
    rule_id: str = "R-PAY-DUP",
    department: str | None = "재무과",
    official_id: str | None = "E001",
    severity: str = "high",
    evidence: dict[str, Any] | None = None,
    message: str | None = None,
) -> Any:
    """A finding on record ``key``."""
    from naebu.engine.findings import Finding

    return Finding(
        rule_id=rule_id,
        dataset="payments" if rule_id == "R-PAY-DUP" else "contracts",
        record_key=key,
        severity=severity,
        message=message or f"지출 {key}: 같은 거래처에 같은 금액이 두 번 지급되었습니다.",
        department=department,
        official_id=official_id,
        evidence=evidence if evidence is not None else {"amount": 1250000, "vendor_id": "V-77"},
    )


def queue(
    engine: Engine,
    directory: Any,
    notify: Any,
    findings: list[Any],
    now: datetime = datetime(2025, 1, 24, 9, 30),
) -> int:
    """Raise ``findings`` and queue their digests, in one transaction like a run does."""
    from naebu.alerts import queue_digests, raise_alerts

    with engine.begin() as conn:
        run_id = conn.execute(
            store.runs.insert().values(started_at=now, status="running").returning(store.runs.c.id)
        ).scalar_one()
        ids = raise_alerts(conn, findings, sample_rules(), directory, run_id=run_id, now=now)
        return queue_digests(conn, ids, directory, notify, run_id=run_id, now=now)


def outbox_rows(engine: Engine) -> list[Any]:
    """Every outbox row, oldest first."""
    with engine.connect() as conn:
        return list(conn.execute(store.outbox.select().order_by(store.outbox.c.id)))
