"""Logging out at the apps the browser visits: one redirect after the other, each request made
when it is sent.

An app whose logout goes through the browser (a SAML SP's SingleLogoutService) is visited after
every school (broker/logout/journey.py), maybe minutes after the logout began: a school whose
logout page waits for the pupil, several schools on a shared device, a "logging out…" page in
between. An SP refuses a LogoutRequest older than its clock skew allows (Shibboleth SP,
SimpleSAMLphp, mellon), so each step's request is made as the step is sent, fresh (its own ID,
IssueInstant and signature), by asking the downstream's `Logout.logout` again for the step's
participant, with the run's id as relay state as before; the step keeps what its downstream
kept of the request sent, and its answer is read against that alone. The first step's request,
made by the fan-out (broker/logout/fanout.py), goes as it is when the step is sent at once.

A step stored before requests were made when sent (its request made at the start, and no
participant) is sent as it is: a logout in flight during an upgrade finishes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from functools import partial

from broker.context import Broker
from broker.downstream import Logout, LogoutSent
from broker.errors import LogoutRejected
from broker.logout.fanout import ask, heard
from broker.logout.run import LogoutRun, Result
from broker.outgoing import Outgoing
from broker.sso import Participant


class AppLogouts:
    def __init__(self, broker: Broker) -> None:
        self.broker = broker

    def ask(self, run: LogoutRun, made: LogoutSent | None = None
            ) -> tuple[LogoutRun, Outgoing | None]:
        """The run with its first app step sent (and the redirect there), or over at once
        (None): the app offers no logout any more, or could not be asked. `made`: that step's
        request, made just now (by the fan-out)."""
        step = run.steps[0]
        if step.participant is None:  # stored before: its request was made at the start
            if step.outgoing is None:
                return run.step_answered("failed"), None
            return run, step.outgoing
        said = made if made is not None else self._made(step.participant, run.id)
        if isinstance(said, str):
            return run.step_answered(said), None
        if said.outgoing is None:  # a frame after all: it loads on Loper's page at the end
            frames = (*run.frames, said.frame) if said.frame else run.frames
            return replace(run, frames=frames).step_answered("frame"), None
        return run.step_sent(said.state), said.outgoing

    def _made(self, participant: Participant, relay_state: str) -> LogoutSent | Result:
        """The request to end `participant`'s session, made now; else the step's result."""
        supplier = self.broker.registry.supplier(participant.supplier_id)
        downstream = self._logout_of(participant.protocol)
        if supplier is None or downstream is None:
            return "none"
        return heard(supplier, partial(ask, downstream, supplier, participant, relay_state))

    def answered(self, run: LogoutRun, params: Mapping[str, str]) -> LogoutRun:
        """The run with the app step in flight over, by its app's answer `params` (read against
        the request sent); LogoutRejected when no app step is in flight."""
        if not run.steps or run.schools:
            raise LogoutRejected("Loper asked no learning app for a logout in this browser.")
        step = run.steps[0]
        supplier = self.broker.registry.supplier(step.party)
        downstream = self._logout_of(supplier.protocol) if supplier else None
        if supplier is None or downstream is None:
            return run.step_answered("failed")
        ended = downstream.logout_answered(supplier, params, step.state)
        return run.step_answered("done" if ended else "failed")

    def _logout_of(self, protocol: str) -> Logout | None:
        downstream = self.broker.downstreams.get(protocol)
        return downstream if isinstance(downstream, Logout) else None
