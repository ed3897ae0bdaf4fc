"""The demo federation file, in the format of DESIGN.md.

Schools: "OBS De Regenboog" (SAML) and, when given, "Het Lyceum" (OIDC) and the cloud schools
"Het Kompas" (Google Workspace) and "De Esdoorn" (Entra ID) of demo/school_cloud.py and the
hub "Entree (demo hub)" with "CBS De Linde" and "OBS De Es" behind it (demo/hub.py) and "De
Wilg" on ADFS (demo/school_adfs.py). Suppliers:
"Rekenwonders" and "Taalapp" (SAML) and, when given, "Leesplein" (OIDC). The releases are
those between the schools and suppliers that are present.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli_w

from demo.hub import BEHIND_HUB, HUB_SCHOOL
from demo.school_adfs import WILG_SCHOOL
from demo.school_cloud import ESDOORN_SCHOOL, KOMPAS_SCHOOL

CLOUD_SCHOOLS = {"kompas": KOMPAS_SCHOOL, "esdoorn": ESDOORN_SCHOOL}
SAML_SCHOOLS: dict[str, list[dict[str, Any]]] = {"entree": [HUB_SCHOOL, *BEHIND_HUB],
                                                 "wilg": [WILG_SCHOOL]}
"""More SAML schools by the id of their IdP's entry (first): the hub with the schools behind
it (demo/hub.py), the ADFS school (demo/school_adfs.py)."""

SCHOOL = {
    "id": "regenboog",
    "name": "OBS De Regenboog",
    "protocol": "saml",
    "metadata": "regenboog-idp.xml",
    "subject": "nameid",
    "place": "Utrecht",
    "privacy_contact": "mailto:privacy@regenboog.example",
    "guardian_role": "ouder",
    "domains": ["regenboog.example"],
}

LYCEUM = {
    "id": "lyceum",
    "name": "Het Lyceum",
    "protocol": "oidc",
    "place": "Amersfoort",
    "client_id": "loper",
    "subject": "sub",
    "domains": ["lyceum.example"],
}
"""The OIDC school; its issuer and Loper's client secret there are added when written."""

def _asks(attribute: str, nl: str, en: str) -> dict[str, str]:
    """A request with its reason in both languages: pupils and parents read theirs."""
    return {"attribute": attribute, "why_nl": nl, "why_en": en}


_GIVEN_NAME = _asks("given_name", "begroet de leerling bij naam", "greets the pupil by name")
_ROLE = _asks("role", "toont leerlingen en leraren een eigen scherm",
              "shows pupils and teachers different screens")

SUPPLIERS: dict[str, dict[str, Any]] = {
    "rekenwonders": {
        "name": "Rekenwonders",
        "requests": [_GIVEN_NAME],
    },
    "taalapp": {
        "name": "Taalapp",
        "requests": [
            _GIVEN_NAME, _ROLE,
            _asks("groups", "deelt leerlingen per klas in voor hun leraar",
                  "groups pupils by class for their teacher"),
        ],
    },
}
"""The SAML suppliers."""

OIDC_SUPPLIERS: dict[str, dict[str, Any]] = {
    "leesplein": {
        "name": "Leesplein",
        "client_id": "leesplein",
        "requests": [
            _GIVEN_NAME, _ROLE,
            _asks("email", "mailt de leerling de leeslijst",
                  "sends the pupil's reading list by e-mail"),
        ],
    },
}
"""The OIDC suppliers; their secrets and redirect URIs are added when written."""

RELEASES = [
    {"school": "regenboog", "supplier": "rekenwonders", "attributes": ["role", "given_name"]},
    {"school": "regenboog", "supplier": "taalapp",
     "attributes": ["given_name", "role", "groups"]},
    {"school": "regenboog", "supplier": "leesplein", "attributes": ["given_name", "role"]},
    {"school": "lyceum", "supplier": "rekenwonders", "attributes": ["role", "given_name"]},
    {"school": "lyceum", "supplier": "taalapp", "attributes": ["given_name", "role", "groups"]},
    {"school": "lyceum", "supplier": "leesplein",
     "attributes": ["given_name", "role", "email"]},
    *({"school": school, "supplier": supplier, "attributes": ["given_name", "role"]}
      for school in CLOUD_SCHOOLS for supplier in ("rekenwonders", "taalapp", "leesplein")),
    *({"school": school["id"], "supplier": supplier,
       "attributes": ["given_name", "role", "school_id"]}
      for school in BEHIND_HUB for supplier in ("rekenwonders", "leesplein")),
    *({"school": "wilg", "supplier": supplier, "attributes": ["given_name", "role", "email"]}
      for supplier in ("rekenwonders", "leesplein")),
]


NEW_SUPPLIER: dict[str, Any] = {
    "id": "woordenschat",
    "name": "Woordenschat",
    "protocol": "oidc",
    "client_id": "woordenschat",
    "client_secret": "woordenschat-demo-secret",
    "redirect_uris": ["http://127.0.0.1:8406/callback"],
    "requests": [_GIVEN_NAME, _asks("groups", "zet leerlingen in de woordenlijsten van hun klas",
                                    "puts pupils in their class's word lists")],
}
"""A supplier just registered by the operator and activated by no school yet: the portal
shows it as new, and it gets nothing until a school activates it (no app runs behind it)."""


def write_new_supplier(folder: Path) -> Path:
    """A federation file with NEW_SUPPLIER only (no release entry); returns its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "new-supplier.toml"
    path.write_text(tomli_w.dumps({"suppliers": [NEW_SUPPLIER]}), encoding="utf-8")
    return path


@dataclass(frozen=True)
class OidcSchoolEntry:
    issuer: str
    """The school OP's base URL (its discovery document lies under it)."""
    client_secret: str
    """Loper's secret as the OP's client "loper"."""


@dataclass(frozen=True)
class OidcClientEntry:
    client_secret: str
    redirect_uris: Sequence[str]
    url: str | None = None
    backchannel_logout_uri: str | None = None
    post_logout_redirect_uris: Sequence[str] = ()


def write_federation(folder: Path, school_metadata: str, suppliers: dict[str, str], *,
                     urls: Mapping[str, str] | None = None,
                     lyceum: OidcSchoolEntry | None = None,
                     oidc_suppliers: Mapping[str, OidcClientEntry] | None = None,
                     cloud: Mapping[str, OidcSchoolEntry] | None = None,
                     saml_schools: Mapping[str, str] | None = None) -> Path:
    """Write the metadata files and `federation.toml` into `folder`; returns the TOML's path.

    `suppliers` maps a SAML supplier id ("rekenwonders", "taalapp") to its SP metadata;
    `urls` optionally maps a supplier id to its home page (the supplier's `url`); `lyceum` adds
    the OIDC school, `oidc_suppliers` the OIDC suppliers ("leesplein"), `cloud` the cloud
    schools by id ("kompas", "esdoorn"), `saml_schools` the SAML schools of SAML_SCHOOLS by id
    ("entree": the hub and the two schools behind it, "wilg": the ADFS school) with their
    metadata.
    """
    oidc_suppliers = oidc_suppliers or {}
    unknown = (suppliers.keys() - SUPPLIERS.keys()) | (oidc_suppliers.keys()
                                                        - OIDC_SUPPLIERS.keys())
    if unknown:
        known = sorted([*SUPPLIERS, *OIDC_SUPPLIERS])
        raise ValueError(f"no demo supplier {sorted(unknown)}; known: {known}")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / str(SCHOOL["metadata"])).write_text(school_metadata, encoding="utf-8")
    entries = []
    for supplier_id, metadata in suppliers.items():
        file_name = f"{supplier_id}-sp.xml"
        (folder / file_name).write_text(metadata, encoding="utf-8")
        spec = SUPPLIERS[supplier_id]
        entry = {"id": supplier_id, "name": spec["name"], "protocol": "saml",
                 "metadata": file_name, "requests": spec["requests"]}
        if urls and supplier_id in urls:
            entry["url"] = urls[supplier_id]
        entries.append(entry)
    for supplier_id, client in oidc_suppliers.items():
        spec = OIDC_SUPPLIERS[supplier_id]
        entry = {"id": supplier_id, "name": spec["name"], "protocol": "oidc",
                 "client_id": spec["client_id"], "client_secret": client.client_secret,
                 "redirect_uris": list(client.redirect_uris), "requests": spec["requests"]}
        if client.url:
            entry["url"] = client.url
        if client.backchannel_logout_uri:
            entry["backchannel_logout_uri"] = client.backchannel_logout_uri
        if client.post_logout_redirect_uris:
            entry["post_logout_redirect_uris"] = list(client.post_logout_redirect_uris)
        entries.append(entry)
    schools: list[dict[str, Any]] = [SCHOOL]
    if lyceum is not None:
        schools.append({**LYCEUM, "issuer": lyceum.issuer,
                        "client_secret": lyceum.client_secret})
    for school_id, op in (cloud or {}).items():
        schools.append({**CLOUD_SCHOOLS[school_id], "issuer": op.issuer,
                        "client_secret": op.client_secret})
    for school_id, metadata in (saml_schools or {}).items():
        entries_of = SAML_SCHOOLS[school_id]
        (folder / str(entries_of[0]["metadata"])).write_text(metadata, encoding="utf-8")
        schools.extend(entries_of)
    present = {s["id"] for s in schools}, {e["id"] for e in entries}
    releases = [r for r in RELEASES if r["school"] in present[0] and r["supplier"] in present[1]]
    document = {"schools": schools, "suppliers": entries, "releases": releases}
    path = folder / "federation.toml"
    path.write_text(tomli_w.dumps(document), encoding="utf-8")
    return path
