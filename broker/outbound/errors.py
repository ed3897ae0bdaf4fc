"""What an outbound call can end in, besides an answer."""

from __future__ import annotations

import socket
from http.client import HTTPException, RemoteDisconnected

from broker.messages import Message


class OutboundError(Exception):
    """A call failed; `host` is what a person can be told, `reason` says why (a Message: a
    page shows it in its reader's language; str() of the exception is the English)."""

    def __init__(self, reason: Message, host: str) -> None:
        super().__init__(reason.key)
        self.reason = reason
        self.host = host

    def __str__(self) -> str:  # rendered when read, not when raised (the catalogue may load)
        return str(self.reason)


class OutboundTimeout(OutboundError):
    """No complete answer within the deadline (or the host timed out a moment ago)."""


class OutboundBusy(OutboundTimeout):
    """Too many calls to this host are waiting already: not even tried."""


class OutboundUnreachable(OutboundError):
    """Refused, reset, or not speaking HTTP."""


class OutboundTlsError(OutboundError):
    """The server's certificate could not be verified."""


class OutboundTooLarge(OutboundError):
    """The answer is larger than the call accepts."""


CAUSES = ("name", "refused", "dropped", "not_http", "failed")
"""What cause() can say (message keys outbound.cause_<cause>)."""


def cause(exc: BaseException) -> str:
    """Why a host cannot be reached, as an operator reads it: its name does not resolve, it
    refuses the connection, it drops it, or it answers with no HTTP; else "failed"."""
    seen: list[BaseException] = []
    todo: list[object] = [exc]
    while todo:  # urllib3 keeps the cause in .reason or in its args, Python in __cause__
        found = todo.pop()
        if isinstance(found, BaseException) and all(found is not s for s in seen):
            seen.append(found)
            todo += [getattr(found, "reason", None), found.__cause__, found.__context__,
                     *found.args]
    for cause in seen:
        if isinstance(cause, socket.gaierror):
            return "name"
        if isinstance(cause, ConnectionRefusedError):
            return "refused"
        if isinstance(cause, ConnectionResetError | ConnectionAbortedError | BrokenPipeError
                      | RemoteDisconnected):
            return "dropped"
    return "not_http" if any(isinstance(c, HTTPException) for c in seen) else "failed"
