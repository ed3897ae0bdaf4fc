"""A supplier registered with `iss_in_errors = false` gets its error answers without `iss`
(RFC 9207), for an RP that takes an `iss` without a code for a login its provider starts
(mod_auth_openidc 2.4: tests/suppliers/test_stopped_login.py). Its codes still come with it."""

from __future__ import annotations

import pytest

from broker.downstream import NO_PASSIVE
from broker.outgoing import Outgoing
from broker.records import Supplier
from tests.downstream.oidc.conftest import ISSUER, REDIRECT, Rp, make_supplier, query_of


@pytest.fixture
def plain(rp: Rp, suppliers: dict[str, Supplier]) -> Rp:
    suppliers["plainerrors"] = make_supplier("plainerrors", iss_in_errors=False)
    return Rp(rp.op, suppliers["plainerrors"])


def _answer(outcome: object) -> dict[str, str]:
    assert isinstance(outcome, Outgoing) and outcome.url.startswith(REDIRECT + "?")
    return query_of(outcome.url)


def test_a_refused_authorization_request_goes_back_without_iss(plain: Rp) -> None:
    answer = _answer(plain.op.parse_authorization(plain.params(response_type="token",
                                                               state="s1")))
    assert answer == {"error": "unsupported_response_type", "state": "s1",
                      "error_description": answer["error_description"]}


@pytest.mark.parametrize(("status", "error"), [(NO_PASSIVE, "login_required"),
                                                ("Failed", "access_denied")])
def test_a_failed_login_goes_back_without_iss(plain: Rp, status: str, error: str) -> None:
    asked = plain.authorize(state="s2")
    answer = _answer(plain.op.respond_error(plain.supplier, asked.request, status))
    assert (answer["error"], answer["state"]) == (error, "s2") and "iss" not in answer


def test_a_code_still_names_the_issuer(plain: Rp) -> None:
    answer = plain.login(state="s3")
    assert set(answer) == {"code", "state", "iss"} and answer["iss"] == ISSUER


def test_every_other_supplier_gets_iss_in_its_errors(rp: Rp) -> None:
    asked = rp.authorize()
    assert _answer(rp.op.respond_error(rp.supplier, asked.request, "Failed"))["iss"] == ISSUER
