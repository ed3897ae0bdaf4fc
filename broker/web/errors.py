"""The one error handler: log an error id, show it on a friendly page with a way on.

An endpoint that answers software (broker/web/endpoints.py: the OIDC token endpoint,
userinfo, ...) gets the same as a JSON OAuth error with the error id, never a page.

The page speaks the reader's language (broker/web/i18n.py) from the catalogues: the error's
code is its message key. The technical detail goes to the log next to the error id; the page
shows the id only, as the code for the helpdesk. An error in the admin portal keeps the
portal's header and navigation; a pupil's page offers the way back to the app, another school
and /me, and a page about a logout that could not be shown or done, or about a login refused
after the pupil logged in at the school, the way to log out everywhere (`OFFERS_LOGOUT`). A
pupil's page that answers a school's or an app's message, or a button of Loper's that posts to
an address of its own (broker/web/i18n.py), links to itself shown again in the other language
(broker/web/error_again.py), as that message is not sent again.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from flask import Flask, Response, current_app, render_template, request, url_for
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from broker import metrics
from broker.errors import BrokerError, ConfigError, ServiceUnavailable
from broker.records import Supplier
from broker.registry import RegistryUnavailable
from broker.store import StoreUnavailable
from broker.web import cookies, last_app
from broker.web.current import broker
from broker.web.endpoints import answers_machines
from broker.web.i18n import switch_language_url
from broker.web.slots import Slot

log = logging.getLogger("loper.errors")
MAX_DETAIL = 1000
WERKZEUG_PAGES = (400, 404, 405, 413)
"""HTTP errors with a page of their own; any other gets the general `http_error` one."""
RETRY_AFTER = 5
"""Seconds a relying party is asked to wait while storage is down (Loper serves again within
seconds of its return)."""
UNAVAILABLE = "Loper cannot reach its storage right now; try again shortly."
FAILED = "Loper failed to answer this request; the error id names the failure in its log."
REFUSED = "Loper refused this request; the error id names the reason in its log."
WRONG_METHOD = "This URL does not answer this method; the Allow header names those it does."
OFFERS_LOGOUT = frozenset({"logout_page_gone", "logout_expired", "other_school_behind_hub",
                           "no_school_behind_hub", "login_too_weak", "eck_id_claimed_twice"})
"""Error codes whose page links to /logout: a logout that could not be shown or done, and a
login refused after the pupil logged in at the school, whose session there stays until "log
out everywhere" ends it (broker/logout/refused.py): on a shared device, before the next pupil."""


@dataclass(frozen=True)
class Shown:
    """What an error page says: the message key (the code) with its placeholders, and where
    the reader can go on."""

    status: int
    code: str
    params: Mapping[str, str] = field(default_factory=dict)
    reason: str | None = None
    back_url: str | None = None
    supplier_name: str | None = None
    other_school_url: str | None = None
    cancel_url: str | None = None


_APP = Slot("loper_app", Supplier)


def remember_app(supplier: Supplier) -> None:
    """The app this request comes from: an error before the login is stored (the state store
    being down) still links back to it."""
    _APP.set(supplier)


def _last_app() -> tuple[str | None, str | None]:
    """The app of this request, else of the login this browser started last (its "start again"
    URL and name), for a pupil's error page that knows no app of its own: the login's state is
    gone or unreadable."""
    current = _APP.get()
    if current is not None and current.url:
        return current.url, current.name
    settings = broker().settings
    supplier_id = last_app.sure(cookies.read(request, settings, cookies.LAST_APP),
                                settings.pending_ttl)
    try:
        supplier = broker().registry.supplier(supplier_id) if supplier_id else None
    except (RegistryUnavailable, StoreUnavailable):
        return None, None
    if supplier is None or not supplier.url:
        return None, None
    return supplier.url, supplier.name


def _try_again(shown: Shown) -> str | None:
    """After a passing outage the very same step may well work: a GET is asked again as it
    was (a POST cannot be repeated by a link)."""
    if (shown.status != ServiceUnavailable.status or request.method != "GET"
            or request.url_rule is None):  # only a page of Loper's, never a path as sent
        return None
    path = "/" + request.path.lstrip("/")  # never //host: a link to another site
    return f"{path}?{request.query_string.decode('latin-1')}" if request.query_string else path


def _oauth_error(shown: Shown, error_id: str) -> Response:
    """An error for software (RFC 6749 5.2, RFC 6750 3): JSON, never a page; while storage is
    down `temporarily_unavailable` with Retry-After, so a relying party waits and asks again."""
    if shown.status == ServiceUnavailable.status:
        error, description = "temporarily_unavailable", UNAVAILABLE
    elif shown.status >= 500:
        error, description = "server_error", FAILED
    elif shown.status == MethodNotAllowed.code:
        error, description = "invalid_request", WRONG_METHOD
    else:
        error, description = "invalid_request", REFUSED
    body = {"error": error, "error_description": description, "error_id": error_id}
    response = Response(json.dumps(body), status=shown.status, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    if shown.status == ServiceUnavailable.status:
        response.headers["Retry-After"] = str(RETRY_AFTER)
    return response


def _page(shown: Shown, detail: str, exc: BaseException | None = None) -> Response:
    error_id = secrets.token_hex(6)
    detail = "".join(c if c.isprintable() else "?" for c in detail[:MAX_DETAIL])  # one line
    level = logging.ERROR if shown.status >= 500 else logging.WARNING
    metrics.FAILURES.labels(shown.code).inc()
    log.log(level, "request failed", exc_info=exc, extra={
        "error_id": error_id, "code": shown.code, "status": shown.status, "detail": detail})
    if answers_machines():
        return _oauth_error(shown, error_id)
    if request.path.startswith("/admin"):
        from broker.admin.base import admin_error_page

        return admin_error_page(shown, error_id)
    if shown.back_url is None:
        back_url, supplier_name = _last_app()
        shown = replace(shown, back_url=back_url, supplier_name=supplier_name)
    try_again_url = _try_again(shown)
    language_url = None
    if switch_language_url() is None:  # a message's or a button's page: shown again
        from broker.web import error_again

        language_url = error_again.language_url(error_again.Page(shown, error_id))
    return show_page(shown, error_id, try_again_url, language_url)


def show_page(shown: Shown, error_id: str, try_again_url: str | None = None,
              language_url: str | None = None) -> Response:
    """A pupil's error page: what `shown` says, its ways on, the error id for the helpdesk;
    `language_url`: its link to the other language, where the layout's own would be none."""
    me_url = _own_page("transparency.me")
    logout_url = _own_page("logout.logout") if shown.code in OFFERS_LOGOUT else None
    html = render_template("error.html", shown=shown, error_id=error_id,
                           back_url=shown.back_url, supplier_name=shown.supplier_name,
                           other_school_url=shown.other_school_url,
                           cancel_url=shown.cancel_url, me_url=me_url, logout_url=logout_url,
                           try_again_url=try_again_url, language_url=language_url)
    response = Response(html, status=shown.status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


def _own_page(endpoint: str) -> str | None:
    """The address of a page of Loper's own, if this app serves it."""
    return url_for(endpoint) if endpoint in current_app.view_functions else None


def _allowed(exc: HTTPException) -> str:
    """The methods the URL does answer, for the Allow header a 405 must carry (RFC 9110
    15.5.6): the router's, as in Flask's own answer to OPTIONS."""
    methods = exc.valid_methods if isinstance(exc, MethodNotAllowed) else None
    if not methods:
        methods = current_app.url_map.bind_to_environ(request.environ).allowed_methods()
    return ", ".join(sorted(methods))


def init_app(app: Flask) -> None:
    @app.errorhandler(BrokerError)
    def broker_error(exc: BrokerError) -> Response:
        return _page(Shown(exc.status, exc.code, exc.params, exc.reason, exc.back_url,
                           exc.supplier_name, exc.other_school_url, exc.cancel_url),
                     exc.message)

    @app.errorhandler(StoreUnavailable)
    @app.errorhandler(RegistryUnavailable)
    def unavailable(exc: StoreUnavailable | RegistryUnavailable) -> Response:
        part = "store" if isinstance(exc, StoreUnavailable) else "registry"
        reason = exc.reason  # what broke, never the driver's own words
        metrics.STORAGE_ERRORS.labels(part, reason).inc()
        return _page(Shown(ServiceUnavailable.status, ServiceUnavailable.code),
                     f"{type(exc).__name__} ({reason})")

    @app.errorhandler(ConfigError)
    def misconfigured(exc: ConfigError) -> Response:
        return _page(Shown(ServiceUnavailable.status, "registration_problem"),
                     f"registration problem: {exc}")

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        code = f"http_{status}" if status in WERKZEUG_PAGES else "http_error"
        response = _page(Shown(status, code), f"HTTP {status}: {exc.description or exc.name}")
        if status == MethodNotAllowed.code:
            response.headers["Allow"] = _allowed(exc)
        return response

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Response:
        return _page(Shown(500, "internal_error"), "unexpected error", exc=exc)

    from broker.web import error_again

    app.register_blueprint(error_again.bp)  # its pages shown again in the other language
