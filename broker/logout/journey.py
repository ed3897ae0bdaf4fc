"""The logout journey: end Loper's session, ask the participants, answer whoever started it.

begin() -> [a redirect to each school, then one per SAML supplier] -> finish. The schools come
first (broker/logout/schools.py: the current session's, then those of the sessions it replaced
in this browser, then those that refused logins left here: broker/logout/refused.py, asked
by the pupil's logout also when Loper has no session here): their sessions are the ones that
would log the next pupil on a shared device in, and a supplier that never answers its redirect
must not keep them alive. A supplier's request is made when its redirect is sent
(broker/logout/apps.py), maybe minutes after begin().
Each redirect's answer comes back through answered(); the run (broker/logout/run.py) is taken
atomically, so an answer that answers nothing Loper asked in this browser is refused (and the
run kept for its real answer). The same answer coming again in the same browser (a reload of
the page it ended on) is no attack: once its logout is over, its result is shown again and
nothing is done (`Finished.again`); while the logout still goes on, it is refused and the
logout waits for its real answer. The same goes for the request
that started a logout (an app's or the school's SAML LogoutRequest, an OIDC app's
RP-initiated logout: the pupil reloads the page it ended on, or goes back to it): once that
logout is over, the same request in the same browser finds its result (`asked_again`);
anything else is left to its endpoint, which refuses a replay as before.

A school that failed in a logout that is over can be tried again from its page, in the same
browser (`try_school_again`): its steps kept for that (broker/logout/retries.py) are
taken and go on as the same run, with a fresh request to the school and a fresh relay state;
its answer ends on the page of that run again, with the new outcome, and nobody else is asked or
answered again (no app, no frames, not whoever started the logout).

A browser follows about 20 redirects in one navigation, and a shared device's logout can ask
many schools and apps one after the other: after `runs.REDIRECTS_IN_A_ROW` of Loper's redirects
in a row the next one goes from a page of Loper's own that goes on by itself (`GoingOn`). An
answer the browser posted from a page (SAML HTTP-POST) counts from none again.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from broker import sso
from broker.context import Broker
from broker.downstream import Logout, LogoutSent, SessionBound
from broker.errors import BrokerError, LogoutRejected
from broker.logout import refused, retries
from broker.logout import run as runs
from broker.logout.apps import AppLogouts
from broker.logout.fanout import fan_out
from broker.logout.run import Initiator, LogoutRun, Outcome, Side
from broker.logout.schools import SchoolLogouts
from broker.outgoing import Outgoing
from broker.sso import Participant, SsoSession, new_id
from broker.upstream import LogoutAnswer

log = logging.getLogger("loper.logout")


@dataclass(frozen=True)
class Finished:
    run: LogoutRun
    ending: Outgoing | None
    """The answer to whoever started the logout; None: Loper's own page."""
    again: bool = False
    """An answer that came before, again (a reload): `run` is the logout it ended, over
    already; nothing was done now, and nobody gets an answer again."""

    @property
    def going_on(self) -> bool:
        """Is the answer a redirect one too many in a row (to be sent from a page)?"""
        return self.ending is not None and self.ending.form is None and self.run.page_due


@dataclass(frozen=True)
class GoingOn:
    """The next redirect, sent from a page of Loper's own that goes on at once by itself: the
    browser followed enough redirects in a row (it stops at about 20)."""

    outgoing: Outgoing
    lang: str
    """The language the logout began in."""


Next = Outgoing | GoingOn | Finished


class Logouts:
    def __init__(self, broker: Broker) -> None:
        self.broker = broker
        self.schools = SchoolLogouts(broker)
        self.apps = AppLogouts(broker)

    def begin(self, session: SsoSession | None, browser: str, initiator: Initiator,
              asked: Mapping[str, str] | None = None) -> Next:
        """End `session` (this browser's, if any), the live ones it replaced in this browser,
        and everyone in them, and the sessions at schools that refused logins left in this
        browser (broker/logout/refused.py; without a session, for the pupil only). `asked`:
        the app's request that asked for it, exactly as it came (checked), found by
        `asked_again`."""
        if session is None:
            return self._without_session(browser, initiator)
        run_id = new_id()
        # With it end the sessions it replaced in this browser that still live (the previous
        # pupils' on a shared device): their apps are still logged in here (broker/sso.py).
        earlier = sso.chain(self.broker.store, session)
        ended = (session, *earlier.sessions)
        sso.end(self.broker.store, ended)  # Loper's own sessions end first
        record = session.record
        everyone = [p for each in ended for p in each.record.participants]
        self._end_grants(everyone)
        by_supplier = initiator.by == "supplier"
        # the app that asked ends its own session in this browser: it is not asked back
        others = [p for p in everyone if not (by_supplier and p.supplier_id == initiator.party)]
        asked_to = fan_out(self.broker, others, run_id, self.broker.settings.logout_timeout + 1)
        itself = (Outcome(initiator.party, "done"),) if by_supplier and record.participant(
            initiator.party) else ()
        schools = self.schools.to_ask(ended, initiator, refused.take(self.broker.store, browser))
        run = LogoutRun(run_id, browser, initiator, schools, steps=asked_to.steps,
                        outcomes=itself + asked_to.outcomes, frames=asked_to.frames,
                        sessions_left=earlier.cut)
        if asked is not None:
            runs.keep_answered(self.broker.store, run, asked)
        log.info("logout started", extra={"by": initiator.by, "school": record.person.school_id,
                                          "participants": len(everyone),
                                          "earlier_sessions": len(ended) - 1,
                                          "sessions_left": earlier.cut,
                                          "schools": len(run.schools)})
        return self._advance(run, asked_to.first)

    def _without_session(self, browser: str, initiator: Initiator) -> Next:
        """A logout in a browser where Loper has no session: the pupil's goes on past a step
        that never answered, and ends the sessions at schools whose answers Loper refused here
        (keeping none of its own); an app's or a school's logout of nobody here does not (it
        may be another pupil's browser now)."""
        by_pupil = initiator.by == "pupil"
        stuck = runs.waiting(self.broker.store, browser) if by_pupil else None
        if stuck is not None:
            return self._past_the_stuck_step(stuck)
        left = self.schools.to_ask((), initiator, refused.take(self.broker.store, browser)
                                   ) if by_pupil else ()
        return self._advance(LogoutRun(new_id(), browser, initiator, left,
                                       had_session=bool(left)))

    def _past_the_stuck_step(self, run: LogoutRun) -> Next:
        """The pupil pressed "log out everywhere" again while the browser's redirect to the
        school or an app never came back (it stopped at an error page of its own): that party
        counts as not reached, and the logout goes on with the others."""
        run = run.page_shown()  # pressed on a page: Loper's redirects count from none
        at_school = run.at_school
        if at_school is None and not run.steps:  # nothing in flight (kept only while so)
            return self._advance(run)
        log.info("logout goes on past a step that never answered", extra={
            "party": f"school:{at_school.school_id}" if at_school else run.steps[0].party})
        return self._advance(run.school_answered("failed") if at_school
                             else run.step_answered("failed"))

    def _end_grants(self, participants: Sequence[Participant]) -> None:
        """What the session's logins issued that would outlive it (refresh tokens) ends with
        it, at every participant, the one that started the logout too."""
        for participant in participants:
            downstream = self.broker.downstreams.get(participant.protocol)
            if downstream is not None and isinstance(downstream, SessionBound):
                downstream.session_ended(participant.sid)

    def answered(self, relay: str, browser: str, side: Side, params: Mapping[str, str],
                 posted: bool = False) -> Next:
        """A supplier's or a school's answer to the redirect in flight; `relay`: its relay
        state; `posted`: the browser posted it from a page (not a redirect). An answer refused
        leaves the logout waiting for its real one."""
        store = self.broker.store
        before = runs.answered_before(store, browser, params)
        if before is not None:
            return self._again(before, runs.run_of(relay), browser)
        run = runs.take(store, runs.run_of(relay), browser)
        if run is None:
            raise LogoutRejected("This logout answer belongs to no logout that Loper started "
                                 "in this browser (it may be used already, or expired).")
        try:
            answered = (self.schools.answered(run, relay, params) if side == "school"
                        else self.apps.answered(run, params))
        except BrokerError:
            runs.keep(store, run)
            raise
        step = self._advance(answered.page_shown() if posted else answered)
        runs.keep_answered(store, run, params)
        return step

    def asked_again(self, browser: str, asked: Mapping[str, str]) -> Next | None:
        """The logout that this very request (every parameter as it came) started in this
        browser, if it is over: as `finished_again` (a reload, or Back to its page). None: it
        started none here that is over (another browser, an altered or new request, a logout
        still going on)."""
        before = runs.answered_before(self.broker.store, browser, asked)
        return self.finished_again(before, browser, "request") if before else None

    def finished_again(self, run_id: str, browser: str, came: str = "link") -> Next | None:
        """This browser's logout `run_id`, if over: its result, and nothing is done (its
        page's link to itself in the other language, or the page the browser comes back to,
        by any of the messages that led there). A school tried again from that page whose
        redirect never came back (the browser stopped at an error page of its own, and the
        pupil went back) counts as not reached first, as when "log out everywhere" is pressed
        again: the run ends once more, and the school may be tried again while tries are
        left. None: not this browser's, or expired."""
        over = runs.finished(self.broker.store, run_id, browser)
        if over is None:
            return None
        retried = runs.waiting(self.broker.store, browser, run_id)  # over, and out once more
        return self._shown_again(over, came) if retried is None else self._past_the_stuck_step(
            retried)

    def _again(self, before: str, run_id: str, browser: str) -> Next:
        """This answer was taken before in this browser: as `finished_again`, if over."""
        again = self.finished_again(before, browser, "answer") if before == run_id else None
        if again is None:
            raise LogoutRejected("This logout answer was used once already, and its logout "
                                 "is still going on.")
        return again

    def _shown_again(self, over: LogoutRun, came: str) -> Finished:
        log.info("logout message came again; its logout is over", extra={
            "came": came, "by": over.initiator.by})
        return Finished(over, None, again=True)

    def try_school_again(self, run_id: str, browser: str, school_id: str, lang: str) -> Next:
        """Ask `school_id` again to end the sessions it could not end in this browser's run
        `run_id`, which is over; the run's page after that in `lang`. LogoutRejected, with
        nothing taken or sent: no such run here, or nothing of that school to try again
        (it succeeded, has no logout, was tried enough, or is being tried already)."""
        store = self.broker.store
        over = runs.finished(store, run_id, browser)
        if over is None or school_id not in retries.schools(store, run_id, browser):
            raise LogoutRejected("No logout of this browser has this school to try again.",
                                 code="logout_retry_gone")
        kept = retries.take(store, run_id, browser)  # atomic: one POST takes them
        again = tuple(replace(s, tries=s.tries + 1) for s in kept if s.school_id == school_id)
        if not again:  # another tab took them in between
            retries.keep(store, replace(over, retry=kept))
            raise LogoutRejected("This school is being tried again already.",
                                 code="logout_retry_gone")
        log.info("logout tries a school again", extra={"school": school_id,
                                                        "tries": again[0].tries})
        others = tuple(s for s in kept if s.school_id != school_id)
        outcomes = tuple(o for o in over.outcomes if not (
            o.side == "school" and o.party == school_id and o.result == "failed"))
        return self._advance(replace(
            over, schools=again, retry=others, outcomes=outcomes, redirects=0,
            tried_again=True, initiator=replace(over.initiator, lang=lang)))

    def _advance(self, run: LogoutRun, made: LogoutSent | None = None) -> Next:
        """The next redirect, or the end. `made`: the first app step's request, made by the
        fan-out just now (sent as it is if no school goes first)."""
        while run.schools:  # one school after the other, each over at once or by its answer
            run, outgoing = self.schools.ask(run)
            if outgoing is not None:
                return self._send(run, outgoing)
        while run.steps:  # then one app after the other, each request made as it is sent
            run, outgoing = self.apps.ask(run, made)
            made = None
            if outgoing is not None:
                return self._send(run, outgoing)
        return self._finish(run)

    def _send(self, run: LogoutRun, outgoing: Outgoing) -> Outgoing | GoingOn:
        """`outgoing` to the party in flight, by a redirect or from a page (a form, or Loper's
        own once enough redirects came in a row); the run kept, counting them."""
        paused = outgoing.form is None and run.page_due
        redirect = outgoing.form is None and not paused
        runs.keep(self.broker.store, run.redirected() if redirect else run.page_shown())
        return GoingOn(outgoing, run.initiator.lang) if paused else outgoing

    def _finish(self, run: LogoutRun) -> Finished:
        log.info("logout finished", extra={
            "by": run.initiator.by,
            "failed": ",".join(f"{o.side}:{o.party}" for o in run.outcomes
                               if o.result == "failed") or "-"})
        if run.had_session:  # its answers, coming again, find how it went
            runs.keep_finished(self.broker.store, run)
            retries.keep(self.broker.store, run)
        return Finished(run, None if run.tried_again else self._ending(run))

    def _ending(self, run: LogoutRun) -> Outgoing | None:
        initiator = run.initiator
        if initiator.by == "supplier":
            supplier = self.broker.registry.supplier(initiator.party)
            downstream = self.broker.downstreams.get(initiator.protocol)
            if supplier is None or downstream is None or not isinstance(downstream, Logout):
                return None
            return downstream.answer_logout(supplier, initiator.request, run.complete)
        if initiator.by == "school":  # the school (or hub) whose IdP asked
            school = self.broker.registry.school(initiator.party)
            upstream = self.broker.upstreams.get(initiator.protocol)
            if school is None or upstream is None or not isinstance(upstream, LogoutAnswer):
                return None
            return upstream.answer_logout(school, initiator.request, run.complete)
        return None
