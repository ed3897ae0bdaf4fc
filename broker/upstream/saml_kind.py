"""The upstream SAML kind: schools with a SAML identity provider (see broker/kinds.py).

The adapter itself is broker/upstream/saml.py; it is imported when the kind is built, so that
reading a federation file does not load pysaml2's client.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from broker.attributes import from_saml
from broker.identity import Attributes
from broker.kinds import FormFields, FormSources, SchoolKind, Unique, form_values, school_scopes
from broker.mapping import map_attributes
from broker.messages import msg
from broker.records import School, SchoolConfig
from broker.registry import metadata
from broker.registry.checks import BOOL, Entry
from broker.saml.scopes import scopes
from broker.upstream import Upstream
from broker.upstream.shapes import Sample

if TYPE_CHECKING:
    from flask import Blueprint

    from broker.context import Broker


@dataclass(frozen=True)
class SamlSchool(SchoolConfig):
    protocol: ClassVar[str] = "saml"
    metadata_xml: str
    entity_id: str
    subject: str = "nameid"
    """"nameid" (the persistent NameID) or the internal/SAML name of an attribute."""
    legacy_sha1: bool = False
    """Accept SHA-1 signatures from this school (an explicit, visible exception)."""
    metadata_source: str | None = None
    """The [[metadata_sources]] id that keeps metadata_xml fresh (None: the operator does)."""

    @property
    def identity(self) -> str:
        return self.entity_id


def _parse(entry: Entry, base_dir: Path) -> SamlSchool | None:
    found = metadata.from_entry(entry, base_dir, "idp")
    legacy = entry.get("legacy_sha1", bool, BOOL) or False
    subject = entry.text("subject") or "nameid"
    return SamlSchool(found.xml, found.entity_id, subject=subject, legacy_sha1=legacy,
                      metadata_source=found.source) if found else None


def _form(form: Mapping[str, str], sources: FormSources) -> FormFields:
    return FormFields(form_values(form, "subject") | {"metadata_xml": sources.metadata()})


def _scopes(config: SamlSchool) -> tuple[str, ...]:
    return scopes(config.metadata_xml, config.entity_id)


def read_attributes(school: School, raw: Mapping[str, list[str]]) -> Attributes:
    """The school's assertion attributes (Name -> values) as Loper reads them."""
    own = school_scopes(school)
    return map_attributes(school, raw, from_saml(raw, own), own)


def _read(school: School, raw: Mapping[str, object]) -> Attributes:
    return read_attributes(school, {k: v if isinstance(v, list) else [str(v)]
                                    for k, v in raw.items()})


def _sample(school: School, sample: Sample) -> tuple[str, dict[str, object]]:
    from broker.upstream.saml_shapes import sample_attributes

    return sample_attributes(school, sample)


def _unique(config: SamlSchool) -> tuple[Unique, ...]:
    return (Unique("metadata", msg("problem.what_entity_id"), config.entity_id),)


def _build(broker: Broker) -> Upstream:
    from broker.keys import saml_signing, staged_saml_signing
    from broker.saml.compat import check_version
    from broker.saml.crypto import attach
    from broker.saml.published import presentation
    from broker.upstream.saml import SamlSpConfig, SamlUpstream

    check_version()  # before pysaml2's internals are used
    s = broker.settings
    sp = SamlUpstream(SamlSpConfig(entity_id=s.url("/saml/sp/metadata"),
                                   acs_url=s.url("/saml/sp/acs"),
                                   signing=saml_signing(s.keys_dir),
                                   next_signing=staged_saml_signing(s.keys_dir),
                                   clock_skew=s.clock_skew, presentation=presentation(s)),
                      attach_crypto=attach)
    broker.metadata["saml-sp"] = sp.metadata_xml()
    return sp


def _blueprints() -> tuple[Blueprint, ...]:
    from broker.web import saml

    return (saml.bp,)


KIND: SchoolKind[SamlSchool] = SchoolKind(
    title="SAML 2.0", form_template="admin/register_saml.html",
    fields=metadata.MetadataFields(SamlSchool, columns=("entity_id",), derived=("entity_id",)),
    keys=metadata.FIELDS | {"subject", "legacy_sha1"},
    parse=_parse, form=_form, unique=_unique, build=_build, blueprints=_blueprints,
    scopes=_scopes, read=_read, sample=_sample)
