"""A supplier's RequestedAuthnContext (SAML core 3.3.2.2.1): read into the DownstreamRequest;
one Loper cannot accept or meet (malformed, of absurd size, DeclRefs, an unknown Comparison,
better than any class it knows) is answered to the SP with Requester/NoAuthnContext, which a
pysaml2 SP reads as such, as it reads the school's login falling short (Responder)."""

from __future__ import annotations

from typing import Any

import pytest
from saml2.response import StatusNoAuthnContext
from saml2.saml import AuthnContextClassRef, AuthnContextDeclRef
from saml2.samlp import RequestedAuthnContext

from broker import acr
from broker.acr import AcrRequest
from broker.downstream import NO_AUTHN_CONTEXT
from tests.downstream.refusals import answered, refuse
from tests.downstream.saml_world import SamlWorld

PPT = acr.AC + "PasswordProtectedTransport"
MFA = acr.REFEDS_MFA


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> SamlWorld:
    return SamlWorld(tmp_path_factory.mktemp("saml-idp-acr"))


def asked(*classes: str, comparison: str | None = None, **extra: Any) -> RequestedAuthnContext:
    return RequestedAuthnContext(
        authn_context_class_ref=[AuthnContextClassRef(text=c) for c in classes],
        comparison=comparison, **extra)


@pytest.mark.parametrize("binding", ["redirect", "post"])
@pytest.mark.parametrize(("comparison", "expected"), [
    (None, "exact"), ("exact", "exact"), ("minimum", "minimum"), ("maximum", "maximum"),
    ("better", "better")])
def test_the_requested_context_is_read(world: SamlWorld, binding: str, comparison: str | None,
                                       expected: str) -> None:
    sp = world.pysaml_sp("pyacr")
    request = world.parse(sp.request(binding, requested_authn_context=asked(
        MFA, PPT, comparison=comparison)))
    assert request.acr == AcrRequest((MFA, PPT), expected)


def test_no_requested_context_is_none(world: SamlWorld) -> None:
    assert world.parse(world.pysaml_sp("pyacr").request("post")).acr is None


@pytest.mark.parametrize("binding", ["redirect", "post"])
@pytest.mark.parametrize(("context", "match"), [
    (asked(*[f"urn:class:{i}" for i in range(17)]), "17 classes"),
    (asked("urn:" + "x" * 1100), "1024 characters"),
    (RequestedAuthnContext(authn_context_decl_ref=[AuthnContextDeclRef(text="urn:decl")]),
     "DeclRef"),
    (asked(PPT, comparison="atleast"), "Comparison 'atleast'"),
    (asked(MFA, comparison="better"), "no class Loper knows is better"),
    (asked("urn:school:own", comparison="better"), "no class Loper knows is better"),
], ids=["too many classes", "class too long", "decl ref", "unknown comparison",
        "better than the strongest", "better than an unranked class"])
def test_a_context_loper_cannot_accept_or_meet_is_answered_no_authn_context(
        world: SamlWorld, binding: str, context: RequestedAuthnContext, match: str) -> None:
    """An unknown Comparison breaks the schema's enumeration, and is answered all the same:
    the rest of the request is checked against the schema."""
    sp = world.pysaml_sp("pyacr")
    sent = sp.request(binding, "lesson-5", requested_authn_context=context)
    refused, out = refuse(world, sent)
    assert match in refused.message and refused.supplier_name == "Pyacr"
    answered(world, out, sent, sp.acs_url, NO_AUTHN_CONTEXT, "lesson-5")
    assert out.form is not None
    with pytest.raises(StatusNoAuthnContext):  # after verifying Loper's signature
        sp.accept(dict(out.form), sent.request_id)


def test_no_authn_context_is_a_response_without_assertion(world: SamlWorld) -> None:
    sp = world.pysaml_sp("pyacr")
    sent = sp.request("post", requested_authn_context=asked(MFA))
    request = world.parse(sent)
    answer = world.idp.respond_error(request.supplier, request.request, NO_AUTHN_CONTEXT)
    assert answer.form is not None
    with pytest.raises(StatusNoAuthnContext):
        sp.accept(answer.form, sent.request_id)
