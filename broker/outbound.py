"""Outbound fetches (school metadata, OIDC discovery, JWKS, tokens): one CA policy.

requests reads REQUESTS_CA_BUNDLE itself but not SSL_CERT_FILE; both are honoured, in that
order, before certifi's bundle (DESIGN: the standard CA variables).
"""

from __future__ import annotations

import os


def ca_bundle() -> str | bool:
    """The CA bundle to verify https with: REQUESTS_CA_BUNDLE, SSL_CERT_FILE or certifi's."""
    return os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("SSL_CERT_FILE") or True
