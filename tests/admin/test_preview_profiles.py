"""The admin's preview speaks the supplier's profile: the names the supplier will receive."""

from __future__ import annotations

import dataclasses
import html
import json
import re
from datetime import date

from broker import profiles
from broker.admin import preview as previews
from broker.context import Broker
from broker.records import Policy
from broker.registry import Federation, Registry
from tests.admin.conftest import OIDC_SUPPLIER, SAML_SUPPLIER, SCHOOL_A, SCHOOL_B, Portal


def use_entree(broker: Broker, registry: Registry, supplier_id: str) -> None:
    supplier = registry.supplier(supplier_id)
    assert supplier is not None
    changed = dataclasses.replace(supplier, config=dataclasses.replace(supplier.config,
                                                                       profile="entree"))
    registry.import_federation(Federation(suppliers=(changed,)),
                               key_version=broker.pseudonym_keys.current)


def page_of(portal: Portal, school_id: str, supplier_id: str, form: dict[str, str]) -> str:
    url = f"/admin/schools/{school_id}/suppliers/{supplier_id}"
    response = portal.post(url, {"action": "preview", **form})
    assert response.status_code == 200
    return html.unescape(response.get_data(as_text=True))


def table_of(page: str) -> str:
    return page.split('id="preview-table"', 1)[1].split("</table>", 1)[0]


RELEASE_ASKED = {f"release-{name}": "all" for name in ("role", "given_name", "email", "groups")}
"""Every attribute the SAML supplier asks for (only those are offered for release)."""


def test_the_saml_preview_of_an_entree_supplier_names_what_it_receives(
        school_a: Portal, broker: Broker, registry: Registry) -> None:
    use_entree(broker, registry, SAML_SUPPLIER)
    page = page_of(school_a, SCHOOL_A, SAML_SUPPLIER, {"sample": "teacher", **RELEASE_ASKED})
    subject = re.search(r'id="preview-subject">([^<]+)<', page)
    assert subject is not None
    rows = dict(re.findall(r"<code>([^<]+)</code></td><td class=\"values\"[^>]*>([^<]*)<",
                           table_of(page)))
    assert rows == {"uid": f"{subject.group(1)}@127.0.0.1", "eduPersonAffiliation": "employee",
                    "givenName": "Bram", "mail": "b.visser@school.example",
                    "urn:oid:1.3.6.1.4.1.5923.1.5.1.1": "groep-7a, groep-8b"}, (
        "Entree's names; groups keeps its standard name; no pairwise-id (uid instead)")
    assert "Profiel entree" in page or "Profile entree" in page


def test_the_oidc_preview_of_an_entree_supplier_shows_its_claims(
        school_b: Portal, broker: Broker, registry: Registry) -> None:
    use_entree(broker, registry, OIDC_SUPPLIER)
    page = page_of(school_b, SCHOOL_B, OIDC_SUPPLIER, {"sample": "pupil",
                                                        "release-given_name": "all"})
    id_token, userinfo = (json.loads(b) for b in re.findall(r"<pre>(.*?)</pre>", page, re.S))
    subject = id_token["sub"]
    assert userinfo == {"sub": subject, "uid": f"{subject}@127.0.0.1", "givenName": "Sanne"}
    assert {k: id_token[k] for k in ("uid", "givenName")} == {
        "uid": f"{subject}@127.0.0.1", "givenName": "Sanne"}
    assert set(re.findall(r"<code>([^<]+)</code>", table_of(page))) == {"uid", "givenName"}


def test_an_oid_supplier_keeps_the_standard_names(school_b: Portal) -> None:
    page = page_of(school_b, SCHOOL_B, OIDC_SUPPLIER, {"sample": "pupil",
                                                        "release-given_name": "all"})
    assert "Profiel oid" in page or "Profile oid" in page
    assert "given_name" in table_of(page) and "givenName" not in page


def test_a_preview_and_the_answer_name_the_same_attributes(broker: Broker,
                                                           registry: Registry) -> None:
    """The preview renders with the same function the SAML answer builds its statement with."""
    use_entree(broker, registry, SAML_SUPPLIER)
    school, supplier = registry.school(SCHOOL_A), registry.supplier(SAML_SUPPLIER)
    assert school is not None and supplier is not None
    person = previews.preview_person(broker.pseudonym_keys, school, "teacher",
                                     previews.sample_attributes(school, "teacher"))
    policy = Policy(SCHOOL_A, SAML_SUPPLIER, frozenset({"given_name", "role", "groups"}))
    shown = previews.preview(person, school, supplier, None, policy, broker.pseudonym_keys,
                             date.today(), scope="127.0.0.1",
                             issuer=broker.settings.base_url)
    sent = profiles.saml_attributes(profiles.ENTREE, {"given_name": ("Bram",),
                                                      "role": ("employee",),
                                                      "groups": ("groep-7a", "groep-8b")},
                                    shown.subject, "127.0.0.1")
    assert {line.name: line.values for line in shown.lines} == {
        n.name: values for n, values in sent}
