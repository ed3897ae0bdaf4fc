"""Inviting and removing school admins in the portal, and every way an invitation link can be
wrong: each refused with an error page and its id, and nothing stored, spent or created.

These run without a mail server: the link is shown to the admin who invited
(test_accounts_mail.py covers the e-mail path over real SMTP).
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select, update

from broker.registry.admin_links import token_hash
from broker.registry.admins import Admins
from broker.registry.models import LedgerEntryRow
from broker.registry.models_admin import AdminLinkRow
from tests.admin.conftest import (
    ADMIN_A,
    ADMIN_B,
    OPERATOR,
    PASSWORD,
    SCHOOL_A,
    SCHOOL_B,
    SUPPLIER_ADMIN,
    Portal,
    as_admin,
)

NEW = "tweede@regenboog.example"
_LINK = re.compile(r'id="invitation-link">(http://[^<]+/admin/invitation/([A-Za-z0-9_-]+))<')


def invite(portal: Portal, email: str = NEW, school: str = SCHOOL_A) -> str:
    """Invite as `portal`'s admin; the token of the link shown on the page."""
    portal.get(f"/admin/schools/{school}/admins")
    response = portal.post(f"/admin/schools/{school}/admins/invite", {"email": email})
    assert response.status_code == 200, response.get_data(as_text=True)[:400]
    found = _LINK.search(response.get_data(as_text=True))
    assert found is not None
    return found.group(2)


def rows(accounts: Admins, model: type, **where: object) -> int:
    with accounts.db.read() as session:
        query = select(func.count()).select_from(model)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return int(session.scalar(query) or 0)


def audit_rows(accounts: Admins) -> int:
    return rows(accounts, LedgerEntryRow, kind="audit")


def refused(response: object, status: int, code: str) -> None:
    html = response.get_data(as_text=True)  # type: ignore[attr-defined]
    assert response.status_code == status, html[:400]  # type: ignore[attr-defined]
    assert code in html and re.search(r'class="error-id">[0-9a-f]{12}<', html), html[:400]


def test_the_operator_invites_and_the_link_is_shown_without_mail(
        app: Flask, operator: Portal, accounts: Admins) -> None:
    token = invite(operator)
    with accounts.db.read() as session:
        stored = session.scalars(select(AdminLinkRow)).one()
    assert stored.token_hash == token_hash(token) and token not in repr(vars(stored))
    page = operator.get(f"/admin/schools/{SCHOOL_A}/admins").get_data(as_text=True)
    assert NEW in page and token not in page, "listed as open, the link shown only once"

    newcomer = Portal(app.test_client())
    form = newcomer.get(f"/admin/invitation/{token}").get_data(as_text=True)
    assert "OBS De Regenboog" in form and NEW in form
    response = newcomer.post(f"/admin/invitation/{token}",
                             {"password": PASSWORD, "password2": PASSWORD})
    assert response.status_code == 302 and response.location.endswith("/admin/account")
    admin = accounts.by_email(NEW)
    assert admin is not None and admin.role == "school" and admin.schools == {SCHOOL_A}
    assert newcomer.get(f"/admin/schools/{SCHOOL_A}").status_code == 200
    assert newcomer.get(f"/admin/schools/{SCHOOL_B}").status_code == 404


def test_a_school_admin_invites_a_second_admin_for_their_own_school(
        app: Flask, school_a: Portal, accounts: Admins) -> None:
    token = invite(school_a)
    Portal(app.test_client()).post(f"/admin/invitation/{token}",
                                   {"password": PASSWORD, "password2": PASSWORD})
    assert accounts.by_email(NEW) is not None


def test_a_school_admin_cannot_invite_for_another_school(school_a: Portal,
                                                         accounts: Admins) -> None:
    before = audit_rows(accounts)
    school_a.get(f"/admin/schools/{SCHOOL_A}/admins")
    response = school_a.post(f"/admin/schools/{SCHOOL_B}/admins/invite", {"email": NEW})
    refused(response, 404, "not_found")
    assert rows(accounts, AdminLinkRow) == 0 and audit_rows(accounts) == before


def refused_on_the_form(portal: Portal, accounts: Admins, email: str, status: int) -> str:
    """Invite `email` for school A: the admins page again, in its layout, with what was typed
    still in the field; nothing stored. The page's text."""
    before = audit_rows(accounts)
    portal.get(f"/admin/schools/{SCHOOL_A}/admins")
    response = portal.post(f"/admin/schools/{SCHOOL_A}/admins/invite", {"email": email})
    page = response.get_data(as_text=True)
    assert response.status_code == status, page[:400]
    assert 'id="invite-error"' in page and 'class="error-id"' not in page, "no error page"
    assert f'href="/admin/schools/{SCHOOL_A}/audit"' in page, "the school's menu stays"
    field = re.search(r'<input id="invite-email"[^>]*>', page)
    assert field is not None and f'value="{html.escape(email[:254])}"' in field.group(0)
    assert rows(accounts, AdminLinkRow) == 0 and audit_rows(accounts) == before
    return page


@pytest.mark.parametrize(("portal", "email"), [
    ("operator", ADMIN_A), ("operator", ADMIN_B.upper()), ("operator", OPERATOR),
    ("school_a", ADMIN_A), ("school_a", OPERATOR), ("school_a", ADMIN_B)])
def test_an_address_that_is_an_admin_already_is_refused_on_the_form(
        request: pytest.FixtureRequest, accounts: Admins, portal: str, email: str) -> None:
    page = refused_on_the_form(request.getfixturevalue(portal), accounts, email, 409)
    assert "Dit adres heeft al een beheerdersaccount bij Loper" in page
    assert "Er is niets verstuurd" in page
    assert "school" not in page.split('id="invite-error">', 1)[1].split("<", 1)[0], (
        "the same words wherever the account is")


@pytest.mark.parametrize("email", [
    "", "not an address", "a@b", "x" * 300 + "@example.org", "<b>x</b>@evil.nl",
    "a b@example.org", "a@b@example.org", "a\x01@example.org", "a@example", "a@exa mple.org",
    "x" * 64 + "@" + "d" * 63 + "." + "d" * 63 + "." + "d" * 63 + ".nl",
])
def test_a_bad_address_is_refused_on_the_form(operator: Portal, accounts: Admins,
                                              email: str) -> None:
    page = refused_on_the_form(operator, accounts, email, 400)
    assert "Dat is geen e-mailadres. Er is niets verstuurd." in page


def test_inviting_again_says_the_earlier_link_no_longer_works(
        app: Flask, operator: Portal, accounts: Admins) -> None:
    earlier = invite(operator)
    first = operator.get(f"/admin/schools/{SCHOOL_A}/admins").get_data(as_text=True)
    assert "werkt niet meer" not in first
    operator.post(f"/admin/schools/{SCHOOL_A}/admins/invite", {"email": "ander@example.org"})
    assert "werkt niet meer" not in operator.get(
        f"/admin/schools/{SCHOOL_A}/admins").get_data(as_text=True), "only for the same address"
    operator.get(f"/admin/schools/{SCHOOL_A}/admins")
    again = operator.post(f"/admin/schools/{SCHOOL_A}/admins/invite", {"email": NEW.upper()})
    page = again.get_data(as_text=True)
    assert again.status_code == 200 and _LINK.search(page) is not None
    assert (f"Er stond al een uitnodiging open voor {NEW}. De link van die eerdere uitnodiging "
            "werkt niet meer") in page
    refused(Portal(app.test_client()).get(f"/admin/invitation/{earlier}"), 404, "link_unknown")
    assert rows(accounts, AdminLinkRow, email=NEW) == 1


def test_inviting_again_after_the_earlier_invitation_expired_says_nothing_of_it(
        operator: Portal, accounts: Admins) -> None:
    _expire(accounts, invite(operator))
    operator.get(f"/admin/schools/{SCHOOL_A}/admins")
    page = operator.post(f"/admin/schools/{SCHOOL_A}/admins/invite",
                         {"email": NEW}).get_data(as_text=True)
    assert _LINK.search(page) is not None and "werkt niet meer" not in page


def _expire(accounts: Admins, token: str) -> None:
    with accounts.db.write() as session:
        session.execute(update(AdminLinkRow).where(AdminLinkRow.token_hash == token_hash(token))
                        .values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))


@pytest.mark.parametrize(("spoil", "status", "code"), [
    ("expired", 410, "link_expired"),
    ("reused", 410, "link_used"),
    ("tampered", 404, "link_unknown"),
    ("overlong", 404, "link_unknown"),
])
def test_a_spoilt_invitation_link_is_refused(app: Flask, operator: Portal, accounts: Admins,
                                             spoil: str, status: int, code: str) -> None:
    token = invite(operator)
    if spoil == "expired":
        _expire(accounts, token)
    elif spoil == "reused":
        Portal(app.test_client()).post(f"/admin/invitation/{token}",
                                       {"password": PASSWORD, "password2": PASSWORD})
    elif spoil == "tampered":
        token = token[:-1] + ("A" if token[-1] != "A" else "B")
    else:
        token = token * 3
    admins_before, audit_before = len(accounts.all()), audit_rows(accounts)
    stranger = Portal(app.test_client())
    refused(stranger.get(f"/admin/invitation/{token}"), status, code)
    response = stranger.post(f"/admin/invitation/{token}",
                             {"password": "another password here", "password2":
                              "another password here"})
    refused(response, status, code)
    assert len(accounts.all()) == admins_before and audit_rows(accounts) == audit_before


@pytest.mark.parametrize(("password", "again", "says"), [
    ("short", "short", "too short"),
    (PASSWORD, PASSWORD + "!", "differ"),
    ("x" * 1025, "x" * 1025, "too long"),
    (" " * 12, " " * 12, "The password is only spaces"),
    ("\t \u00a0" * 8, "\t \u00a0" * 8, "The password is only spaces"),
])
def test_a_bad_password_keeps_the_invitation_usable(app: Flask, operator: Portal,
                                                    accounts: Admins, password: str,
                                                    again: str, says: str) -> None:
    token = invite(operator)
    newcomer = Portal(app.test_client())
    newcomer.get(f"/admin/invitation/{token}?lang=en")
    response = newcomer.post(f"/admin/invitation/{token}",
                             {"password": password, "password2": again})
    assert response.status_code == 400 and says in response.get_data(as_text=True)
    assert accounts.by_email(NEW) is None
    response = newcomer.post(f"/admin/invitation/{token}",
                             {"password": PASSWORD, "password2": PASSWORD})
    assert response.status_code == 302 and accounts.by_email(NEW) is not None


def test_an_invitation_whose_address_became_an_admin_creates_nothing(
        app: Flask, operator: Portal, accounts: Admins) -> None:
    token = invite(operator)
    accounts.add(NEW, PASSWORD, "school", schools=[SCHOOL_B])
    response = Portal(app.test_client()).post(
        f"/admin/invitation/{token}", {"password": PASSWORD, "password2": PASSWORD})
    refused(response, 409, "already_admin")
    admin = accounts.by_email(NEW)
    assert admin is not None and admin.schools == {SCHOOL_B}


def test_an_invitation_can_be_withdrawn(app: Flask, operator: Portal, accounts: Admins) -> None:
    token = invite(operator)
    operator.post(f"/admin/schools/{SCHOOL_A}/admins/withdraw", {"email": NEW})
    refused(Portal(app.test_client()).get(f"/admin/invitation/{token}"), 404, "link_unknown")


def test_the_operator_lists_and_removes_a_school_admin(app: Flask, operator: Portal,
                                                      accounts: Admins) -> None:
    victim = as_admin(app, ADMIN_A)
    page = operator.get(f"/admin/schools/{SCHOOL_A}/admins").get_data(as_text=True)
    assert ADMIN_A in page and ADMIN_B not in page and OPERATOR not in page.split("<main", 1)[1]
    admin = accounts.by_email(ADMIN_A)
    assert admin is not None
    response = operator.post(f"/admin/schools/{SCHOOL_A}/admins/{admin.id}/remove")
    assert response.status_code == 302
    assert accounts.by_email(ADMIN_A) is None
    assert victim.get(f"/admin/schools/{SCHOOL_A}").status_code == 302, "their session ended"
    trail = app.extensions["loper"].registry.audit_trail().entries(SCHOOL_A)
    assert str(trail[0].reason) == "removed from the school" and trail[0].actor == OPERATOR
    assert trail[0].after is None and trail[0].before is not None


def test_an_admin_of_two_schools_removed_from_one_keeps_the_other(
        app: Flask, operator: Portal, accounts: Admins) -> None:
    both = accounts.add("beide@example.org", PASSWORD, "school", schools=[SCHOOL_A, SCHOOL_B])
    operator.get(f"/admin/schools/{SCHOOL_A}/admins")
    operator.post(f"/admin/schools/{SCHOOL_A}/admins/{both.id}/remove")
    left = accounts.get(both.id)
    assert left is not None and left.schools == {SCHOOL_B}


@pytest.mark.parametrize("target", [OPERATOR, SUPPLIER_ADMIN, ADMIN_B])
def test_a_school_admin_cannot_remove_an_operator_or_another_schools_admin(
        school_a: Portal, accounts: Admins, target: str) -> None:
    victim = accounts.by_email(target)
    assert victim is not None
    before = audit_rows(accounts)
    school_a.get(f"/admin/schools/{SCHOOL_A}/admins")
    refused(school_a.post(f"/admin/schools/{SCHOOL_A}/admins/{victim.id}/remove"), 403,
            "cannot_remove")
    refused(school_a.post(f"/admin/schools/{SCHOOL_B}/admins/{victim.id}/remove"), 404,
            "not_found")
    assert accounts.get(victim.id) == victim and audit_rows(accounts) == before


@pytest.mark.parametrize("portal", ["operator", "school_a"])
def test_removing_an_admin_twice_says_they_were_removed_already(
        app: Flask, request: pytest.FixtureRequest, accounts: Admins, portal: str) -> None:
    remover: Portal = request.getfixturevalue(portal)
    other = accounts.add(NEW, PASSWORD, "school", schools=[SCHOOL_A])
    remover.get(f"/admin/schools/{SCHOOL_A}/admins")
    url = f"/admin/schools/{SCHOOL_A}/admins/{other.id}/remove"
    assert remover.post(url).status_code == 302 and accounts.get(other.id) is None
    before = audit_rows(accounts)
    response = remover.post(url)
    assert response.status_code == 302
    page = remover.get(response.location).get_data(as_text=True)
    assert "Deze beheerder was al verwijderd. Er is niets veranderd." in page
    assert "Niet toegestaan" not in page and audit_rows(accounts) == before


def test_removing_an_admin_of_two_schools_twice_says_so_and_keeps_the_other_school(
        operator: Portal, accounts: Admins) -> None:
    both = accounts.add("beide@example.org", PASSWORD, "school", schools=[SCHOOL_A, SCHOOL_B])
    operator.get(f"/admin/schools/{SCHOOL_A}/admins")
    url = f"/admin/schools/{SCHOOL_A}/admins/{both.id}/remove"
    operator.post(url)
    before = audit_rows(accounts)
    page = operator.get(operator.post(url).location).get_data(as_text=True)
    assert "Deze beheerder was al verwijderd" in page and audit_rows(accounts) == before
    left = accounts.get(both.id)
    assert left is not None and left.schools == {SCHOOL_B}


def test_a_school_admin_cannot_remove_themselves(school_a: Portal, accounts: Admins) -> None:
    me = accounts.by_email(ADMIN_A)
    assert me is not None
    school_a.get(f"/admin/schools/{SCHOOL_A}/admins")
    refused(school_a.post(f"/admin/schools/{SCHOOL_A}/admins/{me.id}/remove"), 403,
            "cannot_remove")
    assert accounts.get(me.id) is not None


def test_a_supplier_admin_sees_no_school_admins(supplier_admin: Portal) -> None:
    refused(supplier_admin.get(f"/admin/schools/{SCHOOL_A}/admins"), 404, "not_found")
