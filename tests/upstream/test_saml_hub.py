"""A hub through a real pysaml2 IdP: Entree's answer, read with the hub's own [schools.claims],
found as the one school behind the hub whose [schools.match] it carries (broker/hubs.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import pytest
from lxml import etree

from broker import hubs
from broker.errors import NoSchoolBehindHub
from broker.identity import Identity
from broker.records import Behind, School
from broker.upstream.saml import SamlUpstream
from tests.upstream.saml_idp import NS, Login, SchoolIdp, Tamper
from tests.upstream.test_saml_attributes import UNSPECIFIED, scoped_metadata, statement

BEHIND = [School("de-linde", "CBS De Linde", Behind("entree", {"school_id": "11ZZ03"})),
          School("de-es", "OBS De Es", Behind("entree", {"school_id": "22YY04"}))]


def hub(idp: SchoolIdp) -> School:
    return replace(idp.school("entree"), hub=True,
                   claims={"school_id": "nlEduPersonHomeOrganizationId"})


def hub_answer(upstream: SamlUpstream, idp: SchoolIdp, school_ids: list[str],
               extra: Sequence[tuple[str, list[str]]] = (), the_hub: School | None = None
               ) -> Identity:
    """Entree's answer (its short attribute names), as the SAML upstream reads it."""
    login = Login(upstream, idp, the_hub or hub(idp))
    request, state = login.start(school_id="de-linde")
    attributes = [("uid", ["sanne.devries"]), ("eduPersonAffiliation", ["student"]), *extra]
    if school_ids:
        attributes.append(("nlEduPersonHomeOrganizationId", school_ids))

    def swap(root: etree._Element) -> None:
        old = root.find(".//saml:AttributeStatement", NS)
        old.getparent().replace(old, statement(attributes, UNSPECIFIED))

    return login.finish(Tamper(idp, request).edit(swap).signed(), state).identity


def test_entree_answers_as_the_school_behind_it(upstream: SamlUpstream, idp: SchoolIdp) -> None:
    identity = hub_answer(upstream, idp, ["11ZZ03"])
    assert identity.school_id == "entree"
    found = hubs.school_of(hub(idp), identity, BEHIND, "de-linde")
    assert found.school_id == "de-linde" and found.subject == identity.subject


@pytest.mark.parametrize("school_ids", [["99XX99"], [], ["11ZZ03", "22YY04"]],
                         ids=["no school", "attribute missing", "two schools"])
def test_entree_answers_for_no_single_school(upstream: SamlUpstream, idp: SchoolIdp,
                                             school_ids: list[str]) -> None:
    identity = hub_answer(upstream, idp, school_ids)
    with pytest.raises(NoSchoolBehindHub):
        hubs.school_of(hub(idp), identity, BEHIND, "de-linde")


def test_the_hubs_scopes_bound_the_scoped_values_it_asserts(upstream: SamlUpstream,
                                                           idp: SchoolIdp) -> None:
    """Entree's metadata lists the scopes it may assert (shibmd:Scope): a value of another
    scope is dropped, for every school behind it alike."""
    scoped = replace(hub(idp), config=replace(
        idp.school().config, metadata_xml=scoped_metadata(idp, "delinde.nl", "de-es.nl")))
    identity = hub_answer(upstream, idp, ["11ZZ03"], [
        ("eduPersonScopedAffiliation", ["student@delinde.nl", "employee@elders.nl"]),
        ("schacHomeOrganization", ["elders.nl"])], the_hub=scoped)
    assert identity.attributes["scoped_affiliation"] == ("student@delinde.nl",)
    assert "school_domain" not in identity.attributes
    assert hubs.school_of(scoped, identity, BEHIND, "de-linde").school_id == "de-linde"


def test_a_hub_with_hint_on_is_told_the_school_in_scoping(upstream: SamlUpstream,
                                                         idp: SchoolIdp) -> None:
    """SAML core 3.4.1.2: Scoping/IDPList/IDPEntry ProviderID names the school, as Entree's
    "BRIN scoping" does with a BRIN; the answer is still checked as any hub answer is."""
    login = Login(upstream, idp, replace(hub(idp), hint=True))
    request, state = login.start(school_id="de-linde", school_hint="11ZZ03")
    scoping = request.message.scoping
    assert [e.provider_id for e in scoping.idp_list.idp_entry] == ["11ZZ03"]
    plain, _ = Login(upstream, idp, hub(idp)).start(school_id="de-linde")
    assert plain.message.scoping is None
