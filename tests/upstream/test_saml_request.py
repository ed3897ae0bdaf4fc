"""The AuthnRequest Loper sends a school: valid against the SAML schema, asking exactly what the
login needs (SAML core 3.4.1)."""

from __future__ import annotations

import base64
import dataclasses
import zlib
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from lxml import etree

from broker.acr import AcrRequest
from broker.records import School
from broker.saml import schema
from broker.upstream.saml import SamlSpConfig, SamlUpstream
from broker.upstream.saml_kind import SamlSchool
from tests.upstream.saml_idp import NS, SchoolIdp, pending_login

PERSISTENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
MFA = "https://refeds.org/profile/mfa"


def sent(upstream: SamlUpstream, school: School, **pending: Any) -> etree._Element:
    outgoing, _ = upstream.login_redirect(school, pending_login(**pending), "relay")
    query = dict(parse_qsl(urlsplit(outgoing.url).query))
    root = etree.fromstring(zlib.decompress(base64.b64decode(query["SAMLRequest"]), -15))
    schema.assert_valid(root)
    return root


def test_a_plain_request_asks_for_a_persistent_nameid_at_loper_s_acs(
        upstream: SamlUpstream, idp: SchoolIdp, sp_config: SamlSpConfig) -> None:
    root = sent(upstream, idp.school())
    assert root.get("Destination") == "https://idp.regenboog.example/saml/sso"
    assert root.get("AssertionConsumerServiceURL") == sp_config.acs_url
    assert root.get("ProtocolBinding").endswith(":HTTP-POST")
    assert root.findtext("saml:Issuer", namespaces=NS) == sp_config.entity_id
    assert root.get("ForceAuthn") is None and root.get("IsPassive") is None
    policy = root.find("samlp:NameIDPolicy", NS)
    assert (policy.get("Format"), policy.get("AllowCreate")) == (PERSISTENT, "true")
    assert root.find("samlp:Scoping", NS) is None
    assert root.find("samlp:RequestedAuthnContext", NS) is None


def test_a_school_that_names_pupils_by_an_attribute_is_asked_for_no_nameid_format(
        upstream: SamlUpstream, idp: SchoolIdp) -> None:
    school = idp.school()
    assert isinstance(school.config, SamlSchool)
    eppn = "urn:oid:1.3.6.1.4.1.5923.1.1.1.6"
    by_attribute = dataclasses.replace(
        school, config=dataclasses.replace(school.config, subject=eppn))
    assert sent(upstream, by_attribute).find("samlp:NameIDPolicy", NS) is None


@pytest.mark.parametrize(("pending", "force", "passive"), [
    ({"force_authn": True}, "true", None),
    ({"max_age": 0}, "true", None),
    ({"max_age": 600}, None, None),
    ({"passive": True}, None, "true"),
])
def test_force_and_passive(upstream: SamlUpstream, idp: SchoolIdp, pending: dict[str, Any],
                           force: str | None, passive: str | None) -> None:
    root = sent(upstream, idp.school(), **pending)
    assert (root.get("ForceAuthn"), root.get("IsPassive")) == (force, passive)


def test_everything_at_once_stays_in_schema_order(upstream: SamlUpstream,
                                                  idp: SchoolIdp) -> None:
    root = sent(upstream, idp.school(), force_authn=True, passive=True,
                acr=AcrRequest((MFA,), "minimum"), school_hint="https://behind.example/idp")
    assert [etree.QName(c).localname for c in root] == [
        "Issuer", "NameIDPolicy", "RequestedAuthnContext", "Scoping"]
    assert root.find("samlp:RequestedAuthnContext", NS).get("Comparison") == "minimum"
    assert root.find("samlp:Scoping/samlp:IDPList/samlp:IDPEntry", NS).get(
        "ProviderID") == "https://behind.example/idp"


def test_every_request_has_its_own_id(upstream: SamlUpstream, idp: SchoolIdp) -> None:
    ids = {sent(upstream, idp.school()).get("ID") for _ in range(20)}
    assert len(ids) == 20 and all(len(i) >= 32 for i in ids)
