"""Each side of a school-supplier pair hears what the other changed, over real SMTP (a local
aiosmtpd server): a supplier's new requests reach the admins of every school where it is
active; a school's activation, suspension, resumption, deactivation or release change reaches
the supplier's admins. What changes nothing sends nothing."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from broker.records import AttributeRequest
from broker.registry import Registry
from broker.registry.admins import Admins
from tests.admin.conftest import (
    ADMIN_A,
    ADMIN_B,
    OIDC_SUPPLIER,
    PASSWORD,
    SAML_SUPPLIER,
    SCHOOL_A,
    SCHOOL_B,
    SUPPLIER_ADMIN,
    as_admin,
    make_app,
)
from tests.fixtures.smtp_server import SmtpServer

TAALAPP_ADMIN = "dev@taalapp.example"
FORM = {"ask-given_name": "yes", "why-given_name-nl": "begroet de leerling bij naam",
        "why-given_name-en": "greets the pupil by name", "ask-email": "yes",
        "why-email-nl": "stuurt de leraar een weekverslag"}


@pytest.fixture(autouse=True)
def mail_sent() -> Iterator[None]:
    """Mail goes out from a background thread: each test ends when its mail has gone."""
    yield
    for thread in threading.enumerate():
        if thread.name == "mail":
            thread.join(10)


@pytest.fixture
def mailing(template_instance: Path, tmp_path: Path, smtp_server: SmtpServer) -> Iterator[Flask]:
    app = make_app(template_instance, tmp_path, base_url="https://loper.example",
                   **smtp_server.settings())
    yield app
    app.extensions["loper"].registry.close()
    app.extensions["loper"].store.close()


def _save(app: Flask, form: dict[str, str]) -> None:
    response = as_admin(app, SUPPLIER_ADMIN).save_from_page(f"/admin/suppliers/{SAML_SUPPLIER}",
                                                             form)
    assert response.status_code == 302


def test_each_school_admin_is_told_what_the_supplier_now_asks(
        mailing: Flask, smtp_server: SmtpServer) -> None:
    _save(mailing, FORM)
    for admin, school in ((ADMIN_A, SCHOOL_A), (ADMIN_B, SCHOOL_B)):
        message = smtp_server.wait_for(admin)
        assert message["Subject"].strip() == ("Rekenwonders vraagt om andere gegevens / "
                                      "Rekenwonders asks for other data")
        body = message.get_body(("plain",))
        assert body is not None
        words = body.get_content()
        assert "No longer asked for: role (pupil, teacher), classes and groups" in words
        assert "With another reason: given name, e-mail address" in words
        assert "Niet meer gevraagd: rol (leerling, leraar), klassen en groepen" in words
        assert f"https://loper.example/admin/schools/{school}/suppliers/{SAML_SUPPLIER}" in words
        assert "begroet" not in words  # what changed, not the supplier's words


def test_an_unchanged_save_and_an_inactive_school_send_nothing(
        mailing: Flask, smtp_server: SmtpServer) -> None:
    registry: Registry = mailing.extensions["loper"].registry
    registry.deactivate(SCHOOL_B, SAML_SUPPLIER)
    _save(mailing, FORM)
    smtp_server.wait_for(ADMIN_A)
    _save(mailing, FORM)  # the same again: nothing changed
    time.sleep(0.5)  # mail goes out in the background: give a wrong one time to arrive
    assert not smtp_server.inbox.messages
    supplier = registry.supplier(SAML_SUPPLIER)
    assert supplier is not None and [r.attribute for r in supplier.requests] == [
        "given_name", "email"]
    assert AttributeRequest("email", why_in=(("nl", "stuurt de leraar een weekverslag"),)) in (
        supplier.requests)


def _body(message: object) -> str:
    body = message.get_body(("plain",))  # type: ignore[attr-defined]
    assert body is not None
    return str(body.get_content())


def test_the_supplier_hears_what_a_school_changed_for_it(
        mailing: Flask, smtp_server: SmtpServer) -> None:
    school = as_admin(mailing, ADMIN_A)
    release = f"/admin/schools/{SCHOOL_A}/suppliers/{SAML_SUPPLIER}"
    for url, form, said, receives in (
            (release, {"action": "save", "release-role": "all", "release-given_name": "all"},
             "OBS De Regenboog has changed which data Rekenwonders receives.",
             "pseudonym, given name, role (pupil, teacher)"),
            (f"{release}/suspend", {"reason": "datalek in onderzoek"},
             "OBS De Regenboog has suspended Rekenwonders", "nothing"),
            (f"{release}/resume", {}, "OBS De Regenboog has resumed Rekenwonders",
             "pseudonym, given name, role (pupil, teacher)"),
            (f"{release}/deactivate", {}, "OBS De Regenboog has deactivated Rekenwonders",
             "nothing")):
        send = school.save_release if url == release else school.post
        assert send(url, form).status_code == 302, url
        words = _body(smtp_server.wait_for(SUPPLIER_ADMIN))
        assert said in words and f"You now receive from OBS De Regenboog: {receives}." in words
        assert "datalek" not in words  # the school's reason is for its pupils
        assert "https://loper.example/admin/suppliers/rekenwonders#schools" in words
    assert school.post(f"{release}/activate", {}).status_code == 302
    assert "has activated Rekenwonders" in _body(smtp_server.wait_for(SUPPLIER_ADMIN))
    assert school.save_release(release, {"release-role": "all",
                                         "release-given_name": "all"}).status_code == 302
    time.sleep(0.5)  # the same release again changes nothing: no mail
    assert not smtp_server.inbox.messages


def test_a_release_prepared_before_activating_tells_the_supplier_nothing(
        mailing: Flask, smtp_server: SmtpServer) -> None:
    """Taalapp was never activated at school A: saving its release first sends no mail (no
    "deactivated"); the activation then tells it what it receives."""
    accounts: Admins = mailing.extensions["loper_admins"]
    accounts.add(TAALAPP_ADMIN, PASSWORD, "supplier", supplier_id=OIDC_SUPPLIER)
    school = as_admin(mailing, ADMIN_A)
    release = f"/admin/schools/{SCHOOL_A}/suppliers/{OIDC_SUPPLIER}"
    assert school.save_release(release, {"release-given_name": "all"}).status_code == 302
    time.sleep(0.5)  # mail goes out in the background: give a wrong one time to arrive
    assert not smtp_server.inbox.messages
    assert school.post(f"{release}/activate", {}).status_code == 302
    words = _body(smtp_server.wait_for(TAALAPP_ADMIN))
    assert "OBS De Regenboog has activated Taalapp" in words
    assert "You now receive from OBS De Regenboog: pseudonym, given name." in words
    assert "deactivated" not in words
