"""What Loper's SAML answer names about a person, once for the answer (saml_response.py) and
the admin's preview of it (saml_kind.py): the `pairwise-id` (SAML V2.0 Subject Identifier
Attributes Profile 3.3), then exactly the released attributes. No pysaml2 here, so the preview
needs none."""

from __future__ import annotations

from broker.attributes import PAIRWISE_ID, VOCABULARY, to_saml
from broker.identity import Released

_FRIENDLY = {a.saml_name: a.friendly_name for a in VOCABULARY}


def pairwise_id(pseudonym: str, scope: str) -> str:
    """The supplier's pseudonym, scoped by Loper's domain."""
    return f"{pseudonym}@{scope}"


def named_attributes(released: Released, scope: str) -> dict[str, tuple[str, tuple[str, ...]]]:
    """SAML attribute name -> (friendly name, values): the pairwise-id, then every released
    attribute that has a value."""
    pairwise = pairwise_id(released.subject, scope)
    named: dict[str, tuple[str, tuple[str, ...]]] = {PAIRWISE_ID: ("pairwise-id", (pairwise,))}
    named.update((name, (_FRIENDLY[name], values))
                 for name, values in to_saml(released.attributes).items() if values)
    return named
