"""The OpenID Provider's settings and what it publishes about itself: its endpoint paths and
the discovery document (OIDC Discovery 1.0, section 3)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import KW_ONLY, dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from broker import profiles
from broker.authlib_extensions import AUTH_METHODS, GRANT_TYPES
from broker.downstream import RecordDelivery
from broker.downstream.oidc_authorize import PROMPTS
from broker.downstream.oidc_clients import ASSERTION_ALGS
from broker.downstream.oidc_common import SCOPES
from broker.downstream.oidc_grants import OpenCheck
from broker.errors import ConfigError

PATHS = {
    "authorization": "/oidc/authorize",
    "token": "/oidc/token",
    "userinfo": "/oidc/userinfo",
    "jwks": "/oidc/jwks",
    "revocation": "/oidc/revoke",
    "end_session": "/oidc/logout",
}
DISCOVERY_PATH = "/.well-known/openid-configuration"


def _always_open(school_id: str, supplier_id: str) -> bool:
    return True


@dataclass(frozen=True)
class OidcOpConfig:
    issuer: str
    """The base URL, e.g. "https://loper.example" (no trailing slash)."""
    signing_keys: Mapping[str, Path]
    """alg ("RS256", "ES256") -> PEM private key; kid = RFC 7638 thumbprint."""
    next_signing_keys: Mapping[str, Path] = field(default_factory=dict)
    """Published in the JWKS before they sign (rollover)."""
    code_ttl: int = 60
    access_token_ttl: int = 3600
    id_token_ttl: int = 300
    refresh_token_ttl: int = 30 * 86400
    still_open: OpenCheck = _always_open
    """(school id, supplier id) -> does the school still release to the supplier today? Asked
    by the token grants and userinfo before they serve a snapshot; the composition root wires
    it to the release policy (the OP knows neither the registry nor release.py)."""
    logout_timeout: float = 3.0
    """Seconds one back-channel logout call may take (the logout_timeout setting)."""
    _: KW_ONLY
    record_delivery: RecordDelivery
    """Writes a release to the ledger; called when a code is redeemed, the moment the supplier
    receives what was released (the composition root wires it to the registry's ledger)."""

    @property
    def scope(self) -> str:
        """Loper's domain: the realm of a profile's scoped pseudonym (Entree's uid)."""
        return urlsplit(self.issuer).hostname or "localhost"

    def __post_init__(self) -> None:
        if not self.issuer.startswith(("https://", "http://")) or self.issuer.endswith("/"):
            raise ConfigError(f"OIDC issuer {self.issuer!r}: an absolute URL without a "
                              "trailing slash is expected")
        ttls = (self.code_ttl, self.access_token_ttl, self.id_token_ttl, self.refresh_token_ttl)
        if any(isinstance(t, bool) or not isinstance(t, int) or t <= 0 for t in ttls):
            raise ConfigError("OIDC lifetimes must be positive whole seconds")


def discovery_document(issuer: str, algorithms: tuple[str, ...]) -> dict[str, object]:
    claims = ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "at_hash", "sid"]
    return {
        "issuer": issuer,
        **{f"{name}_endpoint": issuer + path for name, path in PATHS.items() if name != "jwks"},
        "jwks_uri": issuer + PATHS["jwks"],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": list(GRANT_TYPES),
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": list(algorithms),
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": list(AUTH_METHODS),
        "token_endpoint_auth_signing_alg_values_supported": list(ASSERTION_ALGS),
        "revocation_endpoint_auth_methods_supported": list(AUTH_METHODS),
        "revocation_endpoint_auth_signing_alg_values_supported": list(ASSERTION_ALGS),
        "scopes_supported": list(SCOPES),
        "claims_supported": claims + list(profiles.claim_scopes()),
        "prompt_values_supported": list(PROMPTS),
        "authorization_response_iss_parameter_supported": True,
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        # RP-Initiated, Back-Channel and Front-Channel Logout 1.0
        "backchannel_logout_supported": True,
        "backchannel_logout_session_supported": True,
        "frontchannel_logout_supported": True,
        "frontchannel_logout_session_supported": True,
    }


@dataclass(frozen=True)
class Published:
    """The discovery document and the JWKS as served: JSON serialised once per process (the
    keys are read at start; a new key takes a restart), not again on every fetch."""

    discovery: bytes
    jwks: bytes
