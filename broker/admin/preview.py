"""The live preview: exactly what a supplier would receive for a test person, before saving.

It calls `broker.release.decide` (the function every real login calls) on the proposed and on
the current policy, with the real pseudonym keys and a test anchor, and renders the result the
way the downstream adapters do: SAML attribute names (urn:oid) and the persistent NameID, or
the ID token and userinfo claims. No Flask here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime

from broker import attributes
from broker.downstream.saml_pairwise import pairwise_id
from broker.errors import SupplierSuspended
from broker.identity import Attributes, AuthnContext, Person, Released
from broker.keys import PseudonymKeys
from broker.pseudonym import anchor
from broker.records import Policy, School, Supplier
from broker.release import decide

OIDC_SCOPES = ("openid", "profile", "email")
"""An RP asking these receives exactly the released attributes (DESIGN.md)."""
CUSTOM = "custom"
MAX_VALUE, MAX_VALUES = 200, 20
PERSISTENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"


@dataclass(frozen=True)
class Sample:
    key: str
    label: Mapping[str, str]
    attributes: Attributes


SAMPLES: tuple[Sample, ...] = (
    Sample("pupil", {"nl": "Sanne de Vries, leerling groep 7",
                     "en": "Sanne de Vries, pupil in year 7"},
           {"role": ("student",), "given_name": ("Sanne",), "family_name": ("de Vries",),
            "display_name": ("Sanne de Vries",), "email": ("sanne.devries@leerling.example",),
            "groups": ("groep-7a",), "eck_id": ("https://ketenid.nl/201703/5f1c0a9e7d",)}),
    Sample("pupil-young", {"nl": "Daan Jansen, leerling groep 3",
                           "en": "Daan Jansen, pupil in year 3"},
           {"role": ("student",), "given_name": ("Daan",), "family_name": ("Jansen",),
            "display_name": ("Daan Jansen",), "groups": ("groep-3b",)}),
    Sample("teacher", {"nl": "Bram Visser, leraar", "en": "Bram Visser, teacher"},
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
    protocol: str
    subject: str
    """The persistent NameID (SAML) or the pairwise `sub` (OIDC)."""
    lines: tuple[Line, ...]
    """Sent after saving (change "same" or "added"), then no longer sent ("removed")."""
    id_token: Mapping[str, object] | None = None
    userinfo: Mapping[str, object] | None = None
    stopped: str | None = None
    """Why this supplier gets nothing at all right now (suspended, agreement ended)."""

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


def _open(released: Policy | None) -> Policy | None:
    if released is None:
        return None
    return dataclasses.replace(released, suspended_reason=None, valid_until=None)


def _shown(released: Released, protocol: str, scope: str) -> dict[str, tuple[str, tuple[str, ...]]]:
    """name -> (label, values), as the downstream adapter would send them."""
    if protocol == "saml":
        friendly = {a.saml_name: a.friendly_name for a in attributes.VOCABULARY}
        shown: dict[str, tuple[str, tuple[str, ...]]] = {
            attributes.PAIRWISE_ID: ("pairwise-id", (pairwise_id(released.subject, scope),))}
        shown.update((name, (friendly[name], values))
                     for name, values in attributes.to_saml(released.attributes).items()
                     if values)
        return shown
    claim_of = {a.oidc_claim: a.name for a in attributes.VOCABULARY}
    claims = attributes.to_oidc(released.attributes, OIDC_SCOPES)
    return {claim: (claim_of[claim], tuple(v) if isinstance(v, list) else (v,))
            for claim, v in claims.items()}


def preview(person: Person, school: School, supplier: Supplier, current: Policy | None,
            proposed: Policy, keys: PseudonymKeys, today: date, *, scope: str,
            issuer: str) -> Preview:
    """What `supplier` gets for `person` under `proposed`, as a diff against `current`."""
    stopped = None
    try:
        after = decide(person, school, supplier, proposed, keys, today)
    except SupplierSuspended as exc:
        stopped = exc.message
        after = decide(person, school, supplier, _open(proposed), keys, today)
    before = decide(person, school, supplier, _open(current), keys, today)
    new, old = (_shown(r, supplier.protocol, scope) for r in (after, before))
    lines = [Line(name, label, values, "same" if name in old else "added")
             for name, (label, values) in new.items()]
    lines += [Line(name, label, values, "removed")
              for name, (label, values) in old.items() if name not in new]
    result = Preview(protocol=supplier.protocol, subject=after.subject, lines=tuple(lines),
                     stopped=stopped)
    if supplier.protocol != "oidc":
        return result
    claims = {line.name: list(line.values) if attributes.BY_NAME[line.label].multi_valued
              else line.values[0] for line in lines if line.change != "removed"}
    client_id = supplier.oidc.client_id if supplier.oidc else supplier.id
    id_token = {"iss": issuer, "sub": after.subject, "aud": client_id,
                "auth_time": int(person.authn.instant.timestamp()), **claims}
    return dataclasses.replace(result, id_token=id_token,
                               userinfo={"sub": after.subject, **claims})
