"""Messages (broker/messages.py): one problem or audit reason, shown in the page's language in
the portal and in English on the command line, with the file's own values set apart."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask_babel import force_locale

from app import create_app
from broker.messages import from_json, msg
from broker.registry import FederationError, load_federation
from broker.web.i18n import say
from tests.registry.conftest import fresh_instance

BAD = msg("problem.wrong_type", got=msg("problem.toml_integer"),
          expected=msg("problem.expect_one_of", known=("oid", "entree")))


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    folder = fresh_instance(tmp_path / "instance")
    return create_app({"instance": folder})


def test_english_on_the_command_line() -> None:
    assert str(BAD) == "got an integer; expected one of oid, entree"


def test_in_the_page_language_with_the_files_values_as_code(app: Flask) -> None:
    with app.test_request_context("/admin/"):
        with force_locale("nl"):
            assert str(say(BAD)) == ("gevonden: een geheel getal; verwacht een van "
                                     "<code>oid</code>, <code>entree</code>")
            assert say(BAD, code=False) == ("gevonden: een geheel getal; verwacht een van oid, "
                                            "entree")
        with force_locale("en"):
            assert str(say(BAD)) == ("got an integer; expected one of <code>oid</code>, "
                                     "<code>entree</code>")


def test_a_hostile_value_is_shown_escaped(app: Flask) -> None:
    hostile = msg("problem.bad_id", id='<script>alert("x")</script>')
    with app.test_request_context("/admin/"), force_locale("nl"):
        shown = str(say(hostile))
    assert "<script>" not in shown
    assert "<code>&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;</code>" in shown


def test_a_stored_message_reads_back_the_same() -> None:
    stored = msg("audit.invitation_accepted", by="ict@regenboog.example")
    assert from_json(stored.as_json()) == stored
    assert from_json(BAD.as_json()) == BAD
    for not_a_message in (None, "account created", {"params": {}}, {"key": 3}):
        assert from_json(not_a_message) is None


def test_a_federation_file_problem_carries_its_file_entry_field_and_message(
        tmp_path: Path) -> None:
    path = tmp_path / "federation.toml"
    path.write_text('[[suppliers]]\nid = "rekenwonders"\nname = "Rekenwonders"\nprotocol = "saml"'
                    '\nprofile = 1\nmetadata_xml = "<x/>"\n')
    with pytest.raises(FederationError) as raised:
        load_federation(path)
    found = {p.field: p for p in raised.value.found}
    profile = found["profile"]
    assert (profile.source, profile.where) == (str(path), 'suppliers[0] (id "rekenwonders")')
    assert profile.message == BAD
    assert str(profile) in raised.value.problems
    assert str(profile).endswith(': suppliers[0] (id "rekenwonders"), field "profile": got an '
                                 "integer; expected one of oid, entree")
