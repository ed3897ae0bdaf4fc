"""/me over HTTP (the app's test client): why each app receives what, the agreement, whom to
ask for correction or deletion, the printable page, the login for the page itself, and the
parent view. (tests/flows/test_transparency.py drives /me after real logins.)"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import lxml.html
import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from broker import codec
from broker.context import Broker
from broker.identity import AuthnContext, Person
from broker.pseudonym import anchor, pseudonym
from broker.registry import Registry
from broker.registry.admins import Admins
from broker.sso import SessionRecord
from tests.admin.conftest import FEDERATION as ADMIN_FEDERATION
from tests.registry.conftest import initialised_instance

FEDERATION = ADMIN_FEDERATION.replace(
    'place = "Utrecht"\n', 'place = "Utrecht"\nguardian_role = "ouder"\n'
    'privacy_contact = "mailto:privacy@regenboog.example"\n').replace(
    'supplier = "rekenwonders"\nattributes = ["role"]',
    'supplier = "rekenwonders"\nattributes = ["role", "given_name"]').replace(
    'attributes = ["given_name", "groups"]', "attributes = []").replace(
    '{ attribute = "given_name", why = "greets the pupil by name" }',
    '{ attribute = "given_name", why_nl = "begroet de leerling bij naam", '
    'why_en = "greets the pupil by name" }')


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    application = create_app({"instance": initialised_instance(tmp_path_factory.mktemp("me"),
                                                               FEDERATION)})
    yield application
    application.extensions["loper"].registry.close()
    application.extensions["loper"].store.close()


@pytest.fixture
def broker(app: Flask) -> Broker:
    found: Broker = app.extensions["loper"]
    return found


def visitor(app: Flask, broker: Broker, school: str = "", subject: str = "",
            **attributes: tuple[str, ...]) -> FlaskClient:
    """A browser; with a school and subject, one with that person's SSO session."""
    client = app.test_client()
    if school:
        person = Person(school, anchor(broker.pseudonym_keys, school, subject), attributes,
                        AuthnContext(datetime.now(UTC)))
        record = SessionRecord(person, int(time.time()) + 600)
        broker.store.put_session(f"session-{subject}", codec.encode(record), 600)
        client.set_cookie("loper_sso", f"session-{subject}")
    return client


def released(broker: Broker, school: str, subject: str, names: list[str]) -> None:
    name = pseudonym(broker.pseudonym_keys, 1, "rekenwonders",
                     anchor(broker.pseudonym_keys, school, subject))
    broker.registry.ledger().append(datetime.now(UTC) - timedelta(hours=1), school,
                                    "rekenwonders", name, names, "saml")


def page(client: FlaskClient, url: str = "/me") -> lxml.html.HtmlElement:
    response = client.get(url, query_string={"lang": "en"})
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert "<script" not in response.get_data(as_text=True)
    return lxml.html.fromstring(response.get_data(as_text=True))


def rows(doc: lxml.html.HtmlElement, table_id: str) -> list[list[str]]:
    return [[" ".join(cell.text_content().split()) for cell in row.xpath("./th|./td")]
            for row in doc.xpath(f'//table[@id="{table_id}"]/tbody/tr')]


def test_an_attribute_the_app_gets_without_asking_says_it_gave_no_reason(
        app: Flask, broker: Broker) -> None:
    """The school releases 'role' to an app that no longer asks for it: the pupil reads that
    the app gave no reason, not that it gets only a code name."""
    admins = Admins(broker.registry)
    supplier = broker.registry.supplier("rekenwonders")
    assert supplier is not None
    admins.set_requests("rekenwonders", [])
    try:
        doc = page(visitor(app, broker, "regenboog", "sanne", role=("student",)))
        assert rows(doc, "why")[0][1] == (
            "role (pupil, teacher): the app gave no reason; your school sends it anyway "
            "given name: the app gave no reason; your school sends it anyway")
    finally:
        admins.set_requests("rekenwonders", supplier.requests)


def test_the_overview_says_why_under_which_agreement_and_whom_to_ask(
        app: Flask, broker: Broker) -> None:
    released(broker, "regenboog", "sanne", ["given_name", "role"])
    doc = page(visitor(app, broker, "regenboog", "sanne", role=("student",)))
    assert rows(doc, "why") == [[
        "Rekenwonders", "role (pupil, teacher): shows pupils and teachers different screens "
        "given name: greets the pupil by name", "not given"]]
    assert len(doc.xpath('//table[@id="why"]//td[1]/br')) == 1, "one reason a line"
    assert rows(doc, "sent")[0][1:] == ["Rekenwonders", "role (pupil, teacher), given name"]
    [contact] = doc.xpath('//p[@id="contact"]/a')
    assert contact.get("href") == "mailto:privacy@regenboog.example"
    assert contact.text_content() == "privacy@regenboog.example"
    assert doc.xpath('//a[@href="/me/print"]')


def test_each_reader_reads_the_apps_reasons_in_their_language(app: Flask,
                                                              broker: Broker) -> None:
    """A reason written in the page's language is shown in it; one written in no stated
    language is shown as it is, without claiming a language."""
    client = visitor(app, broker, "regenboog", "sanne", role=("student",))
    for lang, given_name in (("nl", "begroet de leerling bij naam"),
                             ("en", "greets the pupil by name")):
        response = client.get("/me", query_string={"lang": lang})
        doc = lxml.html.fromstring(response.get_data(as_text=True))
        reasons = {(s.text, s.get("lang")) for s in doc.xpath('//table[@id="why"]//span')}
        assert reasons == {(given_name, lang),
                           ("shows pupils and teachers different screens", None)}, lang


def test_a_school_without_a_privacy_contact_says_ask_the_school(app: Flask,
                                                                broker: Broker) -> None:
    doc = page(visitor(app, broker, "lyceum", "daan", role=("student",)))
    assert doc.xpath('string(//p[@id="contact"])') == "Questions about this? Ask your school."
    assert rows(doc, "why") == [["Rekenwonders", "only your code name: no reason needed",
                                 "not given"]]


def test_the_printable_page_is_the_same_overview_without_the_links(app: Flask,
                                                                   broker: Broker) -> None:
    released(broker, "regenboog", "noor", ["role"])
    client = visitor(app, broker, "regenboog", "noor", role=("student",))
    printed, screen = page(client, "/me/print"), page(client)
    assert rows(printed, "sent") == rows(screen, "sent")
    assert rows(printed, "why") == rows(screen, "why")
    assert printed.xpath('//style[@media="print"]')
    assert "Overview of" in printed.text_content()
    assert not printed.xpath('//a[contains(@href, "/logout")]')
    assert not printed.xpath('//a[contains(@href, "/me/print")]')


def test_without_a_session_the_page_offers_a_login_with_the_school_account(
        app: Flask, broker: Broker) -> None:
    client = visitor(app, broker)
    doc = page(client)
    assert doc.xpath('//a[@href="/me/login"]')
    picker = client.get("/me/login")
    assert picker.status_code in (302, 303)
    assert picker.location.startswith(broker.settings.url("/discovery?login="))
    listing = client.get(picker.location.removeprefix(broker.settings.url("")))
    assert listing.status_code == 200 and "OBS De Regenboog" in listing.get_data(as_text=True)
    to_school = client.get("/me/login", query_string={"school": "regenboog"})
    assert to_school.status_code in (302, 303, 200)
    assert "idp.regenboog.example" in (to_school.location or to_school.get_data(as_text=True))


def test_a_parent_sees_the_overview_of_each_child_the_school_names(app: Flask,
                                                                    broker: Broker) -> None:
    released(broker, "regenboog", "kind-a", ["given_name"])
    released(broker, "regenboog", "kind-b", ["role"])
    released(broker, "regenboog", "not-mine", ["role", "given_name"])
    doc = page(visitor(app, broker, "regenboog", "parent-1", role=("ouder",),
                       guardian_of=("kind-a", "kind-b")))
    text = doc.text_content()
    assert "You are logged in as a parent or guardian" in text
    assert [h.text_content() for h in doc.xpath("//h2[starts-with(@id, 'child')]")] == [
        "Child 1", "Child 2"]
    assert [r[1:] for r in rows(doc, "sent-1")] == [["Rekenwonders", "given name"]]
    assert [r[1:] for r in rows(doc, "sent-2")] == [["Rekenwonders", "role (pupil, teacher)"]]
    assert not doc.xpath('//table[@id="sent-3"]') and not doc.xpath('//table[@id="sent"]')
    assert [c.text_content() for c in doc.xpath("//caption")
            if c.text_content().startswith("What apps received")] == [
        "What apps received about this child, newest first"] * 2  # not "about you"
    assert "code name for your child" in text and "code name for you," not in text
    nobody = page(visitor(app, broker, "regenboog", "parent-2", role=("ouder",)))
    assert "Your school links no children to your account" in nobody.text_content()
    pupil = page(visitor(app, broker, "regenboog", "kind-c", role=("student",),
                         guardian_of=("kind-a",)))
    assert not pupil.xpath('//table[@id="sent-1"]'), "only the school's parent role counts"


def test_an_app_that_got_data_before_the_school_had_to_activate_it_shows_as_not_enabled(
        app: Flask, broker: Broker) -> None:
    """Ledger rows from before activation existed name a supplier without a release entry."""
    name = pseudonym(broker.pseudonym_keys, 1, "taalapp",
                     anchor(broker.pseudonym_keys, "regenboog", "noor"))
    broker.registry.ledger().append(datetime.now(UTC) - timedelta(days=40), "regenboog",
                                    "taalapp", name, [], "oidc")
    doc = page(visitor(app, broker, "regenboog", "noor", role=("student",)))
    status = {row[0]: row[1:] for row in rows(doc, "now")}
    assert status["Taalapp"] == ["nothing", "Not (or no longer) enabled by your school"]


GETS_NOTHING = {"en": "nothing: this app gets nothing from your school now",
                "nl": "niets: deze app krijgt nu niets van je school"}


def _suspended(registry: Registry) -> None:
    registry.suspend("regenboog", "rekenwonders", "de school kijkt de afspraken na")


def _deactivated(registry: Registry) -> None:
    registry.deactivate("regenboog", "rekenwonders")


def _agreement_ended(registry: Registry) -> None:
    policy = registry.policy("regenboog", "rekenwonders")
    assert policy is not None
    registry.set_policy(dataclasses.replace(
        policy, valid_until=datetime.now(UTC).date() - timedelta(days=1)))


@pytest.mark.parametrize(("stop", "status"), [
    (_suspended, "Suspended by your school: de school kijkt de afspraken na"),
    (_deactivated, "Not (or no longer) enabled by your school"),
    (_agreement_ended, "Agreement with your school ended on"),
], ids=["suspended", "deactivated", "agreement ended"])
def test_an_app_that_gets_nothing_now_is_never_said_to_get_a_code_name(
        tmp_path: Path, stop: Callable[[Registry], None], status: str) -> None:
    """Whatever stopped it, an app that gets nothing reads so in both tables: never "only
    your code name: no reason needed" (nor the app's reasons) under why it gets it. Taalapp
    was never activated; its entry holds only a suspension: to the pupil the school has not
    decided about it yet, so it is not listed."""
    application = create_app({"instance": initialised_instance(tmp_path, FEDERATION)})
    broker: Broker = application.extensions["loper"]
    try:
        broker.registry.suspend("regenboog", "taalapp", "nog niet nagekeken")
        stop(broker.registry)
        client = visitor(application, broker, "regenboog", "fenna", role=("student",))
        doc = page(client)
        now = {row[0]: row[1:] for row in rows(doc, "now")}
        assert "Taalapp" not in now
        assert now["Rekenwonders"][0] == "nothing"
        assert now["Rekenwonders"][1].startswith(status)
        assert rows(doc, "why") == [["Rekenwonders", GETS_NOTHING["en"], "not given"]]
        assert "code name" not in doc.xpath('string(//table[@id="why"])')
        dutch = lxml.html.fromstring(client.get("/me?lang=nl").get_data(as_text=True))
        why = {row[0]: row[1] for row in rows(dutch, "why")}
        assert why == {"Rekenwonders": GETS_NOTHING["nl"]}
        assert "schuilnaam" not in dutch.xpath('string(//table[@id="why"])')
    finally:
        broker.registry.close()
        broker.store.close()
