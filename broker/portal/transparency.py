"""What went where (/me): the releases of the pupil logged in on this device, for them and a
parent looking over their shoulder.

Only this browser's single sign-on session says who: without one the page explains where it
comes from and shows nothing at all. With one it lists, for the apps the school has a release
policy for or that received something, the ledger rows of the pupil's pseudonyms at this school
(attribute names as labels; never values, never the pseudonym) and what each app would get now.
Bounded per request: suppliers from the per-process cache, the school's policies in one query,
the rows in one IN query over at most one pseudonym per supplier, at most ROWS of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime

from flask import Blueprint, Response, render_template, request

from broker import attributes, release
from broker.context import Broker
from broker.errors import SupplierSuspended
from broker.identity import Person
from broker.localtime import LOCAL_TIME
from broker.pseudonym import pseudonym
from broker.records import Policy, School, Supplier
from broker.web import cookies
from broker.web.current import broker, flow
from broker.web.i18n import language, translator

bp = Blueprint("transparency", __name__)

ROWS = 200
"""The newest releases shown; older ones stay in the ledger (the school can read them)."""
SESSION_ID_MAX = 128

MESSAGES: dict[str, dict[str, str]] = {
    "me_title": {"nl": "Wat ging waarheen?", "en": "What went where?"},
    "me_anonymous": {
        "nl": "Hier zie je welke leerapps via Loper iets over jou kregen, wat en wanneer. "
              "Je ziet het nadat je op dit apparaat bij een leerapp bent ingelogd met je "
              "schoolaccount.",
        "en": "Here you see which learning apps received something about you through Loper, "
              "what and when. You see it after you have logged in at a learning app with "
              "your school account, on this device."},
    "me_school": {"nl": "Je bent ingelogd via", "en": "You are logged in through"},
    "me_intro": {
        "nl": "Je school bepaalt welke gegevens elke app krijgt. Elke app krijgt een eigen "
              "schuilnaam voor jou, zodat apps hun gegevens over jou niet aan elkaar kunnen "
              "koppelen. Je wachtwoord krijgt geen enkele app.",
        "en": "Your school decides which information each app receives. Every app gets its "
              "own code name for you, so apps cannot link what they know about you. No app "
              "ever gets your password."},
    "me_history": {"nl": "Wat apps van je kregen, nieuwste eerst",
                   "en": "What apps received about you, newest first"},
    "me_when": {"nl": "Wanneer", "en": "When"},
    "me_app": {"nl": "App", "en": "App"},
    "me_what": {"nl": "Gegevens", "en": "Information"},
    "me_code_name_only": {"nl": "alleen je schuilnaam", "en": "only your code name"},
    "me_no_history": {"nl": "Nog geen enkele app heeft via Loper iets over je gekregen.",
                      "en": "No app has received anything about you through Loper yet."},
    "me_more": {"nl": "Alleen de nieuwste {n} keer staan hier. Je school kan de rest inzien.",
                "en": "Only the newest {n} times are shown here. Your school can see the rest."},
    "me_now": {"nl": "Wat elke app nu zou krijgen", "en": "What each app would receive now"},
    "me_receives": {"nl": "Krijgt", "en": "Receives"},
    "me_status": {"nl": "Status", "en": "Status"},
    "me_open": {"nl": "Toegestaan door je school", "en": "Allowed by your school"},
    "me_suspended": {"nl": "Geschorst door je school", "en": "Suspended by your school"},
    "me_ended": {"nl": "Afspraak met je school verlopen op",
                 "en": "Agreement with your school ended on"},
    "me_nothing": {"nl": "niets", "en": "nothing"},
    "me_no_apps": {"nl": "Je school heeft nog met geen enkele app iets afgesproken.",
                   "en": "Your school has no arrangement with any app yet."},
    "me_questions": {"nl": "Vragen hierover? Vraag het je school.",
                     "en": "Questions about this? Ask your school."},
    "me_time_zone": {"nl": "Tijden in Nederlandse tijd.", "en": "Times in Dutch time."},
}

LABELS_NL: Mapping[str, str] = {
    "role": "rol (leerling, leraar)",
    "given_name": "voornaam",
    "family_name": "achternaam",
    "display_name": "volledige naam",
    "email": "e-mailadres",
    "school_domain": "domein van de school",
    "school_id": "schoolnummer (BRIN)",
    "groups": "klassen en groepen",
    "eck_id": "ECK iD",
}
_ORDER = {a.name: i for i, a in enumerate(attributes.VOCABULARY)}


@dataclass(frozen=True)
class Sent:
    """One release in the ledger, as the pupil sees it."""

    at: datetime
    supplier: str
    labels: tuple[str, ...]


@dataclass(frozen=True)
class AppNow:
    """What one app would receive for this pupil if they logged in there now."""

    supplier: str
    labels: tuple[str, ...]
    open: bool
    suspended_reason: str | None = None
    ended_on: date | None = None


@dataclass(frozen=True)
class Overview:
    school: School
    sent: list[Sent]
    apps: list[AppNow]
    more: bool
    """The ROWS newest releases are shown; there may be older ones."""


def labels(names: Iterable[str], lang: str) -> tuple[str, ...]:
    """Attribute names -> their human labels, in the vocabulary's order."""
    ordered = sorted(set(names), key=lambda name: (_ORDER.get(name, len(_ORDER)), name))
    found = [(LABELS_NL.get(n) if lang == "nl" else None)
             or (attributes.BY_NAME[n].label if n in attributes.BY_NAME else n) for n in ordered]
    return tuple(found)


def _pseudonyms(b: Broker, suppliers: list[Supplier], person: Person) -> set[str]:
    found = set()
    for supplier in suppliers:
        try:
            found.add(pseudonym(b.pseudonym_keys, supplier.key_version, supplier.sector,
                                person.anchor))
        except KeyError:  # its key version is not loaded: nothing can have reached it
            continue
    return found


def _app_now(school: School, supplier: Supplier, policy: Policy | None, person: Person,
             today: date, lang: str) -> AppNow:
    names = labels(release.released_names(policy, person.roles), lang)
    try:
        release.check_open(school, supplier, policy, today)
    except SupplierSuspended:
        assert policy is not None
        return AppNow(supplier.name, names, open=False,
                      suspended_reason=policy.suspended_reason,
                      ended_on=None if policy.suspended_reason else policy.valid_until)
    return AppNow(supplier.name, names, open=True)


def overview(b: Broker, person: Person, today: date, lang: str) -> Overview | None:
    """Everything /me shows for this person; None when their school is no longer registered."""
    registry = b.registry
    school = registry.school(person.school_id)
    if school is None:
        return None
    suppliers = registry.suppliers()
    policies = {p.supplier_id: p for p in registry.policies(school.id)}
    rows = registry.ledger().entries_for(
        school.id, _pseudonyms(b, suppliers, person), limit=ROWS)
    names = {s.id: s.name for s in suppliers}
    sent = [Sent(row.at, names.get(row.supplier_id, row.supplier_id),
                 labels(row.attributes, lang)) for row in rows]
    used = {row.supplier_id for row in rows}
    apps = [_app_now(school, s, policies.get(s.id), person, today, lang)
            for s in suppliers if s.id in policies or s.id in used]
    return Overview(school=school, sent=sent, apps=apps, more=len(rows) >= ROWS)


def local_time(at: datetime, lang: str) -> str:
    here = at.astimezone(LOCAL_TIME)
    if lang == "nl":
        return f"{here:%d-%m-%Y %H:%M}"
    return f"{here.day} {here:%b %Y, %H:%M}"


def _texts(lang: str) -> dict[str, str]:
    mine = {key: texts.get(lang, texts["en"]) for key, texts in MESSAGES.items()}
    return {**translator(lang), **mine}


@bp.get("/me")
def me() -> Response:
    b = broker()
    session_id = cookies.read(request, b.settings, cookies.SSO)[:SESSION_ID_MAX]
    session = flow().session(session_id)
    lang = language()
    view = (overview(b, session.person, datetime.now(UTC).date(), lang)
            if session is not None else None)
    html = render_template("transparency.html", t=_texts(lang), lang=lang, view=view,
                           rows=ROWS, local_time=local_time)
    response = Response(html, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response
