"""Linking pupils in bulk on the school's pages: upload a CSV, all or nothing, CSRF-checked,
for the school's own admins only."""

from __future__ import annotations

import html
import logging
import re

import pytest

from broker.context import Broker
from broker.pseudonym import anchor
from tests.admin.conftest import ADMIN_A, SCHOOL_A, SCHOOL_B, Portal

ALIASES = f"/admin/schools/{SCHOOL_A}/aliases"
HEADER = b"subject,previous_school,previous_subject\n"


def upload(portal: Portal, data: bytes, *, url: str = ALIASES, csrf: bool = True) -> str:
    """POST the file as a multipart body of bytes (the test client then keeps no temp file)."""
    if not portal.token:
        portal.get(url)
    boundary = "loper-test-boundary"
    token = (f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n'
             f"{portal.token}\r\n") if csrf else ""
    body = (token + f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            'filename="links.csv"\r\nContent-Type: text/csv\r\n\r\n').encode() + data + (
        f"\r\n--{boundary}--\r\n").encode()
    response = portal.client.post(url, data=body,
                                  content_type=f"multipart/form-data; boundary={boundary}")
    return f"{response.status_code} {response.get_data(as_text=True)}"


def linked(broker: Broker, subject: str) -> bool:
    keys = broker.pseudonym_keys
    return broker.registry.resolve_anchor(anchor(keys, SCHOOL_A, subject)) != anchor(
        keys, SCHOOL_A, subject)


def test_the_page_explains_the_file(school_a: Portal) -> None:
    page = school_a.get(ALIASES).get_data(as_text=True)
    assert "subject,previous_school,previous_subject" in page
    assert 'enctype="multipart/form-data"' in page and 'name="csrf_token"' in page


def test_a_good_file_links_every_pupil_and_is_recorded(
        school_a: Portal, broker: Broker, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "loper.audit")
    school_a.get(ALIASES, query_string={"lang": "en"})
    answer = upload(school_a, HEADER + b"new-1,lyceum,old-1\nnew-2,lyceum,old-2\n")
    assert answer.startswith("302 ")
    assert "2 pupils linked" in school_a.get(ALIASES).get_data(as_text=True)
    assert linked(broker, "new-1") and linked(broker, "new-2")
    actors = {r.actor for r in caplog.records if r.name == "loper.audit"}  # type: ignore[attr-defined]
    assert actors == {ADMIN_A}


@pytest.mark.parametrize(("lang", "data", "says"), [
    ("en", HEADER + b"new-1,lyceum,old-1\nnew-3,atlantis,old-3\n",
     'line 3: unknown school "atlantis" in previous_school'),
    ("nl", HEADER + b"new-1,lyceum,old-1\nnew-3,atlantis,old-3\n",
     'regel 3: onbekende school "atlantis" in previous_school'),
    ("en", HEADER + b"new-1,lyceum,old-1\nnew-1,lyceum,old-9\n",
     "line 3: the same subject as line 2"),
    ("nl", HEADER + b"new-1,lyceum,old-1\nnew-1,lyceum,old-9\n",
     "regel 3: dezelfde leerling (subject) als regel 2"),
    ("nl", b"\xff\xfeoops", "het bestand is geen UTF-8-tekst (byte 1); sla het op als CSV UTF-8"),
    ("en", b"", "The file you chose is empty"),
    ("nl", b"", "Het gekozen bestand is leeg"),
])
def test_a_bad_file_links_nothing_and_names_the_line(school_a: Portal, broker: Broker,
                                                     lang: str, data: bytes, says: str) -> None:
    """Each problem in the page's language; the file's own values set apart as code."""
    school_a.get(ALIASES, query_string={"lang": lang})
    answer = upload(school_a, data)
    shown = html.unescape(re.sub(r"<[^>]+>", "", answer))
    assert answer.startswith("400 ") and says in shown, shown[:3000]
    assert ("Nothing was linked" if lang == "en" else "Niets gekoppeld") in shown
    if "atlantis" in says:
        assert "<code>atlantis</code>" in answer
    assert not linked(broker, "new-1")


def test_a_file_over_the_size_cap_is_refused(school_a: Portal, broker: Broker) -> None:
    rows = b"".join(b"n%d,lyceum,o%d\n" % (i, i) for i in range(100_000))
    answer = upload(school_a, HEADER + rows)
    assert answer.startswith("413 ")
    assert not linked(broker, "n0")


def test_without_the_csrf_token_or_as_another_school_nothing_is_linked(
        school_a: Portal, school_b: Portal, broker: Broker) -> None:
    data = HEADER + b"new-1,lyceum,old-1\n"
    assert upload(school_a, data, csrf=False).startswith("400 ")
    assert upload(school_b, data).startswith("404 ")
    assert upload(school_b, data, url=f"/admin/schools/{SCHOOL_B}/aliases").startswith("302 ")
    assert not linked(broker, "new-1")


def test_a_post_without_a_file_asks_for_one(school_a: Portal, broker: Broker) -> None:
    school_a.get(ALIASES, query_string={"lang": "en"})
    answer = school_a.post(ALIASES, {})
    assert answer.status_code == 400 and "Choose a CSV file" in answer.get_data(as_text=True)
