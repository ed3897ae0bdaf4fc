"""The one error handler: log an error id, show it on a friendly page with a way back."""

from __future__ import annotations

import logging
import secrets

from flask import Flask, Response, render_template, request
from werkzeug.exceptions import HTTPException

from broker import metrics
from broker.errors import BrokerError, ConfigError, ServiceUnavailable
from broker.registry import RegistryUnavailable
from broker.store import StoreUnavailable
from broker.web import cookies
from broker.web.current import broker
from broker.web.error_texts import dutch

log = logging.getLogger("loper.errors")


def _wants_dutch() -> bool:
    """Dutch when the browser prefers it (browsers say so); English for everything else."""
    return request.accept_languages.best_match(("nl", "en")) == "nl"


def _last_app() -> tuple[str | None, str | None]:
    """The app of the login this browser started last (its "start again" URL and name), for a
    pupil's error page that knows no app of its own: the login's state is gone or unreadable."""
    if request.path.startswith("/admin"):
        return None, None
    supplier_id = cookies.read(request, broker().settings, cookies.LAST_APP)
    try:
        supplier = broker().registry.supplier(supplier_id) if supplier_id else None
    except (RegistryUnavailable, StoreUnavailable):
        return None, None
    if supplier is None or not supplier.url:
        return None, None
    return supplier.url, supplier.name


def _page(status: int, code: str, title: str, message: str, back_url: str | None = None,
          supplier_name: str | None = None, exc: BaseException | None = None) -> Response:
    error_id = secrets.token_hex(6)
    if back_url is None:
        back_url, supplier_name = _last_app()
    level = logging.ERROR if status >= 500 else logging.WARNING
    metrics.FAILURES.labels(code).inc()
    log.log(level, "request failed", exc_info=exc,
            extra={"error_id": error_id, "code": code, "status": status})
    nl = _wants_dutch() and dutch(code)
    html = render_template("error.html", status=status, code=code, error_id=error_id,
                           title=nl[0] if nl else title, lead=nl[1] if nl else None,
                           message=message, back_url=back_url, supplier_name=supplier_name,
                           lang="nl" if nl else "en")
    response = Response(html, status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    @app.errorhandler(BrokerError)
    def broker_error(exc: BrokerError) -> Response:
        return _page(exc.status, exc.code, exc.title, exc.message, exc.back_url,
                     exc.supplier_name)

    @app.errorhandler(StoreUnavailable)
    @app.errorhandler(RegistryUnavailable)
    def unavailable(exc: StoreUnavailable | RegistryUnavailable) -> Response:
        part = "store" if isinstance(exc, StoreUnavailable) else "registry"
        metrics.STORAGE_ERRORS.labels(part, exc.reason).inc()
        err = ServiceUnavailable("Loper cannot reach its storage right now. "
                                 "Please try again in a minute.")
        return _page(err.status, err.code, err.title, err.message)

    @app.errorhandler(ConfigError)
    def misconfigured(exc: ConfigError) -> Response:
        log.error("registration problem: %s", exc)
        err = ServiceUnavailable("This login cannot be completed because a registration in "
                                 "Loper is incomplete. The federation operator has been told.")
        return _page(err.status, "registration_problem", err.title, err.message)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        return _page(status, f"http_{status}", exc.name, exc.description or exc.name)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Response:
        return _page(500, "internal_error", "Something went wrong on our side",
                     "Please try again; if it keeps happening, give the error id to your "
                     "school's ICT coordinator.", exc=exc)
