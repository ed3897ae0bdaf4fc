"""The pupil stops a login on the way (the picker's or the cancelled page's "stop" link): the
learning app hears so, instead of waiting for an answer that never comes.

OIDC Core 3.1.2.6: a redirect to the app with error=access_denied and its state. SAML Core
3.4.1.4: a signed Response without assertion, Responder / AuthnFailed, InResponseTo the app's
AuthnRequest. Both are the downstream's `respond_error`. The pending login is taken, so the
app is answered once: a second click, a reload or another browser's link finds nothing.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from broker import flow_metrics, flow_pending, metrics
from broker.context import Broker
from broker.downstream import STOPPED
from broker.errors import (
    BrokerError,
    LoginCancelled,
    LoginExpired,
    NoLoginStarted,
    UnknownSupplier,
    UpstreamRejected,
)
from broker.flow_pending import OWN_PAGES
from broker.identity import PendingLogin
from broker.logs import login_log
from broker.outgoing import Outgoing
from broker.sso import new_id

if TYPE_CHECKING:
    from broker.flow import Flow



def offer_ways_on(broker: Broker, login: PendingLogin, exc: LoginCancelled) -> None:
    """After a Cancel at the school, the page's ways on share one fresh pending login: the
    picker, to pick a school again or another one, and (for an app's login) stopping."""
    again = replace(login, id=new_id(), school_id=None, upstream=b"")
    flow_pending.save(broker, again)
    exc.other_school_url = broker.settings.url(f"/discovery?login={again.id}")
    if login.supplier_id != OWN_PAGES:
        exc.cancel_url = broker.settings.url(f"/discovery/cancel?login={again.id}")


def cancel(flow: Flow, login_id: str, browser: str) -> Outgoing:
    """The answer that tells the app its login was stopped. A login for one of Loper's own
    pages has no app waiting: back to that page, which shows itself without a login (Loper
    has no home page at "/")."""
    broker = flow.broker
    login = _taken(flow, login_id, browser)
    login_log("loper.flow", login.id, supplier=login.supplier_id).info(
        "pupil stopped the login", extra={"school": login.school_id or "-"})
    if login.supplier_id == OWN_PAGES:
        return Outgoing(flow.settings.url(login.request.decode()))  # as flow.py finishes it
    upstream = flow_metrics.upstream_of(broker, broker.registry.school(login.school_id or ""))
    with flow_metrics.counting(login, upstream):
        supplier = broker.registry.supplier(login.supplier_id)
        if supplier is None:
            raise UnknownSupplier("The learning app of this login was removed before the "
                                  "pupil stopped it; there is nobody to answer.")
        try:
            answer = broker.downstreams[login.protocol].respond_error(supplier, login.request,
                                                                      STOPPED)
        except BrokerError as exc:  # e.g. its registration changed: still a way back to it
            exc.leads_back_to(supplier.url, supplier.name)
            raise
    metrics.login_ended(upstream, login.protocol, "answered_error")
    return answer


def _taken(flow: Flow, login_id: str, browser: str) -> PendingLogin:
    """This browser's pending login, taken: no other request can answer it after this one."""
    if not login_id:
        raise NoLoginStarted("The way out of a login was opened without a login.")
    try:
        return flow_pending.take(flow.broker, login_id, browser)
    except UpstreamRejected:  # take's words are about a school's answer; none came here
        raise LoginExpired("the login to stop has expired, was stopped or finished already, "
                           "or was started in another browser") from None
