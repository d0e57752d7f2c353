"""Configuration: one TOML file, paths inside it relative to the file itself.

The file is found from ``--config``, else ``$NAEBU_CONFIG``, else ``./config.toml``. Values may
name environment variables as ``${NAME}`` (database passwords, apprise URLs), so secrets need
not sit in the file. Every mistake is reported as a located :class:`~naebu.core.problems.Problem`
(its line found by :mod:`naebu.core.tomllines`); all of them at once.

This module holds the root, :class:`Config`, and the small top-level tables (``[store]``,
``[rules]``, ``[connections]``, ``[schedule]``); each other section has its own module with
its dataclass and parser, on the floor that uses it: connectors/source_settings.py (with
mapping_settings.py and merge_settings.py), engine/settings.py, engine/city_settings.py,
engine/calendar_settings.py, engine/cluster_settings.py, alerts/notify_settings.py,
alerts/routing_settings.py (with role_settings.py), alerts/audit_settings.py,
alerts/workflow_settings.py, and in this
package daemon.py, onboarding.py and web.py, the inbox's ``[web]``
(naebu/settings/web.py), read here with the rest.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from naebu.alerts.audit_settings import AuditConfig, parse_audit
from naebu.alerts.notify_settings import ChannelConfig as ChannelConfig
from naebu.alerts.notify_settings import NotifyConfig, parse_notify
from naebu.alerts.routing_settings import RoutingConfig, parse_routing
from naebu.alerts.workflow_settings import WorkflowConfig, parse_workflow
from naebu.connectors.merge_settings import check_merges
from naebu.connectors.source_settings import SourceConfig, parse_source, resolve_sqlite_url
from naebu.core.government import Government
from naebu.core.problems import Problem, ProblemsError, did_you_mean, toml_error
from naebu.core.schedule import check_schedule
from naebu.core.tomllines import locate
from naebu.engine.calendar_settings import CalendarConfig, read_calendar
from naebu.engine.calendar_settings import apply as apply_calendar
from naebu.engine.city_settings import parse_city
from naebu.engine.cluster_settings import ClusterConfig, parse_cluster
from naebu.engine.settings import EngineConfig, parse_engine
from naebu.settings.daemon import DaemonConfig, parse_daemon
from naebu.settings.onboarding import OnboardingConfig, parse_onboarding
from naebu.settings.web import WebSettings, web_settings_from

DEFAULT_CONFIG = "config.toml"
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")

TOP_LEVEL_KEYS = (
    "store",
    "rules",
    "schedule",
    "connections",
    "sources",
    "routing",
    "notify",
    "daemon",
    "web",  # the web inbox's settings, read by naebu.settings.web (naebu serve)
    "engine",  # where rules are evaluated: pandas in this process, or a Dask cluster
    "onboarding",  # naebu sources suggest: the city's own header synonym files
    "city",  # the kind of government, which chooses thresholds (engine/city_settings.py)
    "calendar",  # the city's extra and removed holidays (naebu.engine.calendar_settings)
    "audit",  # the audit key and published heads (naebu.alerts.audit_settings)
    "workflow",  # whether answers need the department manager's approval (naebu.alerts.workflow_settings)
    "cluster",  # when the daemon tells the admins its Dask cluster is down (naebu.engine.cluster_settings)
)


@dataclass
class Config:
    """The whole configuration, checked and with paths resolved."""

    path: Path
    store_url: str
    rule_paths: list[Path]
    sources: dict[str, SourceConfig]
    notify: NotifyConfig
    routing: RoutingConfig
    schedule: dict[str, Any]
    connections: dict[str, str]
    daemon: DaemonConfig = field(default_factory=DaemonConfig)
    engine: EngineConfig = field(default_factory=EngineConfig)
    onboarding: OnboardingConfig = field(default_factory=OnboardingConfig)
    #: ``[city]``: the kind of government; None runs the rules with their defaults.
    city: Government | None = None
    calendar: CalendarConfig = field(default_factory=CalendarConfig)
    audit: AuditConfig = field(default_factory=AuditConfig)
    cluster: ClusterConfig = field(default_factory=ClusterConfig)
    #: ``[web]``: the inbox's settings (naebu serve); ``source`` is the config when it has one.
    web: WebSettings = field(default_factory=WebSettings)
    #: ``[rules] require_approval``: the daemon runs only approved rule versions
    #: (naebu/rule_drafts.py); None: when the officials directory has an audit office.
    require_approval: bool | None = None
    #: ``[workflow]``: 조치 -> 승인 -> 확인, or without the 승인 step (alerts/workflow_settings.py).
    workflow: WorkflowConfig = field(default_factory=WorkflowConfig)

    @property
    def base_dir(self) -> Path:
        """The folder relative paths in the config are resolved against."""
        return self.path.parent

    def resolve_path(self, value: str | os.PathLike[str]) -> Path:
        """A path from the config, made absolute against the config's folder."""
        p = Path(os.path.expanduser(os.fspath(value)))
        return p if p.is_absolute() else (self.base_dir / p).resolve()

    def resolve_url(self, url: str) -> str:
        """A SQLAlchemy URL whose relative SQLite path is made relative to the config's folder."""
        return resolve_sqlite_url(url, self.base_dir)


def find_config(explicit: str | None) -> Path:
    """The config file to use: ``--config``, else ``$NAEBU_CONFIG``, else ``./config.toml``."""
    return Path(explicit or os.environ.get("NAEBU_CONFIG") or DEFAULT_CONFIG).resolve()


def interpolate(value: Any, problems: list[Problem], file: str, key: str) -> Any:
    """Replace ``${NAME}`` in strings with the environment's value (recursively)."""
    if isinstance(value, str):

        def sub(m: re.Match[str]) -> str:
            name = m.group(1)
            if name not in os.environ:
                problems.append(
                    Problem(
                        file,
                        f"environment variable {name} is not set",
                        key=key,
                        hint=f"export {name}=... before starting naebu",
                    )
                )
                return ""
            return os.environ[name]

        return _ENV_REF.sub(sub, value)
    if isinstance(value, dict):
        return {k: interpolate(v, problems, file, f"{key}.{k}") for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, problems, file, f"{key}[{i}]") for i, v in enumerate(value)]
    return value


def load_config(path: Path) -> Config:
    """Read and check the config at ``path``; raise :class:`ProblemsError` listing every problem."""
    config, problems = read_config(path)
    if problems or config is None:
        raise ProblemsError(problems)
    apply_calendar(config.calendar)  # deadlines of this process count the city's holidays
    return config


def read_config(path: Path) -> tuple[Config | None, list[Problem]]:
    """The config at ``path`` as far as it reads, and every problem of it, located at its line.

    None when the file cannot be read as TOML at all; else a :class:`Config` in which each
    wrong part is left out or at its default, so ``naebu check`` goes on to the sources and
    rules in the same pass.
    """
    file = _display(path)
    if not path.exists():
        hint = "pass --config PATH, set NAEBU_CONFIG, or run from the folder holding config.toml"
        return None, [Problem(file, "config file not found", hint=hint)]
    try:
        text = path.read_text(encoding="utf-8")
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg, line = toml_error(exc)
        hint = "check quotes and brackets"
        return None, [Problem(file, f"not valid TOML: {msg}", line=line, hint=hint)]
    except UnicodeDecodeError:
        return None, [Problem(file, "not UTF-8 text", hint="save the file as UTF-8")]
    problems: list[Problem] = []
    config = _parse(raw, path, file, problems)
    return config, locate(problems, file, text)


def _parse(raw: dict[str, Any], path: Path, file: str, problems: list[Problem]) -> Config:
    raw = interpolate(raw, problems, file, "config")
    for key in raw:
        if key not in TOP_LEVEL_KEYS:
            problems.append(
                Problem(
                    file,
                    f"unknown section [{key}]",
                    key=key,
                    hint=did_you_mean(key, TOP_LEVEL_KEYS),
                )
            )
    base = path.parent

    store = _table(raw, "store", problems, file)
    store_url = str(store.get("url", "sqlite:///var/naebu.sqlite"))

    rules = _table(raw, "rules", problems, file)
    rule_paths = [
        (base / p).resolve()
        for p in _list(rules.get("paths", ["rules"]), "rules.paths", problems, file)
    ]
    require_approval = rules.get("require_approval")
    if require_approval is not None and not isinstance(require_approval, bool):
        problems.append(
            Problem(
                file,
                f"must be true or false, not {require_approval!r}",
                key="rules.require_approval",
                hint="require_approval = true",
            )
        )
        require_approval = None

    connections: dict[str, str] = {}
    for name, conn in _table(raw, "connections", problems, file).items():
        if not isinstance(conn, dict) or "url" not in conn:
            problems.append(
                Problem(
                    file,
                    "a connection needs a url",
                    key=f"connections.{name}",
                    hint='url = "postgresql://..."',
                )
            )
            continue
        connections[name] = resolve_sqlite_url(str(conn["url"]), base)

    sources: dict[str, SourceConfig] = {}
    for name, src in _table(raw, "sources", problems, file).items():
        parsed = parse_source(name, src, connections, base, problems, file)
        if parsed is not None:
            sources[name] = parsed
    check_merges(sources, problems, file)

    routing = parse_routing(_table(raw, "routing", problems, file), problems, file)

    notify = parse_notify(_table(raw, "notify", problems, file), base, problems, file)
    web = _parse_web(raw.get("web"), path, problems, file)
    notify.base_url = web.base_url
    schedule = check_schedule(_table(raw, "schedule", problems, file), "schedule", problems, file)
    daemon = parse_daemon(_table(raw, "daemon", problems, file), problems, file)
    engine = parse_engine(_table(raw, "engine", problems, file), problems, file)
    onboarding = parse_onboarding(_table(raw, "onboarding", problems, file), base, problems, file)
    city = parse_city(raw.get("city"), problems, file, path)
    calendar = read_calendar(_table(raw, "calendar", problems, file), problems, file)
    audit = parse_audit(_table(raw, "audit", problems, file), base, problems, file)
    cluster = parse_cluster(_table(raw, "cluster", problems, file), engine.backend, problems, file)
    workflow = parse_workflow(_table(raw, "workflow", problems, file), problems, file)

    return Config(
        path=path,
        store_url=resolve_sqlite_url(store_url, base),
        rule_paths=rule_paths,
        sources=sources,
        notify=notify,
        routing=routing,
        schedule=schedule or {},
        connections=connections,
        daemon=daemon,
        engine=engine,
        onboarding=onboarding,
        city=city,
        calendar=calendar,
        audit=audit,
        cluster=cluster,
        web=web,
        require_approval=require_approval,
        workflow=workflow,
    )


def _parse_web(table: Any, path: Path, problems: list[Problem], file: str) -> WebSettings:
    """``[web]``, checked with the rest of the file: a misspelt key stops ``naebu run`` as
    it stops ``naebu serve`` (the problems are located with the others)."""
    if table is None:
        return WebSettings()
    try:
        settings = web_settings_from(table, file)
    except ProblemsError as exc:
        problems.extend(exc.problems)
        return WebSettings()
    settings.source = path
    return settings


def _table(raw: dict[str, Any], key: str, problems: list[Problem], file: str) -> dict[str, Any]:
    value = raw.get(key, {})
    if not isinstance(value, dict):
        problems.append(Problem(file, f"[{key}] must be a table", key=key))
        return {}
    return value


def _list(value: Any, key: str, problems: list[Problem], file: str) -> list[Any]:
    if not isinstance(value, list):
        problems.append(Problem(file, "must be a list", key=key, hint="use [ ... ]"))
        return []
    return value


def _display(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
