"""The one table of protocol kinds: protocol name -> what that protocol brings.

An upstream kind (a school's protocol) and a downstream kind (a supplier's protocol) each
provide, in one module next to their adapter:

- the dataclass of their registry fields (a SchoolConfig or SupplierConfig), with
  ConfigFields saying which fields live in the registry row's own columns;
- `keys` and `parse`: the federation-file fields of an entry of this protocol and how they are
  read (export is ConfigFields.export, so export -> import -> export is the identity);
- `unique`: values no two entries may share (an entity id, a client id);
- `form` and `form_template`: the operator's registration form's fields of this protocol,
  shown and read;
- `build` and `blueprints`: the adapter, built from the settings once at start, and its
  Flask endpoints;
- downstream only, `render` and `template`: what the admin's preview shows for a release.

Nothing outside the adapters and this table switches on a protocol name. A new protocol is
one more module and one more name in `_builtin` below.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from broker.downstream import Downstream
from broker.errors import ConfigError
from broker.identity import Attributes, Released
from broker.messages import Message
from broker.records import School, SchoolConfig, SupplierConfig
from broker.upstream import Upstream
from broker.upstream.shapes import Sample

if TYPE_CHECKING:
    from flask import Blueprint

    from broker.context import Broker
    from broker.registry.checks import Entry
    from broker.registry.config_fields import ConfigFields

C = TypeVar("C", bound=SchoolConfig | SupplierConfig)
A = TypeVar("A", Upstream, Downstream)
Lines = Mapping[str, tuple[str, tuple[str, ...]]]
"""name as the supplier sees it -> (label, values)."""


class UnknownProtocol(ConfigError):
    """A school or supplier names a protocol this broker has no kind for."""


@dataclass(frozen=True)
class Unique:
    """A value no two entries of one side may share, and the file field that sets it.

    A `shared` value may be held by several entries that each mark it shared (they tell
    themselves apart otherwise), but never beside an entry that holds it unshared; `expected`
    then says what a clash asks for."""

    field: str
    what: Message
    value: str
    shared: bool = False
    expected: Message | None = None


@dataclass(frozen=True)
class FormFields:
    """A registration form read into federation-file fields."""

    table: dict[str, Any]
    shown_once: str | None = None
    """A secret generated for the registrant: shown once on the page, never again."""


class FormProblem(ValueError):
    """A registration form field that cannot be used."""

    def __init__(self, field: str, message: Message) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class FormSources(Protocol):
    """What the admin portal offers a kind reading its registration form."""

    def metadata(self) -> str:
        """The uploaded or fetched (SSRF-checked) metadata; FormProblem if there is none."""

    def check_host(self, field: str, url: str) -> None:
        """FormProblem if `url`, typed into the form, points at a private host."""


def form_values(form: Mapping[str, str], *names: str) -> dict[str, str]:
    """The named fields that were filled in, stripped."""
    return {name: form[name].strip() for name in names if form.get(name, "").strip()}


@dataclass(frozen=True)
class PreviewContext:
    scope: str
    """The host of the pairwise-id scope."""
    issuer: str
    auth_time: int


@dataclass(frozen=True)
class Rendered:
    """A release as the downstream would send it, for the admin's preview."""

    lines: Lines
    documents: Mapping[str, Mapping[str, object]] = field(default_factory=dict)
    """Whole messages to show as well (e.g. "id_token", "userinfo")."""


def _nothing_unique(_config: object) -> tuple[Unique, ...]:
    return ()


def _no_scopes(_config: object) -> tuple[str, ...]:
    return ()


@dataclass(frozen=True, kw_only=True)
class Kind(Generic[C, A]):
    title: str
    """The protocol's name as people read it ("SAML 2.0")."""
    fields: ConfigFields[C]
    keys: frozenset[str]
    """The federation-file fields of this protocol, besides the common ones."""
    parse: Callable[[Entry, Path], C | None]
    """Read `keys` (problems go on the Entry); None when one of them is wrong."""
    form: Callable[[Mapping[str, str], FormSources], FormFields]
    form_template: str | None = None
    """The admin template with the registration form's own fields of this protocol."""
    build: Callable[[Broker], A]
    blueprints: Callable[[], tuple[Blueprint, ...]]
    unique: Callable[[C], tuple[Unique, ...]] = _nothing_unique

    @property
    def name(self) -> str:
        """At most 8 characters: the registry's `protocol` column holds it."""
        return self.fields.type.protocol


@dataclass(frozen=True, kw_only=True)
class SchoolKind(Kind[C, Upstream]):
    read: Callable[[School, Mapping[str, object]], Attributes]
    """A school's claims or attributes as its adapter reads them: the vocabulary's names, then
    the school's own mapping (broker/mapping.py), scoped values within its scopes."""
    sample: Callable[[School, Sample], tuple[str, dict[str, object]]]
    """A test person's answer in the shape the school's software sends (an Entra ID or Google
    ID token, an ADFS assertion...), for the admin's preview: the shape's name, the answer."""
    editable: frozenset[str] = frozenset()
    """Fields of `keys` the operator may change on a registered entry's page (e.g. a school's
    `require`), each a table of name = array of values."""
    edit: Callable[[C, Entry], C] | None = None
    """`config` with the `editable` fields of the Entry (problems go on the Entry)."""
    scopes: Callable[[C], tuple[str, ...]] = _no_scopes
    """The domains the protocol's own configuration says are the school's (SAML: its
    metadata's shibmd:Scope; Google: its `hd` values), besides the school's `domains`."""


UpstreamKind = SchoolKind[Any]


@dataclass(frozen=True, kw_only=True)
class DownstreamKind(Kind[C, Downstream]):
    render: Callable[[Released, C, PreviewContext], Rendered]
    template: str
    """The admin template that shows a Preview of this kind."""


@dataclass(frozen=True)
class Table:
    upstreams: dict[str, UpstreamKind]
    downstreams: dict[str, DownstreamKind[Any]]


K = TypeVar("K", bound="Kind[Any, Any]")


def _by_name(kinds: tuple[K, ...]) -> dict[str, K]:
    return {kind.name: kind for kind in kinds}


@cache
def _builtin() -> Table:
    # Imported here, not at the top: the kinds read their fields with the registry's helpers,
    # and the registry finds the kinds here.
    from broker.downstream import oidc_kind as oidc_supplier
    from broker.downstream import saml_kind as saml_supplier
    from broker.upstream import oidc_kind as oidc_school
    from broker.upstream import saml_kind as saml_school

    schools: tuple[UpstreamKind, ...] = (saml_school.KIND, oidc_school.KIND)
    suppliers: tuple[DownstreamKind[Any], ...] = (saml_supplier.KIND, oidc_supplier.KIND)
    return Table(upstreams=_by_name(schools), downstreams=_by_name(suppliers))


def upstreams() -> dict[str, UpstreamKind]:
    return _builtin().upstreams


def downstreams() -> dict[str, DownstreamKind[Any]]:
    return _builtin().downstreams


def _find(table: Mapping[str, K], name: str, owner: str) -> K:
    kind = table.get(name)
    if kind is None:
        known = ", ".join(f'"{k}"' for k in table)
        raise UnknownProtocol(f'{owner} has protocol "{name}", which this broker does not '
                              f"know; expected one of {known}")
    return kind


def upstream(name: str, owner: str = "a school") -> UpstreamKind:
    """The kind of a school's protocol; UnknownProtocol names `owner` if there is none."""
    return _find(upstreams(), name, owner)


def downstream(name: str, owner: str = "a supplier") -> DownstreamKind[Any]:
    """The kind of a supplier's protocol; UnknownProtocol names `owner` if there is none."""
    return _find(downstreams(), name, owner)


def school_scopes(school: School) -> frozenset[str]:
    """The domains a school's answers may name as its own (lower case): its `domains` and
    what its protocol kind declares. A hub's bound the schools behind it, whose answers are
    the hub's; a school behind a hub has none of its own."""
    declared = () if school.behind is not None else upstream(school.protocol).scopes(
        school.config)
    return frozenset(d.lower() for d in (*school.domains, *declared))


def install(broker: Broker) -> None:
    """Build every kind's adapter from the settings, once at start."""
    for name, up in upstreams().items():
        broker.upstreams[name] = up.build(broker)
    for name, down in downstreams().items():
        broker.downstreams[name] = down.build(broker)


def blueprints() -> tuple[Blueprint, ...]:
    """Every kind's endpoints, each blueprint once (two kinds of a protocol may share one)."""
    found: dict[str, Blueprint] = {}
    every: list[Kind[Any, Any]] = [*upstreams().values(), *downstreams().values()]
    for kind in every:
        for bp in kind.blueprints():
            found.setdefault(bp.name, bp)
    return tuple(found.values())
