"""The audit trail as a school admin reads it: only what changed, each field and value in the
reader's words (Loper's own actors, reasons and outcomes too), a supplier's changed requests
in the trail of each school it works with; the CSV keeps both states whole.
(What is recorded, filtered and exported: test_audit.py.)"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from lxml import etree

from broker.admin import audit_changes
from broker.admin.audit_changes import NAMED
from broker.linking import ACTOR as AT_LOGIN
from broker.messages import msg
from broker.records import AttributeRequest
from broker.registry import Registry
from broker.registry.admins import Admins
from broker.registry.aliases import AliasEvent
from broker.registry.audit import audit_row
from broker.registry.eck_ids import Outcome
from tests.admin.conftest import (
    OIDC_SUPPLIER,
    OPERATOR,
    SAML_SUPPLIER,
    SCHOOL_A,
    SCHOOL_B,
    SUPPLIER_ADMIN,
    Portal,
)
from tests.admin.test_audit import AUDIT_A, SUPPLIER_A, text


def _table(page: str) -> etree._Element:
    table = etree.fromstring(page, etree.HTMLParser()).find(".//table[@id='audit']")
    assert table is not None
    return table


def _said(element: etree._Element) -> str:
    """An element's text as a reader sees it (white space collapsed, a line break a space)."""
    for br in element.iter("br"):
        br.tail = " " + (br.tail or "")
    return " ".join(element.xpath("string()").split())


def _rows(page: str) -> list[dict[str, str]]:
    """The audit table's rows as a reader sees them: each cell's text by its column's name."""
    table = _table(page)
    names = [_said(th) for th in table.iterfind("thead/tr/th")]
    return [dict(zip(names, (_said(td) for td in row.iterfind("td")), strict=True))
            for row in table.iterfind("tbody/tr")]


@pytest.mark.parametrize(("lang", "words"), [
    ("en", {"Action": "release changed", "Before": "released: role (pupil, teacher)",
            "After": "released: given name, role (pupil, teacher)", "until": "valid until: ",
            "role": "role: school admin"}),
    ("nl", {"Handeling": "vrijgave gewijzigd", "Ervoor": "vrijgegeven: rol (leerling, leraar)",
            "Erna": "vrijgegeven: voornaam, rol (leerling, leraar)", "until": "geldig tot: ",
            "role": "rol: schoolbeheerder"})])
def test_the_page_shows_what_changed_from_what_to_what(school_a: Portal, registry: Registry,
                                                       lang: str, words: dict[str, str]) -> None:
    """Only the fields that changed, in the reader's words: a field by its name in the
    reader's language, an attribute in plain words, an invitation's end in Dutch time; what
    stayed the same is left out. The CSV keeps both states whole."""
    action, before, after = list(words)[:3]
    school_a.save_release(SUPPLIER_A, {"release-given_name": "all"})
    school_a.post(f"/admin/schools/{SCHOOL_A}/admins/invite", {"email": "new@regenboog.example"})
    rows = _rows(text(school_a.get(AUDIT_A, query_string={"lang": lang})))
    released = next(r for r in rows if r[action] == words[action])
    assert (released[before], released[after]) == (words[before], words[after])
    invited = next(r for r in rows if "new@regenboog.example" in r[after])
    until = invited[after].split(words["until"])[1]
    assert invited[before] == "" and "T" not in until and "+00:00" not in until
    assert words["role"] in invited[after]
    csv_rows = list(csv.DictReader(io.StringIO(text(school_a.get(f"{AUDIT_A}.csv")))))
    whole = next(r for r in csv_rows if r["action"] == "release")
    assert '"agreement"' in whole["before"] and '"agreement"' in whole["after"]


@pytest.mark.parametrize(("lang", "sides", "active"), [
    ("en", ("Before", "After"), ("active: no", "active: yes")),
    ("nl", ("Ervoor", "Erna"), ("actief: nee", "actief: ja"))])
def test_every_field_is_named_in_the_readers_words(school_a: Portal, registry: Registry,
                                                   lang: str, sides: tuple[str, str],
                                                   active: tuple[str, str]) -> None:
    """Every field Loper writes has its words in both languages; yes and no are words; a
    field from elsewhere (an older Loper) is shown by its name, as code."""
    with registry.ledger().writing() as chain:
        chain.add(audit_row(SCHOOL_A, None, OPERATOR, "admin", {"active": False},
                            {"active": True, "colour": "blue"}))
        chain.add(audit_row(SCHOOL_A, None, OPERATOR, "admin", None,
                            {name: "x" for name in NAMED}))
    page = text(school_a.get(AUDIT_A, query_string={"lang": lang}))
    every, toggled = _rows(page)[:2]  # newest first
    assert "audit.field_" not in page and every[sides[1]].count(": x") == len(NAMED)
    assert toggled[sides[0]] == active[0] and toggled[sides[1]].startswith(active[1])
    assert toggled[sides[1]].endswith("colour: blue") and "<code>colour</code>" in page


@pytest.mark.parametrize(("lang", "who", "what"), [
    ("nl", "Loper, toen de leerling inlogde",
     "uitkomst: geweigerd: een andere leerling van deze school heeft dit ECK iD"),
    ("en", "Loper, as the pupil logged in",
     "outcome: refused: another pupil of this school has this ECK iD")])
def test_a_link_loper_refused_at_login_is_said_in_words(school_a: Portal, registry: Registry,
                                                        lang: str, who: str, what: str) -> None:
    registry.record_alias_event(AliasEvent(datetime.now(UTC), SCHOOL_A,
                                           Outcome.CLAIMED_TWICE.value, AT_LOGIN, None))
    newest = _rows(text(school_a.get(AUDIT_A, query_string={"lang": lang})))[0]
    assert who in newest.values() and any(v.startswith(what) for v in newest.values())


def test_a_suppliers_new_requests_are_in_the_trail_of_each_school_it_works_with(
        supplier_admin: Portal, school_a: Portal, school_b: Portal, registry: Registry) -> None:
    """Each school decides its release on what the supplier asks: a change to that (by the
    supplier's admin) is in the trail of every school with a release entry for it, once."""
    form = {"ask-given_name": "yes", "why-given_name-nl": "begroet de leerling",
            "why-given_name-en": "greets the pupil", "ask-email": "yes",
            "why-email-en": "sends a report"}
    for _ in range(2):
        saved = supplier_admin.save_from_page(f"/admin/suppliers/{SAML_SUPPLIER}", form)
        assert saved.status_code == 302
    for portal, school in ((school_a, SCHOOL_A), (school_b, SCHOOL_B)):
        rows = _rows(text(portal.get(f"/admin/schools/{school}/audit",
                                     query_string={"lang": "nl"})))
        changed = [r for r in rows if r["Handeling"] == "gevraagde gegevens gewijzigd"]
        assert len(changed) == 1, school  # the second, identical save changed nothing
        assert changed[0]["Door"] == SUPPLIER_ADMIN
        assert changed[0]["Erna"] == ("vraagt om: voornaam, e-mailadres redenen: voornaam: "
                                      "begroet de leerling; e-mailadres: sends a report")
    def rows() -> int:
        return sum(len(registry.audit_trail().entries(s)) for s in (SCHOOL_A, SCHOOL_B))
    before = rows()
    Admins(registry).set_requests(OIDC_SUPPLIER, [AttributeRequest("role", "shows lessons")])
    assert rows() == before  # no school has a release entry for it


@pytest.mark.parametrize(("lang", "created", "removed", "command_line"), [
    ("nl", "account aangemaakt", "van de school verwijderd", "de operator (opdrachtregel)"),
    ("en", "account created", "removed from the school", "the operator (command line)")])
def test_lopers_own_reasons_are_read_in_the_readers_language(
        school_a: Portal, registry: Registry, lang: str, created: str, removed: str,
        command_line: str) -> None:
    """Loper's reasons are stored as a key and its values; a person's words and rows from
    before (English text) are shown as they were written."""
    with registry.ledger().writing() as chain:
        chain.add(audit_row(SCHOOL_A, None, OPERATOR, "admin", None, None, "imported in 2025"))
        chain.add(audit_row(SCHOOL_A, None, OPERATOR, "admin", None, None,
                            msg("audit.removed_from_school")))
    cells = _table(text(school_a.get(AUDIT_A, query_string={"lang": lang}))).iter("td")
    shown = {_said(cell): "data-user-text" in cell.attrib for cell in cells}
    for words in (created, removed, command_line):
        assert shown.get(words) is False  # Loper's own words, in the reader's language
    assert shown.get("imported in 2025") is True  # a person's words, marked as such
    rows = list(csv.reader(io.StringIO(
        school_a.get(f"{AUDIT_A}.csv", query_string={"lang": lang}).get_data(as_text=True))))
    assert {created, removed, "imported in 2025"} <= {row[7] for row in rows}


def test_a_mapping_of_lists_reads_as_words_not_json() -> None:
    """The operator's `require` and `claims` of a school, as the audit trail shows them."""
    assert audit_changes.shown({"hd": ["leerling.kompas.example", "kompas.example"]}) == (
        "hd: leerling.kompas.example, kompas.example")
    assert audit_changes.shown({"given_name": "givenName", "role": ["a", "b"]}) == (
        "given_name: givenName; role: a, b")
    assert audit_changes.shown({"deep": {"x": 1}}) == '{"deep": {"x": 1}}'  # as it is
