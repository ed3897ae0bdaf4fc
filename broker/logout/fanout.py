"""Asking every participating supplier to end its session, all at once.

Each downstream's `logout` either ends the session over the back channel (an HTTP call with
its own deadline, through the outbound fetcher), or says what the browser must do (an iframe,
a redirect). They run side by side, so the slowest supplier sets the pace, never the sum; and
the whole fan-out is cut off at `deadline` seconds even if a call were to hang past its own.

A supplier the browser must visit becomes a step with its participant, not with the request
made here: the browser goes there after the schools, maybe minutes later, and the request is
made again when it is sent (broker/logout/apps.py). Only the first step's goes as made here,
when that step is sent at once (`Asked.first`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
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
    first: LogoutSent | None = None
    """The first step's request, made here: sent as it is if that step goes at once (no school
    is asked before it)."""


def ask(downstream: Logout, supplier: Supplier, participant: Participant,
        relay_state: str) -> LogoutSent | None:
    return downstream.logout(supplier, participant.subject, participant.sid, relay_state,
                             participant.name)


def heard(supplier: Supplier, asking: Callable[[], LogoutSent | None]) -> LogoutSent | Result:
    """What the supplier's downstream said when `asking` it: where the browser must go (a
    frame, a redirect), else the result ("failed" when it raised: an adapter's bug must not
    stop the others' logout)."""
    try:
        sent = asking()
    except BrokerError as exc:
        log.warning("logout failed", extra={"supplier": supplier.id, "reason": exc.message})
        return "failed"
    except Exception:
        log.exception("logout failed", extra={"supplier": supplier.id})
        return "failed"
    if sent is None:
        return "none"
    return "done" if sent.done else sent


def fan_out(broker: Broker, participants: Sequence[Participant], relay_state: str,
            deadline: float) -> Asked:
    outcomes: list[Outcome] = []
    asked: list[tuple[Supplier, Participant, Future[LogoutSent | None]]] = []
    pool = ThreadPoolExecutor(max_workers=max(1, min(MAX_THREADS, len(participants))),
                              thread_name_prefix="logout")
    try:
        for participant in participants:
            supplier = broker.registry.supplier(participant.supplier_id)
            downstream = broker.downstreams.get(participant.protocol)
            if supplier is None or downstream is None or not isinstance(downstream, Logout):
                outcomes.append(Outcome(participant.supplier_id, "none"))
                continue
            asked.append((supplier, participant, pool.submit(
                ask, downstream, supplier, participant, relay_state)))
        wait([future for _, _, future in asked], timeout=deadline)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    frames: list[str] = []
    steps: list[tuple[Step, LogoutSent]] = []
    for supplier, participant, future in asked:
        result = _result(supplier, participant, future, frames, steps)
        if result is not None:  # else a redirect step: its answer decides
            outcomes.append(Outcome(supplier.id, result))
    return Asked(tuple(outcomes), tuple(frames), tuple(step for step, _ in steps),
                 steps[0][1] if steps else None)


def _result(supplier: Supplier, participant: Participant, future: Future[LogoutSent | None],
            frames: list[str], steps: list[tuple[Step, LogoutSent]]) -> Result | None:
    if not future.done():
        log.warning("logout not answered in time", extra={"supplier": supplier.id})
        return "failed"
    said = heard(supplier, future.result)
    if isinstance(said, str):
        return said
    if said.frame is not None:
        frames.append(said.frame)
        return "frame"
    steps.append((Step(supplier.id, participant=participant), said))
    return None
