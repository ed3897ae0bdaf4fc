"""E-mail to admins: invitations and password reset links, over SMTP (smtplib).

    mailer = Mailer(settings)
    if mailer.configured: mailer.send(to, subject, body)      # raises MailFailed
    mailer.send_all_later([(to, subject, body), ...])         # in the background, retried

The connection is STARTTLS (default), implicit TLS, or plain to a relay on a loopback address
(settings refuse plain SMTP elsewhere), verified against the standard CA variables like every
outbound call; login only when smtp_username is set (its password from the environment).
Nothing of a message is logged: its body carries a one-time link.

A failure is transient (MailFailed.transient) when trying again later may succeed: a 4xx reply
(greylisting, "try again later"), a connection refused, reset, dropped or timed out. A 5xx
reply, a refused login, a certificate that cannot be verified and a message that cannot be
written are permanent. In the background (send_all_later) a message that failed for a
transient reason is tried again after each delay of `retry_after` in turn (30 s, 2 min,
10 min), the other messages going meanwhile. Those retries live in this process only: a
restart loses the messages still waiting (the audit trail records every change anyway).
"""

from __future__ import annotations

import errno
import heapq
import logging
import smtplib
import socket
import ssl
import threading
import time
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import certifi

from broker.outbound.policy import ca_bundle
from broker.settings import Settings

log = logging.getLogger("loper.mail")

RETRY_AFTER: tuple[float, ...] = (30.0, 120.0, 600.0)
"""Seconds before each new attempt at a message that failed for a transient reason, in turn;
after the last one it is given up."""


class MailFailed(Exception):
    """The message could not be handed to the SMTP server; says why, without the message.

    `reason` names the failure (the exception's class, or "unwritable header"), `smtp_code`
    the server's reply code when it gave one, and `transient` whether trying again later may
    succeed."""

    def __init__(self, text: str, *, reason: str, transient: bool = False,
                 smtp_code: int | None = None) -> None:
        super().__init__(text)
        self.reason, self.transient, self.smtp_code = reason, transient, smtp_code

    def log_fields(self) -> dict[str, object]:
        """What a log line may say of this failure (never the server's words: they can name
        the recipient)."""
        fields: dict[str, object] = {"reason": self.reason}
        if self.smtp_code is not None:
            fields["smtp_code"] = self.smtp_code
        return fields


def _reply_code(exc: OSError) -> int | None:
    """The SMTP server's reply code in a failure, when it answered with one."""
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code
    if isinstance(exc, smtplib.SMTPRecipientsRefused):  # one recipient a message: its reply
        return max((code for code, _ in exc.recipients.values()), default=None)
    return None


def _transient(exc: OSError) -> bool:
    """Whether trying again later may succeed where `exc` stopped the message."""
    code = _reply_code(exc)
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return False  # a refused login stays refused, and every try counts against the account
    if isinstance(exc, smtplib.SMTPConnectError):  # a greeting other than 220
        return not 500 <= exc.smtp_code <= 599  # 554: no service for us
    if code is not None:
        return 400 <= code <= 499
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return True
    if isinstance(exc, (smtplib.SMTPException, ssl.SSLError)):
        return False  # STARTTLS or AUTH not offered; a certificate not verified (an OSError)
    if isinstance(exc, socket.gaierror):
        return exc.errno == socket.EAI_AGAIN  # "temporary failure in name resolution"
    return isinstance(exc, (ConnectionError, TimeoutError)) or exc.errno in (
        errno.ENETUNREACH, errno.EHOSTUNREACH)


def _tls_context() -> ssl.SSLContext:
    bundle = ca_bundle()
    return ssl.create_default_context(cafile=bundle if isinstance(bundle, str)
                                      else certifi.where())


class Mailer:
    def __init__(self, settings: Settings, *,
                 retry_after: Sequence[float] | None = None) -> None:
        self._s = settings
        self._retry_after = tuple(RETRY_AFTER if retry_after is None else retry_after)

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
        try:
            self._deliver(self._written(to, subject, body))
        except MailFailed as failed:
            log.warning("mail not sent", extra={**failed.log_fields(),
                                                "smtp_host": self._s.smtp_host})
            raise

    def _written(self, to: str, subject: str, body: str) -> EmailMessage:
        try:
            return self.message(to, subject, body)
        except ValueError as exc:  # a header that cannot be written: a line break in it
            raise MailFailed("the message could not be written (a header with a line "
                             "break)", reason="unwritable header") from exc

    def _deliver(self, message: EmailMessage) -> None:
        s = self._s
        timeout = s.outbound_timeout
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
        except OSError as exc:  # smtplib.SMTPException and ssl.SSLError among them
            reason = type(exc).__name__
            raise MailFailed(f"the mail server {s.smtp_host}:{s.smtp_port} did not take the "
                             f"message ({reason})", reason=reason, transient=_transient(exc),
                             smtp_code=_reply_code(exc)) from exc

    def send_later(self, to: str, subject: str, body: str) -> None:
        """Send in the background, so that the answer takes as long whether or not a message
        goes out (a password reset must not tell which accounts exist); failures are logged."""
        self.send_all_later([(to, subject, body)])

    def send_all_later(self, messages: Sequence[tuple[str, str, str]]) -> threading.Thread:
        """(to, subject, body) of each message, sent one after the other by one thread in
        the background (returned, started). A message that fails for a transient reason is
        tried again after each delay of `retry_after` in turn while the others go on; one that
        fails otherwise, or still fails after the last delay, is logged and given up. The
        thread ends when every message has gone or been given up."""
        batch = list(messages)

        def run() -> None:
            self._send_in_turn(batch)

        thread = threading.Thread(target=run, name="mail", daemon=True)
        thread.start()
        return thread

    def _send_in_turn(self, messages: Sequence[tuple[str, str, str]]) -> None:
        # (when due, place in the batch, attempt, message): the earliest due first, and the
        # batch's order among those due together. The message is written once: a retry
        # keeps its Date and Message-ID.
        waiting: list[tuple[float, int, int, EmailMessage]] = []
        now = time.monotonic()
        for place, (to, subject, body) in enumerate(messages):
            try:
                waiting.append((now, place, 1, self._written(to, subject, body)))
            except MailFailed as failed:
                self._given_up(failed, 1)
        while waiting:
            due, place, attempt, message = heapq.heappop(waiting)
            time.sleep(max(0.0, due - time.monotonic()))
            try:
                self._deliver(message)
            except MailFailed as failed:
                if not failed.transient or attempt > len(self._retry_after):
                    self._given_up(failed, attempt)
                    continue
                delay = self._retry_after[attempt - 1]
                log.warning("mail not sent, to be tried again", extra={
                    **failed.log_fields(), "attempt": attempt, "retry_in": delay,
                    "smtp_host": self._s.smtp_host})
                heapq.heappush(waiting, (time.monotonic() + delay, place, attempt + 1, message))
            else:
                if attempt > 1:
                    log.info("mail sent after trying again", extra={"attempt": attempt})

    def _given_up(self, failed: MailFailed, attempt: int) -> None:
        log.warning("mail not sent, given up", extra={
            **failed.log_fields(), "attempt": attempt, "transient": failed.transient,
            "smtp_host": self._s.smtp_host})
