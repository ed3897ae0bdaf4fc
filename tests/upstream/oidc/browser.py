"""A browser at the school: it follows Loper's redirect to the OP, logs in, and stops at the
redirect back to Loper's callback (Loper itself is not running in these tests)."""

from __future__ import annotations

import html
import re
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urljoin, urlsplit

import requests

from broker.identity import PendingLogin
from broker.records import School
from broker.upstream import Callback
from broker.upstream.oidc import OidcUpstream
from demo.people import PASSWORD
from demo.school_op import LYCEUM_PEOPLE

_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')
PUPIL, TEACHER = LYCEUM_PEOPLE[0], LYCEUM_PEOPLE[2]


@dataclass
class Answer:
    """The school's answer as it reaches Loper's callback, with what Loper kept."""

    pending: PendingLogin
    authorize_url: str
    state: bytes
    params: dict[str, str]
    showed_form: bool

    @property
    def request(self) -> dict[str, str]:
        """The authorization request Loper sent."""
        return dict(parse_qsl(urlsplit(self.authorize_url).query))

    def finish(self, rp: OidcUpstream, school: School) -> Callback:
        return rp.handle_callback(school, self.params, self.state)


@dataclass
class SchoolBrowser:
    session: requests.Session
    callback_url: str

    def log_in(self, rp: OidcUpstream, school: School, *, person: str = PUPIL.id,
               password: str = PASSWORD, cancel: bool = False, **pending: Any) -> Answer:
        login = PendingLogin(id=secrets.token_urlsafe(16), supplier_id="taalapp",
                             protocol="oidc", request=b"", **pending)
        outgoing, state = rp.login_redirect(school, login, relay_state=login.id)
        shown = self.session.get(outgoing.url, allow_redirects=False)
        if shown.is_redirect:  # single sign-on at school
            return Answer(login, outgoing.url, state, self._callback(shown), False)
        assert shown.status_code == 200, shown.text
        fields = {name: html.unescape(value) for name, value in _HIDDEN.findall(shown.text)}
        fields.update(person=person, password=password)
        if cancel:
            fields["cancel"] = "1"
        posted = self.session.post(urljoin(outgoing.url, "/authorize/login"), data=fields,
                                   allow_redirects=False)
        return Answer(login, outgoing.url, state, self._callback(posted), True)

    def _callback(self, response: requests.Response) -> dict[str, str]:
        assert response.is_redirect, (response.status_code, response.text)
        location = response.headers["Location"]
        assert location.startswith(self.callback_url + "?"), location
        return dict(parse_qsl(urlsplit(location).query))
