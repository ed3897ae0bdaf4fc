"""What an SP receives for a request Loper answers with a SAML error Response (a trusted request
that asks for what Loper cannot give: broker/downstream/saml_asks.py), checked on the XML as
Loper sent it, with Loper's real signing certificate."""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from pathlib import Path

import pytest
from lxml import etree  # type: ignore[import-untyped]

from broker.downstream.saml_asks import Refused
from broker.outgoing import Outgoing
from tests.downstream.peers import SentRequest
from tests.downstream.saml_world import SamlWorld
from tests.xml_signatures import verify_enveloped

STATUS = "urn:oasis:names:tc:SAML:2.0:status:"
NS = {"samlp": "urn:oasis:names:tc:SAML:2.0:protocol",
      "saml": "urn:oasis:names:tc:SAML:2.0:assertion",
      "ds": "http://www.w3.org/2000/09/xmldsig#"}
ERROR_ID = re.compile(r"error id ([0-9a-f]{12}) ")


def refuse(world: SamlWorld, sent: SentRequest) -> tuple[Refused, Outgoing]:
    """The refusal parse_request raises for `sent`, and the answer Loper sends for it."""
    with pytest.raises(Refused) as caught:
        world.parse(sent)
    return caught.value, world.idp.refuse(caught.value)


def verified(xml: bytes, cert: Path) -> etree._Element:
    """The Response after xmlsec verified its enveloped signature with `cert` alone."""
    root = etree.fromstring(xml, etree.XMLParser(resolve_entities=False))
    verify_enveloped(root, cert.read_bytes())
    return root


def error_response(action: str, fields: Mapping[str, str] | None, *, cert: Path, acs: str,
                   request_id: str, relay_state: str | None, second_level: str) -> str:
    """The POST to the SP's ACS: a Response signed with `cert`, InResponseTo the request,
    Requester with `second_level`, no assertion, the RelayState back; the error id its
    StatusMessage names."""
    assert action == acs and fields is not None
    assert fields.get("RelayState") == relay_state
    root = verified(base64.b64decode(fields["SAMLResponse"]), cert)
    assert root.tag == f"{{{NS['samlp']}}}Response"
    assert root.get("InResponseTo") == request_id and root.get("Destination") == acs
    codes = root.xpath("samlp:Status//samlp:StatusCode/@Value", namespaces=NS)
    assert codes == [STATUS + "Requester", STATUS + second_level]
    assert root.xpath(".//saml:Assertion|.//saml:EncryptedAssertion", namespaces=NS) == []
    found = ERROR_ID.search(root.findtext("samlp:Status/samlp:StatusMessage", "", NS))
    assert found, etree.tostring(root)
    return found.group(1)


def answered(world: SamlWorld, out: Outgoing, sent: SentRequest, acs: str, second_level: str,
             relay_state: str | None = None) -> str:
    """error_response() for an answer of `world`'s IdP."""
    return error_response(out.url, out.form, cert=world.config.signing.cert, acs=acs,
                          request_id=sent.request_id, relay_state=relay_state,
                          second_level=second_level)
