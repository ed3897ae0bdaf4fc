"""What every login entry point shares: browser binding, the SSO session, the last step."""

from __future__ import annotations

import time

from flask import Response, request

from broker import sso
from broker.downstream import DownstreamRequest
from broker.flow import SsoSession, StartLimit
from broker.outgoing import Outgoing
from broker.web import cookies, last_app
from broker.web.client import client_address
from broker.web.current import broker, flow
from broker.web.errors import remember_app
from broker.web.respond import to_response


def start_limit() -> StartLimit:
    """Every started login may store a pending login: cap what one address can start (the
    flow counts the start, with the pending login where it can)."""
    return StartLimit(client_address(), broker().settings.login_starts_per_minute)


def start_login(req: DownstreamRequest, protocol: str) -> Response:
    remember_app(req.supplier)
    settings = broker().settings
    browser, new = cookies.browser_id(request, settings)
    the_flow = flow()
    session = the_flow.session(cookies.read(request, settings, cookies.SSO))
    response = to_response(the_flow.start(req, protocol, browser, session, start_limit()))
    if new:
        cookies.remember_browser(response, settings, browser)
    apps = last_app.started(cookies.read(request, settings, cookies.LAST_APP), req.supplier.id,
                            int(time.time()))
    cookies.set_cookie(response, settings, cookies.LAST_APP, apps, max_age=None,
                       cross_site=True)
    return response


def start_own_page(path: str, school_id: str | None) -> Response:
    """A login for one of Loper's own pages (`path`), through the school picker unless the
    school is named."""
    settings = broker().settings
    browser, new = cookies.browser_id(request, settings)
    response = to_response(flow().start_own_page(path, school_id, browser, start_limit()))
    if new:
        cookies.remember_browser(response, settings, browser)
    return response


def finish_login(outgoing: Outgoing, session: SsoSession | None) -> Response:
    """The answer to the supplier with the new SSO session; or, without a session, the way
    back to the school (its login was too old for the supplier's max_age)."""
    response = to_response(outgoing)
    if session is not None:
        settings = broker().settings
        # the session this browser had until now ends with the new one's logout: its apps
        # are still logged in here (the previous pupil's, on a shared classroom device)
        sso.replaced(broker().store, session, cookies.read(request, settings, cookies.SSO))
        # a shared device: the cookie ends with the browser (the session may end earlier)
        max_age = None if session.browser_bound else session.ttl
        cookies.set_cookie(response, settings, cookies.SSO, session.id,
                           max_age=max_age, cross_site=True)
    return response
