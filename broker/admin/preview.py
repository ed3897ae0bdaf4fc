"""The live preview: exactly what a supplier would receive for a test person, before saving.

It calls `broker.release.decide` (the function every real login calls) on the proposed and on
the current policy, with the real pseudonym keys and a test anchor, and renders the result the
way the downstream adapters do: SAML attribute names (urn:oid) and the persistent NameID, or
the ID token and userinfo claims. No Flask here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from broker import attributes, kinds
from broker.errors import SupplierSuspended
from broker.identity import Attributes, AuthnContext, Person
from broker.keys import PseudonymKeys
from broker.kinds import PreviewContext
from broker.messages import Message, msg
from broker.pseudonym import anchor
from broker.records import Policy, School, Supplier
from broker.release import decide

CUSTOM = "custom"
MAX_VALUE, MAX_VALUES = 200, 20


@dataclass(frozen=True)
class Sample:
    key: str
    label: Message
    attributes: Attributes


SAMPLES: tuple[Sample, ...] = (
    Sample("pupil", msg("admin.sample_pupil"),
           {"role": ("student",), "given_name": ("Sanne",), "family_name": ("de Vries",),
            "display_name": ("Sanne de Vries",), "email": ("sanne.devries@leerling.example",),
            "groups": ("groep-7a",), "eck_id": ("https://ketenid.nl/201703/5f1c0a9e7d",)}),
    Sample("pupil-young", msg("admin.sample_pupil_young"),
           {"role": ("student",), "given_name": ("Daan",), "family_name": ("Jansen",),
            "display_name": ("Daan Jansen",), "groups": ("groep-3b",)}),
    Sample("teacher", msg("admin.sample_teacher"),
           {"role": ("employee",), "given_name": ("Bram",), "family_name": ("Visser",),
            "display_name": ("Bram Visser",), "email": ("b.visser@school.example",),
            "groups": ("groep-7a", "groep-8b"),
            "eck_id": ("https://ketenid.nl/201703/88a0c4e2b1",)}),
)
BY_KEY = {s.key: s for s in SAMPLES}


@dataclass(frozen=True)
class Line:
    name: str
    """As the supplier sees it: a SAML attribute name or an OIDC claim."""
    label: str
    """The friendly SAML name, or the internal attribute name."""
    values: tuple[str, ...]
    change: str
    """"added", "removed" or "same", against what the current policy sends."""


@dataclass(frozen=True)
class Preview:
    template: str
    """The supplier's protocol kind's template that shows this preview."""
    subject: str
    """The pseudonym as the supplier receives it (SAML persistent NameID, OIDC pairwise sub)."""
    lines: tuple[Line, ...]
    """Sent after saving (change "same" or "added"), then no longer sent ("removed")."""
    documents: Mapping[str, Mapping[str, object]] = field(default_factory=dict)
    """Whole messages the supplier receives (OIDC: "id_token", "userinfo")."""
    stopped: str | None = None
    """The code of why this supplier gets nothing at all right now (suspended, not activated,
    agreement ended); the lines show what it gets once that is over."""
    profile: str = "oid"
    """The supplier's profile (broker/profiles.py): whose names the lines are in."""

    @property
    def added(self) -> tuple[Line, ...]:
        return tuple(line for line in self.lines if line.change == "added")

    @property
    def removed(self) -> tuple[Line, ...]:
        return tuple(line for line in self.lines if line.change == "removed")


def sample_attributes(school: School, key: str) -> Attributes:
    sample = BY_KEY.get(key, SAMPLES[0])
    return {**sample.attributes, "school_domain": (f"{school.id}.example",),
            "school_id": ("00AA",)}


CUSTOM_FIELDS: tuple[str, ...] = tuple(attr.name for attr in attributes.VOCABULARY)
"""The attributes an admin can type a test value for: the whole vocabulary."""


def typed_attributes(form: Mapping[str, str]) -> Attributes:
    """Values typed in (field "test-<attribute>"; multi-valued ones comma-separated)."""
    found: dict[str, tuple[str, ...]] = {}
    for attr in attributes.VOCABULARY:
        raw = form.get(f"test-{attr.name}", "")
        parts = raw.split(",") if attr.multi_valued else [raw]
        values = tuple(v.strip()[:MAX_VALUE] for v in parts if v.strip())[:MAX_VALUES]
        if values:
            found[attr.name] = values
    return found


def preview_person(keys: PseudonymKeys, school: School, key: str, values: Attributes) -> Person:
    """A person with a test anchor: real keys, a subject no school uses."""
    return Person(school_id=school.id, anchor=anchor(keys, school.id, f"loper-preview:{key}"),
                  attributes=values, authn=AuthnContext(datetime.now(UTC)))


def _open(released: Policy | None, school: School, supplier: Supplier) -> Policy:
    """The release as it reads once activated, not suspended and in force."""
    return dataclasses.replace(released or Policy(school.id, supplier.id), active=True,
                               suspended_reason=None, valid_until=None)


def preview(person: Person, school: School, supplier: Supplier, current: Policy | None,
            proposed: Policy, keys: PseudonymKeys, today: date, *, scope: str,
            issuer: str) -> Preview:
    """What `supplier` gets for `person` under `proposed`, as a diff against `current`."""
    stopped = None
    try:
        after = decide(person, school, supplier, proposed, keys, today)
    except SupplierSuspended as exc:
        stopped = exc.code  # supplier_suspended, supplier_not_activated, agreement_ended
        after = decide(person, school, supplier, _open(proposed, school, supplier), keys, today)
    before = decide(person, school, supplier, _open(current, school, supplier), keys, today)
    kind = kinds.downstream(supplier.protocol, f'supplier "{supplier.id}"')
    context = PreviewContext(scope=scope, issuer=issuer,
                             auth_time=int(person.authn.instant.timestamp()))
    new, old = (kind.render(r, supplier.config, context) for r in (after, before))
    lines = [Line(name, label, values, "same" if name in old.lines else "added")
             for name, (label, values) in new.lines.items()]
    lines += [Line(name, label, values, "removed")
              for name, (label, values) in old.lines.items() if name not in new.lines]
    return Preview(template=kind.template, subject=after.subject, lines=tuple(lines),
                   documents=new.documents, stopped=stopped, profile=supplier.config.profile)
