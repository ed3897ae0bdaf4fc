"""Mail sent in the background (Mailer.send_all_later) is tried again when it failed for a
transient reason, against a real SMTP server on loopback that says "try again later", says
no, or is not up yet; the delays here are a few tens of milliseconds."""

from __future__ import annotations

import logging
import smtplib
import ssl
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from broker.mail import Mailer, _transient
from broker.settings import load_settings
from tests.fixtures.smtp_server import SmtpServer, running_smtp_server

TO, SUBJECT, BODY = "ict@school.example", "Onderwerp", "https://loper.example/eenmalig/abc"
FAST = (0.02, 0.04, 0.06)


@pytest.fixture
def logged(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """The mailer's log lines; none of them may name a recipient, subject or body."""
    caplog.set_level(logging.INFO, logger="loper.mail")
    yield caplog
    for record in caplog.records:
        if not record.name.startswith("loper"):
            continue
        said = repr(vars(record))
        assert "school.example" not in said and SUBJECT not in said and "eenmalig" not in said


def _mailer(tmp_path: Path, smtp: SmtpServer, retry_after: Sequence[float] = FAST) -> Mailer:
    return Mailer(load_settings({"instance": tmp_path, **smtp.settings()}, environ={}),
                  retry_after=retry_after)


def _lines(caplog: pytest.LogCaptureFixture, message: str) -> list[dict[str, object]]:
    return [vars(r) for r in caplog.records if r.name == "loper.mail" and r.msg == message]


@pytest.mark.parametrize(("command", "reason"), [("RCPT", "SMTPRecipientsRefused"),
                                                 ("DATA", "SMTPDataError")])
def test_try_again_later_twice_is_delivered_the_third_time(
        tmp_path: Path, smtp_server: SmtpServer, logged: pytest.LogCaptureFixture,
        command: str, reason: str) -> None:
    smtp_server.inbox.refuse(command, "451 4.3.0 Try again later", times=2)
    _mailer(tmp_path, smtp_server).send_all_later([(TO, SUBJECT, BODY)]).join(10)
    assert smtp_server.wait_for(TO, timeout=0)["Subject"] == SUBJECT
    assert smtp_server.inbox.tried == [TO] * 3
    retries = _lines(logged, "mail not sent, to be tried again")
    assert [(r["attempt"], r["reason"], r["smtp_code"], r["retry_in"]) for r in retries] == [
        (1, reason, 451, FAST[0]), (2, reason, 451, FAST[1])]
    assert [r["attempt"] for r in _lines(logged, "mail sent after trying again")] == [3]
    assert not _lines(logged, "mail not sent, given up")


def test_a_refusal_is_tried_once_only(tmp_path: Path, smtp_server: SmtpServer,
                                      logged: pytest.LogCaptureFixture) -> None:
    smtp_server.inbox.refuse("RCPT", "550 5.1.1 No such user", times=5)
    thread = _mailer(tmp_path, smtp_server).send_all_later([(TO, SUBJECT, BODY)])
    thread.join(10)
    assert not thread.is_alive() and smtp_server.inbox.tried == [TO]
    assert not smtp_server.inbox.messages
    assert not _lines(logged, "mail not sent, to be tried again")
    [given_up] = _lines(logged, "mail not sent, given up")
    assert (given_up["reason"], given_up["smtp_code"], given_up["attempt"],
            given_up["transient"]) == ("SMTPRecipientsRefused", 550, 1, False)


def test_a_server_not_up_yet_gets_the_message_on_a_retry(
        tmp_path: Path, logged: pytest.LogCaptureFixture) -> None:
    with running_smtp_server(listening=False) as smtp:
        thread = _mailer(tmp_path, smtp, retry_after=(0.2, 0.5, 2.0)).send_all_later(
            [(TO, SUBJECT, BODY)])
        deadline = time.monotonic() + 5
        while not _lines(logged, "mail not sent, to be tried again"):
            assert time.monotonic() < deadline, "the first attempt did not fail"
            time.sleep(0.01)
        smtp.start()
        thread.join(10)
        assert smtp.wait_for(TO, timeout=0)["Subject"] == SUBJECT
    first = _lines(logged, "mail not sent, to be tried again")[0]
    assert (first["reason"], first["attempt"]) == ("ConnectionRefusedError", 1)
    assert "smtp_code" not in first and not _lines(logged, "mail not sent, given up")


def test_one_message_failing_holds_up_none_of_the_others(
        tmp_path: Path, smtp_server: SmtpServer, logged: pytest.LogCaptureFixture) -> None:
    """a@ is refused for good, b@ is asked to come back later: c@ and d@ go meanwhile, in
    their order, and b@ after them."""
    smtp_server.inbox.refuse("RCPT", "550 5.1.1 No such user", times=5, to="a@school.example")
    smtp_server.inbox.refuse("DATA", "421 4.7.0 Too busy, try again later",
                             to="b@school.example")
    batch = [(f"{who}@school.example", SUBJECT, BODY) for who in "abcd"]
    thread = _mailer(tmp_path, smtp_server, retry_after=(0.5,)).send_all_later(batch)
    thread.join(10)
    assert not thread.is_alive()
    assert [m["To"] for m in smtp_server.inbox.messages] == [
        "c@school.example", "d@school.example", "b@school.example"]
    assert smtp_server.inbox.tried == [f"{who}@school.example" for who in "abcdb"]
    assert [r["attempt"] for r in _lines(logged, "mail not sent, given up")] == [1]


def test_the_thread_ends_when_it_gives_up(tmp_path: Path, smtp_server: SmtpServer,
                                          logged: pytest.LogCaptureFixture) -> None:
    smtp_server.inbox.refuse("RCPT", "450 4.2.1 Mailbox busy", times=100)
    thread = _mailer(tmp_path, smtp_server).send_all_later([(TO, SUBJECT, BODY)])
    thread.join(10)
    assert not thread.is_alive()
    assert smtp_server.inbox.tried == [TO] * 4 and not smtp_server.inbox.messages
    assert [r["attempt"] for r in _lines(logged, "mail not sent, to be tried again")] == [
        1, 2, 3]
    [given_up] = _lines(logged, "mail not sent, given up")
    assert (given_up["attempt"], given_up["transient"], given_up["smtp_code"]) == (4, True, 450)


@pytest.mark.parametrize(("failure", "transient"), [
    (ConnectionRefusedError(), True),
    (ConnectionResetError(), True),
    (TimeoutError(), True),
    (smtplib.SMTPServerDisconnected("Connection unexpectedly closed"), True),
    (smtplib.SMTPConnectError(421, b"Too busy"), True),
    (smtplib.SMTPConnectError(554, b"No SMTP service here"), False),
    (smtplib.SMTPResponseException(454, b"TLS not available due to temporary reason"), True),
    (smtplib.SMTPSenderRefused(451, b"Try again later", "loper@loper.example"), True),
    (smtplib.SMTPSenderRefused(553, b"Not allowed", "loper@loper.example"), False),
    (smtplib.SMTPRecipientsRefused({TO: (452, b"Mailbox full")}), True),
    (smtplib.SMTPRecipientsRefused({TO: (550, b"No such user")}), False),
    (smtplib.SMTPDataError(451, b"Try again later"), True),
    (smtplib.SMTPDataError(552, b"Too big"), False),
    (smtplib.SMTPAuthenticationError(535, b"Authentication failed"), False),
    (smtplib.SMTPAuthenticationError(454, b"Temporary authentication failure"), False),
    (smtplib.SMTPNotSupportedError("STARTTLS extension not supported by server."), False),
    (ssl.SSLCertVerificationError(1, "certificate verify failed"), False),
])
def test_what_is_worth_trying_again(failure: OSError, transient: bool) -> None:
    assert _transient(failure) is transient
