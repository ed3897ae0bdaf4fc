"""What every logout endpoint shares: the next redirect, or the end of the logout.

The end is the answer to whoever started it (a supplier's, a school's), or Loper's page that
lists which apps were logged out and which could not be. Front-channel logout iframes load on
that page first (so a protocol answer then waits for them). Every step of a logout that ended
a session clears the SSO cookie.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Response, render_template

from broker.logout.journey import Finished, Next
from broker.logout.run import SCHOOL
from broker.outgoing import Outgoing
from broker.web import cookies
from broker.web.current import broker
from broker.web.headers import content_security_policy
from broker.web.i18n import in_language
from broker.web.respond import to_response


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _page(done: Finished) -> Response:
    run = done.run
    lang = run.initiator.lang
    registry = broker().registry
    apps: dict[str, list[str]] = {"done": [], "frame": [], "none": [], "failed": []}
    for outcome in run.outcomes:
        if outcome.party != SCHOOL:
            supplier = registry.supplier(outcome.party)
            apps[outcome.result].append(supplier.name if supplier else outcome.party)
    school = run.outcome(SCHOOL)
    everywhere = not (apps["none"] or apps["failed"]) and school in (None, "done")
    ending = done.ending
    with in_language(lang):  # the language the logout began in, wherever it ends
        html = render_template(
            "logged_out.html", had_session=run.had_session,
            everywhere=everywhere, apps=apps, school=school, frames=run.frames,
            ending=ending if ending is not None and ending.form is not None else None,
            ending_url=ending.url if ending is not None and ending.form is None else None)
    response = Response(html, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    origins = tuple(sorted({_origin(frame) for frame in run.frames}))
    response.headers["Content-Security-Policy"] = content_security_policy(origins)
    return response


def carry_on(step: Next) -> Response:
    if isinstance(step, Outgoing):
        response = to_response(step)
    elif step.ending is not None and not step.run.frames:
        response = to_response(step.ending)
    else:
        response = _page(step)
    if isinstance(step, Outgoing) or step.run.had_session:  # else: ended nobody's session
        cookies.clear_cookie(response, broker().settings, cookies.SSO)
    return response
