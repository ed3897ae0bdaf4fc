"""One [[schools]], [[suppliers]] or [[releases]] table of a federation file -> a record.

Every parser reads all fields it can, records each problem on the Entry, and returns None
if the entry had any problem.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

from broker import acr, attributes, kinds, mapping, profiles
from broker.messages import Message, msg
from broker.records import (
    WHY_FIELDS,
    AttributeRequest,
    Behind,
    Policy,
    School,
    Supplier,
    SupplierConfig,
)
from broker.registry.checks import BOOL, Entry, toml_type, too_long, url_problem
from broker.saml.scopes import DOMAIN

UNPINNED = 0
"""Supplier.key_version of a supplier read from a file without `key_version`: the registry
pins its current key version when the supplier is first imported."""

ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
                        "ES256", "ES384", "ES512", "EdDSA"})
_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_MAILTO = re.compile(r"^mailto:[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+$")
_ENV = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
SCHOOL_FIELDS = frozenset({"id", "name", "protocol", "place", "sso_lifetime", "link_by_eck_id",
                           "privacy_contact", "guardian_role", "claims", "roles",
                           "default_role", "hub", "domains", "hint", "shared_devices"})
BEHIND_FIELDS = frozenset({"id", "name", "place", "sso_lifetime", "link_by_eck_id",
                           "privacy_contact", "via", "match", "hint_value", "shared_devices"})
"""The fields of a school behind a hub: it logs in through the hub, whose protocol fields,
`claims` and `roles` its answers are read with."""
SUPPLIER_FIELDS = frozenset({"id", "name", "protocol", "url", "sector", "requests",
                             "key_version", "employee_acr", "profile"})
"""The fields of every school or supplier; each protocol kind adds its own (kinds.py)."""
RELEASE_FIELDS = {"school", "supplier", "attributes", "roles", "suspended", "valid_until",
                  "agreement"}
MAX_MAPPED = 200
"""Entries of a school's [schools.claims] or [schools.roles]."""
MAX_NAME = 512
"""Characters of a claim or attribute Name, or of a role value, in them."""
MAX_DOMAINS = 64
"""Entries of a school's `domains`."""
MAX_AGREEMENT = 200
"""Characters of an agreement reference (a document number, a contract id)."""
MAX_TITLE = 120
"""Characters of a school's or supplier's name (the picker, the overview and /me show it)."""
MAX_PLACE = 80
"""Characters of a school's place."""
K = TypeVar("K", bound="kinds.Kind[Any, Any]")
SECONDS = msg("problem.expect_seconds")


def _head(entry: Entry, common: frozenset[str],
          table: Mapping[str, K]) -> tuple[str, str, K] | None:
    """id, name and protocol kind; also checks the entry's field names against its kind."""
    ident, name = id_name(entry)
    known = msg("problem.expect_protocol", known=tuple(table))
    protocol = entry.text("protocol", known, required=True)
    kind = table.get(protocol) if protocol is not None else None
    if protocol is not None and kind is None:
        entry.problem("protocol", msg("problem.unknown_protocol", protocol=protocol[:80],
                                      expected=known))
    entry.allow(common | (kind.keys if kind else frozenset().union(
        *(k.keys for k in table.values()))))
    return (ident, name, kind) if ident and name and kind else None


def id_name(entry: Entry) -> tuple[str | None, str | None]:
    """An entry's id and name (None where it names a problem)."""
    ident = entry.text("id", msg("problem.expect_id"), required=True)
    if ident is not None and not _ID.match(ident):
        entry.problem("id", msg("problem.bad_id", id=ident[:80]))
        ident = None
    return ident, entry.plain_text("name", required=True, longest=MAX_TITLE)  # pupils read it


def _positive(entry: Entry, key: str, expected: Message) -> int | None:
    value = entry.get(key, int, expected)
    if value is not None and value <= 0:
        entry.problem(key, msg("problem.too_small", value=value, expected=expected))
    return value


def secret(entry: Entry) -> tuple[str | None, str | None]:
    secret = entry.text("client_secret")
    env = entry.text("client_secret_env", msg("problem.expect_env"))
    if secret is not None and env is not None:
        entry.problem("client_secret", msg("problem.one_of_two", other="client_secret_env"))
    if env is not None and not _ENV.match(env):
        entry.problem("client_secret_env", msg("problem.bad_env", name=env[:80]))
    return secret, env


def algorithm(entry: Entry, key: str, value: str) -> None:
    if value not in ALGORITHMS:
        entry.problem(key, msg("problem.bad_algorithm", algorithm=value[:80],
                               known=tuple(sorted(ALGORITHMS))))


def privacy_contact(entry: Entry) -> str | None:
    expected = msg("problem.expect_contact")
    contact = entry.text("privacy_contact", expected)
    if contact is None:
        return None
    if contact.startswith("mailto:"):
        wrong = None if _MAILTO.match(contact) else msg("problem.not_email", value=contact[:200])
    else:
        wrong = url_problem(contact, fragment_ok=False)
    if wrong:
        entry.problem("privacy_contact", msg("problem.and_expected", problem=wrong,
                                             expected=expected))
    return contact


def school(entry: Entry, base_dir: Path) -> School | None:
    if "via" in entry.table:
        return _behind(entry)
    head = _head(entry, SCHOOL_FIELDS, kinds.upstreams())
    hub = entry.get("hub", bool, BOOL) or False
    shared = entry.get("shared_devices", bool, BOOL) or False
    place = entry.plain_text("place", longest=MAX_PLACE)
    sso_lifetime = _positive(entry, "sso_lifetime", SECONDS)
    link = entry.get("link_by_eck_id", bool, BOOL) or False
    contact = privacy_contact(entry)
    guardian_role = entry.text("guardian_role", msg("problem.expect_guardian_role"))
    claims, roles, default_role = mapping_fields(entry, guardian_role)
    domains = domain_list(entry)
    hint = entry.get("hint", bool, BOOL) or False
    if hint and not hub:
        entry.problem("hint", msg("problem.hint_without_hub"))
    config = head[2].parse(entry, base_dir) if head else None
    if head is None or config is None or not entry.clean():
        return None
    return School(id=head[0], name=head[1], config=config, place=place,
                  sso_lifetime=sso_lifetime, link_by_eck_id=link, privacy_contact=contact,
                  guardian_role=guardian_role, claims=claims, roles=roles,
                  default_role=default_role, hub=hub, domains=domains, hint=hint,
                  shared_devices=shared)


def mapping_fields(entry: Entry, guardian_role: str | None
                   ) -> tuple[dict[str, str] | None, dict[str, str] | None, str | None]:
    """A school's `claims`, `roles` and `default_role` (broker/mapping.py)."""
    claims = _table(entry, "claims", msg("problem.expect_claims"), attributes.NAMES)
    targets = mapping.role_targets(guardian_role)
    roles = _table(entry, "roles", msg("problem.expect_roles", targets=targets), None, targets)
    default_role = entry.text("default_role", msg("problem.expect_one_of", known=targets))
    if default_role is not None and default_role not in targets:
        entry.problem("default_role", msg("problem.not_a_role", role=default_role[:80],
                                          known=targets))
    return claims, roles, default_role


def domain_list(entry: Entry) -> tuple[str, ...]:
    """`domains`: the school's own domains (the scopes of its scoped values)."""
    expected = msg("problem.expect_domains", n=MAX_DOMAINS)
    found = entry.strings("domains", expected) or ()
    if len(found) > MAX_DOMAINS or ("domains" in entry.table and not found):
        entry.problem("domains", msg("problem.entries", n=len(found), expected=expected))
        return ()
    for domain in found:
        if not DOMAIN.fullmatch(domain):
            entry.problem("domains", msg("problem.not_a_domain", domain=domain[:80],
                                         expected=expected))
    return found


def _behind(entry: Entry) -> School | None:
    """A school behind a hub (`via`): which hub, and which of its answers are this school's."""
    entry.allow(BEHIND_FIELDS)
    ident, name = id_name(entry)
    hub = entry.text("via", msg("problem.expect_hub"), required=True)
    expected = msg("problem.expect_match")
    match = _table(entry, "match", expected, attributes.NAMES)
    if entry.table.get("match") in (None, {}):
        entry.problem("match", msg("problem.missing_or_empty", expected=expected))
    place = entry.plain_text("place", longest=MAX_PLACE)
    sso_lifetime = _positive(entry, "sso_lifetime", SECONDS)
    link = entry.get("link_by_eck_id", bool, BOOL) or False
    contact = privacy_contact(entry)
    shared = entry.get("shared_devices", bool, BOOL) or False
    hint_value = entry.text("hint_value", msg("problem.expect_hint_value"))
    if hint_value is not None and len(hint_value) > MAX_NAME:
        entry.problem("hint_value", too_long(len(hint_value), MAX_NAME))
    if not (ident and name and hub and match) or not entry.clean():
        return None
    return School(id=ident, name=name, config=Behind(hub=hub, match=match,
                                                     hint_value=hint_value), place=place,
                  sso_lifetime=sso_lifetime, link_by_eck_id=link, privacy_contact=contact,
                  shared_devices=shared)


def _table(entry: Entry, key: str, expected: Message, names: frozenset[str] | None,
           values: tuple[str, ...] | None = None) -> dict[str, str] | None:
    """A table of text -> text: keys from `names` (if given), values from `values` (if
    given), at most MAX_MAPPED entries of at most MAX_NAME characters."""
    table = entry.get(key, dict, expected)
    if not table:
        return None
    if len(table) > MAX_MAPPED:
        entry.problem(key, msg("problem.entries", n=len(table),
                               expected=msg("problem.at_most", n=MAX_MAPPED)))
        return None
    found: dict[str, str] = {}
    for name, value in table.items():
        where = f"{key}.{name}"
        if names is not None and name not in names:
            entry.problem(where, msg("problem.unknown_attributes", names=(name[:80],),
                                     known=tuple(sorted(names))))
        elif not isinstance(value, str) or not value.strip():
            entry.problem(where, msg("problem.expected", expected=expected))
        elif max(len(name), len(value)) > MAX_NAME:
            entry.problem(where, too_long(max(len(name), len(value)), MAX_NAME))
        elif values is not None and value not in values:  # `roles`: the value named
            entry.problem(where, msg("problem.not_a_role", role=value[:80], known=values))
        else:
            found[name] = value
    return found


def _requests(entry: Entry) -> tuple[AttributeRequest, ...]:
    found: list[AttributeRequest] = []
    expected = msg("problem.expect_requests")
    for i, item in enumerate(entry.get("requests", list, expected) or []):
        if not isinstance(item, dict):
            entry.problem(f"requests[{i}]", msg("problem.wrong_type", got=toml_type(item),
                                                expected=expected))
            continue
        sub = Entry(item, entry.where, entry.problems, prefix=f"requests[{i}].")
        sub.allow({"attribute", *WHY_FIELDS})
        attribute = sub.text("attribute", msg("problem.expect_attribute"), required=True)
        known = sub.names("attribute", [attribute]) if attribute else None
        why = {key: sub.plain_text(key, msg("problem.expect_why")) for key in WHY_FIELDS}
        if not any(key in item for key in WHY_FIELDS):
            sub.problem("why", msg("problem.missing", expected=msg("problem.expect_why")))
        elif attribute and known and sub.clean():
            found.append(AttributeRequest.of({"attribute": attribute} | {
                key: text for key, text in why.items() if text is not None}))
    return tuple(found)


def supplier(entry: Entry, base_dir: Path) -> Supplier | None:
    head = _head(entry, SUPPLIER_FIELDS, kinds.downstreams())
    url = entry.text("url", msg("problem.expect_supplier_url"))
    wrong = url_problem(url) if url is not None else None
    if wrong:
        entry.problem("url", wrong)
    key_version = _positive(entry, "key_version", msg("problem.expect_key_version"))
    config: SupplierConfig | None = head[2].parse(entry, base_dir) if head else None
    requests = _requests(entry)
    sector = entry.text("sector", msg("problem.expect_sector"))
    employee_acr = entry.text("employee_acr", msg("problem.expect_acr", example=acr.REFEDS_MFA))
    if employee_acr is not None and acr.problem((employee_acr,)):
        entry.problem("employee_acr", msg("problem.bad_acr", max=acr.MAX_CLASS))
    known = tuple(profiles.PROFILES)
    profile = entry.text("profile", msg("problem.expect_one_of", known=known))
    if profile is not None and profile not in profiles.PROFILES:
        entry.problem("profile", msg("problem.unknown_profile", profile=profile[:80],
                                     known=known))
    if head is None or config is None or not entry.clean():
        return None
    if profile is not None:
        config = dataclasses.replace(config, profile=profile)
    return Supplier(id=head[0], name=head[1], config=config, sector=sector or head[0],
                    key_version=key_version or UNPINNED, requests=requests, url=url,
                    employee_acr=employee_acr)


def release(entry: Entry) -> Policy | None:
    entry.allow(RELEASE_FIELDS)
    school_id = entry.text("school", msg("problem.expect_school"), required=True)
    supplier_id = entry.text("supplier", msg("problem.expect_supplier"), required=True)
    names = entry.names("attributes", entry.table.get("attributes", []))
    by_role: dict[str, frozenset[str]] = {}
    roles = entry.get("roles", dict, msg("problem.expect_role_table")) or {}
    for role, extra in roles.items():
        by_role[role] = entry.names(f"roles.{role}", extra) or frozenset()
    suspended = entry.plain_text("suspended", msg("problem.expect_suspended"))  # pupils read it
    valid_until = entry.get("valid_until", date, msg("problem.expect_valid_until"))
    agreement = entry.plain_text("agreement", msg("problem.expect_agreement"),  # and this
                                 longest=MAX_AGREEMENT)
    if not (school_id and supplier_id and entry.clean()):
        return None
    return Policy(school_id=school_id, supplier_id=supplier_id, attributes=names or frozenset(),
                  by_role=by_role, suspended_reason=suspended, valid_until=valid_until,
                  agreement=agreement)
