"""/healthz and /readyz: what a load balancer or an orchestrator asks.

- /healthz: the process answers (liveness), with the status of each dependency as JSON:
  200 when the state store and the registry answer, 503 (saying which and why) otherwise.
- /readyz: 200 only when this process is ready to take traffic: the state store and the
  registry answer, the registry's records are loaded, the keys are loaded and every key file
  still reads as a usable key (key_checks.check_keys: read on every probe, parsed once per content).

Neither names a host, path or secret. A process whose storage is down keeps running and
answers 503 (here and on every page); it serves again as soon as the storage is back.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, jsonify

from broker.context import Broker
from broker.key_checks import KeyProblem, check_keys
from broker.portal.search_index import picker_index
from broker.registry import RegistryUnavailable
from broker.store import StoreUnavailable
from broker.web.current import broker

bp = Blueprint("health", __name__)
log = logging.getLogger("loper.health")
_told: set[str] = set()
"""Key problems logged already: a probe every few seconds logs each one once."""


Unavailable = StoreUnavailable | RegistryUnavailable
Part = dict[str, object] | Unavailable
"""A dependency's own report (its check()), or why it is unavailable."""


def dependencies(b: Broker, warm: bool = False) -> dict[str, Part]:
    """The state store and the registry, checked; `warm`: and the school picker's search index
    built (the picker's first page then need not build it)."""
    parts: dict[str, Part] = {}
    for name, check in (("store", b.store.check), ("registry", b.registry.check)):
        try:
            parts[name] = check()
            if warm and name == "registry":
                picker_index(b.registry)
        except (StoreUnavailable, RegistryUnavailable) as exc:
            parts[name] = exc
    return parts


def _public(part: Part) -> dict[str, object]:
    if isinstance(part, dict):
        return part
    return {"ok": False, "error": type(part).__name__, "reason": part.reason}


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    parts = {name: _public(part) for name, part in dependencies(broker()).items()}
    ok = all(part["ok"] for part in parts.values())
    return jsonify({**parts, "ok": ok}), (200 if ok else 503)


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    b = broker()
    status: dict[str, object] = {
        name: part.reason if isinstance(part, Exception) else "ok"
        for name, part in dependencies(b, warm=True).items()}
    status["keys"] = _keys(b)
    ready = all(value == "ok" for value in status.values())
    return jsonify({"ready": ready, **status}), (200 if ready else 503)


def _keys(b: Broker) -> str:
    """What /readyz says of the keys: ok, or what is wrong, naming no path (the log names the
    file, once)."""
    if not (b.pseudonym_keys.versions and b.upstreams):
        return "not loaded"
    try:
        check_keys(b.settings.keys_dir)
    except KeyProblem as exc:
        if str(exc) not in _told:
            _told.add(str(exc))
            log.error("not ready: %s", exc)
        return exc.reason
    return "ok"
