"""Reading, writing and importing the federation file."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from broker.downstream.oidc_kind import OidcSupplier
from broker.records import AttributeRequest, Policy
from broker.registry import (
    UNPINNED,
    Federation,
    FederationError,
    Registry,
    dump_federation,
    load_federation,
)
from broker.upstream.oidc_kind import OidcSchool
from broker.upstream.saml_kind import SamlSchool
from tests.registry.conftest import (
    FEDERATION,
    REGENBOOG_IDP,
    REKENWONDERS_SP,
    write_federation,
)
from tests.registry.helpers import snapshot
from tests.registry.metadata_xml import idp_metadata, sp_metadata


def test_load_reads_every_field(federation_file: Path) -> None:
    federation = load_federation(federation_file)
    regenboog, lyceum = federation.schools
    assert (regenboog.id, regenboog.name, regenboog.protocol, regenboog.place) == (
        "regenboog", "OBS De Regenboog", "saml", "Utrecht")
    assert regenboog.protocol == "saml" and regenboog.config.entity_id == REGENBOOG_IDP
    assert regenboog.config.metadata_xml == idp_metadata(REGENBOOG_IDP)
    assert lyceum.config == OidcSchool(issuer="https://login.lyceum.example", client_id="loper",
                                     client_secret_env="LYCEUM_SECRET")
    assert lyceum.sso_lifetime == 28800
    rekenwonders, taalapp = federation.suppliers
    assert rekenwonders.protocol == "saml" and rekenwonders.config.entity_id == REKENWONDERS_SP
    assert rekenwonders.requests == (AttributeRequest("given_name", "greets the pupil by name"),)
    assert (rekenwonders.sector, rekenwonders.key_version) == ("rekenwonders", UNPINNED)
    assert taalapp.config == OidcSupplier(
        client_id="taalapp", client_secret="s3cret",
        redirect_uris=("https://taalapp.example/callback", "http://127.0.0.1:8080/cb"))
    assert federation.policies == (
        Policy("regenboog", "rekenwonders", frozenset({"role", "given_name"}),
               {"employee": frozenset({"email"})}),
        Policy("lyceum", "taalapp", frozenset({"role"}),
               suspended_reason="contract under review", valid_until=date(2027, 8, 1),
               agreement="LY-2026-3"))
    assert federation.source == str(federation_file)


def test_optional_fields(tmp_path: Path) -> None:
    text = FEDERATION.replace('subject = "nameid"', 'subject = "uid"\nlegacy_sha1 = true').replace(
        'subject = "sub"', 'subject = "oid"\nalgorithms = ["ES256"]\nscopes = ["openid"]'
    ).replace('client_secret = "s3cret"', 'sector = "taal-family"\npkce_required = false\n'
              'offline_access = true\nid_token_alg = "ES256"\niss_in_errors = false\n'
              'jwks = "https://taalapp.example/jwks"\n'
              'post_logout_redirect_uris = ["https://taalapp.example/bye"]')
    text = text.replace('place = "Utrecht"', 'place = "Utrecht"\nlink_by_eck_id = true\n'
                        'privacy_contact = "mailto:privacy@regenboog.example"\n'
                        'guardian_role = "ouder"')
    regenboog, lyceum = (f := load_federation(write_federation(tmp_path, text))).schools
    assert (regenboog.link_by_eck_id, regenboog.privacy_contact, regenboog.guardian_role) == (
        True, "mailto:privacy@regenboog.example", "ouder")
    assert (lyceum.link_by_eck_id, lyceum.privacy_contact, lyceum.guardian_role) == (
        False, None, None)
    assert regenboog.config == SamlSchool(regenboog.config.metadata_xml, REGENBOOG_IDP,
                                          subject="uid", legacy_sha1=True)
    assert lyceum.config == OidcSchool(issuer="https://login.lyceum.example", client_id="loper",
                                       client_secret_env="LYCEUM_SECRET", subject="oid",
                                       algorithms=("ES256",), scopes=("openid",))
    taalapp = f.suppliers[1]
    assert taalapp.sector == "taal-family" and taalapp.config == OidcSupplier(
        client_id="taalapp",
        redirect_uris=("https://taalapp.example/callback", "http://127.0.0.1:8080/cb"),
        post_logout_redirect_uris=("https://taalapp.example/bye",),
        jwks="https://taalapp.example/jwks", pkce_required=False, offline_access=True,
        id_token_alg="ES256", iss_in_errors=False)


def test_inline_metadata_and_crlf(tmp_path: Path) -> None:
    xml = idp_metadata(REGENBOOG_IDP).replace("\n", "\r\n")
    (tmp_path / "crlf.xml").write_bytes(xml.encode())
    path = write_federation(tmp_path, FEDERATION.replace("regenboog-idp.xml", "crlf.xml"))
    school = load_federation(path).schools[0]
    assert school.protocol == "saml" and school.config.metadata_xml == idp_metadata(REGENBOOG_IDP)


def test_export_import_export_is_byte_identical(registry: Registry, federation_file: Path,
                                                tmp_path: Path) -> None:
    registry.import_federation(load_federation(federation_file), key_version=3)
    exported = dump_federation(registry.export_federation())
    again = _imported_again(exported, tmp_path, key_version=7)
    assert dump_federation(again) == exported
    assert again == registry.export_federation()
    assert [s.key_version for s in again.suppliers] == [3, 3]


def test_a_reason_per_language_is_read_kept_and_written(registry: Registry,
                                                        tmp_path: Path) -> None:
    """`why_nl` and `why_en` beside (or instead of) `why`: each reader gets theirs, and the
    registry keeps and exports them as written."""
    text = FEDERATION.replace('why = "greets the pupil by name"',
                              'why_en = "greets the pupil", why_nl = "begroet de leerling"')
    federation = load_federation(write_federation(tmp_path, text))
    [asked] = federation.suppliers[0].requests
    assert asked == AttributeRequest("given_name", "", (("nl", "begroet de leerling"),
                                                        ("en", "greets the pupil")))
    assert (asked.reason("nl"), asked.reason("en")) == (("begroet de leerling", "nl"),
                                                        ("greets the pupil", "en"))
    registry.import_federation(federation, key_version=1)
    exported = dump_federation(registry.export_federation())
    assert 'why_nl = "begroet de leerling"' in exported and "why =" not in exported
    assert dump_federation(_imported_again(exported, tmp_path, key_version=1)) == exported


def test_a_reason_falls_back_to_one_without_a_language_then_to_the_first() -> None:
    plain = AttributeRequest("email", "sends a report")
    english = AttributeRequest("email", why_in=(("en", "sends a report"),))
    both = AttributeRequest("email", "sends a report", (("nl", "stuurt een verslag"),))
    assert plain.reason("nl") == ("sends a report", None)  # its language is not stated
    assert english.reason("nl") == ("sends a report", "en")
    assert (both.reason("nl"), both.reason("en")) == (("stuurt een verslag", "nl"),
                                                      ("sends a report", None))


def _imported_again(exported: str, tmp_path: Path, key_version: int) -> Federation:
    """`exported`, written to a file and imported into a fresh registry, exported again."""
    copy = tmp_path / "copy" / "exported.toml"
    copy.parent.mkdir()
    copy.write_text(exported, encoding="utf-8")
    other = Registry(f"sqlite:///{tmp_path / 'other.sqlite'}")
    try:
        other.upgrade()
        other.import_federation(load_federation(copy), key_version=key_version)
        return other.export_federation()
    finally:
        other.close()


def test_reimport_is_idempotent(registry: Registry, federation_file: Path) -> None:
    first = registry.import_federation(load_federation(federation_file), key_version=1)
    assert (first.count("schools", "added"), first.count("suppliers", "added"),
            first.count("policies", "added")) == (2, 2, 2)
    before = snapshot(registry)
    again = registry.import_federation(load_federation(federation_file), key_version=2)
    assert again.changed == 0 and again.count("policies", "unchanged") == 2
    assert str(again).startswith("schools: 0 added, 0 updated, 2 unchanged")
    assert snapshot(registry) == before


def test_import_updates_by_id(registry: Registry, federation_file: Path, tmp_path: Path) -> None:
    registry.import_federation(load_federation(federation_file), key_version=1)
    changed = FEDERATION.replace("Het Lyceum", "Het Nieuwe Lyceum").replace(
        'attributes = ["role"]', 'attributes = ["role", "email"]')
    (tmp_path / "v2").mkdir()
    summary = registry.import_federation(
        load_federation(write_federation(tmp_path / "v2", changed)), key_version=2)
    assert summary.count("schools", "updated") == 1 and summary.count("policies", "updated") == 1
    assert registry.school("lyceum") is not None
    assert registry.school("lyceum").name == "Het Nieuwe Lyceum"  # type: ignore[union-attr]
    policy = registry.policy("lyceum", "taalapp")
    assert policy is not None and policy.attributes == {"role", "email"}


def test_key_version_is_pinned(registry: Registry, federation_file: Path, tmp_path: Path) -> None:
    registry.import_federation(load_federation(federation_file), key_version=1)
    extra = FEDERATION + ('\n[[suppliers]]\nid = "new"\nname = "New"\nprotocol = "oidc"\n'
                          'client_id = "new"\nredirect_uris = ["https://new.example/cb"]\n'
                          'client_secret_env = "NEW_SECRET"\n'
                          '\n[[suppliers]]\nid = "old"\nname = "Old"\nprotocol = "oidc"\n'
                          'client_id = "old"\nredirect_uris = ["https://old.example/cb"]\n'
                          'client_secret_env = "OLD_SECRET"\n'
                          "key_version = 1\n")
    (tmp_path / "v2").mkdir()
    registry.import_federation(load_federation(write_federation(tmp_path / "v2", extra)),
                               key_version=2)
    versions = {s.id: s.key_version for s in registry.suppliers()}
    assert versions == {"rekenwonders": 1, "taalapp": 1, "new": 2, "old": 1}


def test_releases_may_name_registered_entries(registry: Registry, federation_file: Path,
                                              tmp_path: Path) -> None:
    registry.import_federation(load_federation(federation_file), key_version=1)
    only = tmp_path / "only-releases.toml"
    only.write_text('[[releases]]\nschool = "lyceum"\nsupplier = "rekenwonders"\n'
                    'attributes = ["school_id"]\n')
    registry.import_federation(load_federation(only), key_version=1)
    assert registry.policy("lyceum", "rekenwonders") == Policy(
        "lyceum", "rekenwonders", frozenset({"school_id"}))


def test_a_release_may_name_the_schools_guardian_role(registry: Registry,
                                                     tmp_path: Path) -> None:
    """Parents of a school with `guardian_role` have that role; its release may name it,
    whether the school is in the same file or in the registry already."""
    text = FEDERATION.replace('place = "Utrecht"', 'place = "Utrecht"\nguardian_role = "ouder"'
                              ).replace('roles = { employee = ["email"] }',
                                        'roles = { employee = ["email"], ouder = ["email"] }')
    registry.import_federation(load_federation(write_federation(tmp_path, text)), key_version=1)
    only = tmp_path / "only-releases.toml"
    only.write_text('[[releases]]\nschool = "regenboog"\nsupplier = "taalapp"\n'
                    'attributes = []\nroles = { ouder = ["given_name"] }\n')
    registry.import_federation(load_federation(only), key_version=1)
    by_role = {s: p.by_role for s in ("rekenwonders", "taalapp")
               if (p := registry.policy("regenboog", s)) is not None}
    assert by_role == {"rekenwonders": {"employee": frozenset({"email"}),
                                        "ouder": frozenset({"email"})},
                       "taalapp": {"ouder": frozenset({"given_name"})}}
    lyceum = tmp_path / "lyceum.toml"
    lyceum.write_text('[[releases]]\nschool = "lyceum"\nsupplier = "taalapp"\n'
                      'attributes = []\nroles = { ouder = ["given_name"] }\n')
    with pytest.raises(FederationError, match='releases\\[0\\] .*field "roles": "ouder" is not '
                       'a role; expected one of student, employee$'):
        registry.import_federation(load_federation(lyceum), key_version=1)


def test_empty_federation_dumps_and_loads(tmp_path: Path) -> None:
    path = tmp_path / "empty.toml"
    path.write_text(dump_federation(Federation()))
    assert load_federation(path) == Federation(source=str(path))


def test_oversized_metadata_file(tmp_path: Path) -> None:
    padding = "<!--" + "x" * 5_300_000 + "-->"
    big = idp_metadata(REGENBOOG_IDP).replace("</md:IDPSSO", padding + "</md:IDPSSO")
    (tmp_path / "big.xml").write_text(big)
    path = write_federation(tmp_path, FEDERATION.replace("regenboog-idp.xml", "big.xml"))
    with pytest.raises(FederationError, match="larger than 5 MB"):
        load_federation(path)


def test_the_school_as_controller_fields_survive_export_and_import(registry: Registry,
                                                                   tmp_path: Path) -> None:
    text = FEDERATION.replace('place = "Utrecht"', 'place = "Utrecht"\nlink_by_eck_id = true\n'
                              'privacy_contact = "https://regenboog.example/privacy"\n'
                              'guardian_role = "ouder"')
    registry.import_federation(load_federation(write_federation(tmp_path, text)), key_version=1)
    exported = dump_federation(registry.export_federation())
    assert 'link_by_eck_id = true\nprivacy_contact = "https://regenboog.example/privacy"\n' \
           'guardian_role = "ouder"\n' in exported
    assert exported.count("link_by_eck_id") == 1, "defaults are left out"
    copy = tmp_path / "copy" / "exported.toml"
    copy.parent.mkdir()
    copy.write_text(exported, encoding="utf-8")
    assert load_federation(copy).schools == registry.export_federation().schools
def test_an_agreement_that_ended_since_it_was_imported_can_be_imported_again(
        registry: Registry, federation_file: Path, tmp_path: Path) -> None:
    """Refused as new, a past valid_until the registry already holds is not news: the
    operator's file still imports (and the pair stays stopped, release.py)."""
    ended = FEDERATION.replace("valid_until = 2027-08-01", "valid_until = 2020-01-31")
    (tmp_path / "ended").mkdir()
    path = write_federation(tmp_path / "ended", ended)
    with pytest.raises(FederationError, match="2020-01-31 is in the past"):
        registry.import_federation(load_federation(path), key_version=1)
    registry.import_federation(load_federation(federation_file), key_version=1)
    policy = registry.policy("lyceum", "taalapp")
    assert policy is not None
    registry.set_policy(Policy("lyceum", "taalapp", policy.attributes,
                               suspended_reason=policy.suspended_reason,
                               valid_until=date(2020, 1, 31), agreement=policy.agreement))
    summary = registry.import_federation(load_federation(path), key_version=1)
    assert summary.count("policies", "unchanged") == 2


def test_a_suppliers_employee_acr_survives_export_and_import(registry: Registry,
                                                             tmp_path: Path) -> None:
    mfa = 'employee_acr = "https://refeds.org/profile/mfa"\n'
    text = FEDERATION.replace('url = "https://taalapp.example"\n',
                              'url = "https://taalapp.example"\n' + mfa)
    registry.import_federation(load_federation(write_federation(tmp_path, text)), key_version=1)
    assert registry.supplier("taalapp").employee_acr == "https://refeds.org/profile/mfa"
    exported = dump_federation(registry.export_federation())
    assert exported.count("employee_acr") == 1 and mfa in exported
    assert dump_federation(_imported_again(exported, tmp_path, key_version=1)) == exported


def test_a_suppliers_logout_endpoints_survive_export_and_import(registry: Registry,
                                                                tmp_path: Path) -> None:
    logout = ('backchannel_logout_uri = "https://taalapp.example/logout/bc"\n'
              'frontchannel_logout_uri = "https://taalapp.example/logout/fc?app=1"\n'
              'post_logout_redirect_uris = ["https://taalapp.example/bye"]\n')
    text = FEDERATION.replace('client_secret = "s3cret"\n', 'client_secret = "s3cret"\n' + logout)
    registry.import_federation(load_federation(write_federation(tmp_path, text)), key_version=1)
    taalapp = registry.supplier("taalapp")
    assert taalapp is not None and isinstance(taalapp.config, OidcSupplier)
    assert (taalapp.config.backchannel_logout_uri, taalapp.config.frontchannel_logout_uri) == (
        "https://taalapp.example/logout/bc", "https://taalapp.example/logout/fc?app=1")
    exported = dump_federation(registry.export_federation())
    assert exported.count("backchannel_logout_uri") == 1
    assert dump_federation(_imported_again(exported, tmp_path, key_version=1)) == exported


def test_shared_devices_survive_export_and_import(registry: Registry, tmp_path: Path) -> None:
    text = FEDERATION.replace('place = "Utrecht"', 'place = "Utrecht"\nshared_devices = true')
    registry.import_federation(load_federation(write_federation(tmp_path, text)), key_version=1)
    assert {s.id: s.shared_devices for s in registry.schools()} == {
        "regenboog": True, "lyceum": False}
    exported = dump_federation(registry.export_federation())
    assert exported.count("shared_devices = true") == 1, "defaults are left out"
    assert dump_federation(_imported_again(exported, tmp_path, key_version=1)) == exported


def test_an_employee_acr_of_absurd_size_is_refused(tmp_path: Path) -> None:
    text = FEDERATION.replace('url = "https://taalapp.example"\n',
                              f'url = "https://taalapp.example"\nemployee_acr = "{"x" * 1025}"\n')
    with pytest.raises(FederationError, match="employee_acr"):
        load_federation(write_federation(tmp_path, text))


def test_a_suppliers_profile_survives_export_and_import(registry: Registry,
                                                        tmp_path: Path) -> None:
    """Kept with the kind's config (the registry row's JSON), exported only when not "oid"."""
    text = FEDERATION.replace('id = "rekenwonders"\n', 'id = "rekenwonders"\nprofile = "entree"\n')
    text = text.replace('id = "taalapp"\n', 'id = "taalapp"\nprofile = "entree"\n', 1)
    registry.import_federation(load_federation(write_federation(tmp_path, text)), key_version=1)
    assert {registry.supplier(s).config.profile for s in ("rekenwonders", "taalapp")} == {
        "entree"}
    exported = dump_federation(registry.export_federation())
    assert exported.count('profile = "entree"') == 2
    assert dump_federation(_imported_again(exported, tmp_path, key_version=1)) == exported


def test_the_default_profile_is_oid_and_not_exported(registry: Registry,
                                                     federation_file: Path) -> None:
    registry.import_federation(load_federation(federation_file), key_version=1)
    assert registry.supplier("taalapp").config.profile == "oid"
    assert "profile" not in dump_federation(registry.export_federation())


def test_a_supplier_may_name_its_own_domain_as_scope(registry: Registry, tmp_path: Path) -> None:
    """Accepted and never used: Loper publishes and believes the schools' scopes only."""
    scope = ('<md:Extensions><shibmd:Scope xmlns:shibmd="urn:mace:shibboleth:metadata:1.0">'
             "rekenwonders.example</shibmd:Scope></md:Extensions>")
    xml = sp_metadata(REKENWONDERS_SP).replace("<md:SPSSODescriptor", scope
                                               + "<md:SPSSODescriptor", 1)
    path = write_federation(tmp_path, FEDERATION)
    (tmp_path / "rekenwonders-sp.xml").write_text(xml)
    registry.import_federation(load_federation(path), key_version=1)
    supplier = registry.supplier("rekenwonders")
    assert supplier is not None and "rekenwonders.example</shibmd:Scope>" in (
        supplier.config.metadata_xml)
