"""What went where (/me): the releases of the pupil logged in on this device, for them and a
parent looking over their shoulder, or (guardians.py) for a parent logged in themselves.

Only this browser's single sign-on session says who: without one the page explains where it
comes from, offers a login with the school account (/me/login) and shows nothing at all. With
one it lists, for the apps the school has a release policy for or that received something, the
ledger rows of the pupil's pseudonyms at this school (attribute names as labels; never values,
never the pseudonym), what each app would get now, why (the app's own reasons) and under which
agreement, and whom at the school to ask for correction or deletion. /me/print is the same
overview as a page to print for a parent.
Bounded per request: suppliers from the per-process cache, the school's policies in one query,
the rows in one IN query over at most one pseudonym per supplier, at most ROWS of them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from flask import Blueprint, Response, render_template, request

from broker import attributes, localtime, release
from broker.context import Broker
from broker.errors import SupplierSuspended
from broker.identity import Person
from broker.portal import guardians
from broker.pseudonym import pseudonym
from broker.records import AttributeRequest, Policy, School, Supplier
from broker.web import cookies
from broker.web.current import broker, flow
from broker.web.i18n import local_time
from broker.web.login import start_own_page

bp = Blueprint("transparency", __name__)

ROWS = 200
"""The newest releases shown; older ones stay in the ledger (the school can read them)."""
SESSION_ID_MAX = 128

_ORDER = {a.name: i for i, a in enumerate(attributes.VOCABULARY)}


@dataclass(frozen=True)
class Sent:
    """One release in the ledger, as the pupil sees it."""

    at: datetime
    supplier: str
    labels: tuple[str, ...]


@dataclass(frozen=True)
class AppNow:
    """What one app would receive for this pupil if they logged in there now, and why."""

    supplier: str
    labels: tuple[str, ...]
    open: bool
    suspended_reason: str | None = None
    ended_on: date | None = None
    why: tuple[AttributeRequest, ...] = ()
    """The app's reason for each attribute it receives (an empty one: it gave none)."""
    agreement: str | None = None
    enabled: bool = True
    """False: the school has not activated the app, or deactivated it."""


@dataclass(frozen=True)
class Overview:
    school: School
    sent: list[Sent]
    apps: list[AppNow]
    more: bool
    """The ROWS newest releases are shown; there may be older ones."""


def _ordered(names: Iterable[str]) -> list[str]:
    return sorted(set(names), key=lambda name: (_ORDER.get(name, len(_ORDER)), name))


def labels(names: Iterable[str]) -> tuple[str, ...]:
    """Attribute names in vocabulary order (the page shows their plain words)."""
    return tuple(_ordered(names))


def _pseudonyms(b: Broker, suppliers: list[Supplier], person: Person) -> set[str]:
    found = set()
    for supplier in suppliers:
        try:
            found.add(pseudonym(b.pseudonym_keys, supplier.key_version, supplier.sector,
                                person.anchor))
        except KeyError:  # its key version is not loaded: nothing can have reached it
            continue
    return found


def agreement(policy: Policy | None) -> str | None:
    """The reference of the processing agreement a release names (`agreement` in the
    federation file), if it names one."""
    return policy.agreement if policy is not None and policy.agreement else None


def _why(supplier: Supplier, names: frozenset[str]) -> tuple[AttributeRequest, ...]:
    """The app's request for each attribute it receives; one without a reason where the
    school releases what the app does not (or no longer) ask for."""
    asked = {r.attribute: r for r in supplier.requests}
    return tuple(asked.get(name, AttributeRequest(name)) for name in _ordered(names))


def _app_now(school: School, supplier: Supplier, policy: Policy | None, person: Person,
             today: date) -> AppNow:
    released = release.released_names(policy, person.roles)
    names = labels(released)
    try:
        release.check_open(school, supplier, policy, today)
    except SupplierSuspended:  # suspended, lapsed, or not (or no longer) activated
        if policy is None or not policy.active:
            return AppNow(supplier.name, names, open=False, enabled=False,
                          agreement=agreement(policy))
        return AppNow(supplier.name, names, open=False,
                      suspended_reason=policy.suspended_reason,
                      ended_on=None if policy.suspended_reason else policy.valid_until,
                      agreement=agreement(policy))
    return AppNow(supplier.name, names, open=True, why=_why(supplier, released),
                  agreement=agreement(policy))


def overview(b: Broker, person: Person, today: date) -> Overview | None:
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
                 labels(row.attributes)) for row in rows]
    used = {row.supplier_id for row in rows}
    decided = {i for i, policy in policies.items() if not policy.never_activated}
    apps = [_app_now(school, s, policies.get(s.id), person, today)
            for s in suppliers if s.id in decided or s.id in used]
    return Overview(school=school, sent=sent, apps=apps, more=len(rows) >= ROWS)


@dataclass(frozen=True)
class Page:
    """Who is logged in on this device and the overviews they may see."""

    school: School
    views: list[tuple[int | None, Overview]]
    """(child number for a parent, else None; the overview)."""
    guardian: bool


def _page(b: Broker, person: Person) -> Page | None:
    school = b.registry.school(person.school_id)
    if school is None:
        return None
    today = localtime.today()
    if not guardians.is_guardian(school, person):
        mine = overview(b, person, today)
        return Page(school, [(None, mine)] if mine else [], guardian=False)
    kids = guardians.children(b.registry, b.pseudonym_keys, school, person)
    views: list[tuple[int | None, Overview]] = [(n, view) for n, child in enumerate(kids, 1)
             if (view := overview(b, child, today)) is not None]
    return Page(school, views, guardian=True)


def _render(printable: bool) -> Response:
    b = broker()
    session_id = cookies.read(request, b.settings, cookies.SSO)[:SESSION_ID_MAX]
    session = flow().session(session_id)
    shown = _page(b, session.person) if session is not None else None
    html = render_template("transparency.html", page=shown, rows=ROWS, printable=printable,
                           printed=local_time(datetime.now(UTC)))
    response = Response(html, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/me")
def me() -> Response:
    return _render(printable=False)


@bp.get("/me/print")
def me_print() -> Response:
    return _render(printable=True)


@bp.get("/me/login")
def me_login() -> Response:
    """Log in with the school account to see /me (a parent too), without a learning app."""
    return start_own_page("/me", request.args.get("school", "")[:128] or None)
