"""The optional adapter interfaces are found by isinstance(), as Dex finds its connectors'."""

from __future__ import annotations

from collections.abc import Mapping

from broker import downstream, upstream
from broker.identity import Identity
from broker.outgoing import Outgoing
from broker.records import School, Supplier
from tests.core.flow_world import FakeDownstream, FakeUpstream


class LoggingOutSchool(FakeUpstream):
    def logout_redirect(self, school: School, session: bytes,
                        relay_state: str) -> tuple[Outgoing, bytes] | None:
        return Outgoing(f"https://{school.id}.school.example/logout"), session

    def handle_logout(self, school: School, params: Mapping[str, str], state: bytes) -> bool:
        return True


class RefreshingSchool(FakeUpstream):
    def refresh(self, school: School, identity: Identity,
                session: bytes) -> tuple[Identity, bytes]:
        return identity, session


class LoggingOutSupplier(FakeDownstream):
    def logout(self, supplier: Supplier, subject: str, sid: str, relay_state: str,
               name: str = "") -> downstream.LogoutSent | None:
        return None

    def logout_answered(self, supplier: Supplier, params: Mapping[str, str],
                        state: bytes) -> bool:
        return True

    def answer_logout(self, supplier: Supplier, request: bytes,
                      complete: bool) -> Outgoing | None:
        return None


def test_an_adapter_offers_what_it_implements() -> None:
    assert isinstance(LoggingOutSchool(), upstream.Logout)
    assert not isinstance(LoggingOutSchool(), upstream.Refresh)
    assert isinstance(RefreshingSchool(), upstream.Refresh)
    assert not isinstance(RefreshingSchool(), upstream.Logout)
    assert isinstance(LoggingOutSupplier(), downstream.Logout)
    assert not isinstance(LoggingOutSupplier(), downstream.Renaming)


def test_a_plain_adapter_offers_neither() -> None:
    assert not isinstance(FakeUpstream(), upstream.Logout | upstream.Refresh)
    assert not isinstance(FakeDownstream(), downstream.Logout | downstream.Renaming)
