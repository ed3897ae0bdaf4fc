"""Name resolution inside a call's deadline.

`socket.getaddrinfo` blocks, and neither a socket timeout nor the watchdog reaches it: a DNS
server that does not answer holds the call for as long as the system resolver retries (10 s
and more with glibc's defaults). So a name is resolved in a thread of its own, which the
caller waits for at most the time the call has left; a resolution that is still running then
is abandoned (its thread ends when the system resolver gives up) and the call times out.
"""

from __future__ import annotations

import ipaddress
import socket
import threading

from urllib3.exceptions import TimeoutError as Urllib3Timeout
from urllib3.util.connection import allowed_gai_family


class ResolveTimeout(Urllib3Timeout):
    """The name was not resolved before the call's deadline."""


def is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


class _Lookup:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.done = threading.Event()
        self.addresses: list[str] = []
        self.error: OSError | None = None

    def run(self) -> None:
        try:
            found = socket.getaddrinfo(self.host, self.port, allowed_gai_family(),
                                       socket.SOCK_STREAM)
            self.addresses = list(dict.fromkeys(str(info[4][0]) for info in found))
        except OSError as exc:
            self.error = exc
        finally:
            self.done.set()


def resolve(host: str, port: int, seconds: float) -> list[str]:
    """The addresses of `host` (in the resolver's order), within `seconds`; ResolveTimeout
    when the resolver has not answered by then, its own error (socket.gaierror) otherwise."""
    if is_address(host):
        return [host.strip("[]")]
    lookup = _Lookup(host, port)
    threading.Thread(target=lookup.run, name=f"resolve {host}", daemon=True).start()
    if not lookup.done.wait(max(seconds, 0.0)):
        raise ResolveTimeout(f"resolving {host} took longer than the deadline")
    if lookup.error is not None:
        raise lookup.error
    return lookup.addresses
