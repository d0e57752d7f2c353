"""Channels: where a digest is sent, and how a channel's URL is filled for one official.

A configured channel is an apprise URL that may name fields of the officials directory as
``{email}``, ``{employee_id}``, ``{name}`` or ``{notify_url}``; it is filled per recipient at
queue time (to check an address exists) and again at send time (so a corrected address in
the directory is used). The outbox stores the channel's name, never the filled URL: URLs can
carry passwords and tokens.

With no channel configured, digests go to the built-in ``outbox-file`` channel: JSON lines
appended to ``notify.outbox_file``, for a trial run or an office without a mail relay.
"""

from __future__ import annotations

from naebu.alerts.directory import ADDRESS_FIELDS, Official
from naebu.alerts.notify_settings import ChannelConfig, NotifyConfig

#: The built-in channel writing JSON lines to ``notify.outbox_file``.
OUTBOX_FILE_CHANNEL = "outbox-file"


def channel_names(notify: NotifyConfig) -> list[str]:
    """The channels every digest is queued to: the configured ones, else ``outbox-file``."""
    if not notify.channels:
        return [OUTBOX_FILE_CHANNEL]
    return [ch.name for ch in notify.channels]


def find_channel(notify: NotifyConfig, name: str) -> ChannelConfig | None:
    """The configured channel called ``name``, or None."""
    for ch in notify.channels:
        if ch.name == name:
            return ch
    return None


def fill_url(template: str, official: Official | None) -> str | None:
    """``template`` with the official's fields put in; None when a used field is empty.

    Only the exact placeholders of :data:`~naebu.alerts.directory.ADDRESS_FIELDS` are replaced
    (``str.replace``, not ``str.format``: apprise URLs hold other braces and percent signs).
    A URL without placeholders is returned as is, for any recipient.
    """
    url = template
    for field in ADDRESS_FIELDS:
        placeholder = "{" + field + "}"
        if placeholder not in url:
            continue
        value = official.address(field) if official is not None else ""
        if not value:
            return None
        url = url.replace(placeholder, value)
    return url


def split_urls(url: str) -> list[str]:
    """The apprise URLs in ``url`` (``notify_url`` may hold several, space or comma separated)."""
    # Imported on use, as everywhere in naebu: a run that tells nobody does not load apprise.
    from apprise.utils.parse import parse_urls

    return list(parse_urls(url))


def privacy_url(url: str) -> str:
    """``url`` as it may appear in logs and errors: secrets masked by apprise.

    A URL apprise cannot parse is shown by its scheme only, since its rest may be a secret.
    """
    from apprise import Apprise

    shown = []
    for one in split_urls(url) or [url]:
        service = Apprise.instantiate(one)
        if service is not None:
            shown.append(service.url(privacy=True))
        else:
            scheme = one.split("://", 1)[0] if "://" in one else "?"
            shown.append(f"{scheme}://(unparseable)")
    return " ".join(shown)
