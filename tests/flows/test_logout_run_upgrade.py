"""A logout in flight while Loper is upgraded: the run was stored by the code before, in its
one-school form, while the browser was at the school; the school's answer comes back (with the
run's id alone as its state) to the new code, and the logout finishes as it would have.
"""

from __future__ import annotations

from broker import codec
from broker.logout import run as runs
from broker.upstream import oidc
from demo.school_op import LYCEUM_PEOPLE
from tests.core.test_logout_run_before import StoredBefore
from tests.flows.conftest import LYCEUM, Federation, whoami
from tests.flows.strict_rp import query_of
from tests.flows.test_logout_earlier_schools import log_in, schools_listed
from tests.flows.test_logout_saml import listed
from tests.hostile.attacker import send
from tests.peers.browser import Browser


def test_a_run_stored_before_the_upgrade_finishes(federation: Federation,
                                                  browser: Browser) -> None:
    log_in(browser, federation, "rekenwonders", "lyceum", LYCEUM_PEOPLE[0].id)
    page = send(browser, "GET", federation.issuer + "/logout")
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    to_school = send(browser, "POST", federation.issuer + "/logout", data={"csrf_token": token})
    lyceum = federation.running.schools["lyceum"]
    assert to_school.headers["Location"].startswith(f"{lyceum}/logout?")
    run_id = runs.run_of(query_of(to_school.headers["Location"])["state"])
    browser_id = str(browser.session.cookies.get("loper_browser"))
    store = federation.broker.store
    run = runs.take(store, run_id, browser_id)
    assert run is not None and run.at_school is not None
    # as the code before kept it: the school's step sent with the run's id as its state
    before = StoredBefore(run.id, run.browser, run.initiator, "lyceum", run.at_school.session,
                          run.steps, run.outcomes, run.frames, school_sent=True,
                          school_state=codec.encode(oidc.LogoutState(run.id)))
    store.put_token(runs.KIND, runs.key(run.id, browser_id), codec.encode(before), runs.TTL)

    browser.get(f"{federation.issuer}/oidc/logged-out", {"state": run.id})  # the school's way back

    assert browser.url.startswith(federation.issuer), browser.text[:300]
    assert "Je bent overal uitgelogd." in browser.text
    assert schools_listed(browser, "done") == [LYCEUM]
    assert listed(browser, "done") == ["Rekenwonders"]
    assert whoami(browser, federation.supplier("rekenwonders")) is None
