"""``[notify]``: where digests go (apprise channels, the outbox file), how sending is
retried, and who hears of the daemon's own troubles."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from naebu.core.problems import Problem


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
    #: ``[web] base_url``: where messages link each alert and the inbox (naebu.core.links).
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


def parse_notify(
    raw: dict[str, Any], base: Path, problems: list[Problem], file: str
) -> NotifyConfig:
    """``[notify]`` as read from the config at ``file`` (folder ``base``, against which
    ``outbox_file`` is resolved); every mistake goes to ``problems``."""
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


def _list(value: Any, key: str, problems: list[Problem], file: str) -> list[Any]:
    if not isinstance(value, list):
        problems.append(Problem(file, "must be a list", key=key, hint="use [ ... ]"))
        return []
    return value
