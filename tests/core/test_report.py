"""The privacy officer's report read from a ledger written by real logins through the Flow."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from broker.localtime import LOCAL_TIME, months
from broker.registry.report import SupplierMonth
from tests.core.flow_world import World, build_registry


def test_logins_are_counted_per_supplier_per_month(tmp_path: Path) -> None:
    registry = build_registry(tmp_path)
    try:
        world = World(registry, tmp_path)
        for pupil in ("anna", "bram", "anna", "cas"):
            world.answer(world.ask("taalapp", hints=("regenboog",)), subject=pupil)
        world.answer(world.ask("taalapp", hints=("lyceum",)), subject="dirk")
        now = datetime.now(LOCAL_TIME)
        this_month = now.date().replace(day=1)
        assert registry.monthly_report("regenboog", months(now.year)) == [
            SupplierMonth(this_month, "taalapp", people=3, logins=4,
                          attributes=("given_name", "role"))]
        assert registry.monthly_report("lyceum", months(now.year)) == [
            SupplierMonth(this_month, "taalapp", 1, 1, ("role",))]
        assert registry.monthly_report("regenboog", months(now.year - 1)) == []
    finally:
        registry.close()


def test_months_are_dutch_calendar_months() -> None:
    january, *_, july, _, _, _, _, december = months(2026)
    assert january[0].isoformat() == "2026-01-01"
    assert january[1].isoformat() == "2025-12-31T23:00:00+00:00"  # CET
    assert july[1].isoformat() == "2026-06-30T22:00:00+00:00"  # CEST
    assert december[2].isoformat() == "2026-12-31T23:00:00+00:00"
