"""Minimal, valid SAML 2.0 metadata for tests: an IdP or an SP with a self-signed certificate."""

from __future__ import annotations

from functools import cache

from cryptography.hazmat.primitives.asymmetric import ec

from tests.certs import cert_b64, new_key, self_signed

MD = "urn:oasis:names:tc:SAML:2.0:metadata"
DS = "http://www.w3.org/2000/09/xmldsig#"
PROTOCOL = "urn:oasis:names:tc:SAML:2.0:protocol"
POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"


@cache
def certificate_b64(common_name: str = "loper-test", days: int = 365) -> str:
    """A self-signed certificate, base64 DER, that ends `days` from now."""
    return cert_b64(self_signed(new_key(ec.SECP256R1()), common_name, days=days))


def _key_descriptor(certificate: str | None = None) -> str:
    return (f'<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>'
            f"{certificate or certificate_b64()}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>"
            "</md:KeyDescriptor>")


def idp_metadata(entity_id: str, certificate: str | None = None) -> str:
    """certificate: base64 DER (certificate_b64(name)); the default test one if None."""
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<md:EntityDescriptor xmlns:md="{MD}" xmlns:ds="{DS}" entityID="{entity_id}">\n'
            f'  <md:IDPSSODescriptor protocolSupportEnumeration="{PROTOCOL}">\n'
            f"    {_key_descriptor(certificate)}\n"
            f'    <md:SingleSignOnService Binding="{POST}" Location="{entity_id}/sso"/>\n'
            "  </md:IDPSSODescriptor>\n</md:EntityDescriptor>\n")


def sp_metadata(entity_id: str) -> str:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<md:EntityDescriptor xmlns:md="{MD}" xmlns:ds="{DS}" entityID="{entity_id}">\n'
            f'  <md:SPSSODescriptor protocolSupportEnumeration="{PROTOCOL}">\n'
            f"    {_key_descriptor()}\n"
            f'    <md:AssertionConsumerService Binding="{POST}" Location="{entity_id}/acs" '
            'index="0"/>\n'
            "  </md:SPSSODescriptor>\n</md:EntityDescriptor>\n")
