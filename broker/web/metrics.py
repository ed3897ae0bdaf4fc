"""/metrics for Prometheus, readable only from the addresses of the metrics_allow setting;
and the timing of every request (Loper's own handling, per step) that it reports."""

from __future__ import annotations

import ipaddress

from flask import Blueprint, Flask, Response, request
from prometheus_client import CONTENT_TYPE_LATEST

from broker import metrics
from broker.errors import NotAllowedHere
from broker.settings import LOOPBACK, PROXIES, Settings, metrics_allowed
from broker.web.current import broker
from broker.web.slots import Slot

bp = Blueprint("metrics", __name__)
_STARTED = Slot("metrics_started", float)


def allowed(settings: Settings) -> bool:
    """Is the client (as the trusted proxies report it) one that metrics_allow names?"""
    words, networks = metrics_allowed(settings.metrics_allow)
    try:
        client = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    if LOOPBACK in words and client.is_loopback:
        return True
    if (PROXIES in words and settings.trusted_proxies
            and "X-Forwarded-For" not in request.headers):
        return True  # the proxy in front of Loper, asking for itself
    return any(client in network for network in networks)


@bp.get("/metrics")
def exposition() -> Response:
    if not allowed(broker().settings):
        raise NotAllowedHere("Loper's metrics can be read only from the addresses its "
                             "operator allowed (the metrics_allow setting).")
    # content_type, not mimetype: werkzeug would add a second charset, and a scraper parsing
    # the header strictly (Prometheus 3, Go's mime) refuses duplicate parameters
    response = Response(metrics.exposition(), content_type=CONTENT_TYPE_LATEST)
    response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    """Time every request that reaches a view; first of the before-request hooks."""

    @app.before_request
    def begin() -> None:
        _STARTED.set(metrics.begin_step())

    @app.teardown_request
    def end(_exc: BaseException | None) -> None:
        started = _STARTED.pop()
        if started is not None and request.endpoint is not None:
            metrics.end_step(request.endpoint, started)

    app.register_blueprint(bp)
