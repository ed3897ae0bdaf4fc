"""A broker-like process for the power-cut test: appends ledger rows as fast as it can and
prints the seq of each row once append() has returned (the acknowledgement), until killed.

    python -m tests.registry.ledger_writer REGISTRY_URL WORKER
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime

from broker.registry import Registry


def main(url: str, worker: str) -> None:
    ledger = Registry(url).ledger()
    i = 0
    while True:
        seq = ledger.append(datetime.now(UTC), "regenboog", "rekenwonders", f"v1-{worker}-{i}",
                            ["role", "given_name"], "saml")
        print(seq, flush=True)
        i += 1


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
