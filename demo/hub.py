"""The demo hub: "Entree (demo)", one SAML IdP answering for two schools behind it, as Entree
Federatie answers for hundreds. It is the demo school IdP (demo/school_idp.py) with the people
of "CBS De Linde" (BRIN 11ZZ03) and "OBS De Es" (22YY04), and one pupil of a school Loper does
not know (33XX05), whose login must end on Loper's error page.

Loper's picker lists De Linde and De Es, not the hub; the hub is registered with `hint = true`,
so Loper names the picked school's BRIN in the AuthnRequest's Scoping/IDPList (Entree's "BRIN
scoping") and the hub lists that school's people first.
"""

from __future__ import annotations

from typing import Any

from demo.people import DemoPerson

HUB_NAME = "Entree (demo hub)"
LINDE, ES, UNKNOWN = "11ZZ03", "22YY04", "33XX05"

HUB_PEOPLE: tuple[DemoPerson, ...] = (
    DemoPerson("6a2d9e41c7b3480f9d15e8a3c0b7f264", "Fleur", "Hendriks", ("student",),
               ("groep-6",), school_domain="delinde.example", school_id=LINDE),
    DemoPerson("b94e1c7a3d5f42e08a6c2d9f1e3b7a50", "Jan", "Kok", ("employee",), ("groep-6",),
               school_domain="delinde.example", school_id=LINDE),
    DemoPerson("0f7c3b9e1a5d48c2b6e4a8d0c2f6e913", "Milan", "de Boer", ("student",),
               ("groep-8",), school_domain="de-es.example", school_id=ES),
    DemoPerson("e1b5d9a3c7f2460e8b4d6a0c9e3f1b72", "Zoë", "Peters", ("student",), ("groep-5",),
               school_domain="elders.example", school_id=UNKNOWN),
)
"""A pupil and a teacher of De Linde, a pupil of De Es, and a pupil of an unknown school."""

HUB_SCHOOL: dict[str, Any] = {
    "id": "entree", "name": HUB_NAME, "protocol": "saml", "metadata": "entree-idp.xml",
    "hub": True, "hint": True, "domains": ["delinde.example", "de-es.example"],
}
"""The hub: never in the picker; its schacHomeOrganization values are believed only within
its `domains`; nlEduPersonHomeOrganizationId (the BRIN) says which school an answer is for."""
BEHIND_HUB: tuple[dict[str, Any], ...] = (
    {"id": "de-linde", "name": "CBS De Linde", "place": "Zwolle", "via": "entree",
     "match": {"school_id": LINDE}},
    {"id": "de-es", "name": "OBS De Es", "place": "Assen", "via": "entree",
     "match": {"school_id": ES}},
)
