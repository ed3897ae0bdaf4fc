"""What every logout endpoint shares: the next redirect, or the end of the logout.

The end is the answer to whoever started it (a supplier's, a school's), or Loper's page that
lists which apps were logged out and which could not be. Front-channel logout iframes load on
that page first (so a protocol answer then waits for them). A logout that could not log the
pupil out at a school holds its answer on that page (`_held`): the warning to close the
browser, the schools' lines and their "try again" buttons come first, and the answer goes
only when the pupil presses "Continue to <app>" (the same form or link, not sent by itself).
A school tried again from there ends on the page without the answer (whoever started the
logout is not answered again: broker/logout/journey.py), which links back to the app's
registered address instead. Every step of a logout that ended a session clears the SSO cookie.

An answer that comes again (a reload of that page, a phone restoring its tab) shows the page of
the logout it ended once more, and nothing else: no frames, no answer to anyone, no cookie
cleared (someone may have logged in on this device since, which the page then says); a logout
an app asked for links back to that app (its registered address), as its answer is not sent again.

The page of a logout that ended a session links to itself in the other language: GET
/logout/page?run=<its id> (broker/portal/logout.py), which shows it again the same way, found
by that browser alone (`page_again`). A school that Loper could not log out at gets a "try
again" button on the page, for this browser (a CSRF token bound to it, the run and the school),
while its steps are kept for that (broker/logout/retries.py) and nobody has logged in
on this device since; its answer ends on this page again, with the new outcome. A school that
failed and has no button (tried as often as allowed, or too long ago) gets a line saying so
instead, and to close the browser.

A redirect one too many in a row (`GoingOn`: the browser stops at about 20) goes from a small
page instead, "logging out…", that goes on at once by itself (a meta refresh, no script) and
has a link for a browser that does not.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Protocol
from urllib.parse import urlsplit

from flask import Response, render_template, request, url_for

from broker.errors import BadRequest
from broker.logout import retries
from broker.logout.journey import Finished, GoingOn, Next
from broker.logout.run import LogoutRun, Outcome, Result, Side
from broker.outgoing import Outgoing
from broker.records import Supplier
from broker.web import cookies, csrf
from broker.web.current import broker, flow, logouts
from broker.web.headers import content_security_policy
from broker.web.i18n import in_language, other_language
from broker.web.respond import to_response

_WORSE: tuple[Result, ...] = ("done", "frame", "none", "failed")


class _Named(Protocol):
    """An app or a school, as the page shows it."""

    @property
    def name(self) -> str: ...


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _page(done: Finished, lang: str | None = None) -> Response:
    """The logout's page, in `lang` (else the language the logout began in)."""
    run = done.run
    lang = lang or run.initiator.lang
    registry = broker().registry
    # The apps and schools of every session this logout ended in this browser, the previous
    # pupils' on a shared device too: the page is about this device.
    apps = _by_result(run.outcomes, "supplier", registry.supplier)
    schools = _by_result(run.outcomes, "school", registry.school)
    everywhere = not (apps["none"] or apps["failed"] or schools["none"] or schools["failed"]
                      or run.sessions_left)
    ending = done.ending
    held = _held(done)
    frames = () if done.again else run.frames
    app = _asking_app(run) if done.again or run.tried_again else None
    logged_in_since = done.again and _logged_in()
    # not on a page that goes on by itself, nor once someone logged in here again
    buttons = [] if (ending is not None and not held) or logged_in_since else _try_again(run)
    offered = {button["name"] for button in buttons}
    with in_language(lang):  # the logout's own, wherever it ends (or its link's)
        html = render_template(
            "logged_out.html", had_session=run.had_session, logged_in_since=logged_in_since,
            everywhere=everywhere, sessions_left=run.sessions_left, apps=apps, schools=schools,
            frames=frames,
            ending=ending if ending is not None and ending.form is not None else None,
            ending_url=ending.url if ending is not None and ending.form is None else None,
            held=held, answered=_answered(run) if held else None,
            back_app=app, language_url=_language_url(run), csrf_field=csrf.FIELD,
            try_again=buttons,
            # failed, and no button (tried enough, or too long ago): the page says so
            tried_enough=[name for name in schools["failed"] if name not in offered])
    response = Response(html, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    origins = tuple(sorted({_origin(frame) for frame in frames}))
    response.headers["Content-Security-Policy"] = content_security_policy(origins)
    return response


def _language_url(run: LogoutRun) -> str | None:
    """This page in the other language (a run kept once over: one that ended a session);
    else the page's own link (broker/web/i18n.py)."""
    if not run.had_session:
        return None
    return url_for("logout.page", run=run.id, lang=other_language())


def _try_again(run: LogoutRun) -> list[dict[str, str]]:
    """A button's fields per school of `run` that may be tried again, in this browser."""
    kept = retries.schools(broker().store, run.id, run.browser) if run.had_session else ()
    buttons = []
    for school_id in kept:
        school = broker().registry.school(school_id)
        buttons.append({"run": run.id, "school": school_id,
                        "name": school.name if school else school_id,
                        csrf.FIELD: csrf.token(retry_purpose(run.id, school_id), run.browser)})
    return buttons


def retry_purpose(run_id: str, school_id: str) -> str:
    """The CSRF purpose of the button that tries `school_id` again in the run `run_id`."""
    return f"logout-retry:{run_id}:{school_id}"


def _by_result(outcomes: tuple[Outcome, ...], side: Side,
               find: Callable[[str], _Named | None]) -> dict[Result, list[str]]:
    """The names of the apps (or schools) of `side`, by result; one in two of the sessions
    is listed once, with the worse of its results."""
    results: dict[str, Result] = {}
    for outcome in outcomes:
        if outcome.side == side:
            results[outcome.party] = max(results.get(outcome.party, "done"), outcome.result,
                                         key=_WORSE.index)
    named: dict[Result, list[str]] = {"done": [], "frame": [], "none": [], "failed": []}
    for party, result in results.items():
        found = find(party)
        named[result].append(found.name if found else party)
    return named


def _held(done: Finished) -> bool:
    """Does the answer to whoever started the logout wait for the pupil on Loper's page? It
    does when a school could not log the pupil out: the next pupil on this device would be
    logged in as this one, so the page's warning and "try again" come first."""
    return done.ending is not None and any(
        o.side == "school" and o.result == "failed" for o in done.run.outcomes)


def _answered(run: LogoutRun) -> str:
    """The name of whoever started the logout and gets its answer (an app, or a school)."""
    registry = broker().registry
    party = run.initiator.party
    found: _Named | None = (registry.supplier(party) if run.initiator.by == "supplier"
                            else registry.school(party))
    return found.name if found else party


def _asking_app(run: LogoutRun) -> Supplier | None:
    """The app that asked for the logout, if it has an address to go back to."""
    if run.initiator.by != "supplier":
        return None
    supplier = broker().registry.supplier(run.initiator.party)
    return supplier if supplier is not None and supplier.url else None


def _logged_in() -> bool:
    """Is someone logged in on this device now (after a logout that is over)?"""
    settings = broker().settings
    return flow().session(cookies.read(request, settings, cookies.SSO)) is not None


def shown_again(browser: str, params: Mapping[str, str]) -> Response | None:
    """The page of the logout that this very request (every parameter as it came) started in
    this browser, once that is over: a reload or the back button shows it, nothing is done.
    None: the request is new here, for its endpoint to check."""
    again = logouts().asked_again(browser, params)
    return None if again is None else carry_on(again)


def page_again(run_id: str, browser: str, lang: str) -> Response:
    """The page of this browser's logout `run_id`, which is over, in `lang`: shown again,
    nothing done (but a school tried again whose redirect never came back counts as not
    reached: Logouts.finished_again). BadRequest for a run of another browser, unknown or
    expired."""
    again = logouts().finished_again(run_id, browser)
    if again is None:
        raise BadRequest("No logout of this browser has this id (another browser's, altered, "
                         "or expired).", code="logout_page_gone")
    return carry_on(again, lang)


def _going_on(outgoing: Outgoing, lang: str) -> Response:
    """Loper's "logging out…" page, going on to `outgoing` (a redirect) at once."""
    with in_language(lang):
        html = render_template("logout_going_on.html", url=outgoing.url)
    response = Response(html, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


def carry_on(step: Next, lang: str | None = None) -> Response:
    """The response to a logout's next step: its redirect, the "logging out…" page, the answer
    to whoever started it, or Loper's page (holding that answer when a school failed); a
    logout that is over, its page again (in `lang`, if given)."""
    if isinstance(step, Outgoing):
        response = to_response(step)
    elif isinstance(step, GoingOn):
        response = _going_on(step.outgoing, step.lang)
    elif step.again:  # a logout that is over: its page again, nothing done
        return _page(step, lang)
    elif step.ending is not None and not step.run.frames and not _held(step):
        response = (_going_on(step.ending, step.run.initiator.lang) if step.going_on
                    else to_response(step.ending))
    else:
        response = _page(step)
    if not isinstance(step, Finished) or step.run.had_session:  # else: ended nobody's session
        cookies.clear_cookie(response, broker().settings, cookies.SSO)
    return response
