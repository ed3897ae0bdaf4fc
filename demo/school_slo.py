"""Single logout at the demo school's IdP, with pysaml2, over HTTP-Redirect: an SP's (Loper's)
LogoutRequest ends the school session and is answered; the school's own "log out" sends the SP
a LogoutRequest. Every message is signed RSA-SHA256; the SP's signature is checked against its
metadata (pysaml2's verify_redirect_signature) before pysaml2 reads the message.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from saml2 import BINDING_HTTP_REDIRECT
from saml2.saml import NAMEID_FORMAT_PERSISTENT, NameID
from saml2.sigver import verify_redirect_signature
from saml2.xmldsig import SIG_RSA_SHA256

from demo.saml_errors import describe_and_release
from demo.saml_status import codes_of, everywhere
from demo.school_saml import SchoolIdpTool, SchoolRequestError


@dataclass(frozen=True)
class Slo:
    kind: str
    """"request": an SP ends the school session (`redirect` answers it); "response": the SP
    answered the school's own LogoutRequest (`ok`)."""
    name_id: str | None = None
    redirect: str | None = None
    ok: bool = False
    in_response_to: str | None = None


def _sp_slo(tool: SchoolIdpTool, sp: str) -> str | None:
    # Asked, pysaml2 raises UnsupportedBinding (and logs an error) when the SP has none.
    services = [service for descriptor in tool.server.metadata[sp].get("spsso_descriptor", [])
                for service in descriptor.get("single_logout_service", [])
                if service["binding"] == BINDING_HTTP_REDIRECT]
    return services[0]["location"] if services else None


def _check_signed(tool: SchoolIdpTool, message: Mapping[str, str], sp: str) -> None:
    if "Signature" not in message or "SigAlg" not in message:
        raise SchoolRequestError("the logout message is not signed")
    backend = tool.server.sec.sec_backend
    certs = tool.server.metadata.certs(sp, "spsso", "signing")
    try:
        ok = any(verify_redirect_signature(dict(message), backend, cert) for _, cert in certs)
    except Exception as exc:  # an unsupported SigAlg, a malformed signature
        raise SchoolRequestError(f"bad logout signature: {describe_and_release(exc)}") from None
    if not ok:
        raise SchoolRequestError("bad logout signature")


def _issuer(tool: SchoolIdpTool, parse: object, value: str) -> tuple[object, str]:
    try:
        parsed = parse(value, BINDING_HTTP_REDIRECT)  # type: ignore[operator]
    except Exception as exc:  # pysaml2 raises many unrelated types
        raise SchoolRequestError(f"unusable logout message: {describe_and_release(exc)}") \
            from None
    if parsed is None:
        raise SchoolRequestError("unusable logout message")
    issuer = parsed.message.issuer.text if hasattr(parsed, "message") else (
        parsed.response.issuer.text)
    if issuer not in tool.server.metadata.keys():
        raise SchoolRequestError("the logout message comes from an unknown SP")
    return parsed, str(issuer)


def receive(tool: SchoolIdpTool, query: Mapping[str, str]) -> Slo:
    message = {k: query[k] for k in ("SAMLRequest", "SAMLResponse", "RelayState", "SigAlg",
                                     "Signature") if k in query}
    server = tool.server
    if "SAMLRequest" in message:
        parsed, sp = _issuer(tool, server.parse_logout_request, message["SAMLRequest"])
        _check_signed(tool, message, sp)
        request = parsed.message  # type: ignore[attr-defined]
        destination = _sp_slo(tool, sp)
        if destination is None:
            raise SchoolRequestError("the SP offers no single logout to answer")
        answer = server.create_logout_response(request, [BINDING_HTTP_REDIRECT], sign=False)
        info = server.apply_binding(BINDING_HTTP_REDIRECT, str(answer), destination,
                                    relay_state=message.get("RelayState", ""), response=True,
                                    sign=True, sigalg=SIG_RSA_SHA256)
        return Slo("request", name_id=request.name_id.text,
                   redirect=dict(info["headers"])["Location"])
    parsed, sp = _issuer(tool, server.parse_logout_request_response,
                         message.get("SAMLResponse", ""))
    _check_signed(tool, message, sp)
    response = parsed.response  # type: ignore[attr-defined]
    return Slo("response", ok=everywhere(codes_of(response.status)),
               in_response_to=response.in_response_to)


def ask(tool: SchoolIdpTool, sp: str, person_id: str) -> tuple[str, str] | None:
    """The school's own logout: a LogoutRequest to `sp` (its id, the redirect URL)."""
    destination = _sp_slo(tool, sp)
    if destination is None:
        return None
    name_id = NameID(text=person_id, format=NAMEID_FORMAT_PERSISTENT,
                     name_qualifier=tool.entity_id, sp_name_qualifier=sp)
    request_id, request = tool.server.create_logout_request(destination, sp, name_id=name_id,
                                                            sign=False)
    info = tool.server.apply_binding(BINDING_HTTP_REDIRECT, str(request), destination,
                                     relay_state="", sign=True, sigalg=SIG_RSA_SHA256)
    return str(request_id), dict(info["headers"])["Location"]
