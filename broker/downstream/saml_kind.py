"""The downstream SAML kind: suppliers with a SAML service provider (see broker/kinds.py).

The adapter itself is broker/downstream/saml_idp.py; it is imported when the kind is built.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from broker import profiles
from broker.downstream import Downstream
from broker.errors import ConfigError
from broker.identity import Released
from broker.kinds import (
    DownstreamKind,
    FormFields,
    FormSources,
    Lines,
    PreviewContext,
    Rendered,
    Unique,
)
from broker.messages import msg
from broker.records import Supplier, SupplierConfig
from broker.registry import metadata
from broker.registry.checks import Entry

if TYPE_CHECKING:
    from flask import Blueprint

    from broker.context import Broker
    from broker.keys import KeyPair
    from broker.settings import Settings


@dataclass(frozen=True)
class SamlSupplier(SupplierConfig):
    protocol: ClassVar[str] = "saml"
    metadata_xml: str
    entity_id: str
    metadata_source: str | None = None
    """The [[metadata_sources]] id that keeps metadata_xml fresh (None: the operator does)."""

    @property
    def identity(self) -> str:
        return self.entity_id


def saml_of(supplier: Supplier) -> SamlSupplier | None:
    """The supplier's SAML fields, or None if it is not a SAML supplier."""
    return supplier.config if isinstance(supplier.config, SamlSupplier) else None


def _parse(entry: Entry, base_dir: Path) -> SamlSupplier | None:
    found = metadata.from_entry(entry, base_dir, "sp")
    if found is None:
        return None
    from broker.saml.scopes import unowned  # lxml, not pysaml2

    claimed = unowned(found.xml, found.entity_id)
    if claimed:
        field = next((f for f in ("metadata_xml", "metadata_source") if f in entry.table),
                     "metadata")
        entry.problem(field, msg("problem.supplier_scope", scopes=tuple(claimed)))
        return None
    return SamlSupplier(found.xml, found.entity_id, found.source)


def _form(_form: Mapping[str, str], sources: FormSources) -> FormFields:
    return FormFields({"metadata_xml": sources.metadata()})


def _unique(config: SamlSupplier) -> tuple[Unique, ...]:
    return (Unique("metadata", msg("problem.what_entity_id"), config.entity_id),)


def _render(released: Released, config: SamlSupplier, context: PreviewContext) -> Rendered:
    """The pseudonym attribute and the released attributes under the names of the supplier's
    profile, as saml_response sends them: Name -> (FriendlyName, values)."""
    named = profiles.saml_attributes(profiles.of(config.profile), released.attributes,
                                     released.subject, context.scope)
    shown: Lines = {n.name: (n.friendly_name, values) for n, values in named}
    return Rendered(shown)


def _build(broker: Broker) -> Downstream:
    from broker.downstream.saml_idp import SamlIdp, SamlIdpConfig
    from broker.keys import saml_signing, staged_saml_signing
    from broker.saml.compat import check_version
    from broker.saml.crypto import attach
    from broker.saml.published import presentation
    from broker.saml.schema import install as install_schema_check

    check_version()  # before pysaml2's internals are used
    install_schema_check()  # at start: every worker checks schemas on libxml2 from the first
    s = broker.settings
    idp = SamlIdp(SamlIdpConfig(entity_id=s.url("/saml/idp/metadata"),
                                sso_url=s.url("/saml/idp/sso"), signing=saml_signing(s.keys_dir),
                                next_signing=staged_saml_signing(s.keys_dir), scope=s.host,
                                encryption=s.saml_encryption,
                                relay_state_max=s.relay_state_max, clock_skew=s.clock_skew,
                                presentation=presentation(s),
                                metadata_signing=_metadata_signing(s)),
                  attach=attach)
    broker.metadata["saml-idp"] = idp.metadata_xml()  # without the schools' scopes: the
    # registry may be down at start; /saml/idp/metadata renders with them
    return idp


def _metadata_signing(s: Settings) -> KeyPair | None:
    """The operator's metadata signing key pair; ConfigError if it is set but missing."""
    from broker.keys import KeyPair

    if s.metadata_signing is None:
        return None
    pair = KeyPair(*s.metadata_signing)
    missing = [str(path) for path in (pair.key, pair.cert) if not path.is_file()]
    if missing:
        raise ConfigError(f"setting metadata_signing_key: {', '.join(missing)} not found; make "
                          "the key pair (PEM) or leave the setting empty")
    return pair


def _blueprints() -> tuple[Blueprint, ...]:
    from broker.web import saml

    return (saml.bp,)


KIND: DownstreamKind[SamlSupplier] = DownstreamKind(
    title="SAML 2.0", form_template="admin/register_saml.html",
    fields=metadata.MetadataFields(SamlSupplier, columns=("entity_id",),
                                   derived=("entity_id",)),
    keys=metadata.FIELDS, parse=_parse, form=_form, unique=_unique, build=_build,
    blueprints=_blueprints, render=_render, template="admin/preview_saml.html")
