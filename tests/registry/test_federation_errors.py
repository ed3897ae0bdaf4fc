"""Every kind of bad federation file: the error names file, entry and field; nothing changes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from broker.registry import FederationError, Registry, load_federation
from tests.registry.conftest import FEDERATION, REGENBOOG_IDP, REKENWONDERS_SP, write_federation
from tests.registry.helpers import snapshot
from tests.registry.metadata_xml import idp_metadata, sp_metadata

REGENBOOG = 'schools[0] (id "regenboog")'
LYCEUM = 'schools[1] (id "lyceum")'
REKENWONDERS = 'suppliers[0] (id "rekenwonders")'
TAALAPP = 'suppliers[1] (id "taalapp")'
RELEASE_0 = 'releases[0] (school "regenboog", supplier "rekenwonders")'
SCHOOL_ANCHOR = 'id = "regenboog"\n'
REKEN_ANCHOR = 'id = "rekenwonders"\n'
TAAL_ANCHOR = 'id = "taalapp"\n'
RELEASE_ANCHOR = 'attributes = ["role", "given_name"]\n'
EXTRA_SUPPLIER = """
[[suppliers]]
id = "extra"
name = "Extra"
protocol = "oidc"
client_id = "extra"
redirect_uris = ["https://extra.example/cb"]
client_secret_env = "EXTRA_SECRET"
"""


@dataclass(frozen=True)
class Case:
    name: str
    old: str
    new: str
    entry: str
    field: str | None
    says: str


def _insert(anchor: str, line: str) -> tuple[str, str]:
    return anchor, anchor + line + "\n"


def _inline(xml: str) -> str:
    return 'metadata_xml = """' + xml.replace('"', '\\"') + '"""'


def _scoped_sp(scope: str, *, regexp: bool = False, on: str = "SPSSODescriptor") -> str:
    """Rekenwonders' SP metadata (inline) claiming `scope` (shibmd:Scope) in the Extensions
    of `on`: its SPSSODescriptor or the EntityDescriptor."""
    flag = ' regexp="true"' if regexp else ""
    extensions = (f'<md:Extensions><shibmd:Scope xmlns:shibmd="urn:mace:shibboleth:metadata:1.0"'
                  f"{flag}>{scope}</shibmd:Scope></md:Extensions>")
    xml = re.sub(rf"(<md:{on}[^>]*>)", lambda m: m.group(1) + extensions,
                 sp_metadata(REKENWONDERS_SP), count=1)
    return _inline(xml)


CASES = [
    Case("unknown top-level key", "", "\n[[owners]]\nid = 1\n", 'top-level key "owners"', None,
         "allowed: [[metadata_sources]], [[schools]], [[suppliers]], [[releases]]"),
    Case("not TOML", "", "\n[[schools]\n", "the file", None, "is not valid TOML"),
    Case("unknown school field", *_insert(SCHOOL_ANCHOR, 'colour = "red"'), REGENBOOG,
         "colour", "unknown field; allowed here: claims, default_role, domains, entity_id, "
         "guardian_role, hint, hub, id, legacy_sha1, link_by_eck_id, metadata"),
    Case("oidc field on saml school", *_insert(SCHOOL_ANCHOR, 'issuer = "https://x"'),
         REGENBOOG, "issuer", "unknown field"),
    Case("unknown supplier field", *_insert(TAAL_ANCHOR, "colour = 1"), TAALAPP, "colour",
         "allowed here: backchannel_logout_uri, client_id, client_secret"),
    Case("unknown release field", *_insert(RELEASE_ANCHOR, "expires = 1"), RELEASE_0,
         "expires", "allowed here: agreement, attributes, roles"),
    Case("wrong type integer", *_insert(SCHOOL_ANCHOR, 'sso_lifetime = "3600"'), REGENBOOG,
         "sso_lifetime", "got a string; expected a whole number of seconds"),
    Case("negative integer", *_insert(SCHOOL_ANCHOR, "sso_lifetime = -5"), REGENBOOG,
         "sso_lifetime", "is -5; expected a whole number"),
    Case("wrong type boolean", *_insert(SCHOOL_ANCHOR, 'legacy_sha1 = "yes"'), REGENBOOG,
         "legacy_sha1", "got a string; expected true or false"),
    Case("link by eck id not a boolean", *_insert(SCHOOL_ANCHOR, 'link_by_eck_id = "yes"'),
         REGENBOOG, "link_by_eck_id", "got a string; expected true or false"),
    Case("privacy contact not an address", *_insert(SCHOOL_ANCHOR,
                                                    'privacy_contact = "mailto:privacy"'),
         REGENBOOG, "privacy_contact", '"mailto:privacy" is not an e-mail address; expected a '
         "mailto: address or an https URL"),
    Case("privacy contact over http", *_insert(SCHOOL_ANCHOR,
                                               'privacy_contact = "http://school.example/avg"'),
         REGENBOOG, "privacy_contact", "is not an absolute https URL"),
    Case("guardian role empty", *_insert(SCHOOL_ANCHOR, 'guardian_role = " "'), REGENBOOG,
         "guardian_role", "is empty; expected the role value of parents"),
    Case("wrong type list", 'redirect_uris = ["https://taalapp.example/callback", '
         '"http://127.0.0.1:8080/cb"]', 'redirect_uris = "https://taalapp.example/callback"',
         TAALAPP, "redirect_uris", "got a string; expected an array of absolute https URLs"),
    Case("unknown protocol", 'protocol = "oidc"\nissuer', 'protocol = "cas"\nissuer', LYCEUM,
         "protocol", 'unknown protocol "cas"; expected one of saml, oidc'),
    Case("missing name", 'name = "OBS De Regenboog"\n', "", REGENBOOG, "name",
         "missing; expected a non-empty string"),
    Case("bad id", SCHOOL_ANCHOR, 'id = "De Regenboog"\n', 'schools[0] (id "De Regenboog")',
         "id", "is not a valid id; expected 1 to 64 lowercase letters"),
    Case("missing metadata", 'metadata = "regenboog-idp.xml"\n', "", REGENBOOG, "metadata",
         "missing; expected a path relative to the federation file or an https URL"),
    Case("unreadable metadata", "regenboog-idp.xml", "nope.xml", REGENBOOG, "metadata",
         "cannot read"),
    Case("metadata url not https", '"regenboog-idp.xml"', '"http://idp.example/md"',
         REGENBOOG, "metadata", "is not an absolute https URL"),
    Case("invalid metadata xml", 'metadata = "regenboog-idp.xml"', 'metadata_xml = "<md:x"',
         REGENBOOG, "metadata_xml", "the metadata is not well-formed XML"),
    Case("metadata with doctype", 'metadata = "regenboog-idp.xml"',
         _inline('<!DOCTYPE x [<!ENTITY e "x">]>' + idp_metadata("https://a")[38:]),
         REGENBOOG, "metadata_xml", "contains a DOCTYPE"),
    Case("metadata not an EntityDescriptor", 'metadata = "regenboog-idp.xml"',
         'metadata_xml = "<a/>"', REGENBOOG, "metadata_xml",
         "has the root element a, not an EntityDescriptor; expected SAML 2.0 metadata"),
    Case("school metadata of an SP", '"regenboog-idp.xml"', '"rekenwonders-sp.xml"',
         REGENBOOG, "metadata", "has no IDPSSODescriptor; expected SAML 2.0 metadata with an "
         "IDPSSODescriptor"),
    Case("supplier metadata of an IdP", 'metadata = "rekenwonders-sp.xml"',
         _inline(idp_metadata("https://idp.example")), REKENWONDERS, "metadata_xml",
         "has no SPSSODescriptor"),
    Case("metadata and metadata_xml", 'metadata = "rekenwonders-sp.xml"\n',
         'metadata = "rekenwonders-sp.xml"\n' + _inline(sp_metadata("https://sp")) + "\n",
         REKENWONDERS, "metadata", 'is set together with "metadata_xml"; expected one of the two'),
    Case("duplicate school id", 'id = "lyceum"', 'id = "regenboog"',
         'schools[1] (id "regenboog")', "id", 'id "regenboog" is already used by ' + REGENBOOG),
    Case("duplicate supplier id", TAAL_ANCHOR, 'id = "rekenwonders"\n',
         'suppliers[1] (id "rekenwonders")', "id", "is already used by " + REKENWONDERS),
    Case("duplicate entity id", "", EXTRA_SUPPLIER.replace(
        'protocol = "oidc"\nclient_id = "extra"\nredirect_uris = ["https://extra.example/cb"]\n'
        'client_secret_env = "EXTRA_SECRET"',
        'protocol = "saml"\nmetadata = "rekenwonders-sp.xml"'), 'suppliers[2] (id "extra")',
        "metadata", 'entity id "https://rekenwonders.example/sp" is already used by '
        + REKENWONDERS),
    Case("duplicate school entity id", "", '\n[[schools]]\nid = "twin"\nname = "Twin"\n'
         'protocol = "saml"\nmetadata = "regenboog-idp.xml"\n', 'schools[2] (id "twin")',
         "metadata", f'entity id "{REGENBOOG_IDP}" is already used by {REGENBOOG}'),
    Case("entity id of a registered school", SCHOOL_ANCHOR, 'id = "regenboog2"\n',
         'schools[0] (id "regenboog2")', "metadata",
         f'entity id "{REGENBOOG_IDP}" is already used by "regenboog" in the registry'),
    Case("jwks not a document", *_insert(TAAL_ANCHOR, 'jwks = "{\\"keys\\": 1}"'), TAALAPP,
         "jwks", "is not a JWKS document"),
    Case("jwks url not https", *_insert(TAAL_ANCHOR, 'jwks = "http://taalapp.example/jwks"'),
         TAALAPP, "jwks", "is not an absolute https URL"),
    Case("duplicate client id", "", EXTRA_SUPPLIER.replace('client_id = "extra"',
                                                           'client_id = "taalapp"'),
         'suppliers[2] (id "extra")', "client_id", 'client id "taalapp" is already used by '
         + TAALAPP),
    Case("duplicate release", "", '[[releases]]\nschool = "regenboog"\n'
         'supplier = "rekenwonders"\n',
         'releases[2] (school "regenboog", supplier "rekenwonders")', "supplier",
         "is already used by " + RELEASE_0),
    Case("unknown attribute", RELEASE_ANCHOR, 'attributes = ["role", "shoe_size"]\n', RELEASE_0,
         "attributes", 'unknown attribute shoe_size; expected one of'),
    Case("unknown role attribute", 'employee = ["email"]', 'employee = ["salary"]', RELEASE_0,
         "roles.employee", 'unknown attribute salary'),
    Case("role not of Loper's vocabulary", 'roles = { employee = ["email"] }',
         'roles = { employee = ["email"], teacher = ["email"] }', RELEASE_0, "roles",
         '"teacher" is not a role; expected one of student, employee'),
    Case("role of parents at a school without guardian_role", 'roles = { employee = ["email"] }',
         'roles = { ouder = ["email"] }', RELEASE_0, "roles", '"ouder" is not a role'),
    Case("oidc supplier without client authentication", 'client_secret = "s3cret"\n', "",
         TAALAPP, "client_secret", "missing: without client_secret, client_secret_env or jwks "
         "the app cannot authenticate at the token endpoint"),
    Case("unknown requested attribute", 'attribute = "given_name"', 'attribute = "iq"',
         REKENWONDERS, "requests[0].attribute", 'unknown attribute iq'),
    Case("request without why", ', why = "greets the pupil by name"', "", REKENWONDERS,
         "requests[0].why", "missing; expected the reason"),
    Case("request with a reason in an unknown language", 'why = "greets the pupil by name"',
         'why_de = "begrüßt"', REKENWONDERS, "requests[0].why_de", "unknown field; allowed "
         "here: attribute, why, why_en, why_nl"),
    Case("request with an empty Dutch reason", 'why = "greets the pupil by name"',
         'why_nl = " ", why_en = "greets"', REKENWONDERS, "requests[0].why_nl",
         "is empty; expected the reason"),
    Case("reason that reads backwards", 'why = "greets the pupil by name"',
         'why = "greets \u202eeman yb"', REKENWONDERS, "requests[0].why",
         "contains control characters or characters that reverse the reading direction"),
    Case("suspension reason with a control character", *_insert(RELEASE_ANCHOR,
         'suspended = "contract\\u0007"'), RELEASE_0, "suspended",
         "contains control characters or characters that reverse the reading direction"),
    Case("agreement reference that reads backwards", *_insert(RELEASE_ANCHOR,
         'agreement = "VO-\\u202e71"'), RELEASE_0, "agreement",
         "contains control characters or characters that reverse the reading direction"),
    Case("school name with a line break", 'name = "OBS De Regenboog"',
         'name = "OBS De\\nRegenboog"', REGENBOOG, "name",
         "contains control characters or characters that reverse the reading direction"),
    Case("place that reads backwards", 'place = "Utrecht"', 'place = "\\u202ethcertU"',
         REGENBOOG, "place",
         "contains control characters or characters that reverse the reading direction"),
    Case("school name too long", 'name = "OBS De Regenboog"', f'name = "{"x" * 121}"',
         REGENBOOG, "name", "has 121 characters; expected at most 120"),
    Case("place too long", 'place = "Utrecht"', f'place = "{"x" * 81}"', REGENBOOG, "place",
         "has 81 characters; expected at most 80"),
    Case("supplier named as another", 'name = "Taalapp"', 'name = " rekenWONDERS"', TAALAPP,
         "name", f'name "rekenwonders" is already used by {REKENWONDERS}'),
    Case("valid_until not a date", "valid_until = 2027-08-01", 'valid_until = "next year"',
         'releases[1] (school "lyceum", supplier "taalapp")', "valid_until",
         "got a string; expected a date such as 2027-08-01"),
    Case("agreement ended before the import", "valid_until = 2027-08-01",
         "valid_until = 2020-01-31", 'releases[1] (school "lyceum", supplier "taalapp")',
         "valid_until", "2020-01-31 is in the past; expected the last day of a processing "
         "agreement still in force"),
    Case("agreement reference empty", *_insert(RELEASE_ANCHOR, 'agreement = " "'), RELEASE_0,
         "agreement", "is empty; expected the reference of the processing agreement"),
    Case("agreement reference too long", *_insert(RELEASE_ANCHOR, f'agreement = "{"x" * 201}"'),
         RELEASE_0, "agreement", "has 201 characters; expected at most 200"),
    Case("valid_until a date-time", "valid_until = 2027-08-01",
         "valid_until = 2027-08-01T10:00:00",
         'releases[1] (school "lyceum", supplier "taalapp")', "valid_until",
         "got a date-time; expected a date"),
    Case("redirect uri http", "https://taalapp.example/callback", "http://taalapp.example/cb",
         TAALAPP, "redirect_uris", '"http://taalapp.example/cb" is not an absolute https URL'),
    Case("redirect uri relative", '"https://taalapp.example/callback"', '"/callback"', TAALAPP,
         "redirect_uris", "is not an absolute https URL"),
    Case("redirect uri fragment", "https://taalapp.example/callback",
         "https://taalapp.example/callback#x", TAALAPP, "redirect_uris", "has a fragment"),
    Case("backchannel logout uri http",
         *_insert(TAAL_ANCHOR, 'backchannel_logout_uri = "http://taalapp.example/bc"'), TAALAPP,
         "backchannel_logout_uri", '"http://taalapp.example/bc" is not an absolute https URL'),
    Case("frontchannel logout uri fragment",
         *_insert(TAAL_ANCHOR, 'frontchannel_logout_uri = "https://taalapp.example/fc#x"'),
         TAALAPP, "frontchannel_logout_uri", "has a fragment"),
    Case("post logout redirect uri relative",
         *_insert(TAAL_ANCHOR, 'post_logout_redirect_uris = ["/bye"]'), TAALAPP,
         "post_logout_redirect_uris", "is not an absolute https URL"),
    Case("redirect uris missing", 'redirect_uris = ["https://taalapp.example/callback", '
         '"http://127.0.0.1:8080/cb"]\n', "", TAALAPP, "redirect_uris", "missing"),
    Case("secret and secret env", *_insert(TAAL_ANCHOR, 'client_secret_env = "TAAL"'), TAALAPP,
         "client_secret", 'is set together with "client_secret_env"; expected one of the two'),
    Case("scopes without openid", *_insert('id = "lyceum"\n', 'scopes = ["profile"]'), LYCEUM,
         "scopes", 'lacks "openid"'),
    Case("algorithm none", *_insert('id = "lyceum"\n', 'algorithms = ["none"]'), LYCEUM,
         "algorithms", 'unsupported algorithm "none"'),
    Case("issuer not https", "https://login.lyceum.example", "http://login.lyceum.example",
         LYCEUM, "issuer", "is not an absolute https URL"),
    Case("release of unknown school", 'school = "regenboog"\nsupplier', 'school = "atlantis"\n'
         "supplier", 'releases[0] (school "atlantis", supplier "rekenwonders")', "school",
         'unknown school "atlantis"; expected the id of a school in this file or in the registry'),
    Case("release of unknown supplier", 'supplier = "taalapp"\nattributes',
         'supplier = "nobody"\nattributes', 'releases[1] (school "lyceum", supplier "nobody")',
         "supplier", 'unknown supplier "nobody"'),
    Case("key version changed", *_insert(REKEN_ANCHOR, "key_version = 2"), REKENWONDERS,
         "key_version", "is 2 but the registered supplier's pseudonyms use key version 1"),
    Case("entity id of a registered supplier", REKEN_ANCHOR, 'id = "rekenwonders2"\n',
         'suppliers[0] (id "rekenwonders2")', "metadata",
         'entity id "https://rekenwonders.example/sp" is already used by "rekenwonders" in the '
         "registry"),
    Case("supplier claims a school's scope", 'metadata = "rekenwonders-sp.xml"',
         _scoped_sp("regenboog.example"), REKENWONDERS, "metadata_xml",
         "claims the scope regenboog.example, outside its own domain; expected no shibmd:Scope"),
    Case("supplier claims a scope on its entity", 'metadata = "rekenwonders-sp.xml"',
         _scoped_sp("127.0.0.1", on="EntityDescriptor"), REKENWONDERS, "metadata_xml",
         "claims the scope 127.0.0.1, outside its own domain"),
    Case("supplier claims a top-level scope", 'metadata = "rekenwonders-sp.xml"',
         _scoped_sp("example"), REKENWONDERS, "metadata_xml", "claims the scope example,"),
    Case("supplier claims its own domain as a pattern", 'metadata = "rekenwonders-sp.xml"',
         _scoped_sp("rekenwonders.example", regexp=True), REKENWONDERS, "metadata_xml",
         "claims the scope rekenwonders.example, outside its own domain"),
    Case("supplier claims a scope beside a malformed Location", 'metadata = "rekenwonders-sp.xml"',
         _scoped_sp("regenboog.example").replace('Location=\\"https://',
                                                 'Location=\\"https://[', 1),
         REKENWONDERS, "metadata_xml", "claims the scope regenboog.example,"),
    Case("an ID token algorithm Loper does not sign with", *_insert(TAAL_ANCHOR,
         'id_token_alg = "PS256"'), TAALAPP, "id_token_alg", 'unsupported algorithm "PS256"'),
    Case("unknown profile", *_insert(REKEN_ANCHOR, 'profile = "surfconext"'), REKENWONDERS,
         "profile", 'unknown profile "surfconext"; expected one of oid, entree'),
    Case("profile not a string", *_insert(TAAL_ANCHOR, "profile = 1"), TAALAPP, "profile",
         'got an integer; expected one of oid, entree'),
    Case("profile on a school", *_insert(SCHOOL_ANCHOR, 'profile = "entree"'), REGENBOOG,
         "profile", "unknown field"),
]


@pytest.fixture
def populated(registry: Registry, federation_file: Path) -> Registry:
    registry.import_federation(load_federation(federation_file), key_version=1)
    return registry


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_file_is_reported_and_changes_nothing(case: Case, populated: Registry,
                                                  tmp_path: Path) -> None:
    assert case.old in FEDERATION, case.old
    text = FEDERATION.replace(case.old, case.new, 1) if case.old else FEDERATION + case.new
    (tmp_path / "bad").mkdir()
    path = write_federation(tmp_path / "bad", text)
    before = snapshot(populated)
    with pytest.raises(FederationError) as raised:
        populated.import_federation(load_federation(path), key_version=1)
    message = str(raised.value)
    assert str(path) in message
    line = next((p for p in raised.value.problems if case.entry in p), None)
    assert line is not None, message
    assert line.startswith(f"{path}: {case.entry}")
    if case.field:
        assert f'field "{case.field}"' in line, message
    assert case.says in line, message
    assert snapshot(populated) == before


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = (FEDERATION.replace('name = "Het Lyceum"\n', "")
            .replace('"given_name"]', '"nickname"]')
            .replace("https://taalapp.example/callback", "ftp://taalapp.example"))
    with pytest.raises(FederationError) as raised:
        load_federation(write_federation(tmp_path, text))
    problems = raised.value.problems
    assert len(problems) == 3, problems
    assert str(raised.value).startswith(f"{tmp_path / 'federation.toml'}: 3 problems:")
    assert [p.split(": ")[1] for p in problems] == [
        LYCEUM + ', field "name"', TAALAPP + ', field "redirect_uris"',
        RELEASE_0 + ', field "attributes"']


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FederationError, match="cannot be read"):
        load_federation(tmp_path / "nothing.toml")


def test_a_bad_release_rolls_back_the_whole_import(registry: Registry, tmp_path: Path) -> None:
    """New schools and suppliers in the same file are not written either."""
    path = write_federation(tmp_path, FEDERATION.replace('school = "lyceum"', 'school = "x"'))
    before = snapshot(registry)
    with pytest.raises(FederationError, match='unknown school "x"'):
        registry.import_federation(load_federation(path), key_version=1)
    assert snapshot(registry) == before
    assert registry.schools() == [] and registry.suppliers() == []
