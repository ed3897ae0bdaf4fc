"""The OP records a release in the ledger when the supplier receives it: when its code is
redeemed, once, and never for a code that is not redeemed, fails, or comes back."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Any

import msgspec
import pytest

from broker.downstream import CollectedLater, Delivery
from broker.downstream.oidc_common import digest
from broker.downstream.oidc_op import OidcOp
from broker.errors import ServiceUnavailable
from broker.records import Supplier
from broker.store import StateStore
from tests.downstream.oidc.conftest import ATTRIBUTES, Rp, released_for

OFFLINE = "openid profile email offline_access"


def _delivered(rp: Rp) -> Delivery:
    return Delivery("regenboog", rp.supplier.id, released_for(rp.supplier).subject,
                    tuple(sorted(ATTRIBUTES)), "oidc")


def test_the_op_records_its_releases_itself(op: OidcOp, deliveries: list[Delivery]) -> None:
    """So the flow leaves them to it (it records those of every other downstream)."""
    assert isinstance(op, CollectedLater) and op.record_delivery == deliveries.append


def test_a_code_that_is_never_redeemed_records_nothing(rp: Rp,
                                                       deliveries: list[Delivery]) -> None:
    rp.code()
    rp.code(scope="openid")
    assert deliveries == []


def test_redeeming_records_the_release_once(rp: Rp, deliveries: list[Delivery]) -> None:
    code = rp.code(scope="openid")  # the ledger names what was released, whatever the scope
    assert rp.exchange(code)[0] == 200
    assert deliveries == [_delivered(rp)]
    status, body, _ = rp.exchange(code)  # replayed: refused, and the grant revoked
    assert (status, body["error"]) == (400, "invalid_grant")
    assert deliveries == [_delivered(rp)]


@pytest.mark.parametrize("spoil", [
    {"code_verifier": "x" * 43}, {"code_verifier": None}, {"redirect_uri": None},
    {"redirect_uri": "https://taalapp.example/other"},
])
def test_a_failed_redemption_records_nothing(rp: Rp, deliveries: list[Delivery],
                                             spoil: dict[str, Any]) -> None:
    code = rp.code()
    assert rp.exchange(code, **spoil)[0] in (400, 401)
    rp.exchange(code)  # a code is spent by its first redemption, even a failed one
    assert deliveries == []


def test_another_clients_redemption_records_nothing(rp: Rp, offline_rp: Rp,
                                                    deliveries: list[Delivery]) -> None:
    code = rp.code()
    assert offline_rp.exchange(code)[0] == 400
    assert deliveries == []


def test_a_closed_release_records_nothing(make_op: Callable[..., OidcOp],
                                          suppliers: dict[str, Supplier],
                                          deliveries: list[Delivery]) -> None:
    rp = Rp(make_op(still_open=lambda school, supplier: False), suppliers["taalapp"])
    assert rp.exchange(rp.code())[0] == 400
    assert deliveries == []


def test_refreshing_adds_no_row(offline_rp: Rp, deliveries: list[Delivery]) -> None:
    tokens = offline_rp.tokens(scope=OFFLINE, prompt="consent")
    status, body, _ = offline_rp.refresh(tokens["refresh_token"])
    assert status == 200 and body["refresh_token"]
    assert deliveries == [_delivered(offline_rp)]


def test_no_tokens_leave_when_the_ledger_cannot_record(make_op: Callable[..., OidcOp],
                                                       suppliers: dict[str, Supplier]) -> None:
    def unavailable(_delivery: Delivery) -> None:
        raise ServiceUnavailable("The registry is unavailable.")

    rp = Rp(make_op(record_delivery=unavailable), suppliers["taalapp"])
    code = rp.code()
    with pytest.raises(ServiceUnavailable):
        rp.exchange(code)
    assert rp.exchange(code)[0] == 400  # and the code is spent


def _stored(rp: Rp, store: StateStore, delivery: object) -> str:
    """A code whose stored record carries `delivery` as given (bypassing CodeRecord)."""
    code = rp.code()
    record = msgspec.msgpack.decode(store.take_code(digest(code)) or b"")
    record["delivery"] = delivery
    store.put_code(digest(code), msgspec.msgpack.encode(record), 60)
    return code


GOOD = {"school_id": "regenboog", "supplier_id": "taalapp", "pseudonym": "p", "attributes": [],
        "protocol": "oidc"}


@pytest.mark.parametrize("delivery", [
    None, "regenboog", [], {}, {"school_id": "regenboog"}, {**GOOD, "school_id": 1},
    {**GOOD, "attributes": "role"}, {**GOOD, "attributes": [1]}, {**GOOD, "pseudonym": None},
])
def test_a_malformed_stored_delivery_voids_the_code(rp: Rp, store: StateStore,
                                                   deliveries: list[Delivery],
                                                   delivery: object) -> None:
    status, body, _ = rp.exchange(_stored(rp, store, delivery))
    assert (status, body["error"]) == (400, "invalid_grant")
    assert deliveries == []


@pytest.mark.parametrize("delivery", [GOOD, {**GOOD, "values": ["Anna"]}])
def test_a_well_formed_stored_delivery_is_what_is_recorded(
        rp: Rp, store: StateStore, deliveries: list[Delivery], delivery: object) -> None:
    """Exactly its fields: anything else in the record never reaches the ledger."""
    assert rp.exchange(_stored(rp, store, delivery))[0] == 200
    assert deliveries == [Delivery("regenboog", "taalapp", "p", (), "oidc")]


def test_the_code_record_carries_names_never_values(rp: Rp, store: StateStore) -> None:
    stored = msgspec.msgpack.decode(store.take_code(digest(rp.code())) or b"")
    assert stored["delivery"] == {**asdict(_delivered(rp)), "attributes": sorted(ATTRIBUTES)}
