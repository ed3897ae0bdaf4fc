"""The authorization request (OIDC Core 3.1.2, RFC 6749 4.1.1, RFC 7636 4.3).

The client and its redirect_uri are checked first; a problem with either ends on Loper's own
error page and never in a redirect (RFC 6749 4.1.2.1: an unchecked redirect_uri makes Loper an
open redirector). redirect_uri is required in every request (OIDC Core 3.1.2.1), even when the
client registered only one. Every later problem goes back to the checked redirect_uri.

prompt (OIDC Core 3.1.2.1): `none` answers from the SSO session or with login_required, alone;
`login` asks the school for a fresh login; `select_account` shows the school picker (the
"account" is the school), also with an SSO session or a school hint. `consent` is accepted and
changes nothing: Loper asks no consent of its own, the school as controller releases to the
supplier (release.py, decided again at every login), and offline_access needs consent only
without "other conditions" (OIDC Core 11), which the supplier's registration flag
`offline_access` is (without it the scope is dropped). consent_required would fail every
relying party asking prompt=consent for a refresh token. Any other value (a typo, `create`) is
invalid_request (OpenID Connect Prompt Create 1.0, 4.1: a value not in
prompt_values_supported), never ignored.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass

from broker import acr, codec
from broker.authlib_extensions import OAuthError
from broker.downstream import DownstreamRequest, named_school
from broker.downstream.oidc_clients import Client
from broker.errors import BadRequest, RequestRejected, UnknownSupplier
from broker.records import Supplier

MAX_STATE = 2048
"""Characters of a client's state: ASP.NET Core's OpenID Connect handler sends its encrypted
properties as the state, often over 512 characters; a longer one is refused, not echoed."""
MAX_NONCE = 255
MAX_ID = 255
MAX_ECHO = 40
"""Characters of a refused value that an error description repeats."""
PROMPTS = ("none", "login", "consent", "select_account")
"""The prompt values honoured, as discovery publishes them (prompt_values_supported)."""
UNSUPPORTED = {
    "request": "request_not_supported",
    "request_uri": "request_uri_not_supported",
    "registration": "registration_not_supported",
}


@dataclass(frozen=True)
class Target:
    """A client and the redirect_uri it may be answered at: checked, so safe to redirect to."""

    client: Client
    redirect_uri: str


@dataclass(frozen=True)
class Ask:
    """The checked request, as the flow keeps it (encoded by broker.codec, opaque to the flow;
    well under 1 KB)."""

    client_id: str
    redirect_uri: str
    scope: tuple[str, ...]
    state: str | None = None
    nonce: str | None = None
    code_challenge: str | None = None
    max_age: int | None = None

    def params(self) -> dict[str, str]:
        """The authorization request again, as authlib reads it when the code is issued."""
        asked = {"response_type": "code", "client_id": self.client_id,
                 "redirect_uri": self.redirect_uri, "scope": " ".join(self.scope),
                 "state": self.state, "nonce": self.nonce, "code_challenge": self.code_challenge,
                 "code_challenge_method": self.code_challenge and "S256"}
        return {k: v for k, v in asked.items() if v is not None}

    @classmethod
    def read(cls, data: bytes) -> Ask:
        ask = codec.decode(data, cls)
        if ask is None:
            raise RequestRejected("This login's request data is damaged.")
        return ask


def find_target(params: Mapping[str, str], repeated: Collection[str],
                query_client: Callable[[str], Client | None]) -> Target:
    """The client and redirect_uri, or a BrokerError (an error page, never a redirect)."""
    client_id = params.get("client_id", "")
    if "client_id" in repeated or "redirect_uri" in repeated:
        raise BadRequest("The learning app sent client_id or redirect_uri more than once.")
    if not client_id or len(client_id) > MAX_ID:
        raise BadRequest("The learning app's login request names no valid client_id.")
    client = query_client(client_id)
    if client is None:
        raise UnknownSupplier("No learning app is registered with this client_id.")
    supplier, given = client.supplier, params.get("redirect_uri")
    if not given:  # OIDC Core 3.1.2.1: REQUIRED, also with a single registered redirect_uri
        raise RequestRejected(
            "The learning app's login request must name its registered redirect_uri.",
            back_url=supplier.url, supplier_name=supplier.name)
    if not client.check_redirect_uri(given):
        raise RequestRejected(
            "The learning app asked to return to an address that it has not registered.",
            back_url=supplier.url, supplier_name=supplier.name)
    return Target(client, given)


def parse(params: Mapping[str, str], repeated: Collection[str], target: Target,
          algorithms: Collection[str], validate: Callable[[Mapping[str, str]], str]
          ) -> DownstreamRequest:
    """Check everything after the target (`validate`: authlib's checks, giving the scope);
    raise OAuthError, which goes back as a redirect."""
    _check_shape(params, repeated)
    oidc = target.client.oidc
    target.client.signing_alg(algorithms)
    ask = Ask(client_id=oidc.client_id, redirect_uri=target.redirect_uri,
              scope=tuple(validate(params).split()),
              state=_capped(params, "state", MAX_STATE), nonce=_capped(params, "nonce", MAX_NONCE),
              code_challenge=params.get("code_challenge"),
              max_age=_max_age(params.get("max_age")))
    prompts = _prompts(params.get("prompt"))
    supplier = target.client.supplier
    return DownstreamRequest(supplier=supplier, request=codec.encode(ask),
                             school_hints=_hints(params, supplier), force_authn="login" in prompts,
                             passive="none" in prompts, max_age=ask.max_age,
                             acr=_acr_values(params.get("acr_values")),
                             select_school="select_account" in prompts)


def _check_shape(params: Mapping[str, str], repeated: Collection[str]) -> None:
    """What authlib does not check: every parameter once (it checks five), the request objects
    Loper does not support, a missing response_type (authlib: unsupported), the query mode."""
    if repeated:
        raise OAuthError("invalid_request", "A request parameter is repeated.")
    for name, error in UNSUPPORTED.items():
        if name in params:
            raise OAuthError(error, f"The {name} parameter is not supported.")
    if not params.get("response_type"):
        raise OAuthError("invalid_request", "response_type is missing.")
    if params.get("response_mode", "query") != "query":
        raise OAuthError("invalid_request", "Only response_mode=query is supported.")


def _capped(params: Mapping[str, str], name: str, limit: int) -> str | None:
    value = params.get(name)
    if value is not None and len(value) > limit:
        raise OAuthError("invalid_request", f"The {name} parameter is too long.")
    return value or None


def _prompts(value: str | None) -> frozenset[str]:
    """The prompt values asked (see the module docstring); invalid_request for one Loper does
    not honour, and for `none` with another."""
    prompts = frozenset((value or "").split())
    unknown = prompts.difference(PROMPTS)
    if unknown:
        raise OAuthError("invalid_request",
                         f"prompt={_echo(min(unknown))} is not supported; supported values "
                         f"are {' '.join(PROMPTS)}.")
    if "none" in prompts and len(prompts) > 1:
        raise OAuthError("invalid_request", "prompt=none cannot be combined with other values.")
    return prompts


def _echo(value: str) -> str:
    """A value the request sent, as an error description may repeat it: at most MAX_ECHO
    characters, and only those RFC 6749 4.1.2.1 allows there (printable ASCII but " and \\)."""
    shown = "".join(c if " " <= c <= "~" and c not in '"\\' else "?" for c in value[:MAX_ECHO])
    return shown + "..." if len(value) > MAX_ECHO else shown


def _max_age(value: str | None) -> int | None:
    if value is None:
        return None
    if not value.isascii() or not value.isdigit() or len(value) > 9:
        raise OAuthError("invalid_request", "max_age must be a number of seconds.")
    return int(value)


def _acr_values(value: str | None) -> acr.AcrRequest | None:
    """OIDC Core 3.1.2.1 acr_values: voluntary, so passed on to the school but never a reason
    to refuse its answer; the ID token's `acr` is what the school asserted."""
    classes = tuple(value.split()) if value else ()
    problem = acr.problem(classes)
    if problem is not None:
        raise OAuthError("invalid_request", f"acr_values cannot be accepted: {problem}.")
    return acr.AcrRequest(classes, required=False) if classes else None


def _hints(params: Mapping[str, str], supplier: Supplier) -> tuple[str, ...]:
    """The school named by `school` or `idp_hint`; naming two is a 400 on Loper's page."""
    try:
        named = named_school(params)
    except BadRequest as exc:
        exc.back_url, exc.supplier_name = supplier.url, supplier.name
        raise
    return (named,) if named and len(named) <= MAX_ID else ()


def safe_state(params: Mapping[str, str]) -> str | None:
    """The state to echo in an error answer: verbatim, unless it is over the cap."""
    state = params.get("state")
    return state if state and len(state) <= MAX_STATE else None
