"""Email with a text part and an HTML part, through apprise's own SMTP session.

apprise's email plugin (``mailto://``, ``mailtos://``) sends one body: as text, or as HTML in
a ``multipart/alternative`` whose text part apprise *derives* from the HTML
(``convert_between(HTML, TEXT)``). It has no way to take a text part of our own beside the
HTML. Our text part is the message every other channel gets (and what the golden tests read),
so it must not be a conversion of the table.

:func:`html_email_service` therefore gives, for a plain email URL, a service of apprise's email
plugin whose ``send`` differs in one step: apprise prepares the message as text (its headers,
addresses, Message-ID, Date, encoding) and the HTML part is added beside the text
(``EmailMessage.add_alternative``) before apprise's SMTP controller sends it. The URL's
parsing, TLS modes, login, timeouts and apprise's result and logs stay apprise's.

It leans on apprise's email internals (``prepare_emails``, ``AppriseSMTPController``, apprise
2.x). Where they are missing (an older apprise), or the URL asks for PGP (a signature would not
cover a part added afterwards), there is no such service: the message goes out as text only,
as before, and the HTML stays in the outbox.
"""

from __future__ import annotations

import email
import email.policy
import logging
import smtplib
from functools import cache
from typing import Any

log = logging.getLogger(__name__)


@cache
def _service_class() -> type[Any] | None:
    """The email plugin class that sends text and HTML, or None when apprise lacks what it
    needs (built on first use: apprise is imported only when a message goes through it)."""
    try:
        from apprise import NotifyFormat, NotifyType
        from apprise.exception import AppriseImproperlyConfigured
        from apprise.plugins.email import NotifyEmail
        from apprise.plugins.email.base import PGP_MODE_DEFAULT  # noqa: F401 - checked here
        from apprise.plugins.email.common import AppriseEmailException
        from apprise.plugins.email.smtp import AppriseSMTPController
    except ImportError as exc:
        log.info("apprise has no SMTP controller (%s): email is sent as text only", exc)
        return None
    if not hasattr(NotifyEmail, "prepare_emails"):
        return None
    # Loosely typed on purpose: apprise's annotations are narrower than what it stores.
    controller: Any = AppriseSMTPController
    prepare: Any = NotifyEmail.prepare_emails

    class TextAndHtmlEmail(NotifyEmail):  # type: ignore[misc, valid-type]
        """apprise's email service, sending ``html`` beside the text body."""

        def __init__(self, html: str, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.html = html

        def send(  # noqa: PLR0913 - apprise's signature
            self,
            body: str,
            title: str = "",
            notify_type: Any = NotifyType.INFO,
            attach: Any = None,
            body_format: Any = None,
            **kwargs: Any,
        ) -> bool:
            """As ``NotifyEmail.send``, with the HTML part added to each prepared message."""
            if not self.targets:
                self.logger.warning("There are no Email recipients to notify")
                return False
            self.throttle()
            headers = {"X-Application": self.app_id, **self.headers}
            headers.update(self._protocol_headers(body))
            has_error = False
            try:
                with controller(
                    host=self.smtp_host,
                    port=self.port,
                    secure_mode=self.secure_mode,
                    user=self.user,
                    password=self.password,
                    verify_certificate=self.verify_certificate,
                    socket_connect_timeout=self.socket_connect_timeout,
                ) as smtp:
                    for message in prepare(
                        subject=title,
                        body=body,
                        notify_format=NotifyFormat.TEXT,
                        from_addr=self.from_addr,
                        to=self.targets,
                        cc=self.cc,
                        bcc=self.bcc,
                        reply_to=self.reply_to,
                        smtp_host=self.smtp_host,
                        headers=headers,
                        names=self.names,
                        tzinfo=self.tzinfo,
                    ):
                        if self.is_delivered(message.recipient):
                            continue  # a retry does not deliver twice
                        if smtp.sendmail(
                            self.from_addr[1], message.to_addrs, with_html(message.body, self.html)
                        ):
                            self.logger.info("Sent Email to %s", message.recipient)
                            self.mark_delivered(message.recipient)
                        else:
                            self.logger.warning('Sending email to "%s" failed.', message.recipient)
                            has_error = True
            except (
                OSError,
                smtplib.SMTPException,
                RuntimeError,
                AppriseImproperlyConfigured,
                AppriseEmailException,
            ) as exc:
                self.logger.warning(
                    'Connection error while submitting email to "%s"', self.smtp_host
                )
                self.logger.debug(f"Socket Exception: {exc}")
                has_error = True
            return not has_error

    return TextAndHtmlEmail


def with_html(message: str, html: str) -> str:
    """``message`` (a whole text/plain mail, headers and all) as ``multipart/alternative``
    with its text part first and ``html`` second (RFC 2046: the richest last)."""
    mail = email.message_from_string(message, policy=email.policy.default)
    mail.add_alternative(html, subtype="html")  # type: ignore[attr-defined]
    return mail.as_string()


def html_email_service(url: str, tag: str, html: str) -> Any | None:
    """An apprise service for the email ``url`` sending ``html`` beside the text body, tagged
    ``tag``; None when ``url`` is not plain SMTP email (or uses PGP, or apprise cannot)."""
    service_class = _service_class()
    if service_class is None:
        return None
    from apprise import Apprise
    from apprise.plugins.email import NotifyEmail
    from apprise.plugins.email.base import PGP_MODE_DEFAULT

    plain = Apprise.instantiate(url)
    if type(plain) is not NotifyEmail or getattr(plain, "pgp_mode", None) != PGP_MODE_DEFAULT:
        return None
    results = NotifyEmail.parse_url(url)
    if not results:
        return None
    results["tag"] = {tag}
    return service_class(html=html, **results)
