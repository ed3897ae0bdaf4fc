"""Log out everywhere (/logout): end this browser's single sign-on session, every supplier
session it started and the session at the school (broker/logout/), then say how it went.

The button posts a CSRF token (broker.web.csrf) bound to this browser, so another site cannot
log a pupil out behind their back (the SSO cookie is SameSite=None, so it would be sent along).

An app that asks for a logout without naming this browser's session (RP-Initiated Logout with
another session's ID token) lands here to confirm, and may still be answered afterwards (back
to its registered page, with its state): whom to answer travels with the page, in the link
and in the form, signed for this browser with the app's secret key (HMAC, as the CSRF token),
and for a limited time, so nobody can change where the logout ends on the way.

Once a logout is over, its page links to itself in the other language (/logout/page, shown
again in that browser alone, nothing done), and a school Loper could not log out at can be
tried again from it (/logout/retry, a button with a CSRF token for this browser, the run and the
school): broker/web/logout.py.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
import time
from dataclasses import dataclass
from urllib.parse import urlencode

from flask import Blueprint, Response, render_template, request

from broker import codec
from broker.errors import BadRequest, LogoutRejected
from broker.logout.journey import Finished
from broker.logout.run import Initiator
from broker.outgoing import Outgoing
from broker.web import cookies, csrf
from broker.web.current import broker, flow, logouts
from broker.web.i18n import language
from broker.web.logout import carry_on, page_again, retry_purpose
from broker.web.respond import live_page, to_response

bp = Blueprint("logout", __name__)
log = logging.getLogger("loper.logout")

ANSWER, SIGNED = "answer", "signed"
"""The link's and the form's field with whom to answer, and the link's signature."""
ANSWER_TTL = 1800
"""Seconds the confirm page still answers the app that asked (afterwards: Loper's page)."""
_LINK, _FORM = "logout-link", "logout-answer"  # purposes of the two HMACs, never each other's


@dataclass(frozen=True)
class Answer:
    """Whom the logout answers once the pupil confirms: the app that asked, what its adapter
    kept to answer it, and until when (a Unix time)."""

    party: str
    protocol: str
    request: bytes
    until: int


def _pack(answer: Answer) -> str:
    return base64.urlsafe_b64encode(codec.encode(answer)).decode().rstrip("=")


def _unpack(packed: str) -> Answer | None:
    try:
        data = base64.urlsafe_b64decode(packed + "=" * (-len(packed) % 4))
    except (binascii.Error, ValueError):
        return None
    return codec.decode(data, Answer)


def _signed(purpose: str, packed: str, browser: str) -> str:
    return csrf.token(f"{purpose}:{packed}", browser)


def confirm_first(answer: Initiator | None = None) -> Response:
    """To the confirm page, for a logout an app asked for without naming this browser's
    session. `answer`: the app to answer once the pupil confirms (its kept request), signed
    for this browser."""
    settings = broker().settings
    browser, new = cookies.browser_id(request, settings)
    url = settings.url("/logout")
    if answer is not None:
        packed = _pack(Answer(answer.party, answer.protocol, answer.request,
                              int(time.time()) + ANSWER_TTL))
        url += "?" + urlencode({ANSWER: packed, SIGNED: _signed(_LINK, packed, browser)})
    response = to_response(Outgoing(url))
    if new:  # the signature is bound to it
        cookies.remember_browser(response, settings, browser)
    return response


def _linked(browser: str) -> tuple[str, Answer] | None:
    """The app to answer, from a link signed for this browser and still valid."""
    packed, signed = request.args.get(ANSWER, ""), request.args.get(SIGNED, "")
    if not packed:
        return None
    answer = _unpack(packed)
    if answer is None or not hmac.compare_digest(
            signed.encode(), _signed(_LINK, packed, browser).encode()):
        log.warning("logout confirm link refused: not signed for this browser")
        return None
    return (packed, answer) if answer.until >= time.time() else None


def _posted(browser: str) -> Answer | None:
    """The app to answer, from a form signed for this browser (which is the CSRF check)."""
    packed = request.form.get(ANSWER)
    if packed is None:
        valid = csrf.valid("logout", browser)
    else:
        valid = csrf.valid(f"{_FORM}:{packed}", browser)
    if not valid:
        raise BadRequest("the logout form's token is missing or expired",
                         code="logout_expired")
    answer = _unpack(packed) if packed is not None else None
    return answer if answer is not None and answer.until >= time.time() else None


@bp.route("/logout", methods=["GET", "POST"])
def logout() -> Response:
    settings = broker().settings
    browser, new = cookies.browser_id(request, settings)
    lang = language()
    if request.method == "POST":
        answer = _posted(browser)
        session = flow().session(cookies.read(request, settings, cookies.SSO))
        initiator = (Initiator("pupil", lang=lang) if answer is None else Initiator(
            "supplier", answer.party, answer.protocol, answer.request, lang))
        response = carry_on(logouts().begin(session, browser, initiator))
    else:
        linked = _linked(browser)
        app = broker().registry.supplier(linked[1].party) if linked else None
        if linked is None or app is None:
            html = render_template("logout.html", csrf_field=csrf.FIELD,
                                   token=csrf.token("logout", browser))
        else:
            packed = linked[0]
            html = render_template("logout.html", csrf_field=csrf.FIELD,
                                   token=_signed(_FORM, packed, browser), answer_field=ANSWER,
                                   answer=packed, app=app.name)
        response = live_page(html)
    if new:
        cookies.remember_browser(response, settings, browser)
    return response


@bp.get("/logout/page")
def page() -> Response:
    """The page of this browser's logout that is over, again, in the language asked for: the
    link to itself in the other language. Nothing is done again."""
    browser, _ = cookies.browser_id(request, broker().settings)
    return page_again(request.args.get("run", ""), browser, language())


@bp.post("/logout/retry")
def retry() -> Response:
    """A school that this browser's logout could not log out at, asked again (its button on
    the logout's page); refused while someone is logged in on this device again."""
    settings = broker().settings
    browser, _ = cookies.browser_id(request, settings)
    run_id, school_id = request.form.get("run", ""), request.form.get("school", "")
    if not csrf.valid(retry_purpose(run_id, school_id), browser):
        raise BadRequest("the try-again button's token is missing or not this browser's",
                         code="logout_retry_gone")
    if flow().session(cookies.read(request, settings, cookies.SSO)) is not None:
        raise LogoutRejected("Someone logged in on this device after this logout.",
                             code="logout_retry_gone")
    lang = language()
    tried = logouts().try_school_again(run_id, browser, school_id, lang)
    if isinstance(tried, Finished):  # over at once (the school could not be asked): its page
        # by a link, so that a reload shows it again instead of posting the button once more
        page = "/logout/page?" + urlencode({"run": run_id, "lang": lang})
        return to_response(Outgoing(settings.url(page)))
    return carry_on(tried)
