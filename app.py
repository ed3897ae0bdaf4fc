"""The composition root: `create_app()` wires settings, storage, keys and adapters.

    gunicorn 'app:create_app()'      flask --app app run
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, request

from broker import kinds
from broker.context import Broker
from broker.errors import ConfigError
from broker.instance import guard_seal_key
from broker.key_checks import check_keys
from broker.keys import SEAL_FILE, cookie_secret, load_pseudonym_keys, seal_key
from broker.logs import setup_logging
from broker.registry import Registry, RegistryUnavailable
from broker.settings import Settings, load_settings, redacted_url
from broker.sqlite_faults import DISK_FULL, WRONG_FILE
from broker.store import open_store
from broker.web import slots
from broker.web.session_cookie import OnlyWhenSent

TEMPLATES = Path(__file__).resolve().parent / "templates"
log = logging.getLogger("loper.boot")


def _check_registry(registry: Registry, url: str) -> None:
    """A registry without a schema, or a SQLite file that cannot be opened or is no database,
    is a ConfigError; one that is down or on a failing disk is not: requests get a 503 until
    it answers."""
    try:
        if registry.exists():
            return
    except RegistryUnavailable as exc:
        if not url.startswith("sqlite") or exc.reason not in WRONG_FILE:
            return
        raise ConfigError(f"the registry {redacted_url(url)} cannot be used ({exc.reason}); "
                          "fix registry_url / BROKER_REGISTRY_URL (`broker init` creates the "
                          "registry)") from exc
    raise ConfigError(f"the registry {redacted_url(url)} has no schema: run `broker init`")


def _seal_key_on_first_use(settings: Settings, registry: Registry) -> None:
    """Make the TOTP sealing key if it is missing (an instance made before sealing existed),
    unless the registry holds secrets sealed with a key that is gone, or cannot say."""
    try:
        guard_seal_key(settings, registry)
    except RegistryUnavailable as exc:
        raise ConfigError(
            f"the TOTP sealing key {settings.keys_dir / SEAL_FILE} is missing and the "
            f"registry {redacted_url(settings.registry_url)} cannot say whether it holds "
            f"secrets sealed with it ({exc.reason}): restore the key from backup, or run "
            "`broker init` once the registry answers") from exc
    seal_key(settings.keys_dir)


def build_broker(settings: Settings) -> Broker:
    """Load keys and open storage; raise ConfigError with what to fix.

    Storage that is down is not a reason to stop: the broker builds without it (nothing here
    needs it), answers 503 while it is down and serves again when it is back. Otherwise one
    blink of Redis or PostgreSQL while gunicorn replaces a worker would stop the whole server.
    """
    keys = load_pseudonym_keys(settings.keys_dir)
    store = open_store(settings.state_url)
    registry = Registry(settings.registry_url)
    try:
        _check_registry(registry, settings.registry_url)
        _seal_key_on_first_use(settings, registry)
        check_keys(settings.keys_dir)  # a corrupt key stops the start, not a login later
    except ConfigError:
        store.close()
        registry.close()
        raise
    broker = Broker(settings=settings, store=store, registry=registry, pseudonym_keys=keys)
    kinds.install(broker)
    return broker


def _warm_up(broker: Broker) -> None:
    """Probe the storage and build the school picker's index (in the background), best-effort:
    what is down is logged with what to fix if it is no blink, and /readyz answers 503 until
    it is back."""
    from broker.portal.search_index import warm_up_in_background
    from broker.web.health import dependencies

    s = broker.settings
    parts = dependencies(broker)
    if not isinstance(parts["registry"], Exception):
        warm_up_in_background(broker.registry)
    for name, what, url, setting in (
            ("store", "state store", s.state_url, "state_url / BROKER_STATE_URL"),
            ("registry", "registry", s.registry_url, "registry_url / BROKER_REGISTRY_URL")):
        part = parts[name]
        if isinstance(part, Exception):
            hint = ("free space on its disk" if part.reason == DISK_FULL
                    else f"start it, or fix {setting}")
            log.error("the %s %s is unavailable (%s): Loper answers 503 until it is back; %s."
                      " The error: %s", what, redacted_url(url), part.reason, hint, part)


def _one_registry_view_per_request(app: Flask, broker: Broker) -> None:
    """Check the registry version once per request instead of once per cached read; a
    published document is served from the process's last copy while the registry is down."""
    from broker.web.endpoints import serves_published

    @app.before_request
    def begin() -> None:
        if request.blueprint == "health":  # they say themselves what is down
            return
        try:
            slots.enter("registry_view", broker.registry.consistent())
        except RegistryUnavailable:
            if serves_published():  # the last copy this process holds
                return
            raise

    @app.teardown_request
    def end(_exc: BaseException | None) -> None:
        slots.leave("registry_view")


def _outbound_timeout(app: Flask, seconds: float) -> None:
    """Outbound calls made while serving a request (a metadata URL typed into the admin
    portal) get the outbound_timeout setting; the OIDC upstream is given it explicitly."""
    from broker.outbound.fetch import default_timeout

    @app.before_request
    def begin() -> None:
        slots.enter("outbound_timeout", default_timeout(seconds))

    @app.teardown_request
    def end(_exc: BaseException | None) -> None:
        slots.leave("outbound_timeout")


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    settings = load_settings(overrides)
    setup_logging(settings.log_level, settings.log_format)
    app = Flask("loper", template_folder=str(TEMPLATES), instance_path=str(settings.instance))
    app.config.update(SECRET_KEY=cookie_secret(settings.keys_dir),
                      SESSION_COOKIE_SECURE=settings.secure, SESSION_COOKIE_HTTPONLY=True,
                      SESSION_COOKIE_SAMESITE="Lax", MAX_CONTENT_LENGTH=1024 * 1024)
    app.session_interface = OnlyWhenSent()
    app.extensions["loper"] = broker = build_broker(settings)
    _warm_up(broker)
    from broker.web import metrics

    metrics.init_app(app)  # first: its clock starts before the other hooks run
    _one_registry_view_per_request(app, broker)
    _outbound_timeout(app, settings.outbound_timeout)
    if settings.trusted_proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]

    from broker import admin, metadata_refresh
    from broker.portal import discovery, logout, transparency
    from broker.web import errors, headers, health, i18n, icon, templating

    templating.init_app(app)
    i18n.init_app(app)
    errors.init_app(app)
    headers.init_app(app, settings.secure)
    for blueprint in (health.bp, icon.bp, *kinds.blueprints(), discovery.bp, logout.bp,
                      transparency.bp):
        app.register_blueprint(blueprint)
    admin.init_app(app)
    metadata_refresh.init_app(app, broker.registry, settings.outbound_timeout)
    return app
