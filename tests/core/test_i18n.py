"""The gettext catalogues (broker/translations/) and the one language negotiator.

The catalogue checks are what CI runs on every change: both languages have every message,
nothing is fuzzy or empty, placeholders agree, and every key the templates and the code use
exists (and every key in the catalogues is used).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from app import create_app
from broker import attributes
from broker.admin.audit_changes import NAMED
from broker.errors import BrokerError
from broker.languages import LANGUAGES
from broker.outbound.errors import CAUSES
from broker.registry.audit import ACTIONS
from broker.registry.eck_ids import Outcome
from broker.web import errors as web_errors
from broker.web.i18n import CATALOGUES, MissingMessage, compile_catalogue, read_catalogue
from tests.registry.conftest import fresh_instance

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"%\((\w+)\)s")
LITERAL = re.compile(r"""\b(?:_|text|plural|msg)\(\s*["']([a-z_]+\.[a-z_0-9.]+)["'](?!\s*[~+])""")
FAMILY = re.compile(r"""\b(?:_|text|plural|msg)\(\s*["']([a-z_]+\.[a-z_0-9]*)["']\s*(?:~|\+)""")
FAMILIES = {
    "admin.change_": ("same", "added", "removed"),
    "admin.action_": ACTIONS,
    "admin.agreement_": ("ending", "ended"),
    "admin.status_": ("new", "inactive", "suspended", "ended", "ending", "active"),
    "admin.choice_": ("none", "all", "student", "employee", "student+employee"),
    "admin.health_": ("store", "registry"),
    "admin.outcome_": ("fetched", "unchanged", "refused"),
    "admin.role_": ("operator", "school", "supplier"),
    "admin.profile_": ("oid", "entree"),
    "admin.choose_": ("oid", "entree"),
    "admin.mapping_": ("require", "claims", "roles", "require_hint", "claims_hint", "roles_hint",
                       "require_example", "claims_example", "roles_example"),
    "audit.field_": tuple(NAMED),
    "audit.outcome_": tuple(o.name.lower() for o in Outcome),
    "admin.written_in_": LANGUAGES,
    "admin.mail_requests_": ("added", "dropped", "reworded"),
    "admin.mail_pair_": ("activated", "resumed", "suspended", "deactivated", "ended", "release"),
    "pupil.apps_": ("done", "frame", "none", "failed"),
    "outbound.cause_": CAUSES,
    "pupil.school_": ("done", "none", "failed"),
    "admin.stopped_": ("supplier_suspended", "supplier_not_activated", "agreement_ended"),
    "problem.toml_": ("boolean", "integer", "float", "string", "array", "table", "date_time",
                      "date", "time", "value"),
    "problem.address_": ("unspecified", "loopback", "link_local", "private", "multicast",
                         "reserved", "non_public"),
    "problem.unknown_": ("school", "supplier"),
    "admin.": ("activated_now", "deactivated_now", "agreement_too_long", "plain_text",
               "bad_valid_until", "valid_until_past", "saved", "suspended_now", "resumed_now",
               "agreement_saved_suspended"),
}


def _messages(lang: str) -> dict[str, object]:
    return {m.id if isinstance(m.id, str) else m.id[0]: m
            for m in read_catalogue(lang) if m.id}


def _error_codes() -> set[str]:
    import broker.admin.base  # noqa: F401  (its errors)
    import broker.admin.invitations  # noqa: F401  (the errors of admin accounts)

    codes: set[str] = set()
    todo: list[type[BrokerError]] = [BrokerError]
    while todo:
        cls = todo.pop()
        codes.add(cls.code)
        todo += cls.__subclasses__()
    sources = [p.read_text(encoding="utf-8") for p in (ROOT / "broker").rglob("*.py")]
    codes |= {c for s in sources for c in re.findall(r'\bcode="([a-z_]+)"', s)}
    codes |= {f"http_{status}" for status in web_errors.WERKZEUG_PAGES}
    return codes | {"http_error", "registration_problem", "internal_error"}


def _used() -> set[str]:
    used: set[str] = set()
    files = [*(ROOT / "templates").rglob("*.html"), *(ROOT / "broker").rglob("*.py")]
    for path in files:
        source = path.read_text(encoding="utf-8")
        used |= set(LITERAL.findall(source))
        for family in FAMILY.findall(source):
            if family == "error.":
                continue
            assert family in FAMILIES, f"{path.name}: add the values of {family!r} to FAMILIES"
            used |= {family + value for value in FAMILIES[family]}
    used |= {f"attribute.{a.name}" for a in attributes.VOCABULARY}  # i18n.attribute_word
    for code in _error_codes():
        used |= {f"error.{code}.title", f"error.{code}.lead"}
    return used


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_catalogue_is_complete_and_nothing_is_fuzzy(lang: str) -> None:
    catalogue = read_catalogue(lang)
    assert str(catalogue.locale) == lang
    for message in catalogue:
        if not message.id:
            continue
        assert not message.fuzzy, f"{lang}: {message.id} is fuzzy"
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(s.strip() for s in strings), f"{lang}: {message.id} has no text"
        for s in strings:  # every message formats, and a literal % is written %%
            s % {name: "x" for name in PLACEHOLDER.findall(s)}


def test_both_languages_have_the_same_keys_and_placeholders() -> None:
    nl, en = _messages("nl"), _messages("en")
    assert set(nl) == set(en)
    for key in nl:
        words = [set(PLACEHOLDER.findall(str(m.string))) for m in (nl[key], en[key])]
        assert words[0] == words[1], f"{key}: placeholders differ {words}"


def test_every_key_used_is_in_the_catalogues_and_every_key_is_used() -> None:
    used, known = _used(), set(_messages("nl"))
    assert not used - known, f"missing in the catalogues: {sorted(used - known)}"
    assert not known - used, f"never used (remove them): {sorted(known - used)}"


def test_a_fuzzy_or_missing_message_is_never_shown_as_another_language(
        tmp_path: Path) -> None:
    shutil.copytree(CATALOGUES, tmp_path, dirs_exist_ok=True)
    po = tmp_path / "nl" / "LC_MESSAGES" / "messages.po"
    text = po.read_text(encoding="utf-8")
    po.write_text(text.replace('msgid "pupil.search_button"',
                               '#, fuzzy\nmsgid "pupil.search_button"'), encoding="utf-8")
    translations = compile_catalogue("nl", tmp_path)
    assert translations.gettext("pupil.choose_school") == "Kies je school"
    with pytest.warns(MissingMessage):
        assert translations.gettext("pupil.search_button") == "pupil.search_button"


# -- the negotiator -------------------------------------------------------------------------

def _lang(client: FlaskClient, path: str, **headers: str) -> str:
    page = client.get(path, headers=headers).get_data(as_text=True)
    found = re.search(r'<html lang="(\w+)">', page)
    assert found, page[:300]
    return found.group(1)


@pytest.fixture
def client(tmp_path: Path) -> FlaskClient:
    folder = fresh_instance(tmp_path / "instance")
    return create_app({"instance": folder}).test_client()


def test_dutch_first_then_the_browser(client: FlaskClient) -> None:
    assert _lang(client, "/me") == "nl"
    assert _lang(client, "/me", **{"Accept-Language": "en-GB,en;q=0.9"}) == "en"
    assert _lang(client, "/me", **{"Accept-Language": "fr-FR"}) == "nl"


def test_a_choice_is_remembered_on_every_page(client: FlaskClient) -> None:
    assert _lang(client, "/me?lang=en", **{"Accept-Language": "nl"}) == "en"
    for path in ("/me", "/logout", "/discovery", "/discovery?login=gone", "/admin/login",
                 "/admin/nowhere", "/nowhere"):
        assert _lang(client, path, **{"Accept-Language": "nl"}) == "en", path
    assert _lang(client, "/admin/login?lang=nl", **{"Accept-Language": "en"}) == "nl"
    assert _lang(client, "/logout", **{"Accept-Language": "en"}) == "nl"


def test_a_bogus_language_is_ignored(client: FlaskClient) -> None:
    assert _lang(client, "/me?lang=xx") == "nl"
    assert _lang(client, "/me?lang=%3Cscript%3E", **{"Accept-Language": "en"}) == "en"
    assert "loper_lang" not in str(client.get("/me?lang=xx").headers.get("Set-Cookie"))
