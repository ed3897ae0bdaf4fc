"""A shared device where more pupils logged in afresh, one after another, than a logout ends
(broker/sso.py EARLIER_MAX): "log out everywhere" ends the newest sessions, and the page tells
the pupil that the oldest ones may still be logged in on this device, and to close the browser.

The real demo federation over HTTP (De Regenboog a pysaml2 IdP, Het Lyceum an OIDC provider,
the Rekenwonders SAML app), state in Redis; the scripted browser.
"""

from __future__ import annotations

import lxml.html

from broker import sso
from demo.people import DEFAULT_PEOPLE
from demo.school_op import LYCEUM_PEOPLE
from tests.flows.conftest import Federation, log_out
from tests.flows.test_logout_earlier_schools import log_in
from tests.flows.test_logout_earlier_sessions import sso_cookie
from tests.peers.browser import Browser

APP = "rekenwonders"
LOGINS = 10
SESSIONS_LEFT = ("Er waren meer leerlingen na elkaar ingelogd op dit apparaat dan Loper in één "
                 "keer kan uitloggen: sluit de browser, zodat niemand ingelogd blijft als "
                 "iemand anders.")


def pupil(number: int) -> tuple[str, str]:
    """The school and pupil of the `number`th login: the two schools in turn."""
    if number % 2:
        return "lyceum", LYCEUM_PEOPLE[number // 2 % len(LYCEUM_PEOPLE)].id
    return "regenboog", DEFAULT_PEOPLE[number // 2 % len(DEFAULT_PEOPLE)].id


def fresh_logins(federation: Federation, browser: Browser) -> list[str]:
    """LOGINS pupils log in afresh in `browser`, one after another: their sessions' ids."""
    sessions: list[str] = []
    for number in range(LOGINS):
        school, person = pupil(number)
        force = {"force": "1"} if number >= 2 else {}  # whoever sits here types
        log_in(browser, federation, APP, school, person, **force)
        sessions.append(sso_cookie(federation, browser))
    assert len(set(sessions)) == LOGINS
    return sessions


def test_a_logout_that_cannot_reach_the_oldest_pupils_says_so(
        federation: Federation, browser: Browser) -> None:
    sessions = fresh_logins(federation, browser)

    log_out(browser, federation.issuer)

    assert browser.url.startswith(federation.issuer), browser.text[:300]
    doc = lxml.html.fromstring(browser.page.content)
    assert doc.get("lang") == "nl"
    assert " ".join(doc.xpath('//p[@id="sessions-left"]//text()')).strip() == SESSIONS_LEFT
    assert "Je bent overal uitgelogd." not in browser.text
    assert "Je bent uitgelogd bij Loper, maar niet overal." in browser.text
    store = federation.broker.store
    for session_id in sessions[-1 - sso.EARLIER_MAX:]:  # the newest: ended
        assert store.get_session(session_id) is None
    assert store.get_session(sessions[0]) is not None  # the oldest, as the page says
