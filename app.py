"""The composition root: `create_app()` wires settings, storage, keys and adapters.

    gunicorn 'app:create_app()'      flask --app app run
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, g, request

from broker.context import Broker
from broker.errors import ConfigError
from broker.keys import cookie_secret, load_pseudonym_keys
from broker.logs import setup_logging
from broker.registry import Registry
from broker.settings import Settings, load_settings
from broker.store import StoreUnavailable, open_store

TEMPLATES = Path(__file__).resolve().parent / "templates"


def _saml(broker: Broker) -> None:
    from broker.downstream.saml_idp import SamlIdp, SamlIdpConfig
    from broker.keys import saml_signing, staged_saml_signing
    from broker.saml.compat import check_version
    from broker.saml.crypto import attach
    from broker.upstream.saml import SamlSpConfig, SamlUpstream

    check_version()  # before pysaml2's internals are used
    s = broker.settings
    current = saml_signing(s.keys_dir)
    next_pair = staged_saml_signing(s.keys_dir)
    sp = SamlUpstream(SamlSpConfig(entity_id=s.url("/saml/sp/metadata"),
                                   acs_url=s.url("/saml/sp/acs"), signing=current,
                                   next_signing=next_pair, clock_skew=s.clock_skew),
                      attach_crypto=attach)
    idp = SamlIdp(SamlIdpConfig(entity_id=s.url("/saml/idp/metadata"),
                                sso_url=s.url("/saml/idp/sso"), signing=current,
                                next_signing=next_pair, scope=s.host,
                                encryption=s.saml_encryption,
                                relay_state_max=s.relay_state_max, clock_skew=s.clock_skew),
                  attach=attach)
    broker.upstreams["saml"] = sp
    broker.downstreams["saml"] = idp
    broker.saml = idp
    broker.metadata["saml-sp"] = sp.metadata_xml()
    broker.metadata["saml-idp"] = idp.metadata_xml()


def _oidc(broker: Broker) -> None:
    from broker.downstream.oidc_op import OidcOp, OidcOpConfig
    from broker.flow import still_open
    from broker.keys import oidc_key_paths, published_oidc_keys
    from broker.upstream.oidc import OidcRpConfig, OidcUpstream

    s, registry = broker.settings, broker.registry
    op = OidcOp(OidcOpConfig(issuer=s.base_url, signing_keys=oidc_key_paths(s.keys_dir),
                             next_signing_keys=published_oidc_keys(s.keys_dir),
                             still_open=functools.partial(still_open, broker)),
                broker.store, registry.supplier_by_client_id)
    broker.downstreams["oidc"] = op
    broker.oidc = op
    broker.upstreams["oidc"] = OidcUpstream(OidcRpConfig(
        redirect_uri=s.url("/oidc/callback"), clock_skew=s.clock_skew))


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
    _saml(broker)
    _oidc(broker)
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
    from broker.web import errors, headers, health, oidc, saml, school_oidc

    errors.init_app(app)
    headers.init_app(app, settings.secure)
    for blueprint in (health.bp, saml.bp, oidc.bp, school_oidc.bp, discovery.bp, logout.bp,
                      transparency.bp):
        app.register_blueprint(blueprint)
    admin.init_app(app)
    return app
