"""A supplier's RequestedAuthnContext (SAML core 3.3.2.2.1): read into the DownstreamRequest,
refused when malformed or of absurd size, and NoAuthnContext as a pysaml2 SP reads it."""

from __future__ import annotations

from typing import Any

import pytest
from saml2.response import StatusNoAuthnContext
from saml2.saml import AuthnContextClassRef, AuthnContextDeclRef
from saml2.samlp import RequestedAuthnContext

from broker import acr
from broker.acr import AcrRequest
from broker.downstream import NO_AUTHN_CONTEXT
from broker.errors import BadRequest, RequestRejected
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


@pytest.mark.parametrize(("context", "match"), [
    (asked(*[f"urn:class:{i}" for i in range(17)]), "17 classes"),
    (asked("urn:" + "x" * 1100), "1024 characters"),
    (RequestedAuthnContext(authn_context_decl_ref=[AuthnContextDeclRef(text="urn:decl")]),
     "DeclRef"),
], ids=["too many classes", "class too long", "decl ref"])
def test_a_malformed_context_is_a_bad_request(world: SamlWorld, context: RequestedAuthnContext,
                                              match: str) -> None:
    sp = world.pysaml_sp("pyacr")
    with pytest.raises(BadRequest, match=match) as refused:
        world.parse(sp.request("post", requested_authn_context=context))
    assert refused.value.status == 400 and refused.value.supplier_name


def test_an_unknown_comparison_fails_the_schema_check(world: SamlWorld) -> None:
    """pysaml2's schema check knows the enumeration: refused like any malformed request."""
    sp = world.pysaml_sp("pyacr")
    with pytest.raises(RequestRejected, match="comparison") as refused:
        world.parse(sp.request("post", requested_authn_context=asked(PPT, comparison="atleast")))
    assert refused.value.status == 403 and refused.value.supplier_name


def test_no_authn_context_is_a_response_without_assertion(world: SamlWorld) -> None:
    sp = world.pysaml_sp("pyacr")
    sent = sp.request("post", requested_authn_context=asked(MFA))
    request = world.parse(sent)
    answer = world.idp.respond_error(request.supplier, request.request, NO_AUTHN_CONTEXT)
    assert answer.form is not None
    with pytest.raises(StatusNoAuthnContext):
        sp.accept(answer.form, sent.request_id)
