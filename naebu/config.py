"""Configuration: one TOML file, paths inside it relative to the file itself.

The file is found from ``--config``, else ``$NAEBU_CONFIG``, else ``./config.toml``. Values may
name environment variables as ``${NAME}`` (database passwords, apprise URLs), so secrets need
not sit in the file. Every mistake is reported as a located :class:`~naebu.problems.Problem`;
all of them at once.
"""

from __future__ import annotations

import importlib.util
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.government import Government
from engine.rule import NOTIFY_TARGETS, SEVERITIES
from naebu import datasets
from naebu.auditconfig import AuditConfig, parse_audit
from naebu.calendarconfig import CalendarConfig, read_calendar
from naebu.calendarconfig import apply as apply_calendar
from naebu.cityconfig import parse_city
from naebu.clusterconfig import ClusterConfig, parse_cluster
from naebu.links import check_base_url
from naebu.mapping_config import check_mapping
from naebu.merging import check_merges, parse_merge_on
from naebu.problems import Problem, ProblemsError, did_you_mean, toml_error
from naebu.roleconfig import RoleRules, parse_roles

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
    "web",  # the web inbox's settings, read by inbox.settings (naebu serve)
    "engine",  # where rules are evaluated: pandas in this process, or a Dask cluster
    "onboarding",  # naebu sources suggest: the city's own header synonym files
    "city",  # the kind of government, which chooses thresholds (naebu/cityconfig.py)
    "calendar",  # the city's extra and removed holidays (naebu.calendarconfig)
    "audit",  # the audit key and published heads (naebu.auditconfig)
    "cluster",  # when the daemon tells the admins its Dask cluster is down (naebu.clusterconfig)
)


@dataclass
class SourceConfig:
    """One source: a connector kind, the canonical dataset it feeds, and its options.

    ``columns`` maps canonical column -> source column (or a list of source columns whose
    values are joined, e.g. year, month, day); ``formats`` maps canonical column ->
    a strptime format for dates and times. Everything else the connector kind defines is in
    ``options`` (already ``${ENV}``-interpolated; relative paths not yet resolved).
    """

    name: str
    kind: str
    dataset: str
    columns: dict[str, str | list[str]] = field(default_factory=dict)
    formats: dict[str, str] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    enabled: bool = True
    #: Its own schedule (``{"cron": ...}`` or ``{"interval_minutes": ...}``); None: the
    #: ``[schedule]`` of the default run job.
    schedule: dict[str, Any] | None = None
    #: canonical column -> a fixed value for every row (see :mod:`naebu.mapping_config`).
    constants: dict[str, Any] = field(default_factory=dict)
    #: canonical column -> {source value (NFKC, stripped): canonical value; "" for empty}.
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    #: canonical column -> expression over the source's columns (engine.expr, all text).
    derive: dict[str, str] = field(default_factory=dict)
    #: Canonical columns whose values name one record of the dataset when several sources
    #: feed it (``merge_on = ["employee_id", "work_date"]``); empty: the source alone.
    #: See :mod:`connectors.merge` and docs/sources.md, "Several sources into one dataset".
    merge_on: tuple[str, ...] = ()


@dataclass
class ChannelConfig:
    """A notification channel: an apprise URL, filled per recipient.

    ``url`` may hold ``{email}``, ``{employee_id}``, ``{name}`` or ``{notify_url}`` from the
    officials directory; a URL without placeholders is one shared channel (a webhook of the
    audit office) that receives every recipient's digest.
    """

    name: str
    url: str


@dataclass
class NotifyConfig:
    """Where digests go. With no channel, they land in the local outbox file only."""

    language: str = "ko"
    outbox_file: Path | None = None
    channels: list[ChannelConfig] = field(default_factory=list)
    max_attempts: int = 8
    retry_base_seconds: float = 60.0
    #: After ``max_attempts`` a message is retried every ``slow_retry_minutes`` until it is
    #: ``give_up_hours`` old (issue 17: a two-hour outage lost every message).
    slow_retry_minutes: float = 60.0
    give_up_hours: float = 72.0
    timeout_seconds: float = 15.0
    #: Alerts a digest writes out in full; the rest are counted per rule (see render_digest).
    digest_max_items: int = 100
    #: Who hears of the daemon's own troubles (a broken rule file, a source down): employee
    #: ids of the directory, or apprise URLs.
    admins: list[str] = field(default_factory=list)
    #: ``[web] base_url``: where messages link each alert and the inbox (naebu.links).
    base_url: str | None = None

    def admin_urls(self) -> list[ChannelConfig]:
        """The admins given as apprise URLs, as channels named ``admin:N``."""
        return [
            ChannelConfig(name=f"{ADMIN_CHANNEL_PREFIX}{i + 1}", url=a)
            for i, a in enumerate(self.admins)
            if "://" in a
        ]

    def admin_ids(self) -> list[str]:
        """The admins given as employee ids."""
        return [a for a in self.admins if "://" not in a]

    def for_delivery(self) -> NotifyConfig:
        """This config with the admin URL channels added, for sending the outbox (digests are
        never queued to an admin channel, so officials' mail cannot reach them)."""
        extra = self.admin_urls()
        if not extra:
            return self
        copy = NotifyConfig(**{**vars(self), "channels": [*self.channels, *extra]})
        return copy


#: Channel names of admin apprise URLs; reserved.
ADMIN_CHANNEL_PREFIX = "admin:"


@dataclass
class DaemonConfig:
    """``[daemon]``: how ``naebu run`` behaves when it stays up."""

    #: How often a standby tries to take the leader lock (takeover within this time).
    lock_poll_seconds: float = 10.0
    #: The health and metrics endpoint (``/healthz``, ``/metrics``); port 0 turns it off.
    http_host: str = "127.0.0.1"
    http_port: int = 9640
    #: ``text`` or ``json`` (one JSON object a line, for a log shipper).
    log_format: str = "text"
    #: How often the outbox is flushed between runs.
    outbox_interval_seconds: float = 60.0
    #: When reminders and escalations are sent (cron, Asia/Seoul).
    reminders_cron: str = "0 9 * * 1-5"
    #: A failed source is retried after base * 2**(failures-1) seconds, at most max.
    source_retry_base_seconds: float = 30.0
    source_retry_max_seconds: float = 900.0
    #: Admins are told after this many consecutive failures of a source.
    source_failures_before_notice: int = 3
    #: On SIGTERM: how long the outbox may be flushed before the daemon exits anyway.
    shutdown_timeout_seconds: float = 30.0


BACKENDS = ("pandas", "dask")
#: Address schemes of a dask.distributed scheduler.
SCHEDULER_SCHEMES = ("tcp://", "tls://", "ucx://", "ws://", "wss://")


@dataclass
class EngineConfig:
    """``[engine]``: where rules are evaluated (docs/dask.md).

    ``backend = "pandas"`` (the default) evaluates every rule in this process. ``"dask"``
    splits each rule into parts evaluated on a dask.distributed cluster: an existing one at
    ``scheduler`` (``tcp://host:8786``), or ``local_workers`` worker processes started on this
    machine. ``partitions``: parts per rule (default: twice the cluster's worker threads);
    ``min_part_rows``: a rule over fewer rows than this per part is split into fewer parts, or
    evaluated in this process, where moving it would cost more than it saves.
    """

    backend: str = "pandas"
    scheduler: str | None = None
    local_workers: int | None = None
    partitions: int | None = None
    min_part_rows: int = 50_000


def _default_notify() -> dict[str, tuple[str, ...]]:
    # 청백-e: the official and the department manager at once; the audit office too when
    # the alert is serious.
    return {
        "low": ("official", "manager"),
        "medium": ("official", "manager"),
        "high": ("official", "manager", "audit"),
        "critical": ("official", "manager", "audit"),
    }


@dataclass
class RoutingConfig:
    """How an alert finds its officials, and when reminders and escalations go out.

    ``notify`` maps a severity to who is told when an alert is raised (a rule's own
    ``notify`` key wins). The audit office of an alert is the 감사자 of its organisation
    (from the ``departments`` tree: :meth:`alerts.directory.Directory.audit_office`);
    ``audit_department``, when set, limits it further to the 감사자 of that department. ``remind_before_days`` business days
    before a deadline the official is reminded (0: never); once overdue the department
    manager is told, and ``escalate_audit_after_days`` business days later the audit office.
    """

    directory: str = "employees"
    fallback_roles: tuple[str, ...] = ("담당자", "부서관리자")
    notify: dict[str, tuple[str, ...]] = field(default_factory=_default_notify)
    audit_department: str | None = None
    remind_before_days: int = 2
    escalate_audit_after_days: int = 3
    #: ``[routing.roles]``: roles derived for officials the directory gives none
    #: (naebu.roleconfig); None: the directory's ``role`` column only.
    roles: RoleRules | None = None

    def notify_for(self, severity: str) -> tuple[str, ...]:
        """Who is told at raise time about an alert of ``severity`` (by default)."""
        return self.notify.get(severity, ("official", "manager"))


@dataclass
class OnboardingConfig:
    """``[onboarding]``: what ``naebu sources suggest`` reads besides its shipped dictionary.

    ``synonyms``: TOML files of the city's own header and value synonyms (the layout of
    ``connectors/synonyms.toml``), relative to the config file.
    """

    synonyms: list[Path] = field(default_factory=list)


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
    #: ``[rules] require_approval``: the daemon runs only approved rule versions
    #: (naebu/rule_drafts.py); None: when the officials directory has an audit office.
    require_approval: bool | None = None

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


def resolve_sqlite_url(url: str, base_dir: Path) -> str:
    """Make ``sqlite:///relative.db`` relative to ``base_dir`` (absolute and memory URLs stay)."""
    m = re.match(r"^(sqlite(?:\+\w+)?):///(.*)$", url)
    if not m or not m.group(2) or m.group(2).startswith("/") or m.group(2) == ":memory:":
        return url
    path = (base_dir / m.group(2)).resolve()
    return f"{m.group(1)}:///{path}"


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
    file = _display(path)
    if not path.exists():
        raise ProblemsError(
            [
                Problem(
                    file,
                    "config file not found",
                    hint="pass --config PATH, set NAEBU_CONFIG, or run from the folder holding config.toml",
                )
            ]
        )
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        msg, line = toml_error(exc)
        raise ProblemsError(
            [Problem(file, f"not valid TOML: {msg}", line=line, hint="check quotes and brackets")]
        ) from None
    except UnicodeDecodeError:
        raise ProblemsError(
            [Problem(file, "not UTF-8 text", hint="save the file as UTF-8")]
        ) from None

    problems: list[Problem] = []
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
        parsed = _source(name, src, connections, base, problems, file)
        if parsed is not None:
            sources[name] = parsed
    check_merges(sources, problems, file)

    routing = _routing(_table(raw, "routing", problems, file), problems, file)

    notify = _notify(_table(raw, "notify", problems, file), base, problems, file)
    web = raw.get("web")
    notify.base_url = check_base_url(
        web.get("base_url") if isinstance(web, dict) else None, problems, file
    )
    schedule = check_schedule(_table(raw, "schedule", problems, file), "schedule", problems, file)
    daemon = _daemon(_table(raw, "daemon", problems, file), problems, file)
    engine = _engine(_table(raw, "engine", problems, file), problems, file)
    onboarding = _onboarding(_table(raw, "onboarding", problems, file), base, problems, file)
    city = parse_city(raw.get("city"), problems, file, path)
    calendar = read_calendar(_table(raw, "calendar", problems, file), problems, file)
    audit = parse_audit(_table(raw, "audit", problems, file), base, problems, file)
    cluster = parse_cluster(_table(raw, "cluster", problems, file), engine.backend, problems, file)

    if problems:
        raise ProblemsError(problems)
    apply_calendar(calendar)  # deadlines of this process count the city's holidays
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
        require_approval=require_approval,
    )


ROUTING_KEYS = (
    "directory",
    "fallback_roles",
    "notify",
    "audit_department",
    "remind_before_days",
    "escalate_audit_after_days",
    "roles",
)


def _routing(raw: dict[str, Any], problems: list[Problem], file: str) -> RoutingConfig:
    cfg = RoutingConfig(
        directory=str(raw.get("directory", "employees")),
        fallback_roles=tuple(raw.get("fallback_roles", ("담당자", "부서관리자"))),
    )
    for key in raw:
        if key not in ROUTING_KEYS:
            problems.append(
                Problem(
                    file,
                    "unknown key",
                    key=f"routing.{key}",
                    hint=did_you_mean(key, ROUTING_KEYS) or "keys: " + ", ".join(ROUTING_KEYS),
                )
            )
    if cfg.directory not in datasets.DATASETS:
        problems.append(
            Problem(
                file,
                f"unknown dataset {cfg.directory!r}",
                key="routing.directory",
                hint=did_you_mean(cfg.directory, datasets.DATASETS),
            )
        )
    notify = raw.get("notify", {})
    if not isinstance(notify, dict):
        problems.append(
            Problem(
                file,
                "must be a table of severity = [targets]",
                key="routing.notify",
                hint='[routing.notify] high = ["official", "manager", "audit"]',
            )
        )
        notify = {}
    for severity, targets in notify.items():
        key = f"routing.notify.{severity}"
        if severity not in SEVERITIES:
            problems.append(
                Problem(
                    file,
                    f"unknown severity {severity!r}",
                    key=key,
                    hint=did_you_mean(severity, SEVERITIES) or "one of " + ", ".join(SEVERITIES),
                )
            )
            continue
        if not isinstance(targets, list) or not targets:
            problems.append(
                Problem(
                    file,
                    "must be a non-empty list",
                    key=key,
                    hint='e.g. ["official", "manager"]; targets: ' + ", ".join(NOTIFY_TARGETS),
                )
            )
            continue
        bad = [t for t in targets if t not in NOTIFY_TARGETS]
        for t in bad:
            problems.append(
                Problem(
                    file,
                    f"unknown target {t!r}",
                    key=key,
                    hint=did_you_mean(str(t), NOTIFY_TARGETS)
                    or "targets: " + ", ".join(NOTIFY_TARGETS),
                )
            )
        if not bad:
            cfg.notify[severity] = tuple(dict.fromkeys(str(t) for t in targets))
    department = raw.get("audit_department")
    if department is not None:
        if not isinstance(department, str) or not department.strip():
            problems.append(
                Problem(
                    file,
                    "must be a department name",
                    key="routing.audit_department",
                    hint='audit_department = "감사담당관"',
                )
            )
        else:
            cfg.audit_department = department.strip()
    for key in ("remind_before_days", "escalate_audit_after_days"):
        if key not in raw:
            continue
        value = raw[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            problems.append(
                Problem(
                    file,
                    f"must be a whole number of business days (0 or more), not {value!r}",
                    key=f"routing.{key}",
                    hint=f"{key} = {getattr(RoutingConfig, key)}",
                )
            )
            continue
        setattr(cfg, key, value)
    if "roles" in raw:
        cfg.roles = parse_roles(raw["roles"], problems, file, cfg.audit_department)
    return cfg


_SOURCE_COMMON = (
    "kind",
    "dataset",
    "columns",
    "formats",
    "connection",
    "enabled",
    "schedule",
    "constants",
    "values",
    "derive",
    "merge_on",
)
SCHEDULE_KEYS = ("cron", "interval_minutes", "interval_seconds", "misfire_grace_seconds")


def check_schedule(
    value: Any, key: str, problems: list[Problem], file: str
) -> dict[str, Any] | None:
    """A schedule as a table: ``"*/5 * * * *"`` (cron text) or ``{ cron = ... }`` or
    ``{ interval_minutes = 5 }``; appends a Problem per mistake."""
    if value is None:
        return None
    if isinstance(value, str):
        value = {"cron": value}
    if not isinstance(value, dict):
        problems.append(
            Problem(file, "must be cron text or a table", key=key, hint='"*/15 * * * *"')
        )
        return None
    for k in value:
        if k not in SCHEDULE_KEYS:
            problems.append(
                Problem(
                    file,
                    "unknown key",
                    key=f"{key}.{k}",
                    hint=did_you_mean(k, SCHEDULE_KEYS) or "keys: " + ", ".join(SCHEDULE_KEYS),
                )
            )
    if "cron" in value:
        from apscheduler.triggers.cron import CronTrigger

        try:
            CronTrigger.from_crontab(str(value["cron"]))
        except ValueError as exc:
            problems.append(
                Problem(
                    file,
                    f"not a cron expression: {exc}",
                    key=f"{key}.cron",
                    hint='five fields: minute hour day month weekday, e.g. "*/15 * * * *"',
                )
            )
    for k in ("interval_minutes", "interval_seconds", "misfire_grace_seconds"):
        v = value.get(k)
        if v is not None and (isinstance(v, bool) or not isinstance(v, int | float) or v <= 0):
            problems.append(
                Problem(file, f"must be a positive number, not {v!r}", key=f"{key}.{k}")
            )
    return value


_DAEMON_NUMBERS = (
    "lock_poll_seconds",
    "outbox_interval_seconds",
    "source_retry_base_seconds",
    "source_retry_max_seconds",
    "shutdown_timeout_seconds",
)


def _daemon(raw: dict[str, Any], problems: list[Problem], file: str) -> DaemonConfig:
    cfg = DaemonConfig()
    known = list(vars(cfg))
    for key, value in raw.items():
        where = f"daemon.{key}"
        if key not in known:
            problems.append(
                Problem(
                    file,
                    "unknown key",
                    key=where,
                    hint=did_you_mean(key, known) or "keys: " + ", ".join(known),
                )
            )
        elif key in _DAEMON_NUMBERS:
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                problems.append(
                    Problem(file, f"must be a positive number, not {value!r}", key=where)
                )
            else:
                setattr(cfg, key, float(value))
        elif key in ("http_port", "source_failures_before_notice"):
            low = 0 if key == "http_port" else 1
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= 65535:
                problems.append(
                    Problem(file, f"must be a whole number >= {low}, not {value!r}", key=where)
                )
            else:
                setattr(cfg, key, value)
        elif key == "log_format":
            if value not in ("text", "json"):
                problems.append(
                    Problem(
                        file, f"unknown log format {value!r}", key=where, hint='"text" or "json"'
                    )
                )
            else:
                cfg.log_format = value
        elif key == "reminders_cron":
            check_schedule({"cron": value}, "daemon.reminders", problems, file)
            cfg.reminders_cron = str(value)
        elif not isinstance(value, str) or not value:
            problems.append(Problem(file, "must be text", key=where))
        else:
            setattr(cfg, key, value)
    return cfg


def _engine(raw: dict[str, Any], problems: list[Problem], file: str) -> EngineConfig:
    cfg = EngineConfig()
    known = list(vars(cfg))

    def problem(key: str, message: str, hint: str | None = None) -> None:
        problems.append(Problem(file, message, key=f"engine.{key}", hint=hint))

    for key, value in raw.items():
        if key not in known:
            problem(key, "unknown key", did_you_mean(key, known) or "keys: " + ", ".join(known))
        elif key == "backend":
            if value not in BACKENDS:
                hint = did_you_mean(str(value), BACKENDS) or 'use "pandas" or "dask"'
                problem(key, f"unknown backend {value!r}", hint)
            else:
                cfg.backend = value
        elif key == "scheduler":
            if not isinstance(value, str) or not value.startswith(SCHEDULER_SCHEMES):
                problem(
                    key, f"not a scheduler address: {value!r}", 'scheduler = "tcp://10.0.0.5:8786"'
                )
            else:
                cfg.scheduler = value
        elif isinstance(value, bool) or not isinstance(value, int) or value < 1:
            problem(key, f"must be a whole number >= 1, not {value!r}", f"{key} = 2")
        else:
            setattr(cfg, key, value)
    if cfg.backend == "dask":
        if cfg.scheduler and cfg.local_workers:
            problem(
                "local_workers",
                "give either scheduler (an existing cluster) or local_workers (start one here), not both",
            )
        elif "scheduler" not in raw and "local_workers" not in raw:
            problem(
                "backend",
                'backend "dask" needs a cluster',
                'scheduler = "tcp://host:8786", or local_workers = 2 for one on this machine',
            )
        if importlib.util.find_spec("distributed") is None:
            problem("backend", "dask is not installed", "pip install 'naebu[dask]'")
    else:
        for key in ("scheduler", "local_workers", "partitions", "min_part_rows"):
            if key in raw:
                problem(key, f"{key} applies only to the dask backend", 'backend = "dask"')
    return cfg


def _onboarding(
    raw: dict[str, Any], base: Path, problems: list[Problem], file: str
) -> OnboardingConfig:
    cfg = OnboardingConfig()
    for key, value in raw.items():
        if key != "synonyms":
            problems.append(
                Problem(file, "unknown key", key=f"onboarding.{key}", hint="keys: synonyms")
            )
            continue
        paths = value if isinstance(value, list) else [value]
        for i, path in enumerate(paths):
            if not isinstance(path, str) or not path.strip():
                problems.append(
                    Problem(
                        file,
                        f"must be a path to a TOML file, not {path!r}",
                        key=f"onboarding.synonyms[{i}]",
                        hint='synonyms = ["my-headers.toml"]',
                    )
                )
                continue
            resolved = (base / os.path.expanduser(path)).resolve()
            if not resolved.is_file():
                problems.append(
                    Problem(
                        file,
                        f"synonym file {path} not found",
                        key=f"onboarding.synonyms[{i}]",
                        hint="paths are relative to the config file",
                    )
                )
                continue
            cfg.synonyms.append(resolved)
    return cfg


def _source(
    name: str,
    src: Any,
    connections: dict[str, str],
    base: Path,
    problems: list[Problem],
    file: str,
) -> SourceConfig | None:
    key = f"sources.{name}"
    if not isinstance(src, dict):
        problems.append(
            Problem(file, "a source must be a table", key=key, hint=f"[sources.{name}]")
        )
        return None
    kind = src.get("kind")
    dataset = src.get("dataset")
    if not kind:
        problems.append(
            Problem(file, "missing kind", key=f"{key}.kind", hint='kind = "sql" or kind = "files"')
        )
    if dataset not in datasets.DATASETS:
        problems.append(
            Problem(
                file,
                f"unknown dataset {dataset!r}" if dataset else "missing dataset",
                key=f"{key}.dataset",
                hint=did_you_mean(str(dataset), datasets.DATASETS)
                or "one of: " + ", ".join(datasets.DATASETS),
            )
        )
        return None
    ds = datasets.get(str(dataset))
    columns = src.get("columns", {})
    formats = src.get("formats", {})
    for sect, mapping in (("columns", columns), ("formats", formats)):
        if not isinstance(mapping, dict):
            problems.append(Problem(file, f"{sect} must be a table", key=f"{key}.{sect}"))
            continue
        for canon in mapping:
            if canon not in ds.by_name:
                problems.append(
                    Problem(
                        file,
                        f"{canon!r} is not a column of dataset {ds.name}",
                        key=f"{key}.{sect}.{canon}",
                        hint=did_you_mean(canon, ds.by_name)
                        or "columns: " + ", ".join(ds.column_names),
                    )
                )
    maps = check_mapping(name, src, ds, problems, file)
    options = {k: v for k, v in src.items() if k not in _SOURCE_COMMON}
    conn = src.get("connection")
    if conn is not None:
        if conn not in connections:
            problems.append(
                Problem(
                    file,
                    f"unknown connection {conn!r}",
                    key=f"{key}.connection",
                    hint=did_you_mean(str(conn), connections) or "define it under [connections]",
                )
            )
        else:
            options.setdefault("url", connections[conn])
    if isinstance(options.get("url"), str):
        options["url"] = resolve_sqlite_url(options["url"], base)
    # File-drop folders and other paths are resolved against the config's folder too.
    for opt in ("path",):
        if isinstance(options.get(opt), str):
            p = Path(os.path.expanduser(options[opt]))
            options[opt] = str(p if p.is_absolute() else (base / p).resolve())
    return SourceConfig(
        name=name,
        kind=str(kind or ""),
        dataset=ds.name,
        columns={str(k): _source_column(v) for k, v in (columns or {}).items()}
        if isinstance(columns, dict)
        else {},
        formats={str(k): str(v) for k, v in (formats or {}).items()}
        if isinstance(formats, dict)
        else {},
        options=options,
        enabled=bool(src.get("enabled", True)),
        schedule=check_schedule(src.get("schedule"), f"{key}.schedule", problems, file),
        constants=maps.constants,
        values=maps.values,
        derive=maps.derive,
        merge_on=parse_merge_on(key, src.get("merge_on"), ds, problems, file),
    )


def _notify(raw: dict[str, Any], base: Path, problems: list[Problem], file: str) -> NotifyConfig:
    cfg = NotifyConfig(language=str(raw.get("language", "ko")))
    if cfg.language not in ("ko", "en"):
        problems.append(
            Problem(
                file,
                f"unknown language {cfg.language!r}",
                key="notify.language",
                hint='"ko" or "en"',
            )
        )
    outbox_file = raw.get("outbox_file", "var/outbox.jsonl")
    cfg.outbox_file = (base / str(outbox_file)).resolve() if outbox_file else None
    for k in ("max_attempts",):
        if k in raw:
            cfg.max_attempts = int(raw[k])
    for k in ("retry_base_seconds", "timeout_seconds"):
        if k in raw:
            setattr(cfg, k, float(raw[k]))
    for k, example in (("slow_retry_minutes", 60), ("give_up_hours", 72)):
        if k not in raw:
            continue
        value = raw[k]
        if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
            setattr(cfg, k, float(value))
        else:
            problems.append(
                Problem(
                    file,
                    f"{k} must be a number above 0, not {value!r}",
                    key=f"notify.{k}",
                    hint=f"{k} = {example}",
                )
            )
    if "digest_max_items" in raw:
        value = raw["digest_max_items"]
        if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
            cfg.digest_max_items = value
        else:
            problems.append(
                Problem(
                    file,
                    f"digest_max_items must be a whole number of at least 1, not {value!r}",
                    key="notify.digest_max_items",
                    hint="digest_max_items = 100",
                )
            )
    for i, ch in enumerate(_list(raw.get("channels", []), "notify.channels", problems, file)):
        if not isinstance(ch, dict) or not ch.get("url"):
            problems.append(
                Problem(
                    file,
                    "a channel needs a url",
                    key=f"notify.channels[{i}]",
                    hint='url = "mailto://..." (any apprise URL)',
                )
            )
            continue
        name = str(ch.get("name", f"channel{i + 1}"))
        if name == "outbox-file":
            problems.append(
                Problem(
                    file,
                    "the channel name 'outbox-file' is reserved for the local outbox",
                    key=f"notify.channels[{i}].name",
                    hint="choose another name",
                )
            )
            continue
        if name.startswith(ADMIN_CHANNEL_PREFIX):
            problems.append(
                Problem(
                    file,
                    f"channel names starting with {ADMIN_CHANNEL_PREFIX!r} are reserved for admins",
                    key=f"notify.channels[{i}].name",
                    hint="choose another name",
                )
            )
            continue
        cfg.channels.append(ChannelConfig(name=name, url=str(ch["url"])))
    admins = raw.get("admins", [])
    for i, admin in enumerate(_list(admins, "notify.admins", problems, file)):
        if not isinstance(admin, str) or not admin.strip():
            problems.append(
                Problem(
                    file,
                    "an admin is an employee id or an apprise URL",
                    key=f"notify.admins[{i}]",
                    hint='admins = ["E10001", "mailto://it@city.go.kr"]',
                )
            )
            continue
        if "://" in admin:
            from apprise import Apprise

            if Apprise.instantiate(admin) is None:
                problems.append(
                    Problem(
                        file,
                        f"apprise cannot parse the {admin.split('://', 1)[0]}:// URL",
                        key=f"notify.admins[{i}]",
                        hint="check the scheme and its parameters (apprise --details lists them)",
                    )
                )
                continue
        cfg.admins.append(admin.strip())
    return cfg


def _source_column(value: Any) -> str | list[str]:
    # A list joins several source columns into one canonical value (year, month, day).
    return [str(v) for v in value] if isinstance(value, list) else str(value)


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
