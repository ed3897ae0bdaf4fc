"""The release preview in the school's own shape: a school admin of an Entra ID school sees a
pupil and a teacher as Entra ID sends them (tid, app roles, group object ids), what Loper reads
from that through the school's mapping, and what the supplier would receive."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest

from broker.registry import Registry, load_federation
from broker.registry.admins import Admins
from tests.admin.conftest import PASSWORD, SAML_SUPPLIER, Portal, as_admin
from tests.registry.conftest import write_federation
from tests.registry.helpers import snapshot
from tests.registry.test_federation_hubs import HUB
from tests.registry.test_federation_oidc_schools import SCHOOLS, TENANT

RELEASES = """
[[releases]]
school = "esdoorn"
supplier = "rekenwonders"
attributes = ["role", "given_name"]

[[releases]]
school = "de-es"
supplier = "rekenwonders"
attributes = ["role", "school_id"]
"""
ESDOORN = f"/admin/schools/esdoorn/suppliers/{SAML_SUPPLIER}"


def text(response: object) -> str:
    return html.unescape(response.get_data(as_text=True))  # type: ignore[attr-defined]


def block(page: str, ident: str) -> dict[str, object]:
    found = re.search(rf'<pre id="{ident}">(.*?)</pre>', page, re.S)
    assert found, page[:3000]
    parsed: dict[str, object] = json.loads(found.group(1))
    return parsed


@pytest.fixture
def esdoorn(app: object, registry: Registry, accounts: Admins, tmp_path: Path) -> Portal:
    registry.import_federation(load_federation(write_federation(
        tmp_path, SCHOOLS + HUB + RELEASES)), key_version=1)
    accounts.add("ict@esdoorn.example", PASSWORD, "school", schools=["esdoorn", "de-es"])
    return as_admin(app, "ict@esdoorn.example")  # type: ignore[arg-type]


@pytest.mark.parametrize("sample, value, role", [("school-student", "Leerling", "student"),
                                                 ("school-employee", "Docent", "employee")])
def test_a_pupil_and_a_teacher_as_entra_id_sends_them(esdoorn: Portal, registry: Registry,
                                                      sample: str, value: str,
                                                      role: str) -> None:
    before = snapshot(registry)
    page = text(esdoorn.get(f"{ESDOORN}?sample={sample}"))
    assert "zoals De Esdoorn" in page and "Microsoft Entra ID" in page
    sent = block(page, "shape-sent")
    assert sent["tid"] == TENANT and sent["roles"] == [value] and sent["ver"] == "2.0"
    assert block(page, "shape-read")["role"] == [role]
    table = page.split('id="preview-table"', 1)[1].split("</table>", 1)[0]
    assert "urn:oid:1.3.6.1.4.1.5923.1.1.1.1" in table and f">{role}<" in table
    assert value not in table  # the school's own value never reaches the supplier
    assert snapshot(registry) == before


def test_the_preview_offers_the_schools_own_shape_first(esdoorn: Portal) -> None:
    page = text(esdoorn.get(ESDOORN))
    options = re.findall(r'<option value="([^"]+)"', page)
    assert options[:2] == ["school-student", "school-employee"]
    assert 'id="shape-sent"' not in page  # the standard test person: no school shape


def test_a_school_behind_a_hub_sees_the_hubs_answer_for_it(esdoorn: Portal) -> None:
    page = text(esdoorn.post(f"/admin/schools/de-es/suppliers/{SAML_SUPPLIER}",
                             {"sample": "school-student", "action": "preview"}))
    assert block(page, "shape-sent")["nlEduPersonHomeOrganizationId"] == ["22YY04"]
    assert block(page, "shape-read")["school_id"] == ["22YY04"]
    assert "22YY04" in page.split('id="preview-table"', 1)[1].split("</table>", 1)[0]
