"""Loper's SAML IdP settings, and the pysaml2 configuration derived from them in one place."""

from __future__ import annotations

from dataclasses import dataclass

from broker.keys import KeyPair
from broker.saml.compat import (
    BINDING_HTTP_POST,
    BINDING_HTTP_REDIRECT,
    DIGEST_SHA256,
    SIG_RSA_SHA256,
    idp_config,
)
from broker.saml.published import Presentation

PERSISTENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
TRANSIENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"
UNSPECIFIED = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"
NAME_ID_FORMATS = (PERSISTENT, TRANSIENT)


@dataclass(frozen=True)
class SamlIdpConfig:
    entity_id: str
    """f"{base_url}/saml/idp/metadata"."""
    sso_url: str
    """f"{base_url}/saml/idp/sso": one URL for HTTP-Redirect (GET) and HTTP-POST."""
    signing: KeyPair
    next_signing: KeyPair | None = None
    """Published in the metadata before it is used (key rollover)."""
    scope: str = "localhost"
    """The scope of the pairwise-id attribute: Loper's domain."""
    encryption: str = "aes256-gcm"
    """Assertion encryption: aes256-gcm, aes128-gcm, or aes256-cbc / aes128-cbc for older SPs."""
    relay_state_max: int = 1024
    clock_skew: int = 60
    assertion_lifetime: int = 300
    request_lifetime: int = 300
    """How old (IssueInstant, plus clock_skew) an AuthnRequest may be when it arrives."""
    presentation: Presentation = Presentation()
    """Name, links, logo, contacts and validity published in the metadata."""
    metadata_signing: KeyPair | None = None
    """Signs the metadata (an enveloped RSA-SHA256 signature) when the operator set one."""

    @property
    def slo_url(self) -> str:
        """f"{base_url}/saml/idp/slo": SingleLogoutService over HTTP-Redirect and HTTP-POST."""
        return self.sso_url.rsplit("/", 1)[0] + "/slo"


def pysaml2_config(config: SamlIdpConfig, sp_metadata: str | None = None) -> object:
    """pysaml2's view of Loper's IdP.

    With `sp_metadata`: a verifier that knows exactly one SP and holds no private key (one per
    supplier, cheap). Without: the signer that holds Loper's keys (one per process).
    """
    idp: dict[str, object] = {
        "endpoints": {"single_sign_on_service": [(config.sso_url, BINDING_HTTP_REDIRECT),
                                                 (config.sso_url, BINDING_HTTP_POST)],
                      "single_logout_service": [(config.slo_url, BINDING_HTTP_REDIRECT),
                                                (config.slo_url, BINDING_HTTP_POST)]},
        "name_id_format": list(NAME_ID_FORMATS),
        "want_authn_requests_signed": False,
        # pysaml2 defaults to RSA-SHA1/SHA-1 unless these sit inside service.idp
        "signing_algorithm": SIG_RSA_SHA256,
        "digest_algorithm": DIGEST_SHA256,
    }
    conf: dict[str, object] = {
        "entityid": config.entity_id,
        "accepted_time_diff": config.clock_skew,
        "metadata_key_usage": "signing",
        "service": {"idp": idp},
    }
    if sp_metadata is not None:
        conf["metadata"] = {"inline": [sp_metadata]}
    else:
        conf["key_file"] = str(config.signing.key)
        conf["cert_file"] = str(config.signing.cert)
        if config.next_signing is not None:
            conf["additional_cert_files"] = [str(config.next_signing.cert)]
    return idp_config(conf)
