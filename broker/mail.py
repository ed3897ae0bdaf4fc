"""E-mail to admins: invitations and password reset links, over SMTP (smtplib).

    mailer = Mailer(settings)
    if mailer.configured: mailer.send(to, subject, body)      # raises MailFailed

The connection is STARTTLS (default), implicit TLS, or plain to a relay on a loopback address
(settings refuse plain SMTP elsewhere), verified against the standard CA variables like every
outbound call; login only when smtp_username is set (its password from the environment).
Nothing of a message is logged: its body carries a one-time link.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import threading
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import certifi

from broker.outbound.policy import ca_bundle
from broker.settings import Settings

log = logging.getLogger("loper.mail")


class MailFailed(Exception):
    """The message could not be handed to the SMTP server; says why, without the message."""


def _tls_context() -> ssl.SSLContext:
    bundle = ca_bundle()
    return ssl.create_default_context(cafile=bundle if isinstance(bundle, str)
                                      else certifi.where())


class Mailer:
    def __init__(self, settings: Settings) -> None:
        self._s = settings

    @property
    def configured(self) -> bool:
        return bool(self._s.smtp_host)

    def message(self, to: str, subject: str, body: str) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self._s.mail_from
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(domain=self._s.mail_from.rpartition("@")[2])
        message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies
        message.set_content(body)
        return message

    def send(self, to: str, subject: str, body: str) -> None:
        s = self._s
        timeout = s.outbound_timeout
        try:
            message = self.message(to, subject, body)
        except ValueError as exc:  # a header that cannot be written: a line break in it
            log.warning("mail not sent", extra={"reason": "unwritable header"})
            raise MailFailed("the message could not be written (a header with a line "
                             "break)") from exc
        try:
            if s.smtp_security == "tls":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(s.smtp_host, s.smtp_port, timeout=timeout,
                                                      context=_tls_context())
            else:
                smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=timeout)
            with smtp:
                if s.smtp_security == "starttls":
                    smtp.starttls(context=_tls_context())
                if s.smtp_username:
                    smtp.login(s.smtp_username, s.smtp_password)
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            reason = type(exc).__name__
            log.warning("mail not sent", extra={"reason": reason, "smtp_host": s.smtp_host})
            raise MailFailed(f"the mail server {s.smtp_host}:{s.smtp_port} did not take the "
                             f"message ({reason})") from exc

    def send_later(self, to: str, subject: str, body: str) -> None:
        """Send in the background, so that the answer takes as long whether or not a message
        goes out (a password reset must not tell which accounts exist); failures are logged."""
        self.send_all_later([(to, subject, body)])

    def send_all_later(self, messages: Sequence[tuple[str, str, str]]) -> threading.Thread:
        """(to, subject, body) of each message, sent one after the other by one thread in
        the background (returned, started); a message that fails is logged and the rest
        still go."""
        def run() -> None:
            for to, subject, body in messages:
                try:
                    self.send(to, subject, body)
                except MailFailed:
                    pass  # logged by send()

        thread = threading.Thread(target=run, name="mail", daemon=True)
        thread.start()
        return thread
