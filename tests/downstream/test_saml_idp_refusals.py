"""A trusted request that asks for what Loper's SAML IdP cannot give (saml_asks.py) is answered
to the SP: a signed SAML error Response at its ACS, which the SP's own library checks and
shows; a request that cannot be trusted gets Loper's page, whatever it asks."""

from __future__ import annotations

import re

import pytest
from saml2.response import StatusInvalidNameidPolicy
from saml2.saml import NAMEID_FORMAT_EMAILADDRESS, NAMEID_FORMAT_PERSISTENT
from saml2.samlp import NameIDPolicy

from broker.downstream.saml_asks import INVALID_NAME_ID_POLICY, Refused
from broker.errors import RequestRejected, UnknownSupplier
from tests.downstream.peers import forged
from tests.downstream.refusals import answered, refuse
from tests.downstream.saml_world import SamlWorld

BINDINGS = pytest.mark.parametrize("binding", ["redirect", "post"])


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> SamlWorld:
    return SamlWorld(tmp_path_factory.mktemp("saml-idp-refusals"))


FOREIGN_QUALIFIER = NameIDPolicy(format=NAMEID_FORMAT_PERSISTENT,
                                 sp_name_qualifier="https://other.example/metadata")
EMAIL = NameIDPolicy(format=NAMEID_FORMAT_EMAILADDRESS)


@BINDINGS
@pytest.mark.parametrize(("policy", "match"), [
    (FOREIGN_QUALIFIER, "SPNameQualifier"), (EMAIL, "NameID format"),
])
def test_a_name_id_policy_outside_the_offer_is_answered_to_the_sp(
        world: SamlWorld, binding: str, policy: NameIDPolicy, match: str) -> None:
    """SAML core 3.4.1.1: a responder that cannot satisfy the NameIDPolicy returns an
    InvalidNameIDPolicy error: the SP gets a signed Response without assertion, and shows it."""
    sp = world.pysaml_sp("pynameid")
    sent = sp.request(binding, "lesson-3", name_id_policy=policy)
    refused, out = refuse(world, sent)
    assert re.search(f"InvalidNameIDPolicy.*{match}", refused.message)
    assert refused.supplier_name == "Pynameid"
    answered(world, out, sent, sp.acs_url, INVALID_NAME_ID_POLICY, "lesson-3")
    assert out.form is not None
    with pytest.raises(StatusInvalidNameidPolicy):  # after verifying Loper's signature
        sp.accept(dict(out.form), sent.request_id)


@BINDINGS
def test_python3_saml_shows_the_status_message(world: SamlWorld, binding: str) -> None:
    """python3-saml shows the top-level code and the StatusMessage, which names the
    second-level code and the error id of Loper's log."""
    sp = world.onelogin_sp("olnameid")
    sp.settings.get_sp_data()["NameIDFormat"] = NAMEID_FORMAT_EMAILADDRESS  # not in its metadata
    sent = sp.request(binding, "lesson-4")
    _, out = refuse(world, sent)
    error_id = answered(world, out, sent, sp.acs_url, INVALID_NAME_ID_POLICY, "lesson-4")
    assert out.form is not None
    shown = f"Requester -> .*{INVALID_NAME_ID_POLICY}.*{error_id}"
    with pytest.raises(AssertionError, match=shown):
        sp.accept(dict(out.form), sent.request_id)


def test_a_refusal_without_its_acs_is_lopers_page(world: SamlWorld) -> None:
    """refuse() answers only where saml_request found the ACS; else the refusal is raised."""
    refused = Refused(INVALID_NAME_ID_POLICY, "asked before its ACS was known")
    with pytest.raises(Refused) as raised:
        world.idp.refuse(refused)
    assert raised.value is refused and refused.status == 403


UNTRUSTED = {"unknown issuer": "No learning app", "impostor's signature": "signature",
             "unsigned": "AuthnRequestsSigned", "foreign ACS": "not in the learning app",
             "stale": "too long ago", "schema-invalid": "XML Schema"}


@pytest.mark.parametrize("case", UNTRUSTED)
def test_a_request_not_to_be_trusted_gets_lopers_page_whatever_it_asks(world: SamlWorld,
                                                                       case: str) -> None:
    """Only a trusted request with an ACS from the metadata is answered at that ACS."""
    world.pysaml_sp("pyuntrusted", sign_requests=True)
    signed = world.pysaml_sp("pyuntrusted", register=False, sign_requests=True)
    unsigned = world.pysaml_sp("pyuntrusted2")
    sent = {
        "unknown issuer": lambda: world.pysaml_sp("nobody", register=False).request(
            "post", name_id_policy=EMAIL),
        "impostor's signature": lambda: world.pysaml_sp(
            "pyuntrusted", keys="impostor", register=False, sign_requests=True).request(
            "post", name_id_policy=EMAIL),
        "unsigned": lambda: world.pysaml_sp("pyuntrusted", register=False).request(
            "post", name_id_policy=EMAIL),
        "foreign ACS": lambda: signed.request(
            "post", name_id_policy=EMAIL, assertion_consumer_service_url="https://evil.example/acs"),
        "stale": lambda: forged(unsigned.request("post", name_id_policy=EMAIL),
                                 "IssueInstant", "2020-01-01T00:00:00Z"),
        "schema-invalid": lambda: forged(unsigned.request("post", name_id_policy=EMAIL),
                                          "ID", "1 is no NCName"),
    }[case]()
    with pytest.raises((RequestRejected, UnknownSupplier), match=UNTRUSTED[case]) as refused:
        world.parse(sent)
    assert not isinstance(refused.value, Refused)
