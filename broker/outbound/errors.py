"""What an outbound call can end in, besides an answer."""

from __future__ import annotations


class OutboundError(Exception):
    """A call failed; `host` is what a person can be told, the message says why."""

    def __init__(self, message: str, host: str) -> None:
        super().__init__(message)
        self.host = host


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
