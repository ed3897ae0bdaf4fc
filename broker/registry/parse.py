"""One [[schools]], [[suppliers]] or [[releases]] table of a federation file -> a record.

Every parser reads all fields it can, records each problem on the Entry, and returns None
if the entry had any problem.
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

from broker.records import (
    AttributeRequest,
    OidcSchool,
    OidcSupplier,
    Policy,
    SamlSchool,
    SamlSupplier,
    School,
    Supplier,
)
from broker.registry import metadata
from broker.registry.checks import Entry, toml_type, url_problem

UNPINNED = 0
"""Supplier.key_version of a supplier read from a file without `key_version`: the registry
pins its current key version when the supplier is first imported."""

PROTOCOLS = ("saml", "oidc")
ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
                        "ES256", "ES384", "ES512", "EdDSA"})
_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_ENV = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
SCHOOL_FIELDS = {"": {"id", "name", "protocol", "place", "sso_lifetime"},
                 "saml": {"metadata", "metadata_xml", "subject", "legacy_sha1"},
                 "oidc": {"issuer", "client_id", "client_secret", "client_secret_env", "subject",
                          "algorithms", "scopes"}}
SUPPLIER_FIELDS = {"": {"id", "name", "protocol", "url", "sector", "requests", "key_version"},
                   "saml": {"metadata", "metadata_xml"},
                   "oidc": {"client_id", "client_secret", "client_secret_env", "redirect_uris",
                            "post_logout_redirect_uris", "jwks", "pkce_required",
                            "offline_access", "id_token_alg"}}
RELEASE_FIELDS = {"school", "supplier", "attributes", "roles", "suspended", "valid_until"}
_METADATA = {"idp": "SAML 2.0 metadata with an IDPSSODescriptor (a school's identity provider)",
             "sp": "SAML 2.0 metadata with an SPSSODescriptor (a supplier's service provider)"}


def _head(entry: Entry, fields: dict[str, set[str]]) -> tuple[str, str, str] | None:
    """id, name and protocol; also checks the entry's field names against its protocol."""
    ident = entry.text("id", "an id of lowercase letters, digits, '.', '-' or '_'",
                       required=True)
    if ident is not None and not _ID.match(ident):
        entry.problem("id", f'"{ident}" is not a valid id; expected 1 to 64 lowercase letters, '
                      "digits, '.', '-' or '_', starting with a letter or digit")
        ident = None
    name = entry.text("name", required=True)
    protocol = entry.text("protocol", '"saml" or "oidc"', required=True)
    if protocol is not None and protocol not in PROTOCOLS:
        entry.problem("protocol", f'unknown protocol "{protocol}"; expected "saml" or "oidc"')
        protocol = None
    entry.allow(fields[""] | (fields[protocol] if protocol else fields["saml"] | fields["oidc"]))
    return (ident, name, protocol) if ident and name and protocol else None


def _positive(entry: Entry, key: str, expected: str) -> int | None:
    value = entry.get(key, int, expected)
    if value is not None and value <= 0:
        entry.problem(key, f"is {value}; expected {expected}")
    return value


def _saml(entry: Entry, base_dir: Path, role: metadata.Role) -> tuple[str, str] | None:
    """(metadata XML, entity id) from `metadata` (path or URL) or `metadata_xml` (inline)."""
    where = "a path relative to the federation file or an https URL, or metadata_xml"
    reference = entry.text("metadata", where)
    inline = entry.text("metadata_xml", _METADATA[role])
    if reference is not None and inline is not None:
        entry.problem("metadata", 'both "metadata" and "metadata_xml" are set; expected one')
        return None
    field = "metadata" if inline is None else "metadata_xml"
    if reference is None and inline is None:
        if "metadata" not in entry.table and "metadata_xml" not in entry.table:
            entry.problem("metadata", f"missing; expected {where}")
        return None
    wrong = url_problem(reference) if reference and "://" in reference else None
    if wrong:
        entry.problem(field, wrong)
        return None
    try:
        xml = inline.encode() if inline is not None else metadata.read(str(reference), base_dir)
    except metadata.MetadataError as exc:
        entry.problem(field, f"{exc}; expected {where}")
        return None
    try:
        return metadata.as_text(xml), metadata.entity_id(xml, role)
    except metadata.MetadataError as exc:
        entry.problem(field, f"the metadata {exc}; expected {_METADATA[role]}")
        return None


def _secret(entry: Entry) -> tuple[str | None, str | None]:
    secret = entry.text("client_secret")
    env = entry.text("client_secret_env", "the name of an environment variable")
    if secret is not None and env is not None:
        entry.problem("client_secret", 'is set together with "client_secret_env"; expected '
                      "one of the two")
    if env is not None and not _ENV.match(env):
        entry.problem("client_secret_env", f'"{env}" is not a valid name; expected the name '
                      "of an environment variable (letters, digits, '_')")
    return secret, env


def _algorithm(entry: Entry, key: str, value: str) -> None:
    if value not in ALGORITHMS:
        entry.problem(key, f'unsupported algorithm "{value}"; expected one of '
                      + ", ".join(sorted(ALGORITHMS)))


def _oidc_school(entry: Entry) -> OidcSchool:
    issuer = entry.text("issuer", "the https URL of the school's OpenID provider", required=True)
    wrong = url_problem(issuer) if issuer else None
    if wrong:
        entry.problem("issuer", wrong)
    client_id = entry.text("client_id", required=True)
    secret, env = _secret(entry)
    algorithms = entry.strings("algorithms") or OidcSchool.algorithms
    for algorithm in algorithms:
        _algorithm(entry, "algorithms", algorithm)
    scopes = entry.strings("scopes") or OidcSchool.scopes
    if "openid" not in scopes:
        entry.problem("scopes", 'lacks "openid"; expected an array of scopes with "openid"')
    return OidcSchool(issuer=issuer or "", client_id=client_id or "", client_secret=secret,
                      client_secret_env=env, subject=entry.text("subject") or "sub",
                      algorithms=algorithms, scopes=scopes)


def school(entry: Entry, base_dir: Path) -> School | None:
    head = _head(entry, SCHOOL_FIELDS)
    place = entry.text("place")
    sso_lifetime = _positive(entry, "sso_lifetime", "a whole number of seconds above 0")
    saml = oidc = None
    if head and head[2] == "saml":
        found = _saml(entry, base_dir, "idp")
        legacy = entry.get("legacy_sha1", bool, "true or false") or False
        saml = SamlSchool(found[0], found[1], subject=entry.text("subject") or "nameid",
                          legacy_sha1=legacy) if found else None
    elif head:
        oidc = _oidc_school(entry)
    if head is None or not entry.clean():
        return None
    return School(id=head[0], name=head[1], protocol=head[2], place=place, saml=saml,
                  oidc=oidc, sso_lifetime=sso_lifetime)


def _requests(entry: Entry) -> tuple[AttributeRequest, ...]:
    found: list[AttributeRequest] = []
    expected = 'an array of tables { attribute = "...", why = "..." }'
    for i, item in enumerate(entry.get("requests", list, expected) or []):
        if not isinstance(item, dict):
            entry.problem(f"requests[{i}]", f"got {toml_type(item)}; expected {expected}")
            continue
        sub = Entry(item, entry.where, entry.problems, prefix=f"requests[{i}].")
        sub.allow({"attribute", "why"})
        attribute = sub.text("attribute", "an attribute name", required=True)
        known = sub.names("attribute", [attribute]) if attribute else None
        why = sub.text("why", "the reason the supplier needs it", required=True)
        if attribute and known and why:
            found.append(AttributeRequest(attribute, why))
    return tuple(found)


def _jwks(entry: Entry) -> str | None:
    """A JWKS URL or an inline JWKS document (JSON with "keys")."""
    jwks = entry.text("jwks", "a JWKS URL or a JWKS document (JSON)")
    if jwks is None:
        return None
    if not jwks.lstrip().startswith("{"):
        wrong = url_problem(jwks)
        if wrong:
            entry.problem("jwks", wrong)
        return jwks
    try:
        keys = json.loads(jwks).get("keys")
    except (ValueError, AttributeError):
        keys = None
    if not isinstance(keys, list):
        entry.problem("jwks", 'is not a JWKS document; expected {"keys": [...]} or a JWKS URL')
    return jwks


def _oidc_supplier(entry: Entry) -> OidcSupplier:
    client_id = entry.text("client_id", required=True)
    secret, env = _secret(entry)
    jwks = _jwks(entry)
    alg = entry.text("id_token_alg") or OidcSupplier.id_token_alg
    _algorithm(entry, "id_token_alg", alg)
    pkce = entry.get("pkce_required", bool, "true or false")
    return OidcSupplier(
        client_id=client_id or "", client_secret=secret, client_secret_env=env,
        redirect_uris=entry.urls("redirect_uris", required=True),
        post_logout_redirect_uris=entry.urls("post_logout_redirect_uris"), jwks=jwks,
        pkce_required=True if pkce is None else pkce,
        offline_access=entry.get("offline_access", bool, "true or false") or False,
        id_token_alg=alg)


def supplier(entry: Entry, base_dir: Path) -> Supplier | None:
    head = _head(entry, SUPPLIER_FIELDS)
    url = entry.text("url", "the supplier's https URL")
    if url is not None and url_problem(url):
        entry.problem("url", str(url_problem(url)))
    key_version = _positive(entry, "key_version", "a pseudonym key version, 1 or higher")
    saml = oidc = None
    if head and head[2] == "saml":
        found = _saml(entry, base_dir, "sp")
        saml = SamlSupplier(found[0], found[1]) if found else None
    elif head:
        oidc = _oidc_supplier(entry)
    requests = _requests(entry)
    sector = entry.text("sector", "a pseudonym sector (by default the supplier's id)")
    if head is None or not entry.clean():
        return None
    return Supplier(id=head[0], name=head[1], protocol=head[2], sector=sector or head[0],
                    key_version=key_version or UNPINNED, requests=requests, url=url,
                    saml=saml, oidc=oidc)


def release(entry: Entry) -> Policy | None:
    entry.allow(RELEASE_FIELDS)
    school_id = entry.text("school", "the id of a school", required=True)
    supplier_id = entry.text("supplier", "the id of a supplier", required=True)
    names = entry.names("attributes", entry.table.get("attributes", []))
    by_role: dict[str, frozenset[str]] = {}
    roles = entry.get("roles", dict, 'a table of role = ["attribute", ...]') or {}
    for role, extra in roles.items():
        by_role[role] = entry.names(f"roles.{role}", extra) or frozenset()
    suspended = entry.text("suspended", "the reason for the suspension")
    valid_until = entry.get("valid_until", date, "a date such as 2027-08-01")
    if not (school_id and supplier_id and entry.clean()):
        return None
    return Policy(school_id=school_id, supplier_id=supplier_id, attributes=names or frozenset(),
                  by_role=by_role, suspended_reason=suspended, valid_until=valid_until)
