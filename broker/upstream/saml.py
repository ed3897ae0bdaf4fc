"""Loper as a SAML service provider towards the schools' identity providers.

The AuthnRequest is built on lxml (saml_request.py), and so are the logout messages; the
school's Response is read on lxml, once (saml_verify.py: signatures against the one school's
metadata, decryption, and the checks in saml_checks.py); the pysaml2 set-up (which reads the
school's metadata) is in saml_config.py.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from broker import codec
from broker.errors import BadRequest, ConfigError
from broker.identity import PendingLogin
from broker.outgoing import Outgoing
from broker.records import School
from broker.saml import views
from broker.saml.compat import (
    BINDING_HTTP_POST,
    BINDING_HTTP_REDIRECT,
)
from broker.saml.decode import decode_post
from broker.saml.logout_messages import AskedLogout, Received
from broker.saml.published import Renderings
from broker.upstream import Callback
from broker.upstream import saml_logout as logouts
from broker.upstream.saml_checks import Expected, check_max_age, confirmation_expiry
from broker.upstream.saml_config import Attach, SamlSpConfig, SchoolClients, sp_metadata_xml
from broker.upstream.saml_identity import identity_of
from broker.upstream.saml_kind import SamlSchool
from broker.upstream.saml_request import Ask, Requester, authn_request
from broker.upstream.saml_verify import read_response

__all__ = ["SamlSpConfig", "SamlUpstream"]

@dataclass(frozen=True)
class RequestState:
    """What Loper keeps between its AuthnRequest and the school's Response."""

    id: str
    """The AuthnRequest's ID: the Response must be InResponseTo it."""
    at: int
    """When it was issued (seconds since the epoch)."""
    force: bool
    """ForceAuthn was sent: the AuthnInstant must not be older than the request."""
    max_age: int | None = None
    """The supplier's max_age: the AuthnInstant must not be older than that."""


def _saml(school: School) -> SamlSchool:
    if not isinstance(school.config, SamlSchool):
        raise ConfigError(f"School {school.id} is not configured for SAML.")
    return school.config


def _sso_endpoint(client: views.SpClient, entity_id: str) -> tuple[str, str]:
    """HTTP-Redirect when the school's IdP offers it, else HTTP-POST."""
    # Asked per binding, pysaml2 raises UnsupportedBinding (and logs an error) when absent.
    offered = client.metadata.service(entity_id, "idpsso_descriptor",
                                      "single_sign_on_service") or {}
    for binding in (BINDING_HTTP_REDIRECT, BINDING_HTTP_POST):
        if offered.get(binding):
            return binding, str(offered[binding][0]["location"])
    raise ConfigError(f"The metadata of {entity_id} offers no SingleSignOnService over "
                      "HTTP-Redirect or HTTP-POST.")


def _forced(pending: PendingLogin) -> bool:
    """SAML has no max_age (OIDC Core 3.1.2.1): max_age=0 asks for a fresh login at once; any
    other max_age is checked against the answer's AuthnInstant (check_max_age), and only an
    answer too old for it makes the flow ask again with ForceAuthn. So a school with a fresh
    session spares the pupil their password."""
    return pending.force_authn or pending.max_age == 0


class SamlUpstream:
    """The Upstream protocol for schools with a SAML identity provider."""

    def __init__(self, config: SamlSpConfig, *, attach_crypto: Attach | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        """attach_crypto: e.g. broker.saml.crypto.attach, to replace pysaml2's xmlsec1 backend
        in each school's client (called with allow_sha1=legacy_sha1 of SamlSchool)."""
        self._config = config
        self._clients = SchoolClients(config, attach_crypto)
        self._requester = Requester(config.entity_id, config.acs_url, config.organization,
                                    config.signing)
        self._metadata = Renderings(lambda _scopes, now: sp_metadata_xml(config, now), clock)
        self._metadata.get()  # a broken key or setting fails at start, not on a request

    def metadata_xml(self) -> str:
        """Rendered again every hour, which moves its validUntil on."""
        return self._metadata.get()

    def _client(self, school: School, saml: SamlSchool) -> views.SpClient:
        return self._clients.get(school.id, saml)

    def login_redirect(self, school: School, pending: PendingLogin,
                       relay_state: str) -> tuple[Outgoing, bytes]:
        saml = _saml(school)
        client = self._client(school, saml)
        binding, destination = _sso_endpoint(client, saml.entity_id)
        issued_at = int(time.time())
        ask = Ask(forced=_forced(pending), persistent=saml.subject == "nameid")
        try:
            request_id, outgoing = authn_request(self._requester, destination,
                                                 binding == BINDING_HTTP_POST, pending, ask,
                                                 relay_state)
        except Exception as exc:  # signing fails only on a broken key or xmlsec set-up
            raise ConfigError(f"The AuthnRequest for {school.id} cannot be created "
                              f"({type(exc).__name__}: {exc})") from exc
        kept = RequestState(request_id, issued_at, _forced(pending), pending.max_age)
        return outgoing, codec.encode(kept)

    def _expected(self, saml: SamlSchool, state: bytes) -> Expected:
        kept = codec.decode(state, RequestState)
        if kept is None:
            raise BadRequest("The state of this login is incomplete; start the login again.")
        return Expected(self._config.entity_id, self._config.acs_url, saml.entity_id,
                        kept.id, float(kept.at), kept.force, self._config.clock_skew,
                        saml.legacy_sha1, time.time(), kept.max_age)

    def handle_callback(self, school: School, params: Mapping[str, str],
                        state: bytes) -> Callback:
        saml = _saml(school)
        exp = self._expected(saml, state)
        encoded = params.get("SAMLResponse")
        if not encoded:
            raise BadRequest("The school's answer carries no SAMLResponse.")
        trust = self._clients.trust(school.id, saml)
        assertion = read_response(decode_post(encoded), exp, trust)
        identity = identity_of(school, saml, assertion)
        check_max_age(identity.authn.instant, exp)  # verified first: only then worth a retry
        ttl = math.ceil(confirmation_expiry(assertion) + exp.skew - time.time())
        return Callback(identity, f"saml-assertion:{assertion.id}", max(1, ttl),
                        session=logouts.school_session(assertion))

    # -- single logout (saml_logout.py) ---------------------------------------------------------
    def logout_redirect(self, school: School, session: bytes,
                        relay_state: str) -> tuple[Outgoing, bytes] | None:
        saml = _saml(school)
        return logouts.ask(self._config, self._client(school, saml), saml, session,
                           relay_state)

    def handle_logout(self, school: School, params: Mapping[str, str], state: bytes) -> bool:
        saml = _saml(school)
        return logouts.answered(self._config, self._client(school, saml), saml, params, state)

    def answer_logout(self, school: School, request: bytes, complete: bool) -> Outgoing:
        saml = _saml(school)
        return logouts.answer(self._config, self._client(school, saml), saml, request,
                              complete)

    def parse_logout_request(self, school: School,
                             params: Mapping[str, str]) -> tuple[Received, bytes]:
        """The school's LogoutRequest, checked, and what answer_logout needs."""
        saml = _saml(school)
        received = logouts.read(self._config, self._client(school, saml), saml, params,
                                "LogoutRequest")
        return received, codec.encode(AskedLogout(received.id, received.relay_state))

    @staticmethod
    def logout_names(session: bytes, received: Received) -> bool:
        """Does the school's LogoutRequest name the school session kept as `session`?"""
        return logouts.names(session, received)
