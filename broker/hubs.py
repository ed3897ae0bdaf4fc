"""Hubs: one school login (e.g. Entree Federatie) answering for many schools behind it.

A school with `hub = true` is never picked itself; the schools behind it (`via = "<hub id>"`)
are. A login for a school behind a hub goes to the hub's adapter; the hub's answer, read with
the hub's own `[schools.claims]` mapping (broker/mapping.py), belongs to the one school whose
`[schools.match]` values it all carries. None or more than one: refused, before anything is
stored, released or written to the ledger.

A hub's answer for another school behind the same hub than the one the login was started for
is refused too: the pupil picked De Linde, and a supplier hinted De Linde, so an answer as
another school is not what either asked for (and could hand a pupil another school's
releases). Picking again is cheap; a wrong school is not.

Hinting the school at the hub: the adapter's `login_redirect` receives the pending login with
`school_id` set to the school behind the hub, and, for a hub with `hint = true`, `school_hint`
set to how the hub knows that school (`hint_for`). The SAML adapter sends it as
Scoping/IDPList/IDPEntry ProviderID (Entree's "BRIN scoping" puts a BRIN there), the OIDC one
as login_hint (or the school's `hint_parameter`). Off by default: a hub that does not know the
hint might refuse the request.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from broker.errors import FreshLoginMayHelp, NoSchoolBehindHub, OtherSchoolBehindHub, UnknownSchool
from broker.identity import Identity
from broker.records import School


def behind(hub: School, schools: list[School]) -> list[School]:
    """The schools that log in through `hub`."""
    return [s for s in schools if s.behind is not None and s.behind.hub == hub.id]


def hub_of(school: School, find: Callable[[str], School | None]) -> School:
    """The school whose adapter logs `school` in: its hub, or itself."""
    if school.hub:
        raise UnknownSchool(f"{school.name} answers for many schools: pick your own school.")
    if school.behind is None:
        return school
    hub = find(school.behind.hub)
    if hub is None or not hub.hub:
        raise UnknownSchool(f"{school.name} cannot be reached: its hub "
                            f"{school.behind.hub!r} is not registered.")
    return hub


def hint_for(hub: School, school: School) -> str | None:
    """How `hub` knows `school` behind it, if the hub takes a hint: the school's `hint_value`,
    or the one value of its `match`; None otherwise."""
    if not hub.hint or school.behind is None:
        return None
    if school.behind.hint_value is not None:
        return school.behind.hint_value
    values = list(school.behind.match.values())
    return values[0] if len(values) == 1 else None


def matches(school: School, identity: Identity) -> bool:
    match = school.behind.match if school.behind else {}
    return bool(match) and all(value in identity.attributes.get(name, ())
                               for name, value in match.items())


def school_of(hub: School, identity: Identity, schools: list[School],
              started_for: str) -> Identity:
    """The hub's `identity` as the school behind the hub it answers for: exactly one must match,
    and it must be the school the login was started for."""
    found = [s for s in behind(hub, schools) if matches(s, identity)]
    if len(found) != 1:
        names = sorted({n for s in behind(hub, schools) for n in (s.behind.match if s.behind
                                                                   else {})})
        what = "none" if not found else f"{len(found)} schools"
        raise _dated(NoSchoolBehindHub(
            f"{hub.name} answered for a school Loper does not know here ({what} matched on "
            f"{', '.join(names) or 'nothing'}). Ask your school to check its registration.",
            params={"hub": hub.name}), identity)
    school = found[0]
    if school.id != started_for:
        picked = next((s.name for s in schools if s.id == started_for), started_for)
        raise _dated(OtherSchoolBehindHub(
            f"{hub.name} answered for {school.name}, not for the school you picked. "
            "Go back to the learning app and pick your school again.",
            params={"picked": picked, "answered": school.name, "hub": hub.name}), identity)
    return replace(identity, school_id=school.id)


def _dated(refused: FreshLoginMayHelp, identity: Identity) -> FreshLoginMayHelp:
    """`refused` with when the hub says the person logged in (if it says so)."""
    if identity.authn.stated:
        refused.logged_in_at = identity.authn.instant.timestamp()
    return refused
