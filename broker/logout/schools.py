"""Logging out at the schools: every school session a logout ends, one redirect after the other.

A logout ends this browser's session and the ones it replaced here (the previous pupils' on a
shared device, broker/sso.py), and each of them may still be logged in at its own school: the
next pupil who picks that school would be logged in as them. So each school session is asked
to end through the upstream's `Logout`, the current session's school first, then the earlier
ones newest first, then the sessions at schools whose answers Loper refused in this browser
(broker/logout/refused.py: no Loper session was started, but the pupil's at the school lives);
a school session already asked (the same login service, the same session) is asked once.
Two sessions at one school are two requests: each names its own pupil (NameID and
SessionIndex, or ID token). The school that started the logout itself is not asked back.

Each step goes out with a relay state of its own (`school_relay`), and only the answer
carrying the one in flight is taken: one school's answer never passes for another's.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Mapping, Sequence

from broker import hubs
from broker.context import Broker
from broker.errors import BadRequest, BrokerError, LogoutRejected
from broker.logout.run import Initiator, LogoutRun, Result, SchoolStep
from broker.outgoing import Outgoing
from broker.records import School
from broker.sso import SsoSession
from broker.upstream import Logout

log = logging.getLogger("loper.logout")


def school_relay(run_id: str) -> str:
    """The relay state of one school's step: the run's id and a random value of its own, so
    that nobody who saw another step's relay state (a school or an app asked before) can make
    up this school's answer."""
    return f"{run_id}.{secrets.token_urlsafe(12)}"


class SchoolLogouts:
    def __init__(self, broker: Broker) -> None:
        self.broker = broker

    def to_ask(self, ended: Sequence[SsoSession], initiator: Initiator,
               left: Sequence[SchoolStep] = ()) -> tuple[SchoolStep, ...]:
        """The school sessions of `ended` (the current session first, then the earlier ones
        newest first) to end, then those that refused logins `left` in this browser
        (broker/logout/refused.py), each once; none at the school that started the logout."""
        asked: set[tuple[str, bytes]] = set()
        steps: list[SchoolStep] = []
        for step in (*(SchoolStep(s.person.school_id, s.record.school_session) for s in ended),
                     *left):
            service = self._service_id(step.school_id)
            at = (service, step.session)
            if at in asked or (initiator.by == "school" and service == initiator.party):
                continue
            asked.add(at)
            steps.append(step)
        return tuple(steps)

    def ask(self, run: LogoutRun) -> tuple[LogoutRun, Outgoing | None]:
        """The run with its first school step sent (and the redirect there), or over at once
        (None): the school offers no logout, or could not be asked."""
        step = run.schools[0]
        found = self._school(step.school_id)
        upstream = self._logout_of(found)
        if found is None or upstream is None:
            return run.school_answered("none"), None
        relay = school_relay(run.id)
        try:
            sent = upstream.logout_redirect(found[1], step.session, relay_state=relay)
        except BrokerError as exc:
            log.warning("logout at school failed", extra={"school": step.school_id,
                                                          "reason": exc.message})
            return run.school_answered("failed"), None
        if sent is None:
            return run.school_answered("none"), None
        outgoing, state = sent
        return run.school_sent(relay, state), outgoing

    def answered(self, run: LogoutRun, relay: str, params: Mapping[str, str]) -> LogoutRun:
        """The run with the school step in flight over, by its school's answer `params`;
        LogoutRejected for an answer to no school step in flight, or to another one."""
        step = run.at_school
        if step is None or not hmac.compare_digest(relay.encode(), step.relay.encode()):
            raise LogoutRejected("This answer is not the school's answer that this browser's "
                                 "logout waits for.")
        return run.school_answered(self._answer(step, params))

    def _answer(self, step: SchoolStep, params: Mapping[str, str]) -> Result:
        found = self._school(step.school_id)
        upstream = self._logout_of(found)
        if found is None or upstream is None:
            return "failed"
        try:
            ended = upstream.handle_logout(found[1], params, step.state)
        except BadRequest as exc:  # another protocol's answer, or none at all
            raise LogoutRejected(f"This is no logout answer of {found[1].id}, which this "
                                 f"browser's logout waits for ({exc.message})") from exc
        return "done" if ended else "failed"

    def _school(self, school_id: str) -> tuple[School, School] | None:
        """The school and the one whose login service it uses (its hub, or itself)."""
        school = self.broker.registry.school(school_id)
        if school is None:
            return None
        return school, hubs.hub_of(school, self.broker.registry.school)

    def _service_id(self, school_id: str) -> str:
        found = self._school(school_id)
        return found[1].id if found else school_id

    def _logout_of(self, found: tuple[School, School] | None) -> Logout | None:
        upstream = self.broker.upstreams.get(found[1].protocol) if found else None
        return upstream if isinstance(upstream, Logout) else None
