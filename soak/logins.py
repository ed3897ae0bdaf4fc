"""One complete login as a pupil's browser does it, and what the pupil saw at its end.

The login is OIDC end to end (bench/peers.py's relying party and the demo school's OpenID
Provider): the app's authorization request, the school's login, Loper's callback, then the
app redeems its code and reads the user info. Each step may go to another Loper (`bases`:
the steps alternate between them), as behind a load balancer.

Its outcome is one of:
- "ok": the app has the user info;
- "page": Loper's own error page (4xx or 503) with an error id and a way to start again, or
  the app's code or token refused with an OAuth error (the app starts the login again): what
  a pupil may meet while Redis fails over or restarts;
- "dropped": the connection closed without an answer (what a gunicorn worker killed
  mid-request leaves; a proxy in front shows its 502);
- "broken": anything else (a 500, a trace, a bare error, a wrong answer): never acceptable.

`released` says whether the app redeemed its code: Loper then wrote the ledger row.
"""

from __future__ import annotations

import http.client
import itertools
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from bench.peers import OidcRpDriver, OidcSchoolDriver, Started
from bench.transport import HttpTransport, Jar, Request, Response

START_AGAIN = ("Start again", "Opnieuw beginnen")
_CODE = re.compile(r'data-error-code="(\w+)"')


@dataclass(frozen=True)
class Outcome:
    kind: str
    """"ok", "page", "dropped" or "broken"."""
    detail: str = ""
    """For a page: its status and error code; otherwise what went wrong."""
    released: bool = False
    step: str = ""
    """Where a login that did not end "ok" ended (authorize, callback, token, userinfo)."""
    linked: bool = False
    """A page with a link to start again at the app."""


def clear_page(response: Response) -> str | None:
    """'503 service_unavailable' for Loper's error page with an error id (and no trace);
    None for anything else. Whether it links back to the app: `start_again`."""
    text = response.text()
    if response.status not in (400, 403, 404, 409, 429, 502, 503, 504):
        return None
    if 'class="error-id"' not in text or "Traceback" in text:
        return None
    found = _CODE.search(text)
    return f"{response.status} {found[1] if found else '?'}"


class Steps:
    """Sends each request of a login to the next Loper of `bases` in turn: instances on
    other ports that share one public base URL, as behind a load balancer."""

    def __init__(self, bases: Sequence[str]) -> None:
        self._transports = [HttpTransport(base) for base in bases]
        self._turn = itertools.cycle(self._transports)

    def send(self, request: Request, jar: Jar) -> Response:
        return next(self._turn).send(request, jar)


class Broken(Exception):
    """A step answered neither its next step nor a clear page."""


def _oauth_error(response: Response) -> str | None:
    """'400 invalid_grant' for the token or user info endpoint refusing with an OAuth error
    (RFC 6749 5.2, RFC 6750 3.1): the app starts the login again; '503
    temporarily_unavailable' while Loper's storage is down (the app tries again later)."""
    if response.status not in (400, 401, 503):
        return None
    try:
        error = json.loads(response.body).get("error")
    except (ValueError, AttributeError):
        return None
    return f"{response.status} {error}" if isinstance(error, str) else None


def _failed(exc: Exception) -> Outcome:
    if isinstance(exc, Broken):
        return Outcome("broken", str(exc))
    if isinstance(exc, ConnectionError | http.client.HTTPException):  # reset, closed
        return Outcome("dropped", f"{type(exc).__name__}: {exc}"[:300])
    return Outcome("broken", f"{type(exc).__name__}: {exc}"[:300])


def start_again(response: Response) -> bool:
    return any(words in response.text() for words in START_AGAIN)


def _page_or_broken(step: str, response: Response) -> Outcome:
    page = clear_page(response)
    if page is not None:
        return Outcome("page", page, step=step, linked=start_again(response))
    raise Broken(f"{step}: HTTP {response.status}: {response.text()[:200]!r}")


@dataclass
class Begun:
    """A login that has reached the school's login page."""

    started: Started
    jar: Jar
    at_school: str


def begin(rp: OidcRpDriver, school: OidcSchoolDriver, steps: Steps, hint: str,
          jar: Jar | None = None) -> Begun | Outcome:
    """The app's request, up to the school's login page (or the outcome, if it ends there);
    `jar`: the browser's cookies (default: a fresh browser)."""
    jar = {} if jar is None else jar
    try:
        started = rp.start(hint)
        to_school = steps.send(started.request, jar)
        if not to_school.location.startswith(school.issuer):
            return _page_or_broken("authorize", to_school)
    except Exception as exc:  # what Loper answered decides the outcome, never a raise
        return _failed(exc)
    return Begun(started, jar, to_school.location)


def finish(rp: OidcRpDriver, school: OidcSchoolDriver, steps: Steps, begun: Begun) -> Outcome:
    """The pupil logs in at the school; Loper answers the app, which reads the user info."""
    released = False
    try:
        answer = school.answer(Request("GET", begun.at_school), 0)
        callback = steps.send(answer, begun.jar)
        if callback.status not in (302, 303):
            return _page_or_broken("callback", callback)
        step = rp.answered(begun.started, callback)
        while step is not None:
            name, request = step
            response = steps.send(request, begun.jar)
            released = released or (name == "token" and response.status == 200)
            refused = _oauth_error(response)
            if refused is not None:
                return Outcome("page", f"{refused} ({name})", released, name)
            if response.status >= 500:
                return replace(_page_or_broken(name, response), released=released)
            step = rp.followed(begun.started, name, response)
    except Exception as exc:  # what Loper answered decides the outcome, never a raise
        return replace(_failed(exc), released=released)
    return Outcome("ok", released=released)


def log_in(rp: OidcRpDriver, school: OidcSchoolDriver, steps: Steps, hint: str,
           jar: Jar | None = None) -> Outcome:
    """One complete login; its outcome (never raises for what Loper answers)."""
    begun = begin(rp, school, steps, hint, jar)
    return begun if isinstance(begun, Outcome) else finish(rp, school, steps, begun)
