"""Registry entries as the rest of the broker sees them: frozen, typed, no I/O.

The registry package turns its database rows into these; release.py, flow.py and the
protocol adapters only ever see these. A school's and a supplier's protocol fields are the
`config` of its protocol kind (broker/kinds.py): each kind subclasses SchoolConfig or
SupplierConfig in its own module, so nothing here knows a protocol.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import ClassVar

from broker.languages import LANGUAGES


@dataclass(frozen=True)
class SchoolConfig:
    """The fields one upstream kind needs to log in at a school."""

    protocol: ClassVar[str]
    """The kind's name in broker/kinds.py and in the federation file's `protocol`."""

    @property
    def identity(self) -> str:
        """What the school's own software is known by here (an entity id, an issuer)."""
        raise NotImplementedError


@dataclass(frozen=True)
class SupplierConfig:
    """The fields one downstream kind needs to answer a supplier."""

    protocol: ClassVar[str]
    """The kind's name in broker/kinds.py and in the federation file's `protocol`."""
    profile: str = field(default="oid", kw_only=True)
    """The names the supplier reads (broker/profiles.py): "oid" or "entree". Every kind has
    it, so each kind's adapter and preview name the released attributes the same way."""

    @property
    def identity(self) -> str:
        """What the supplier's own software is known by here (an entity id, a client id)."""
        raise NotImplementedError


@dataclass(frozen=True)
class Behind(SchoolConfig):
    """A school that logs in through a hub (`via`): no protocol fields of its own; the hub's
    answers are its own when they carry every vocabulary value of `match` (broker/hubs.py)."""

    protocol: ClassVar[str] = "via"
    hub: str
    match: Mapping[str, str]
    hint_value: str | None = None
    """How the hub knows this school, for a hub with `hint` on (an IdP entity id, a BRIN);
    None: the one value of `match`."""

    @property
    def identity(self) -> str:
        return f"via {self.hub}"


@dataclass(frozen=True)
class School:
    id: str
    name: str
    config: SchoolConfig
    place: str | None = None
    sso_lifetime: int | None = None
    """Seconds a single sign-on session lasts for this school; None: the deployment default."""
    link_by_eck_id: bool = False
    """A pupil arriving with an ECK iD already seen at another school that also links by it
    keeps their anchor there (broker/linking.py): every supplier keeps their pseudonym."""
    privacy_contact: str | None = None
    """Where pupils and parents ask the school for correction or deletion (mailto: or https)."""
    guardian_role: str | None = None
    """The role value that marks a parent at this school's login; they see their children's
    overview at /me (broker/portal/guardians.py). None: no parent view."""
    claims: Mapping[str, str] | None = None
    """Vocabulary name -> this school's claim or attribute Name (broker/mapping.py)."""
    roles: Mapping[str, str] | None = None
    """This school's role value -> "student" | "employee" (or its guardian_role)."""
    default_role: str | None = None
    """The role of anyone whose role values map to nothing; None: no role."""
    hub: bool = False
    """A hub (e.g. Entree) answering for the schools `via` it; never shown in the picker."""
    shared_devices: bool = False
    """Classroom devices are shared: every new Loper session makes the school authenticate
    the pupil afresh (ForceAuthn, prompt=login), and the SSO cookie lasts as long as the
    browser."""
    domains: tuple[str, ...] = ()
    """The school's own domains, besides those its protocol declares (kinds.school_scopes):
    the only scopes of its eduPersonScopedAffiliation and schacHomeOrganization values."""
    hint: bool = False
    """A hub only: name the school behind it that the pupil picked in the login request (SAML
    Scoping/IDPList, OIDC login_hint or the kind's hint parameter), for a hub that then skips
    its own school picker (broker/hubs.py, `hint_for`)."""

    @property
    def protocol(self) -> str:
        return self.config.protocol

    @property
    def behind(self) -> Behind | None:
        """How this school logs in through a hub; None for a school with its own login."""
        return self.config if isinstance(self.config, Behind) else None


WHY_FIELDS = ("why", *(f"why_{language}" for language in LANGUAGES))
"""A request's reason: in no stated language, or in one (`why_nl`, `why_en`)."""


@dataclass(frozen=True)
class AttributeRequest:
    """An attribute a supplier asks for, and why, in its own words: `why` in no stated
    language, and (or) `why_in` per language (the fields `why_nl`, `why_en`)."""

    attribute: str
    why: str = ""
    why_in: tuple[tuple[str, str], ...] = ()
    """(language, why) for each language it is written in, in LANGUAGES order."""

    @property
    def texts(self) -> tuple[str, ...]:
        """Every reason written: the one without a language, then each language's."""
        return ((self.why,) if self.why else ()) + tuple(text for _, text in self.why_in)

    @property
    def explained(self) -> bool:
        """The supplier gave a reason (in some language)."""
        return bool(self.texts)

    def reason(self, language: str) -> tuple[str, str | None]:
        """The why a reader of `language` sees, and the language it is in (None: not stated):
        theirs, else the one without a language, else the first one written."""
        given = dict(self.why_in)
        if language in given:
            return given[language], language
        if self.why or not self.why_in:
            return self.why, None
        first, text = self.why_in[0]
        return text, first

    def fields(self) -> dict[str, str]:
        """As the federation file and the registry keep it: attribute, why, why_<language>."""
        found = {"attribute": self.attribute} | ({"why": self.why} if self.why else {})
        return found | {f"why_{language}": text for language, text in self.why_in}

    @classmethod
    def of(cls, fields: Mapping[str, str]) -> AttributeRequest:
        return cls(fields["attribute"], fields.get("why", ""), tuple(
            (language, fields[f"why_{language}"]) for language in LANGUAGES
            if fields.get(f"why_{language}")))


@dataclass(frozen=True)
class Supplier:
    id: str
    name: str
    config: SupplierConfig
    sector: str
    """Pseudonyms are derived per sector; by default the supplier's own id."""
    key_version: int
    """The pseudonym key version this supplier's pseudonyms are derived with (pinned)."""
    requests: tuple[AttributeRequest, ...] = ()
    url: str | None = None
    employee_acr: str | None = None
    """The least authentication context (broker/acr.py, `minimum`) a login by someone with
    the role "employee" must have; None: any."""

    @property
    def protocol(self) -> str:
        return self.config.protocol


@dataclass(frozen=True)
class Policy:
    """A school's release decision for one supplier."""

    school_id: str
    supplier_id: str
    attributes: frozenset[str] = frozenset()
    by_role: Mapping[str, frozenset[str]] = field(default_factory=dict)
    """Extra attributes released only to people with that role (eduPersonAffiliation value)."""
    suspended_reason: str | None = None
    valid_until: date | None = None
    """The last day the processing agreement allows releases; from the next day on, none."""
    agreement: str | None = None
    """The school's reference of its processing agreement with the supplier."""
    active: bool = True
    """Activated by the school (a release entry for the pair); a deactivated pair keeps its
    release on record but gets nothing, as if it had none."""
    activated_once: bool = True
    """The school has activated the pair at some time: set on activation, never cleared (the
    registry's write path sees to both). False for a release saved before activating."""

    @property
    def never_activated(self) -> bool:
        """A release the school prepared but never switched on: to everyone who sees the
        pair, still "new", as if it had no entry."""
        return not (self.active or self.activated_once)
