"""/healthz and /readyz: what a load balancer or an orchestrator asks.

- /healthz: the process answers (liveness), with the status of each dependency as JSON:
  200 when the state store and the registry answer, 503 (saying which and why) otherwise.
- /readyz: 200 only when this process is ready to take traffic: the state store and the
  registry answer, the registry's records are loaded, the keys are loaded.

Neither names a host, path or secret. A process whose storage is down keeps running and
answers 503 (here and on every page); it serves again as soon as the storage is back.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from broker.context import Broker
from broker.registry import RegistryUnavailable
from broker.store import StoreUnavailable
from broker.web.current import broker

bp = Blueprint("health", __name__)


def dependencies(b: Broker) -> dict[str, dict[str, object]]:
    """Each dependency's report: its own check, or ``{"ok": False, "error", "reason"}``."""
    report: dict[str, dict[str, object]] = {}
    for name, check in (("store", b.store.check), ("registry", b.registry.check)):
        try:
            report[name] = check()
        except (StoreUnavailable, RegistryUnavailable) as exc:
            report[name] = {"ok": False, "error": type(exc).__name__, "reason": exc.reason}
    return report


def warm_up(b: Broker) -> dict[str, dict[str, object]]:
    """The dependencies' report, with the registry's records loaded when it answers."""
    report = dependencies(b)
    if report["registry"]["ok"]:
        try:
            b.registry.schools()  # the picker's first page need not load them
        except RegistryUnavailable as exc:
            report["registry"] = {"ok": False, "error": type(exc).__name__,
                                  "reason": exc.reason}
    return report


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    parts = dependencies(broker())
    ok = all(part["ok"] for part in parts.values())
    return jsonify({**parts, "ok": ok}), (200 if ok else 503)


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    b = broker()
    status: dict[str, object] = {
        name: "ok" if part["ok"] else part["reason"] for name, part in warm_up(b).items()}
    status["keys"] = "ok" if b.pseudonym_keys.versions and b.upstreams else "not loaded"
    ready = all(value == "ok" for value in status.values())
    return jsonify({"ready": ready, **status}), (200 if ready else 503)

