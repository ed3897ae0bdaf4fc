"""What a release asks of the registry after the login's own steps (broker/flow.py): whether
the school still releases to the supplier, and the ledger entry when the supplier receives it.
"""

from __future__ import annotations

from datetime import UTC, datetime

from broker import localtime, release
from broker.context import Broker
from broker.downstream import Delivery
from broker.errors import SupplierSuspended


def still_open(broker: Broker, school_id: str, supplier_id: str) -> bool:
    """Does the school still release to the supplier today, as a new login would find?
    (Tokens issued earlier ask this before they are refreshed or used.)"""
    registry = broker.registry
    school, supplier = registry.school(school_id), registry.supplier(supplier_id)
    if school is None or supplier is None:
        return False
    try:
        release.check_open(school, supplier, registry.policy(school_id, supplier_id),
                           localtime.today())
    except SupplierSuspended:
        return False
    return True


def record_delivery(broker: Broker, delivery: Delivery) -> None:
    """Write a release to the ledger as the supplier receives it. (A downstream that answers
    later calls this then: the OIDC provider when its code is redeemed.)"""
    broker.registry.ledger().append(datetime.now(UTC), delivery.school_id, delivery.supplier_id,
                                    delivery.pseudonym, delivery.attributes, delivery.protocol)
