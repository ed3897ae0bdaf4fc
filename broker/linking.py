"""Change of school by ECK iD: a pupil arriving at a school that links by ECK iD, with an ECK
iD already seen at another such school, keeps the anchor they have there, so every supplier
keeps their pseudonym. Suppliers still see only their own pseudonyms: the link lives in the
anchor, which no supplier ever receives.

Loper keeps only a keyed hash of the ECK iD (pseudonym.eck_hash), never logs it, and records
every link and every refused one in the school's audit trail (Registry.record_alias_event).
"""

from __future__ import annotations

from datetime import UTC, datetime

from broker.errors import EckIdClaimedTwice
from broker.identity import Identity
from broker.keys import PseudonymKeys
from broker.pseudonym import eck_hash
from broker.registry import Registry
from broker.registry.aliases import AliasEvent, record
from broker.registry.eck_ids import Outcome

ACTOR = "login"


def _action(outcome: Outcome) -> str:
    """The audit trail's words for an outcome: its value. (Read from an Outcome as declared:
    mypy types the value of one narrowed to some of its members Any.)"""
    return outcome.value


def resolve(registry: Registry, keys: PseudonymKeys, identity: Identity, raw: str) -> str:
    """The anchor of this identity (`raw`: its anchor before aliases), linked by ECK iD where
    its school and another both link by it; EckIdClaimedTwice when another pupil of this
    school already arrived with the same ECK iD."""
    values = identity.attributes.get("eck_id", ())
    school = registry.school(identity.school_id)
    if len(values) != 1 or school is None:
        return registry.resolve_anchor(raw)
    now = datetime.now(UTC)
    arrival = registry.eck_ids().arrive(eck_hash(keys, values[0]), school.id,
                                        school.link_by_eck_id, raw, now)
    if arrival.outcome is not Outcome.KNOWN:
        event = AliasEvent(now, school.id, _action(arrival.outcome), ACTOR, arrival.other_school)
        if arrival.outcome is Outcome.NOT_OPTED_IN and not school.link_by_eck_id:
            record(event)  # the log only: it comes back at every login of this pupil
        else:
            registry.record_alias_event(event)  # the audit trail: once per link or refusal
    if arrival.outcome is Outcome.CLAIMED_TWICE:
        raise EckIdClaimedTwice(
            f"{school.name} sent an ECK iD that another pupil of the school already logged in "
            "with. Nothing was linked or sent. Ask your school to correct its records.")
    return arrival.anchor
