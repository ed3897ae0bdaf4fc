"""Asking every participating supplier to end its session, all at once.

Each downstream's `logout` either ends the session over the back channel (an HTTP call with
its own deadline, through the outbound fetcher), or says what the browser must do (an iframe,
a redirect). They run side by side, so the slowest supplier sets the pace, never the sum; and
the whole fan-out is cut off at `deadline` seconds even if a call were to hang past its own.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

from broker.context import Broker
from broker.downstream import Logout, LogoutSent
from broker.errors import BrokerError
from broker.logout.run import Outcome, Result, Step
from broker.records import Supplier
from broker.sso import Participant

log = logging.getLogger("loper.logout")
MAX_THREADS = 8


@dataclass(frozen=True)
class Asked:
    outcomes: tuple[Outcome, ...]
    frames: tuple[str, ...]
    steps: tuple[Step, ...]


def _ask(downstream: Logout, supplier: Supplier, participant: Participant,
         relay_state: str) -> LogoutSent | None:
    return downstream.logout(supplier, participant.subject, participant.sid, relay_state,
                             participant.name)


def fan_out(broker: Broker, participants: Sequence[Participant], relay_state: str,
            deadline: float) -> Asked:
    outcomes: list[Outcome] = []
    asked: list[tuple[Supplier, Future[LogoutSent | None]]] = []
    pool = ThreadPoolExecutor(max_workers=max(1, min(MAX_THREADS, len(participants))),
                              thread_name_prefix="logout")
    try:
        for participant in participants:
            supplier = broker.registry.supplier(participant.supplier_id)
            downstream = broker.downstreams.get(participant.protocol)
            if supplier is None or downstream is None or not isinstance(downstream, Logout):
                outcomes.append(Outcome(participant.supplier_id, "none"))
                continue
            asked.append((supplier, pool.submit(_ask, downstream, supplier, participant,
                                                relay_state)))
        wait([future for _, future in asked], timeout=deadline)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    frames: list[str] = []
    steps: list[Step] = []
    for supplier, future in asked:
        result = _result(supplier, future, frames, steps)
        if result is not None:  # else a redirect step: its answer decides
            outcomes.append(Outcome(supplier.id, result))
    return Asked(tuple(outcomes), tuple(frames), tuple(steps))


def _result(supplier: Supplier, future: Future[LogoutSent | None], frames: list[str],
            steps: list[Step]) -> Result | None:
    if not future.done():
        log.warning("logout not answered in time", extra={"supplier": supplier.id})
        return "failed"
    try:
        sent = future.result()
    except BrokerError as exc:
        log.warning("logout failed", extra={"supplier": supplier.id, "reason": exc.message})
        return "failed"
    except Exception:  # an adapter's bug must not stop the others' logout
        log.exception("logout failed", extra={"supplier": supplier.id})
        return "failed"
    if sent is None:
        return "none"
    if sent.frame is not None:
        frames.append(sent.frame)
        return "frame"
    if sent.outgoing is not None:
        steps.append(Step(supplier.id, sent.outgoing, sent.state))
        return None
    return "done"
