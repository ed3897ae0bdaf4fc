"""Mail to admins (broker/mail.py): its settings, and STARTTLS with login against a real SMTP
server on loopback that demands both."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest

from broker.errors import ConfigError
from broker.mail import Mailer, MailFailed
from broker.settings import load_settings
from tests.certs import write_pair
from tests.fixtures.smtp_server import running_smtp_server

MAIL = {"smtp_host": "smtp.example.nl", "mail_from": "loper@example.nl"}


@pytest.mark.parametrize(("settings", "expected"), [
    ({**MAIL, "smtp_security": "ssl"}, "expected starttls, tls or none"),
    ({**MAIL, "smtp_security": "none"}, "plain SMTP to 'smtp.example.nl'"),
    ({**MAIL, "mail_from": ""}, "setting mail_from"),
    ({**MAIL, "smtp_port": 70000}, "expected 1 to 65535"),
    ({**MAIL, "smtp_username": "loper"}, "BROKER_SMTP_PASSWORD is not"),
    ({"invitation_ttl": 0}, "invitation_ttl: must be positive"),
])
def test_bad_mail_settings_say_what_to_fix(tmp_path: Path, settings: dict[str, object],
                                           expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({"instance": tmp_path, **settings}, environ={})
    assert expected in str(caught.value)


def test_the_smtp_password_comes_from_the_environment_only(tmp_path: Path) -> None:
    (tmp_path / "broker.toml").write_text('smtp_password = "hunter2 hunter2"\n')
    with pytest.raises(ConfigError, match="BROKER_SMTP_PASSWORD"):
        load_settings({"instance": tmp_path}, environ={})
    (tmp_path / "broker.toml").unlink()
    s = load_settings({"instance": tmp_path, **MAIL, "smtp_username": "loper"},
                      environ={"BROKER_SMTP_PASSWORD": "hunter2 hunter2"})
    assert s.smtp_password == "hunter2 hunter2" and "hunter2" not in repr(s)


@pytest.fixture
def tls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ssl.SSLContext:
    """A certificate for 127.0.0.1; Loper trusts it through SSL_CERT_FILE, as in production."""
    key, cert = write_pair(tmp_path, "smtp", loopback_ca=True)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


def _mailer(tmp_path: Path, port: int, **more: object) -> Mailer:
    return Mailer(load_settings({"instance": tmp_path, "smtp_host": "127.0.0.1",
                                 "smtp_port": port, "mail_from": "loper@loper.example",
                                 "smtp_username": "loper", **more},
                                environ={"BROKER_SMTP_PASSWORD": "mail password"}))


def test_starttls_and_login(tmp_path: Path, tls: ssl.SSLContext) -> None:
    with running_smtp_server(tls, {"loper": "mail password"}) as smtp:
        _mailer(tmp_path, smtp.port).send("ict@school.example", "Onderwerp", "Hallo")
        message = smtp.wait_for("ict@school.example")
    assert message["Subject"] == "Onderwerp" and message["Auto-Submitted"] == "auto-generated"


def test_a_wrong_mail_password_is_a_clear_failure(tmp_path: Path, tls: ssl.SSLContext) -> None:
    with running_smtp_server(tls, {"loper": "another password"}) as smtp:
        with pytest.raises(MailFailed, match="did not take the message") as caught:
            _mailer(tmp_path, smtp.port).send("ict@school.example", "Onderwerp", "Hallo")
        assert smtp.inbox.messages == []
    assert not caught.value.transient  # a wrong password is not tried again


def test_an_untrusted_certificate_is_refused(tmp_path: Path, tls: ssl.SSLContext,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SSL_CERT_FILE")
    with running_smtp_server(tls, {"loper": "mail password"}) as smtp, pytest.raises(
            MailFailed, match="SSLCertVerificationError") as caught:
        _mailer(tmp_path, smtp.port).send("ict@school.example", "Onderwerp", "Hallo")
    assert not caught.value.transient  # an OSError, and yet not tried again


def test_a_message_that_cannot_be_written_fails_alone(tmp_path: Path,
                                                      tls: ssl.SSLContext) -> None:
    """A line break in a header is refused before connecting; in a batch sent in the
    background, the messages after it still go."""
    with running_smtp_server(tls, {"loper": "mail password"}) as smtp:
        mailer = _mailer(tmp_path, smtp.port)
        with pytest.raises(MailFailed, match="could not be written") as caught:
            mailer.send("ict@school.example", "Onderwerp\nBcc: x@evil.example", "Hallo")
        assert not caught.value.transient
        mailer.send_all_later([("a@school.example", "Een\r\nregel", "Hallo"),
                               ("b@school.example", "Onderwerp", "Hallo")]).join(10)
        assert smtp.wait_for("b@school.example")["Subject"] == "Onderwerp"
        assert [m["To"] for m in smtp.inbox.messages] == []
