"""Compact JSON for what the state store keeps: pending logins and SSO sessions.

Kept small on purpose (a few hundred bytes per in-flight login), and strict on the way back
in: a record that does not decode is treated as absent, never half-trusted.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from broker.identity import AuthnContext, PendingLogin, Person


def _dumps(data: dict[str, Any]) -> bytes:
    return json.dumps(data, separators=(",", ":"), sort_keys=True).encode("utf-8")


def _authn(doc: dict[str, Any]) -> AuthnContext:
    return AuthnContext(instant=datetime.fromtimestamp(float(doc["t"]), UTC),
                        class_ref=doc.get("c"))


def pending_to_bytes(login: PendingLogin) -> bytes:
    doc = {k: v for k, v in asdict(login).items() if v not in (None, False, {}, "")}
    return _dumps(doc)


def pending_from_bytes(data: bytes) -> PendingLogin | None:
    try:
        doc = json.loads(data)
        return PendingLogin(**doc)
    except (ValueError, TypeError):
        return None


def person_to_bytes(person: Person) -> bytes:
    return _dumps({
        "s": person.school_id,
        "a": person.anchor,
        "v": {k: list(v) for k, v in person.attributes.items()},
        "t": person.authn.instant.timestamp(),
        "c": person.authn.class_ref,
    })


def person_from_bytes(data: bytes) -> Person | None:
    try:
        doc = json.loads(data)
        return Person(school_id=str(doc["s"]), anchor=str(doc["a"]),
                      attributes={str(k): tuple(map(str, v)) for k, v in doc["v"].items()},
                      authn=_authn(doc))
    except (ValueError, TypeError, KeyError, AttributeError):
        return None
