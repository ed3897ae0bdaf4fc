"""Golden: what each supplier profile sends, as the suppliers' own libraries read it.

Over real HTTP (the demo stack), OBS De Regenboog's teacher logs in at the pysaml2 SP
(Rekenwonders, its assertion encrypted), the python3-saml SP (Taalapp) and the strict OIDC RP
(requests + joserfc), with every attribute the school sends released. For each profile
(broker/profiles.py) the Attributes in Loper's assertion (Name, NameFormat, FriendlyName,
values), what each SAML library reads, and the claims of the verified ID token and of userinfo
are compared with tests/fixtures/golden/<protocol>-<profile>.json. The pseudonym, another one
for every key, is written "{pseudonym}". LOPER_WRITE_GOLDEN=1 writes the files anew (then
read their diff before committing it).
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from broker.records import Policy
from broker.registry.federation import Federation as Entries
from tests.flows.conftest import (
    SAML,
    Federation,
    log_in_via_picker,
    whoami,
)
from tests.flows.oidc_clients import register_client, strict_rp
from tests.peers.browser import Browser, decode_saml

GOLDEN = Path(__file__).parent.parent / "fixtures" / "golden"
PROFILES = ("oid", "entree")
RELEASE = ("role", "given_name", "family_name", "display_name", "email", "school_domain",
           "school_id", "groups", "eck_id")
"""Every vocabulary attribute the demo school sends."""


def matches_golden(name: str, found: dict[str, Any]) -> None:
    path = GOLDEN / f"{name}.json"
    text = json.dumps(found, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    if os.environ.get("LOPER_WRITE_GOLDEN") == "1":
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"{path} differs from what was sent"


def normalised(value: Any, pseudonym: str) -> Any:
    """`value` with the pseudonym written as "{pseudonym}"."""
    return json.loads(json.dumps(value).replace(pseudonym, "{pseudonym}"))


def use_profile(federation: Federation, supplier_id: str, profile: str) -> None:
    """The operator sets the supplier's profile; the school releases RELEASE to it."""
    registry = federation.registry
    supplier = registry.supplier(supplier_id)
    assert supplier is not None
    changed = dataclasses.replace(supplier, config=dataclasses.replace(supplier.config,
                                                                       profile=profile))
    registry.import_federation(
        Entries(suppliers=(changed,),
                policies=(Policy("regenboog", supplier_id, frozenset(RELEASE)),)),
        key_version=federation.broker.pseudonym_keys.current)


def assertion_attributes(browser: Browser, supplier_url: str) -> list[dict[str, Any]]:
    """The Attributes of the last (unencrypted) assertion posted to `supplier_url`."""
    posted = [p["SAMLResponse"] for p in browser.saml_posts
              if "SAMLResponse" in p and p["action"].startswith(supplier_url)]
    root = etree.fromstring(decode_saml(posted[-1]).encode(),
                            etree.XMLParser(resolve_entities=False, no_network=True))
    found = [{"Name": a.get("Name"), "NameFormat": a.get("NameFormat"),
              "FriendlyName": a.get("FriendlyName"),
              "values": a.xpath("saml:AttributeValue/text()", namespaces=SAML)}
             for a in root.xpath("//saml:AttributeStatement/saml:Attribute", namespaces=SAML)]
    return sorted(found, key=lambda a: str(a["Name"]))


@pytest.mark.parametrize("profile", PROFILES)
def test_the_saml_assertion_of_each_profile(federation: Federation, profile: str) -> None:
    rekenwonders, taalapp = federation.supplier("rekenwonders"), federation.supplier("taalapp")
    for supplier_id in ("rekenwonders", "taalapp"):
        use_profile(federation, supplier_id, profile)
    with Browser() as browser:
        log_in_via_picker(browser, rekenwonders, federation.teacher)
        at_pysaml2 = whoami(browser, rekenwonders)
        browser.get(f"{taalapp}/login")  # single sign-on
        at_onelogin = whoami(browser, taalapp)
        sent = assertion_attributes(browser, taalapp)
    assert at_pysaml2["status"] == at_onelogin["status"] == "ok"
    reken_id, taal_id = str(at_pysaml2["name_id"]), str(at_onelogin["name_id"])
    assert taal_id == federation.pseudonym_of("regenboog", federation.teacher, "taalapp")
    matches_golden(f"saml-{profile}", {
        "assertion to Taalapp": normalised(sent, taal_id),
        "read by pysaml2 (Rekenwonders)": normalised(at_pysaml2["attributes"], reken_id),
        "read by python3-saml (Taalapp)": normalised(at_onelogin["attributes"], taal_id)})


@pytest.mark.parametrize("profile", PROFILES)
def test_the_oidc_claims_of_each_profile(federation: Federation, catcher: str,
                                         profile: str) -> None:
    client = register_client(federation, f"golden-{profile}", [f"{catcher}/golden/cb"],
                             {"regenboog": RELEASE}, profile=profile)
    with strict_rp(federation.issuer, client) as rp, Browser() as browser:
        login = rp.begin(scope="openid profile email")
        browser.get(login.url)
        browser.click("OBS De Regenboog")
        browser.login(federation.teacher.id)
        tokens = rp.finish(login, browser.url)  # the ID token verified with joserfc
        userinfo = rp.userinfo(tokens.access_token).json()
    assert tokens.sub == federation.pseudonym_of("regenboog", federation.teacher,
                                                 f"golden-{profile}")
    matches_golden(f"oidc-{profile}", {
        "id_token": normalised(tokens.claims | {"sub": tokens.sub}, tokens.sub),
        "userinfo": normalised(userinfo, tokens.sub)})
