"""A logout in flight while Loper is upgraded to making each app's LogoutRequest when it is sent
(broker/logout/apps.py): the run was stored by the code before, its app steps with the requests
made when the logout began, while the browser was at the school. The school's answer comes back
to the new code, the app gets the request made before, as it is, and the logout finishes.
"""

from __future__ import annotations

from broker.downstream import Logout
from broker.logout import run as runs
from demo.school_op import LYCEUM_PEOPLE
from tests.core.test_logout_apps import StepBefore, stored_before
from tests.flows.conftest import LYCEUM, Federation, whoami
from tests.flows.strict_rp import query_of
from tests.flows.test_logout_earlier_schools import log_in, schools_listed
from tests.flows.test_logout_fresh_requests import press_log_out, request_of, sent_to
from tests.flows.test_logout_saml import listed
from tests.peers.browser import Browser


def test_a_run_with_its_app_requests_made_at_the_start_finishes(federation: Federation,
                                                                browser: Browser) -> None:
    log_in(browser, federation, "taalapp", "lyceum", LYCEUM_PEOPLE[0].id)
    to_school = press_log_out(browser, federation).headers["Location"]
    assert to_school.startswith(f"{federation.running.schools['lyceum']}/logout?")
    run_id = runs.run_of(query_of(to_school)["state"])
    browser_id = str(browser.session.cookies.get("loper_browser"))
    store = federation.broker.store
    run = runs.take(store, run_id, browser_id)
    assert run is not None and run.at_school is not None and len(run.steps) == 1
    # as the code before kept it: the app's request made at the start, no participant
    step, idp = run.steps[0], federation.broker.downstreams["saml"]
    supplier = federation.registry.supplier(step.party)
    assert step.participant is not None and supplier is not None and isinstance(idp, Logout)
    made = idp.logout(supplier, step.participant.subject, step.participant.sid, run.id,
                      step.participant.name)
    assert made is not None and made.outgoing is not None
    before = StepBefore(step.party, made.outgoing, made.state)
    store.put_token(runs.KIND, runs.key(run.id, browser_id), stored_before(run, (before,)),
                    runs.TTL)

    browser.get(to_school)

    assert browser.url.startswith(federation.issuer), browser.text[:300]
    assert "Je bent overal uitgelogd." in browser.text
    assert schools_listed(browser, "done") == [LYCEUM]
    assert listed(browser, "done") == ["Taalapp"]
    assert whoami(browser, federation.supplier("taalapp")) is None
    received = sent_to(browser, federation.supplier("taalapp"))
    assert [r.get("ID") for r in received] == [request_of(made.outgoing.url).get("ID")]
