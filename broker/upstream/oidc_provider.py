"""A school's OpenID Provider as Loper knows it: its discovery document and its keys, cached.

Discovery (OIDC Discovery 1.0 section 4) is read from `{issuer}/.well-known/openid-configuration`;
its `issuer` must equal the configured issuer exactly (section 4.3), or, for a multi-tenant
provider read at a shared tenant (Microsoft's `organizations`), the configured template. Both
documents are kept for `ttl` seconds per process; on an ID token signed with an unknown key id
the JWKS is read again, at most once per `min_refresh` seconds (key rollover without a restart).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from joserfc.errors import JoseError
from joserfc.jwk import JWKRegistry, Key, KeySet

from broker.errors import UpstreamRejected
from broker.jsonvalue import Json
from broker.upstream.oidc_http import Http, host_of, is_secure_url

DISCOVERY_PATH = "/.well-known/openid-configuration"


@dataclass(frozen=True)
class ProviderInfo:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str | None
    iss_parameter_supported: bool
    """RFC 9207: the provider puts `iss` in every authorization response."""
    token_auth_methods: tuple[str, ...]
    template: str | None = None
    """A multi-tenant issuer ({tenantid}): answers may name any tenant's issuer of its shape."""
    end_session_endpoint: str | None = None
    """RP-Initiated Logout 1.0 (None: the school offers no logout, or not over https)."""

    @classmethod
    def parse(cls, doc: Mapping[str, Json], issuer: str,
              template: str | None = None) -> ProviderInfo:
        where = f"The discovery document of your school's login server ({host_of(issuer)})"
        if doc.get("issuer") not in (issuer, template or issuer):
            raise UpstreamRejected(f"{where} names another issuer than the one registered for "
                                   f"your school ({issuer}); the issuer must match exactly.")
        urls = {name: doc.get(name) for name in
                ("authorization_endpoint", "token_endpoint", "jwks_uri")}
        userinfo = doc.get("userinfo_endpoint")
        if userinfo is not None:
            urls["userinfo_endpoint"] = userinfo
        wrong = sorted(name for name, url in urls.items() if not is_secure_url(url))
        if wrong:
            raise UpstreamRejected(f"{where} lacks a valid https URL for: {', '.join(wrong)}.")
        methods = doc.get("token_endpoint_auth_methods_supported")
        return cls(issuer=issuer,
                   authorization_endpoint=str(urls["authorization_endpoint"]),
                   token_endpoint=str(urls["token_endpoint"]),
                   jwks_uri=str(urls["jwks_uri"]),
                   userinfo_endpoint=str(userinfo) if userinfo is not None else None,
                   iss_parameter_supported=(
                       doc.get("authorization_response_iss_parameter_supported") is True),
                   token_auth_methods=tuple(m for m in methods if isinstance(m, str))
                   if isinstance(methods, list) else (), template=template,
                   end_session_endpoint=_optional_url(doc.get("end_session_endpoint")))


def _optional_url(value: object) -> str | None:
    return value if isinstance(value, str) and is_secure_url(value) else None


@dataclass
class _Entry:
    info: ProviderInfo
    fetched: float
    keys: KeySet | None = None
    keys_fetched: float = field(default=float("-inf"))


class ProviderCache:
    """Discovery and JWKS per issuer, shared by all threads of this process."""

    def __init__(self, http: Http, ttl: float = 3600.0, min_refresh: float = 60.0) -> None:
        self.http = http
        self.ttl = ttl
        self.min_refresh = min_refresh
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()

    def provider(self, issuer: str, template: str | None = None) -> ProviderInfo:
        """Read at `issuer`; the document may name `template` instead (a multi-tenant one)."""
        return self._entry(issuer, template).info

    def _entry(self, issuer: str, template: str | None = None) -> _Entry:
        with self._lock:
            entry = self._entries.get(issuer)
        if entry is not None and time.monotonic() - entry.fetched < self.ttl:
            return entry
        url = issuer.rstrip("/") + DISCOVERY_PATH
        info = ProviderInfo.parse(self.http.document(url, "discovery document"), issuer,
                                  template)
        fresh = _Entry(info, time.monotonic())
        with self._lock:
            self._entries[issuer] = fresh
        return fresh

    def keys(self, issuer: str, kid: str | None, template: str | None = None) -> KeySet:
        """The provider's signing keys; read again when `kid` is unknown (rate limited)."""
        entry = self._entry(issuer, template)
        now = time.monotonic()
        stale = entry.keys is None or now - entry.keys_fetched >= self.ttl
        unknown = entry.keys is not None and not _has_kid(entry.keys, kid)
        if stale or (unknown and now - entry.keys_fetched >= self.min_refresh):
            keys = _read_jwks(self.http, entry.info.jwks_uri)
            with self._lock:
                entry.keys, entry.keys_fetched = keys, now
            return keys
        assert entry.keys is not None
        return entry.keys


def _has_kid(keys: KeySet, kid: str | None) -> bool:
    return kid is None or any(key.kid == kid for key in keys)


def _read_jwks(http: Http, url: str) -> KeySet:
    """The signing keys of a JWKS; keys for encryption or of unknown types are skipped."""
    doc = http.document(url, "signing keys (JWKS)")
    listed = doc.get("keys")
    problem = UpstreamRejected(f"The signing keys (JWKS) published by your school's login "
                               f"server ({host_of(url)}) cannot be read.")
    if not isinstance(listed, list):
        raise problem
    keys: list[Key] = []
    for data in listed:
        if not isinstance(data, dict) or data.get("use", "sig") != "sig":
            continue
        try:
            keys.append(JWKRegistry.import_key(_key_parameters(data)))
        except (JoseError, ValueError, TypeError, KeyError):
            continue  # RFC 7517 section 5: skip a key that cannot be understood
    if not keys:
        raise problem
    return KeySet(keys)


def _key_parameters(data: Mapping[str, Json]) -> dict[str, str | list[str]]:
    """A JWK's members as joserfc reads them: strings and lists of strings (x5c, key_ops);
    members of other types are not key parameters (RFC 7517 4: ignore what is not understood)."""
    out: dict[str, str | list[str]] = {}
    for name, value in data.items():
        if isinstance(value, str):
            out[name] = value
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            out[name] = [v for v in value if isinstance(v, str)]
    return out
