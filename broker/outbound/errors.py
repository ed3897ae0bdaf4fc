"""What an outbound call can end in, besides an answer."""

from __future__ import annotations

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
