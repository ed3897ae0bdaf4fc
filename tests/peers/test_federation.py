from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
import requests

from demo.federation import write_federation
from tests.peers.conftest import Peers


def _metadata(base_url: str) -> str:
    return requests.get(f"{base_url}/metadata", timeout=5).text


def test_writes_the_demo_federation(peers: Peers, tmp_path: Path) -> None:
    school = _metadata(peers.school)
    suppliers = {"rekenwonders": _metadata(peers.rekenwonders),
                 "taalapp": _metadata(peers.taalapp)}

    path = write_federation(tmp_path / "federation", school, suppliers)

    assert path == tmp_path / "federation" / "federation.toml"
    fed = tomllib.loads(path.read_text())
    assert fed["schools"] == [{
        "id": "regenboog", "name": "OBS De Regenboog", "protocol": "saml",
        "metadata": "regenboog-idp.xml", "subject": "nameid", "place": "Utrecht",
        "privacy_contact": "mailto:privacy@regenboog.example", "guardian_role": "ouder",
        "domains": ["regenboog.example"],
    }]
    assert (path.parent / "regenboog-idp.xml").read_text() == school
    by_id = {s["id"]: s for s in fed["suppliers"]}
    assert set(by_id) == {"rekenwonders", "taalapp"}
    for supplier_id, spec in by_id.items():
        assert spec["protocol"] == "saml"
        assert (path.parent / spec["metadata"]).read_text() == suppliers[supplier_id]
        assert all(r["why_nl"] and r["why_en"] for r in spec["requests"])  # both languages
    assert [r["attribute"] for r in by_id["rekenwonders"]["requests"]] == ["given_name"]
    assert [r["attribute"] for r in by_id["taalapp"]["requests"]] == ["given_name", "role",
                                                                      "groups"]
    assert fed["releases"] == [
        {"school": "regenboog", "supplier": "rekenwonders", "attributes": ["role", "given_name"]},
        {"school": "regenboog", "supplier": "taalapp",
         "attributes": ["given_name", "role", "groups"]},
    ]


def test_refuses_an_unknown_supplier(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="nosuch"):
        write_federation(tmp_path, "<md/>", {"nosuch": "<md/>"})
