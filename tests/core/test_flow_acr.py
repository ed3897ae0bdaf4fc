"""The authentication context through the flow: kept with the pending login and passed on to
the school; an answer that does not meet a required context gets NoAuthnContext; a teacher
below the supplier's employee_acr ends on Loper's page. Nothing is released in either case."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from broker import acr
from broker.acr import AcrRequest
from broker.downstream import NO_AUTHN_CONTEXT
from broker.errors import LoginTooWeak
from broker.registry import Registry
from tests.core.flow_world import FEDERATION, World, build_registry

PPT = acr.AC + "PasswordProtectedTransport"
MFA = acr.REFEDS_MFA
STRICT = """
[[suppliers]]
id = "toetsplein"
name = "Toetsplein"
protocol = "oidc"
url = "https://toetsplein.example"
client_id = "toetsplein"
client_secret = "s3cret"
redirect_uris = ["https://toetsplein.example/callback"]
employee_acr = "https://refeds.org/profile/mfa"

[[releases]]
school = "regenboog"
supplier = "toetsplein"
attributes = ["role"]
"""


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    registry = build_registry(tmp_path_factory.mktemp("registry"), FEDERATION + STRICT)
    yield registry
    registry.close()


def ledger(world: World, supplier: str) -> int:
    return len(world.broker.registry.ledger().entries("regenboog", supplier))


def test_the_requested_context_reaches_the_school(world: World) -> None:
    asked = AcrRequest((MFA, PPT), "minimum")
    world.ask(hints=("regenboog",), acr=asked)
    assert [login.acr for login in world.upstream.sent] == [asked]


def test_an_answer_that_meets_it_is_released(world: World) -> None:
    sent = world.ask(hints=("regenboog",), acr=AcrRequest((PPT,), "minimum"))
    outgoing, _ = world.answer(sent, acr=MFA)
    assert outgoing.form is not None and "sub" in outgoing.form


def test_an_answer_below_it_gets_no_authn_context_and_nothing_released(world: World) -> None:
    before = ledger(world, "taalapp")
    sent = world.ask(hints=("regenboog",), acr=AcrRequest((MFA,), "minimum"))
    outgoing, _ = world.answer(sent, acr=PPT)
    assert outgoing.form == {"error": NO_AUTHN_CONTEXT}
    assert ledger(world, "taalapp") == before


def test_a_voluntary_request_is_passed_on_but_never_refused(world: World) -> None:
    sent = world.ask(hints=("regenboog",), acr=AcrRequest((MFA,), required=False))
    outgoing, _ = world.answer(sent, acr=PPT)
    assert outgoing.form is not None and "sub" in outgoing.form


def test_a_session_too_weak_for_the_request_goes_back_to_the_school(world: World) -> None:
    _, session = world.answer(world.ask(hints=("regenboog",)), acr=PPT)
    sent = world.ask(session=session, acr=AcrRequest((MFA,)))
    assert sent.url == "https://regenboog.school.example/login"
    assert world.upstream.sent[-1].acr == AcrRequest((MFA,))


def test_a_teacher_below_employee_acr_ends_on_loper_page(world: World) -> None:
    before = ledger(world, "toetsplein")
    sent = world.ask("toetsplein", hints=("regenboog",))
    with pytest.raises(LoginTooWeak) as refused:
        world.answer(sent, acr=PPT, attributes={"role": ["employee"]})
    assert refused.value.status == 403 and refused.value.supplier_name == "Toetsplein"
    assert ledger(world, "toetsplein") == before


def test_a_teacher_with_mfa_and_a_pupil_without_pass(world: World) -> None:
    teacher = world.answer(world.ask("toetsplein", hints=("regenboog",)), acr=MFA,
                           attributes={"role": ["employee"]})[0]
    pupil = world.answer(world.ask("toetsplein", hints=("regenboog",), browser="b2"),
                         acr=PPT, browser="b2")[0]
    assert teacher.form is not None and "sub" in teacher.form
    assert pupil.form is not None and "sub" in pupil.form
