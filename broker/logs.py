"""Structured, privacy-minded logging.

One line per event, `key=value` pairs after the message (or, with log_format = "json", one
JSON object per line), every line of a login carrying its login id. What may be logged is
decided where the call is made: never a pseudonym next to an upstream id, never an attribute
value, only attribute names.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Mapping, MutableMapping

_RESERVED = set(vars(logging.makeLogRecord({})))


def _extras(record: logging.LogRecord) -> dict[str, object]:
    """What the call bound to the line (login id, school, error id...)."""
    fields: dict[str, object] = vars(record)
    return {k: v for k, v in fields.items() if k not in _RESERVED and k != "message"}


class KeyValueFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        base = f"{self.formatTime(record)} {record.levelname} {record.name}: {record.getMessage()}"
        extras = _extras(record)
        pairs = " ".join(f"{k}={_quote(v)}" for k, v in sorted(extras.items()))
        text = f"{base} {pairs}" if pairs else base
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return text


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, what the call bound, and the
    traceback (as one string) of a failure. Times in UTC."""

    def format(self, record: logging.LogRecord) -> str:
        event: dict[str, object] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname, "logger": record.name, "message": record.getMessage()}
        for key, value in _extras(record).items():
            event.setdefault(key, value)
        if record.exc_info:
            event["exception"] = self.formatException(record.exc_info)
        return json.dumps(event, default=str, ensure_ascii=False)


FORMATTERS: dict[str, type[logging.Formatter]] = {"text": KeyValueFormatter,
                                                  "json": JsonFormatter}


def _quote(value: object) -> str:
    text = str(value)
    return f'"{text}"' if (" " in text or not text) else text


class LoginLog(logging.LoggerAdapter[logging.Logger]):
    """A logger whose every line carries the login id (and what else was bound)."""

    def process(self, msg: object,
                kwargs: MutableMapping[str, object]) -> tuple[object, MutableMapping[str, object]]:
        bound: Mapping[str, object] = self.extra or {}
        extra = kwargs.get("extra", {})
        if not isinstance(extra, Mapping):
            raise TypeError(f"extra must be a mapping, not {type(extra).__name__}")
        kwargs["extra"] = {**bound, **extra}
        return msg, kwargs


def login_log(name: str, login_id: str, **bound: object) -> LoginLog:
    return LoginLog(logging.getLogger(name), {"login": login_id, **bound})


QUIET_LIBRARIES = ("saml2", "xmlschema")
"""pysaml2 logs the school's subject at INFO and whole documents (attribute values included)
at ERROR; Loper logs what matters itself, so these stay silent."""


class LoperHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The one handler setup_logging adds to Loper's loggers (found again when it runs once
    more, so that a second app in one process changes its format, not its number)."""


def setup_logging(level: str, log_format: str = "text") -> None:
    for name in QUIET_LIBRARIES:
        noisy = logging.getLogger(name)
        noisy.setLevel(logging.CRITICAL + 1)
        noisy.propagate = False
    root = logging.getLogger("loper")
    handler = next((h for h in root.handlers if isinstance(h, LoperHandler)), None)
    if handler is None:
        handler = LoperHandler(sys.stderr)
        root.addHandler(handler)
    handler.setFormatter(FORMATTERS[log_format]())
    root.setLevel(level.upper())
