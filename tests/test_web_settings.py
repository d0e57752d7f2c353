"""The inbox's ``[web]`` settings: where they are read from, the client's address behind a
reverse proxy, and sessions whose expiry slides with activity up to an absolute maximum.

Real HTTP against a live server (uvicorn on 127.0.0.1, so the peer is 127.0.0.1) with an
injected clock; ``naebu serve`` is run as a user runs it for the configuration mistakes.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from test_web_helpers import WebCity, live_server, login, web_city

from naebu.core.problems import ProblemsError
from naebu.settings.config import load_config
from naebu.settings.web import WebSettings, settings_for_config
from naebu.store import tables as store
from naebu.store.web_tables import web_login_attempts

NOW = datetime(2026, 3, 2, 9, 0)


@pytest.fixture
def city(tmp_path: Path) -> WebCity:
    return web_city(tmp_path, now=NOW)


def _addresses(city: WebCity) -> list[str]:
    """The client addresses of the login attempts, in order."""
    engine = store.connect(city.store_url)
    try:
        with engine.connect() as conn:
            q = select(web_login_attempts.c.address).order_by(web_login_attempts.c.id)
            return [r.address for r in conn.execute(q)]
    finally:
        engine.dispose()


# -- the client's address behind a reverse proxy -----------------------------------------------


def test_forwarded_for_is_ignored_unless_configured(city: WebCity) -> None:
    with live_server(city) as server, server.client() as c:
        login(c, "E001", "wrong-password-1", headers={"X-Forwarded-For": "203.0.113.7"})
    assert _addresses(city) == ["127.0.0.1"]  # the default: the peer, whatever it says


def test_forwarded_for_from_a_trusted_proxy_names_the_client(city: WebCity) -> None:
    settings = WebSettings(
        client_address_header="X-Forwarded-For",
        trusted_proxies=("127.0.0.1", "10.1.0.0/16"),
        max_failures_per_address=2,
        max_failures_per_account=100,
    )
    with live_server(city, settings) as server, server.client() as c:
        for _ in range(2):
            r = login(c, "E001", "wrong-password-1", headers={"X-Forwarded-For": "203.0.113.7"})
            assert r.status_code == 401
        # That client is locked out; another behind the same proxy is not.
        r = login(c, "E001", headers={"X-Forwarded-For": "203.0.113.7"})
        assert r.status_code == 429
        r = login(c, "E001", headers={"X-Forwarded-For": "198.51.100.2"})
        assert r.status_code == 303
        # What a client puts first is not believed: the right-most untrusted hop is the client
        # (10.1.2.3 is a trusted inner proxy, skipped).
        spoofed = {"X-Forwarded-For": "1.1.1.1, 203.0.113.9, 10.1.2.3"}
        assert login(c, "E040", "wrong-password-2", headers=spoofed).status_code == 401
        # Garbage in the header: nothing before it is believed; the proxy's address is used.
        assert login(c, "E040", "wrong-password-2",
                     headers={"X-Forwarded-For": "1.1.1.1, unknown"}).status_code == 401  # fmt: skip
    assert _addresses(city) == [
        "203.0.113.7",
        "203.0.113.7",
        "198.51.100.2",
        "203.0.113.9",
        "127.0.0.1",
    ]


def test_forwarded_for_from_an_untrusted_peer_is_ignored(city: WebCity) -> None:
    settings = WebSettings(client_address_header="X-Forwarded-For", trusted_proxies=("10.0.0.5",))
    with live_server(city, settings) as server, server.client() as c:
        for address in ("203.0.113.7", "198.51.100.2"):
            login(c, "E001", "wrong-password-1", headers={"X-Forwarded-For": address})
    assert _addresses(city) == ["127.0.0.1", "127.0.0.1"]


# -- sliding sessions --------------------------------------------------------------------------


class Clock:
    """A clock the test moves."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def test_a_session_slides_with_activity_up_to_its_maximum(city: WebCity) -> None:
    clock = Clock(NOW)
    settings = WebSettings(session_hours=1, session_max_hours=3)
    with live_server(city, settings, clock=clock) as server, server.client() as c:
        assert login(c, "E001").status_code == 303
        for minutes in (50, 100, 150, 175):  # each within an hour of the one before
            clock.now = NOW + timedelta(minutes=minutes)
            assert c.get("/alerts").status_code == 200, minutes  # past 1 h: it slid
        clock.now = NOW + timedelta(minutes=181)  # active, but 3 hours after signing in
        r = c.get("/alerts")
        assert r.status_code == 303 and r.headers["location"].startswith("/login")

        # Idle for longer than session_hours: signed out.
        clock.now = NOW + timedelta(hours=5)
        assert login(c, "E001").status_code == 303
        clock.now += timedelta(minutes=59)
        assert c.get("/alerts").status_code == 200
        clock.now += timedelta(minutes=61)
        assert c.get("/alerts").status_code == 303


def test_the_session_cookie_lives_as_long_as_the_maximum(city: WebCity) -> None:
    settings = WebSettings(session_hours=1, session_max_hours=3)
    with live_server(city, settings) as server, server.client() as c:
        r = login(c, "E001")
        cookie = r.headers["set-cookie"]
        assert "naebu_session=" in cookie and "Max-Age=10800" in cookie


# -- where the settings are read from ----------------------------------------------------------


def _config(folder: Path, web: str = "") -> Path:
    path = folder / "config.toml"
    path.write_text('[store]\nurl = "sqlite:///store.sqlite"\n' + web, encoding="utf-8")
    return path


def test_web_section_of_config_toml(tmp_path: Path) -> None:
    path = _config(
        tmp_path,
        '[web]\ncompliance = ["E030"]\nclient_address_header = "X-Forwarded-For"\n'
        'trusted_proxies = ["10.0.0.0/24"]\nsession_hours = 2\n',
    )
    config = load_config(path)  # the config accepts the section, read with the rest
    s = settings_for_config(config)
    assert s == config.web
    assert (s.compliance, s.client_address_header, s.session_hours) == (
        ("E030",),
        "X-Forwarded-For",
        2,
    )
    assert s.is_trusted_proxy("10.0.0.77") and not s.is_trusted_proxy("10.0.1.1")
    assert s.session_max_hours == 12  # the default


def test_web_toml_beside_the_config_still_works(tmp_path: Path) -> None:
    path = _config(tmp_path)
    assert settings_for_config(load_config(path)) == WebSettings()  # neither: the defaults
    (tmp_path / "web.toml").write_text("[web]\nsession_hours = 4\n", encoding="utf-8")
    assert settings_for_config(load_config(path)).session_hours == 4
    # Both would leave one of them ignored: refused, naming both.
    path = _config(tmp_path, "[web]\nsession_hours = 6\n")
    with pytest.raises(ProblemsError, match=r"both config.toml and web.toml"):
        settings_for_config(load_config(path))
    # --web-config names the file to read, whatever else there is.
    other = tmp_path / "other.toml"
    other.write_text("[web]\nsession_hours = 7\n", encoding="utf-8")
    assert settings_for_config(load_config(path), other).session_hours == 7


@pytest.mark.parametrize(
    ("web", "message"),
    [
        (
            "[web]\nsesion_hours = 2\n",
            "config.toml:4: web.sesion_hours: unknown key - did you mean 'session_hours'?",
        ),
        ("[web]\nsession_hours = 0\n", "web.session_hours: must be 1 or more"),
        ('[web]\ntrusted_proxies = ["proxy.local"]\n', "is not an IP address or network"),
        ('[web]\nsecure_cookies = "yes"\n', "web.secure_cookies: must be a bool"),
    ],
)
def test_a_bad_web_section_is_one_line_from_naebu_serve(
    tmp_path: Path, web: str, message: str
) -> None:
    path = _config(tmp_path, web)
    r = subprocess.run(
        [sys.executable, "-m", "naebu.cli", "serve", "--config", str(path), "--port", "1"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert r.returncode == 1 and message in r.stderr, r.stderr
    assert "Traceback" not in r.stderr


def test_a_misspelt_web_key_stops_naebu_run_too(tmp_path: Path) -> None:
    # [web] is part of the config: the daemon refuses it as naebu serve does, located.
    path = _config(tmp_path, "[web]\nsesion_hours = 2\n")
    r = subprocess.run(
        [sys.executable, "-m", "naebu.cli", "run", "--once", "--config", str(path)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert r.returncode == 1, r.stdout + r.stderr
    assert (
        "config.toml:4: web.sesion_hours: unknown key - did you mean 'session_hours'?" in r.stderr
    )
    assert "Traceback" not in r.stderr


def test_a_missing_web_config_file_is_one_line(tmp_path: Path) -> None:
    path = _config(tmp_path)
    r = subprocess.run(
        [sys.executable, "-m", "naebu.cli", "serve", "--config", str(path),
         "--web-config", str(tmp_path / "nope.toml")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert r.returncode == 1 and "nope.toml: web settings file not found" in r.stderr
    assert "Traceback" not in r.stderr
