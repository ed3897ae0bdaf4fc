"""Structured, privacy-minded logging.

One line per event, `key=value` pairs after the message, every line of a login carrying its
login id. What may be logged is decided where the call is made: never a pseudonym next to an
upstream id, never an attribute value, only attribute names.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any

_RESERVED = set(vars(logging.makeLogRecord({})))


class KeyValueFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        base = f"{self.formatTime(record)} {record.levelname} {record.name}: {record.getMessage()}"
        extras = {k: v for k, v in vars(record).items() if k not in _RESERVED and k != "message"}
        pairs = " ".join(f"{k}={_quote(v)}" for k, v in sorted(extras.items()))
        text = f"{base} {pairs}" if pairs else base
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return text


def _quote(value: object) -> str:
    text = str(value)
    return f'"{text}"' if (" " in text or not text) else text


class LoginLog(logging.LoggerAdapter[logging.Logger]):
    """A logger whose every line carries the login id (and what else was bound)."""

    def process(self, msg: Any,
                kwargs: MutableMapping[str, Any]) -> tuple[Any, MutableMapping[str, Any]]:
        bound: Mapping[str, object] = self.extra or {}
        kwargs["extra"] = {**bound, **kwargs.get("extra", {})}
        return msg, kwargs


def login_log(name: str, login_id: str, **bound: object) -> LoginLog:
    return LoginLog(logging.getLogger(name), {"login": login_id, **bound})


QUIET_LIBRARIES = ("saml2", "xmlschema")
"""pysaml2 logs the school's subject at INFO and whole documents (attribute values included)
at ERROR; Loper logs what matters itself, so these stay silent."""


def setup_logging(level: str) -> None:
    for name in QUIET_LIBRARIES:
        noisy = logging.getLogger(name)
        noisy.setLevel(logging.CRITICAL + 1)
        noisy.propagate = False
    root = logging.getLogger("loper")
    if not any(isinstance(h.formatter, KeyValueFormatter) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(KeyValueFormatter())
        root.addHandler(handler)
    root.setLevel(level.upper())
