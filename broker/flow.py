"""The login journey; the only module that knows both sides.

supplier request -> pending login -> (school picker) -> school login -> Identity -> Person
(anchored) -> SSO session -> release decision -> the supplier's answer.
"""

from __future__ import annotations

from dataclasses import replace

from broker import (
    acr,
    flow_cancel,
    flow_metrics,
    flow_pending,
    flow_sessions,
    hubs,
    linking,
    localtime,
    metrics,
    release,
    sso,
)
from broker.context import Broker
from broker.downstream import (
    NO_AUTHN_CONTEXT,
    NO_PASSIVE,
    CollectedLater,
    Delivery,
    Downstream,
    DownstreamRequest,
    Renaming,
)
from broker.errors import (
    BrokerError,
    FreshLoginMayHelp,
    LoginCancelled,
    UnknownSchool,
    UnknownSupplier,
    UpstreamRejected,
)
from broker.flow_pending import OWN_PAGES, StartLimit
from broker.flow_release import record_delivery, still_open
from broker.identity import Identity, PendingLogin, Person
from broker.logs import login_log
from broker.outgoing import Outgoing
from broker.pseudonym import anchor
from broker.records import School, Supplier
from broker.sso import SsoSession, new_id

__all__ = ["OWN_PAGES", "Flow", "SsoSession", "StartLimit", "new_id", "record_delivery",
           "still_open"]

class Flow:
    def __init__(self, broker: Broker) -> None:
        self.broker = broker
        self.settings = broker.settings

    # -- step 1: a supplier asks for a login ------------------------------------------------
    def start(self, req: DownstreamRequest, protocol: str, browser: str,
              session: SsoSession | None, limit: StartLimit) -> Outgoing:
        """The supplier's answer at once, or the way to the school or the school picker.
        `limit` counts the start before anything else happens; a start straight to the picker
        stores its pending login and nothing else, and counts itself with it."""
        login = PendingLogin(id=new_id(), supplier_id=req.supplier.id, protocol=protocol,
                             request=req.request, force_authn=req.force_authn,
                             passive=req.passive, max_age=req.max_age, browser=browser,
                             acr=req.acr)
        log = login_log("loper.flow", login.id, supplier=req.supplier.id)
        if req.select_school and not login.passive:  # the pupil picks: no session, no hint
            return self._to_picker(login, limit)
        school = self._hinted_school(req.school_hints)
        if school is None and session is None and not login.passive:
            return self._to_picker(login, limit)
        limit.admit(self.broker)  # before a release, a way to the school or an answer
        if session is not None and flow_sessions.serves(session.person, login, school):
            log.info("login served from sso session", extra={"school": session.person.school_id})
            with flow_metrics.counting(login, flow_sessions.SSO_SESSION):
                return self._release(login, req.supplier, session, flow_sessions.SSO_SESSION)
        if login.passive:
            log.info("passive login without session")
            metrics.login_ended(flow_metrics.NO_SCHOOL, login.protocol, "answered_error")
            return self._downstream(login).respond_error(req.supplier, login.request, NO_PASSIVE)
        if school is None and session is not None:
            school = self.broker.registry.school(session.person.school_id)  # re-authenticate
        if school is not None and session is not None and school.id == session.person.school_id:
            # The session is too old for max_age: the school must log the pupil in again, not
            # answer from its own session (OIDC Core 3.1.2.1).
            login = replace(login, force_authn=True)
        if school is not None:
            with flow_metrics.counting(login, flow_metrics.upstream_of(self.broker, school)):
                return self._go_upstream(login, school, req.supplier)
        return self._to_picker(login)

    def _to_picker(self, login: PendingLogin, limit: StartLimit | None = None) -> Outgoing:
        """The way to the school picker, with the pending login stored; a start not counted
        yet is counted with it (`limit`): one round trip."""
        if limit is None:
            flow_pending.save(self.broker, login)
        else:
            flow_pending.start(self.broker, login, limit)
        login_log("loper.flow", login.id, supplier=login.supplier_id).info(
            "login waits for the school picker")
        return Outgoing(self.settings.url(f"/discovery?login={login.id}"))

    def start_own_page(self, path: str, school_id: str | None, browser: str,
                       limit: StartLimit) -> Outgoing:
        """A login for one of Loper's own pages (`path`, e.g. /me): no supplier, no release;
        the pupil (or parent) lands on the page with an SSO session. `limit` as in start."""
        login = PendingLogin(id=new_id(), supplier_id=OWN_PAGES, protocol="",
                             request=path.encode(), browser=browser)
        school = self.broker.registry.school(school_id) if school_id else None
        if school is not None:
            limit.admit(self.broker)
            with flow_metrics.counting(login, flow_metrics.upstream_of(self.broker, school)):
                return self._go_upstream(login, school)
        return self._to_picker(login, limit)

    def _hinted_school(self, hints: tuple[str, ...]) -> School | None:
        registry = self.broker.registry
        for hint in hints:
            school = registry.school(hint) or registry.school_by_entity_id(hint)
            if school is not None and not school.hub:  # a hub's schools are picked, not it
                return school
        return None

    # -- step 2: the pupil picked a school ----------------------------------------------------
    def pending(self, login_id: str, browser: str) -> PendingLogin:
        """This browser's pending login; another browser's is simply not found."""
        return flow_pending.load(self.broker, login_id, browser)

    def choose_school(self, login: PendingLogin, school_id: str) -> Outgoing:
        school = self.broker.registry.school(school_id)
        if school is None or school.hub:  # a hub is no school to pick: the ones behind it are
            raise UnknownSchool(f"there is no school with id {school_id!r}",
                                back_url=self.settings.url(f"/discovery?login={login.id}"))
        own_page = login.supplier_id == OWN_PAGES
        with flow_metrics.counting(login, flow_metrics.upstream_of(self.broker, school)):
            return self._go_upstream(login, school,
                                     None if own_page else self._supplier(login.supplier_id))

    def _go_upstream(self, login: PendingLogin, school: School,
                     supplier: Supplier | None = None) -> Outgoing:
        """To the school; for a supplier's login (`supplier`), only if the school serves it."""
        if supplier is not None:
            # Not activated, suspended or lapsed: say so now, not after a login at school.
            release.check_open(school, supplier,
                               self.broker.registry.policy(school.id, supplier.id),
                               localtime.today())
        hub = hubs.hub_of(school, self.broker.registry.school)  # or the school itself
        upstream = self.broker.upstreams.get(hub.protocol)
        if upstream is None:
            raise UnknownSchool(f"{school.name} cannot be reached: its protocol "
                                f"{hub.protocol!r} is not enabled here.")
        if school.shared_devices or hub.shared_devices:
            # a shared device: whoever sits at it now must log in at school afresh
            login = replace(login, force_authn=True)
        # A hub's adapter sees the school behind it as the login's school_id (its hint).
        asked = login if hub is school else replace(login, school_id=school.id,
                                                    school_hint=hubs.hint_for(hub, school))
        try:
            with metrics.upstream_call(hub.id, "redirect"):
                outgoing, state = upstream.login_redirect(hub, asked, relay_state=login.id)
        except BrokerError as exc:  # e.g. the school does not answer: offer the way back
            if supplier is not None:
                exc.leads_back_to(supplier.url, supplier.name)
            raise
        flow_pending.sent(self.broker, login, school.id, state)
        login_log("loper.flow", login.id).info("sent to school", extra={"school": school.id})
        return outgoing

    # -- step 3: the school answered ----------------------------------------------------------
    def finish(self, login_id: str, params: dict[str, str],
               browser: str) -> tuple[Outgoing, SsoSession | None]:
        """The answer to the supplier (for a login for Loper's own page: that page) and the new
        SSO session; or the way back to the school and no session, when the school's login was
        too old for the supplier's max_age."""
        login = flow_pending.take(self.broker, login_id, browser)
        school = self.broker.registry.school(login.school_id or "")
        upstream = flow_metrics.upstream_of(self.broker, school)
        with flow_metrics.counting(login, upstream):
            try:
                return self._finish(login, params, upstream)
            except LoginCancelled as exc:  # the pupil may pick a school again, or stop
                flow_cancel.offer_ways_on(self.broker, login, exc)
                raise

    def _finish(self, login: PendingLogin, params: dict[str, str],
                upstream: str) -> tuple[Outgoing, SsoSession | None]:
        if login.supplier_id == OWN_PAGES:  # a login for Loper's own page (/me): no release
            school = self._school_of(login)
            person, at_school = self._person_from_school(school, login, params)
            session = flow_sessions.sign_in(self.broker, person, at_school, school, stored=True)
            metrics.login_ended(upstream, login.protocol, "released")
            return Outgoing(self.settings.url(login.request.decode())), session
        supplier = self._supplier(login.supplier_id)
        try:
            school = self._school_of(login)
            try:
                person, at_school = self._person_from_school(school, login, params)
            except FreshLoginMayHelp as exc:
                if login.force_authn or flow_pending.fresh_already(login, exc):  # refuse
                    raise
                return self._ask_fresh(login, school, supplier, exc), None
            with flow_sessions.left_if_refused(self.broker, login, school, at_school):
                session = flow_sessions.sign_in(self.broker, person, at_school, school,
                                                stored=False)
                return self._release(login, supplier, session, upstream, school,
                                     fresh=True), session
        except BrokerError as exc:
            exc.leads_back_to(supplier.url, supplier.name)
            raise

    def _school_of(self, login: PendingLogin) -> School:
        registry = self.broker.registry
        school = registry.school(login.school_id or "")
        if school is None or school.hub or hubs.hub_of(
                school, registry.school).protocol not in self.broker.upstreams:
            raise UnknownSchool("The school of this login is no longer registered.")
        return school

    def _ask_fresh(self, login: PendingLogin, school: School, supplier: Supplier,
                   why: UpstreamRejected) -> Outgoing:
        """Once, back to the school, now forcing a fresh login; nothing of the answer is kept
        (FreshLoginMayHelp: a login older than the supplier's max_age, or a hub's session of
        someone else, the previous pupil's on a shared device: whoever sits there logs in)."""
        login_log("loper.flow", login.id).info("asking the school again for a fresh login",
                                              extra={"school": school.id, "reason": why.code})
        return self._go_upstream(replace(login, force_authn=True), school, supplier)

    def _person_from_school(self, school: School, login: PendingLogin,
                            params: dict[str, str]) -> tuple[Person, bytes]:
        """The person the school vouches for, and what logging out there needs later."""
        registry = self.broker.registry
        hub = hubs.hub_of(school, registry.school)  # or the school itself
        with metrics.upstream_call(hub.id, "callback"):
            callback = self.broker.upstreams[hub.protocol].handle_callback(
                hub, params, login.upstream)
        if not self.broker.store.remember_once("replay", callback.replay_key, callback.replay_ttl):
            raise UpstreamRejected("This answer from your school was already used once.")
        identity = callback.identity
        with flow_sessions.left_if_refused(self.broker, login, school, callback.session):
            if hub is not school:  # the hub's answer, as the school behind it that it names
                identity = hubs.school_of(hub, identity, registry.schools_behind(hub.id),
                                          school.id)
            return self._anchor(identity), callback.session

    def _anchor(self, identity: Identity) -> Person:
        keys = self.broker.pseudonym_keys
        raw = anchor(keys, identity.school_id, identity.subject)
        return Person(school_id=identity.school_id,
                      anchor=linking.resolve(self.broker.registry, keys, identity, raw),
                      attributes=identity.attributes, authn=identity.authn)

    # -- the release ---------------------------------------------------------------------------
    def _release(self, login: PendingLogin, supplier: Supplier, session: SsoSession,
                 upstream: str, school: School | None = None, *, fresh: bool = False) -> Outgoing:
        """The supplier's answer; `fresh`: the session is new, stored here with the supplier
        joined (nothing is stored when the release is refused)."""
        registry, person = self.broker.registry, session.person
        school = school or registry.school(person.school_id)
        if school is None:
            raise UnknownSchool("Your school is no longer registered.", back_url=supplier.url)
        downstream = self._downstream(login)
        if not acr.answered(login.acr, person.authn.class_ref):
            login_log("loper.flow", login.id, supplier=supplier.id).info(
                "login does not meet the requested context", extra={"school": school.id})
            metrics.login_ended(upstream, login.protocol, "answered_error")
            if fresh:
                sso.save(self.broker.store, session)
            return downstream.respond_error(supplier, login.request, NO_AUTHN_CONTEXT)
        acr.check_employee(supplier, person.roles, person.authn.class_ref)
        released = release.decide(person, school, supplier,
                                  registry.policy(school.id, supplier.id),
                                  self.broker.pseudonym_keys, localtime.today())
        if isinstance(downstream, Renaming):
            released = replace(released, name=downstream.name_for(supplier, login.request) or "")
        with self.broker.store.batched():  # the session and what the answer keeps: one trip
            released = flow_sessions.join(self.broker, session, released, login.protocol, fresh)
            answer = downstream.respond(supplier, login.request, released)
        if not isinstance(downstream, CollectedLater):  # else when the supplier collects it
            record_delivery(self.broker, Delivery.of(released, login.protocol))
        login_log("loper.flow", login.id, supplier=supplier.id).info("released", extra={
            "school": school.id, "attributes": ",".join(sorted(released.attributes)) or "-"})
        metrics.login_ended(upstream, login.protocol, "released")
        return answer

    def _supplier(self, supplier_id: str) -> Supplier:
        supplier = self.broker.registry.supplier(supplier_id)
        if supplier is None:
            raise UnknownSupplier("The learning app of this login is no longer registered.")
        return supplier

    def _downstream(self, login: PendingLogin) -> Downstream:
        return self.broker.downstreams[login.protocol]

    def session(self, session_id: str | None) -> SsoSession | None:
        return sso.load(self.broker.store, session_id)
