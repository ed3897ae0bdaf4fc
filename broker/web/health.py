"""/healthz: 200 when the state store and the registry answer, 503 otherwise."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from broker.registry import RegistryUnavailable
from broker.store import StoreUnavailable
from broker.web.current import broker

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    report: dict[str, object] = {}
    ok = True
    for name, check, failure in (("store", broker().store.check, StoreUnavailable),
                                 ("registry", broker().registry.check, RegistryUnavailable)):
        try:
            report[name] = check()
        except failure as exc:
            ok = False
            report[name] = {"ok": False, "error": type(exc).__name__}
    report["ok"] = ok
    return jsonify(report), (200 if ok else 503)
