"""The composition root: `create_app()` wires settings, storage, keys and adapters.

    gunicorn 'app:create_app()'      flask --app app run
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, g, request

from broker import kinds
from broker.context import Broker
from broker.errors import ConfigError
from broker.keys import cookie_secret, load_pseudonym_keys
from broker.logs import setup_logging
from broker.registry import Registry
from broker.settings import Settings, load_settings
from broker.store import StoreUnavailable, open_store

TEMPLATES = Path(__file__).resolve().parent / "templates"


def build_broker(settings: Settings) -> Broker:
    """Open storage and load keys; raise ConfigError with what to fix."""
    keys = load_pseudonym_keys(settings.keys_dir)
    store = open_store(settings.state_url)
    try:
        store.check()
    except StoreUnavailable as exc:
        store.close()
        raise ConfigError(f"the state store {settings.state_url} cannot be reached ({exc}); "
                          "start it, or fix state_url / BROKER_STATE_URL") from exc
    broker = Broker(settings=settings, store=store, registry=Registry(settings.registry_url),
                    pseudonym_keys=keys)
    kinds.install(broker)
    return broker


def _one_registry_view_per_request(app: Flask, broker: Broker) -> None:
    """Check the registry version once per request instead of once per cached read."""

    @app.before_request
    def begin() -> None:
        if request.endpoint != "health.healthz":
            view = broker.registry.consistent()
            view.__enter__()
            g.registry_view = view

    @app.teardown_request
    def end(_exc: BaseException | None) -> None:
        view = g.pop("registry_view", None)
        if view is not None:
            view.__exit__(None, None, None)


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    settings = load_settings(overrides)
    setup_logging(settings.log_level)
    app = Flask("loper", template_folder=str(TEMPLATES), instance_path=str(settings.instance))
    app.config.update(SECRET_KEY=cookie_secret(settings.keys_dir),
                      SESSION_COOKIE_SECURE=settings.secure, SESSION_COOKIE_HTTPONLY=True,
                      SESSION_COOKIE_SAMESITE="Lax", MAX_CONTENT_LENGTH=1024 * 1024)
    app.extensions["loper"] = broker = build_broker(settings)
    broker.registry.schools()  # warm the cache: the picker's first page need not load them
    _one_registry_view_per_request(app, broker)
    if settings.trusted_proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]

    from broker import admin
    from broker.portal import discovery, logout, transparency
    from broker.web import errors, headers, health

    errors.init_app(app)
    headers.init_app(app, settings.secure)
    for blueprint in (health.bp, *kinds.blueprints(), discovery.bp, logout.bp, transparency.bp):
        app.register_blueprint(blueprint)
    admin.init_app(app)
    return app
