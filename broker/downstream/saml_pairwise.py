"""The `pairwise-id` attribute value (SAML V2.0 Subject Identifier Attributes Profile 3.3):
the supplier's pseudonym, scoped by Loper's domain. Here once, for the answer to the supplier
(saml_response.py) and the admin's preview of it; no pysaml2, so the preview needs none."""

from __future__ import annotations


def pairwise_id(pseudonym: str, scope: str) -> str:
    return f"{pseudonym}@{scope}"
