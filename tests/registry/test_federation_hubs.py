"""Hubs in the federation file: a school with hub = true, schools behind it with `via` and
[schools.match]; read, exported and imported byte for byte, and every wrong shape refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from broker.records import Behind
from broker.registry import FederationError, Registry, load_federation
from tests.registry.conftest import write_federation
from tests.registry.helpers import round_trip

HUB = """\
[[schools]]
id = "entree"
name = "Entree"
protocol = "oidc"
issuer = "https://hub.example"
client_id = "loper"
client_secret_env = "ENTREE_SECRET"
hub = true
hint = true                     # name the picked school in the login request
domains = ["delinde.nl", "de-es.nl"]

[schools.claims]
school_id = "nlEduPersonHomeOrganizationId"

[[schools]]
id = "de-linde"
name = "CBS De Linde"
place = "Zwolle"
via = "entree"

[schools.match]
school_id = "11ZZ03"

[[schools]]
id = "de-es"
name = "OBS De Es"
via = "entree"
sso_lifetime = 300

[schools.match]
school_id = "22YY04"
"""
ENTREE, LINDE, ES = ('schools[0] (id "entree")', 'schools[1] (id "de-linde")',
                     'schools[2] (id "de-es")')


def test_a_hub_and_the_schools_behind_it_are_read(tmp_path: Path) -> None:
    hub, linde, es = load_federation(write_federation(tmp_path, HUB)).schools
    assert hub.hub and hub.behind is None and hub.hint
    assert hub.domains == ("delinde.nl", "de-es.nl")
    assert linde.config == Behind(hub="entree", match={"school_id": "11ZZ03"})
    assert linde.place == "Zwolle" and not linde.hub
    assert es.behind is not None and es.behind.match == {"school_id": "22YY04"}


def test_hubs_survive_export_import_export(registry: Registry, tmp_path: Path) -> None:
    text = HUB.replace("hub = true\n", 'hub = true\nhint_parameter = "idp_hint"\n').replace(
        "sso_lifetime = 300\n", 'sso_lifetime = 300\nhint_value = "https://idp.de-es.nl"\n')
    exported = round_trip(registry, tmp_path, text)
    assert 'via = "entree"' in exported and "hub = true" in exported and "hint = true" in exported
    assert 'hint_value = "https://idp.de-es.nl"' in exported
    assert 'hint_parameter = "idp_hint"' in exported


BAD: dict[str, tuple[str, str, str, str]] = {  # (old, new, entry, says) in HUB
    "a hub with match": ("hub = true\n", 'hub = true\n[schools.match]\nschool_id = "1"\n',
                         ENTREE, '"match": unknown field'),
    "two schools with one match": (
        '"22YY04"', '"11ZZ03"', ES,
        'match behind its hub "entree: school_id = 11ZZ03" is already used by schools[1]'),
    "match outside the vocabulary": ('school_id = "22YY04"', 'brin = "22YY04"', ES,
                                     'unknown attribute brin'),
    "a school behind a hub without match": ('\n[schools.match]\nschool_id = "22YY04"\n', "",
                                            ES, "is missing or empty"),
    "a hint on a school that is no hub": ("hub = true\n", "hub = false\n", ENTREE,
                                          "is set on a school that is no hub"),
    "a domain that is none": ('"de-es.nl"', '"De Es.nl"', ENTREE, "is not a domain name"),
    "no domains at all": ('domains = ["delinde.nl", "de-es.nl"]', "domains = []", ENTREE,
                          "has 0 entries"),
    "a hint parameter Loper sends itself": ("hint = true", 'hint = true\nhint_parameter = "nonce"',
                                            ENTREE, '"nonce" cannot carry the hint'),
    "a hint parameter of another shape": ("hint = true", 'hint = true\nhint_parameter = "a b"',
                                          ENTREE, "cannot carry the hint"),
    "an absurd hint value": ("sso_lifetime = 300\n",
                             f'sso_lifetime = 300\nhint_value = "{"x" * 600}"\n', ES,
                             "has 600 characters; expected at most 512"),
    "domains behind a hub": ("sso_lifetime = 300\n", 'sso_lifetime = 300\ndomains = ["a.nl"]\n',
                             ES, '"domains": unknown field'),
    "protocol fields behind a hub": ("sso_lifetime = 300\n",
                                     'sso_lifetime = 300\nissuer = "https://x.example"\n', ES,
                                     '"issuer": unknown field'),
}


@pytest.mark.parametrize("old, new, entry, says", BAD.values(), ids=BAD.keys())
def test_bad_hubs_are_refused(tmp_path: Path, old: str, new: str, entry: str,
                              says: str) -> None:
    assert old in HUB
    with pytest.raises(FederationError) as raised:
        load_federation(write_federation(tmp_path, HUB.replace(old, new)))
    assert any(entry in p and says in p for p in raised.value.problems), raised.value.problems


@pytest.mark.parametrize("via", ["nobody", "de-es"], ids=["no school", "no hub"])
def test_via_naming_no_hub_is_refused_on_import(registry: Registry, tmp_path: Path,
                                                via: str) -> None:
    text = HUB.replace('via = "entree"', f'via = "{via}"', 1)
    with pytest.raises(FederationError) as raised:
        registry.import_federation(load_federation(write_federation(tmp_path, text)),
                                   key_version=1)
    assert any(LINDE in p and f'"{via}" is no hub' in p for p in raised.value.problems), (
        raised.value.problems)
    assert registry.school("de-linde") is None
