"""The federation operator's pages: health, key expiry, and registering schools and suppliers."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from flask import flash, redirect, request, url_for
from werkzeug.wrappers import Response

from broker import kinds, profiles
from broker.admin import fetch, peer_certificates, register
from broker.admin.base import admins, bp, login_required, operator_only, page, uploaded
from broker.keys import saml_signing
from broker.registry import Registry, RegistryUnavailable
from broker.store import StoreUnavailable
from broker.web.current import broker
from broker.web.i18n import text

log = logging.getLogger("loper.admin")
WARN_DAYS = 60


@dataclass(frozen=True)
class KeyExpiry:
    name: str
    not_after: datetime | None
    problem: str | None = None

    @property
    def days_left(self) -> int | None:
        if self.not_after is None:
            return None
        return (self.not_after - datetime.now(UTC)).days

    @property
    def warn(self) -> bool:
        return self.problem is not None or (self.days_left or 0) < WARN_DAYS


def key_expiry() -> list[KeyExpiry]:
    """The SAML signing certificates of this instance: current, and staged ones if present."""
    found: list[KeyExpiry] = []
    seen: set[Path] = set()
    for which in ("current", "next", "previous"):
        cert = saml_signing(broker().settings.keys_dir, which).cert
        if cert in seen or (which != "current" and not cert.exists()):
            continue
        seen.add(cert)
        try:
            not_after = x509.load_pem_x509_certificate(cert.read_bytes()).not_valid_after_utc
        except (OSError, ValueError) as exc:
            found.append(KeyExpiry(cert.name, None, f"cannot be read: {exc}"))
            continue
        found.append(KeyExpiry(cert.name, not_after))
    return found


def health() -> dict[str, dict[str, object]]:
    report: dict[str, dict[str, object]] = {}
    for name, check, failure in (("store", broker().store.check, StoreUnavailable),
                                 ("registry", broker().registry.check, RegistryUnavailable)):
        try:
            report[name] = check()
        except failure as exc:
            report[name] = {"ok": False, "error": type(exc).__name__}
    return report


@bp.get("/operator")
@login_required
def operator() -> Response:
    operator_only()
    registry = broker().registry
    schools, suppliers, now = registry.schools(), registry.suppliers(), datetime.now(UTC)
    peers = (peer_certificates.expiring("school", schools, now, WARN_DAYS)
             + peer_certificates.expiring("supplier", suppliers, now, WARN_DAYS))
    return page("admin/operator.html", health=health(), keys=key_expiry(),
                schools=schools, suppliers=suppliers, accounts=admins().all(),
                warn_days=WARN_DAYS, peer_certificates=sorted(peers, key=lambda c: c.not_after),
                metadata_sources=registry.metadata_sources().all())


@bp.post("/operator/ledger/verify")
@login_required
def verify_ledger() -> Response:
    operator_only()
    result = broker().registry.ledger().verify()
    flash(text("admin.ledger_ok", rows=result.rows) if result.ok
          else text("admin.ledger_broken", problem=result.problem))
    return redirect(url_for("admin.operator"))


Registration = Callable[[Registry, Mapping[str, str], bytes | None, int], register.Outcome]
"""register.register_school or register.register_supplier."""


def _register(kind: str, add: Registration, protocols: Iterable[kinds.Kind[Any, Any]]) -> Response:
    """The form registering a `kind` ("school" or "supplier") of one of `protocols`, and what
    it posts to `add`."""
    admin = operator_only()
    template = f"admin/new_{kind}.html"
    choices = list(protocols)
    if request.method == "GET":
        return page(template, form={}, kinds=choices, profiles=list(profiles.PROFILES))
    b, metadata = broker(), uploaded("metadata_file", fetch.MAX_BYTES + 1)
    outcome = add(b.registry, request.form, metadata, b.pseudonym_keys.current)
    if outcome.problems:
        return page(template, 400, form=request.form, problems=outcome.problems, kinds=choices,
                    profiles=list(profiles.PROFILES))
    log.info(f"{kind} registered", extra={"admin": admin.id, kind: request.form.get("id")})
    if outcome.secret is not None:  # e.g. an OIDC supplier's client secret, shown once
        return page("admin/registered.html", supplier=outcome.record, secret=outcome.secret)
    flash(text("admin.registered"))
    return redirect(url_for("admin.operator"))


@bp.route("/operator/suppliers/new", methods=["GET", "POST"])
@login_required
def new_supplier() -> Response:
    return _register("supplier", register.register_supplier, kinds.downstreams().values())


@bp.route("/operator/schools/new", methods=["GET", "POST"])
@login_required
def new_school() -> Response:
    return _register("school", register.register_school, kinds.upstreams().values())
