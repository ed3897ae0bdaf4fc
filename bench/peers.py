"""The peers' side of a login, done by the bench itself so that their cost stays out of Loper's.

Suppliers build their request before the timed hops (the real demo SPs do it: pysaml2 and
python3-saml), and check Loper's answer; schools answer the request Loper sent them
(`SchoolIdpTool.build_response` for the SAML school, the demo OIDC school's own endpoints for
the OIDC one). The first login of every scenario is verified in depth by the supplier's
library, so the bench only ever measures logins that really succeed.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit

import lxml.html
import requests
from flask import Flask
from lxml import etree

from bench.transport import Request, Response, Transport
from demo.people import DemoPerson

PASSWORD = "demo"
_CONTEXT_APP = Flask("bench-peers")
"""The demo peers render their forms with Jinja: they need an app context, nothing more."""


class LoginFailed(Exception):
    """A hop answered something other than the next step of a successful login."""


def expect(condition: bool, problem: str, response: Response | None = None) -> None:
    if not condition:
        detail = ""
        if response is not None:
            detail = f" (HTTP {response.status}: {response.text()[:300]!r})"
        raise LoginFailed(problem + detail)


def form_fields(html: bytes | str, base_url: str) -> tuple[str, dict[str, str]]:
    """The action and fields of the one form on an auto-POST page."""
    doc = lxml.html.fromstring(html, base_url=base_url)
    forms = doc.forms
    if len(forms) != 1:
        raise LoginFailed(f"expected one form, found {len(forms)}")
    form = forms[0]
    fields = {i.get("name"): i.get("value", "") for i in form.inputs if i.get("name")}
    return str(form.action or base_url), fields


def redirect_or_post(response: Response, base_url: str) -> Request:
    """A browser's next request: follow a redirect, or submit an auto-POST form."""
    if response.status in (301, 302, 303, 307):
        return Request("GET", response.location)
    expect(response.status == 200, "expected a redirect or an auto-POST form", response)
    action, fields = form_fields(response.body, base_url)
    return Request("POST", action, fields)


# -- suppliers ---------------------------------------------------------------------------------

Step = tuple[str, Request]
"""A supplier's follow-up request to Loper, by hop name ("token", "userinfo")."""


@dataclass
class Started:
    """A supplier's login request, built before the timed hops."""

    request: Request
    context: dict[str, str]


class SupplierDriver(Protocol):
    id: str
    protocol: str
    label: str

    def start(self, hint: str | None) -> Started: ...

    def answered(self, started: Started, response: Response) -> Step | None:
        """Check Loper's answer; the supplier's next request to Loper (OIDC: token), if any."""
        ...

    def followed(self, started: Started, step: str, response: Response) -> Step | None:
        """Check the answer to a follow-up; the next one (OIDC: user info), if any."""
        ...

    def verify(self, started: Started, response: Response, transport: Transport) -> None:
        """Check the final answer in depth with the supplier's own library."""
        ...


class SamlSupplierDriver:
    """A demo SAML SP (pysaml2 `Pysaml2Sp` or python3-saml `OneloginSp`)."""

    protocol = "saml"

    def __init__(self, supplier_id: str, sp: Any, label: str, base_url: str) -> None:
        self.id = supplier_id
        self.sp = sp
        self.label = label
        self.base_url = base_url

    def start(self, hint: str | None) -> Started:
        with _CONTEXT_APP.test_request_context():
            out = self.sp.start_login(hint, False, False)
        if isinstance(out.response, str):  # python3-saml: an auto-POST form
            action, fields = form_fields(out.response, self.base_url)
            request = Request("POST", action, fields)
        else:  # pysaml2: HTTP-Redirect
            request = Request("GET", out.response.headers["Location"])
        return Started(request, {"request_id": out.request_id})

    def answered(self, started: Started, response: Response) -> Step | None:
        expect(response.status == 200, "expected the SAML auto-POST form", response)
        action, fields = form_fields(response.body, self.base_url)
        expect(action == self.sp.acs_url and "SAMLResponse" in fields,
               f"expected a SAMLResponse for {self.sp.acs_url}, got a form to {action}")
        return None

    def followed(self, started: Started, step: str, response: Response) -> Step | None:
        return None

    def verify(self, started: Started, response: Response, transport: Transport) -> None:
        action, fields = form_fields(response.body, self.base_url)
        parts = urlsplit(action)
        with _CONTEXT_APP.test_request_context(parts.path, base_url=f"{parts.scheme}://"
                                               f"{parts.netloc}", method="POST", data=fields):
            result = self.sp.finish_login(fields, [started.context["request_id"]])
        expect(result.status == "ok" and bool(result.name_id),
               f"{self.id} did not accept Loper's response: {result}")


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class OidcRpDriver:
    """An OIDC relying party of Loper: the code flow with PKCE, client_secret_basic.

    The bench is the RP itself (nothing to gain from a peer process here): its own cost is a
    few random values and, for the first login, checking the ID token against Loper's JWKS.
    Like the demo RP (demo/supplier_oidc.py) it asks `openid profile email`, redeems the code
    and reads the user info.
    """

    protocol = "oidc"

    def __init__(self, supplier_id: str, client_id: str, secret: str, redirect_uri: str,
                 loper: str, scope: str = "openid profile email") -> None:
        self.id = supplier_id
        self.label = f"{supplier_id} (bench RP)"
        self.client_id = client_id
        self.secret = secret
        self.redirect_uri = redirect_uri
        self.loper = loper
        self.scope = scope
        basic = f"{client_id}:{secret}".encode()
        self.authorization = "Basic " + base64.b64encode(basic).decode("ascii")

    def start(self, hint: str | None) -> Started:
        verifier, challenge = _pkce()
        state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
        params = {"response_type": "code", "client_id": self.client_id,
                  "redirect_uri": self.redirect_uri, "scope": self.scope, "state": state,
                  "nonce": nonce, "code_challenge": challenge, "code_challenge_method": "S256"}
        if hint:
            params["school"] = hint
        url = f"{self.loper}/oidc/authorize?{urlencode(params)}"
        return Started(Request("GET", url), {"verifier": verifier, "state": state,
                                             "nonce": nonce})

    def answered(self, started: Started, response: Response) -> Step | None:
        expect(response.status in (302, 303) and response.location.startswith(
            self.redirect_uri + "?"), "expected a redirect back to the RP", response)
        query = dict(parse_qsl(urlsplit(response.location).query))
        expect(query.get("state") == started.context["state"] and bool(query.get("code")),
               f"no code for this state in {response.location}")
        form = {"grant_type": "authorization_code", "code": query["code"],
                "redirect_uri": self.redirect_uri, "code_verifier": started.context["verifier"]}
        return "token", Request("POST", f"{self.loper}/oidc/token", form,
                                {"Authorization": self.authorization})

    def followed(self, started: Started, step: str, response: Response) -> Step | None:
        if step == "token":
            expect(response.status == 200 and b'"id_token"' in response.body,
                   "expected tokens from the token endpoint", response)
            tokens = _json(response)
            started.context["id_token"] = str(tokens["id_token"])
            bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
            return "userinfo", Request("GET", f"{self.loper}/oidc/userinfo", headers=bearer)
        expect(response.status == 200 and b'"sub"' in response.body,
               "expected the user info", response)
        return None

    def verify(self, started: Started, response: Response, transport: Transport) -> None:
        from joserfc import jwt
        from joserfc.jwk import KeySet

        keys: Any = _json(transport.send(Request("GET", f"{self.loper}/oidc/jwks"), {}))
        token = jwt.decode(started.context["id_token"], KeySet.import_key_set(keys))
        claims = token.claims
        expect(claims.get("iss") == self.loper and claims.get("aud") == self.client_id
               and claims.get("nonce") == started.context["nonce"] and bool(claims.get("sub")),
               f"unexpected ID token claims {sorted(claims)}")


def _json(response: Response) -> dict[str, Any]:
    import json

    data: dict[str, Any] = json.loads(response.body)
    return data


# -- schools -----------------------------------------------------------------------------------

class SchoolDriver(Protocol):
    id: str
    protocol: str

    def answer(self, to_school: Request, person: int) -> Request:
        """The school's answer (to be sent to Loper) to the request Loper sent it."""
        ...


def _inflate(value: str) -> bytes:
    raw = base64.b64decode(value)
    try:
        return zlib.decompress(raw, -15)
    except zlib.error:
        return raw


class SamlSchoolDriver:
    """The demo school's IdP engine, without its login page: one signed Response per login."""

    protocol = "saml"

    def __init__(self, school_id: str, tool: Any, people: Sequence[DemoPerson],
                 loper: str) -> None:
        self.id = school_id
        self.tool = tool
        self.people = tuple(people)
        self.acs_url = f"{loper}/saml/sp/acs"
        self.audience = f"{loper}/saml/sp/metadata"

    def answer(self, to_school: Request, person: int) -> Request:
        if to_school.form is not None:  # HTTP-POST binding
            fields: Mapping[str, str] = to_school.form
        else:
            fields = {k: v[0] for k, v in parse_qs(urlsplit(to_school.url).query).items()}
        root = etree.fromstring(_inflate(fields["SAMLRequest"]),
                                etree.XMLParser(resolve_entities=False, no_network=True))
        request_id, relay = root.get("ID"), fields.get("RelayState", "")
        expect(bool(request_id) and bool(relay),
               "the AuthnRequest to the school lacks an ID or a RelayState")
        saml_response = self.tool.build_response(
            in_response_to=request_id, destination=self.acs_url, audience=self.audience,
            person=self.people[person % len(self.people)])
        return Request("POST", self.acs_url, {"SAMLResponse": saml_response, "RelayState": relay})


class OidcSchoolDriver:
    """The demo OIDC school (demo/school_op.py), served in this process; its login form is
    posted directly (person and password), which answers with the code for Loper."""

    protocol = "oidc"

    def __init__(self, school_id: str, issuer: str, people: Sequence[DemoPerson]) -> None:
        self.id = school_id
        self.issuer = issuer
        self.people = tuple(people)
        self.session = requests.Session()

    def answer(self, to_school: Request, person: int) -> Request:
        params = dict(parse_qsl(urlsplit(to_school.url).query))
        expect(bool(params.get("state")), "the authorization request lacks a state")
        who = self.people[person % len(self.people)]
        reply = self.session.post(f"{self.issuer}/authorize/login",
                                  data={**params, "person": who.id, "password": PASSWORD},
                                  allow_redirects=False, timeout=30)
        location = reply.headers.get("Location", "")
        if reply.status_code not in (302, 303) or "code=" not in location:
            raise LoginFailed(f"the OIDC school did not answer with a code: "
                              f"{reply.status_code} {location or reply.text[:200]}")
        return Request("GET", location)

    def close(self) -> None:
        self.session.close()
