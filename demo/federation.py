"""The demo federation file: one school and two suppliers, in the format of DESIGN.md."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import tomli_w

SCHOOL = {
    "id": "regenboog",
    "name": "OBS De Regenboog",
    "protocol": "saml",
    "metadata": "regenboog-idp.xml",
    "subject": "nameid",
    "place": "Utrecht",
}

SUPPLIERS: dict[str, dict[str, Any]] = {
    "rekenwonders": {
        "name": "Rekenwonders",
        "requests": [{"attribute": "given_name", "why": "greets the pupil by name"}],
    },
    "taalapp": {
        "name": "Taalapp",
        "requests": [
            {"attribute": "given_name", "why": "greets the pupil by name"},
            {"attribute": "role", "why": "shows pupils and teachers different screens"},
            {"attribute": "groups", "why": "groups pupils by class for their teacher"},
        ],
    },
}

RELEASES = [
    {"school": "regenboog", "supplier": "rekenwonders", "attributes": ["role", "given_name"]},
    {"school": "regenboog", "supplier": "taalapp",
     "attributes": ["given_name", "role", "groups"]},
]


def write_federation(folder: Path, school_metadata: str, suppliers: dict[str, str], *,
                     urls: Mapping[str, str] | None = None) -> Path:
    """Write the metadata files and `federation.toml` into `folder`; returns the TOML's path.

    `suppliers` maps a supplier id ("rekenwonders", "taalapp") to its SAML SP metadata;
    `urls` optionally maps a supplier id to its home page (the supplier's `url`).
    """
    unknown = suppliers.keys() - SUPPLIERS.keys()
    if unknown:
        raise ValueError(f"no demo supplier {sorted(unknown)}; known: {sorted(SUPPLIERS)}")
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
    releases = [r for r in RELEASES if r["supplier"] in suppliers]
    document = {"schools": [SCHOOL], "suppliers": entries, "releases": releases}
    path = folder / "federation.toml"
    path.write_text(tomli_w.dumps(document), encoding="utf-8")
    return path
