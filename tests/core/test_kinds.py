"""The table of protocol kinds: a new upstream protocol is one module plus one line in it.

"Toy" is such a protocol, registered here only: its school logs a pupil in by sending the
browser back with a user name. Everything else (federation file, registry rows, registration
form, the login through the real OIDC provider) is the broker's own code, untouched.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from flask import Blueprint, Flask, Response, request

from app import create_app
from broker import kinds
from broker.admin import mapping_form
from broker.admin.register import register_school
from broker.admin.school_samples import shaped
from broker.attributes import by_name
from broker.context import Broker
from broker.identity import Attributes, AuthnContext, Identity, PendingLogin
from broker.kinds import FormFields, FormSources, SchoolKind, UnknownProtocol, form_values
from broker.mapping import map_attributes
from broker.outgoing import Outgoing
from broker.records import School, SchoolConfig
from broker.registry import FederationError, Registry, dump_federation, load_federation
from broker.registry.checks import Entry, url_problem
from broker.registry.config_fields import ConfigFields
from broker.upstream import Callback, Upstream
from broker.upstream.shapes import Sample
from broker.web import cookies
from broker.web.current import broker, flow
from broker.web.login import finish_login
from tests.downstream.oidc.conftest import basic, pkce_pair
from tests.registry.conftest import fresh_instance

# -- the toy protocol: what its own package would hold -------------------------------------------


@dataclass(frozen=True)
class ToySchool(SchoolConfig):
    protocol: ClassVar[str] = "toy"
    login_url: str
    greeting: str = "hello"

    @property
    def identity(self) -> str:
        return self.login_url


class ToyUpstream:
    def login_redirect(self, school: School, pending: PendingLogin,
                       relay_state: str) -> tuple[Outgoing, bytes]:
        assert isinstance(school.config, ToySchool)
        query = urlencode({"state": relay_state})
        return Outgoing(f"{school.config.login_url}?{query}"), secrets.token_hex(8).encode()

    def handle_callback(self, school: School, params: Mapping[str, str],
                        state: bytes) -> Callback:
        identity = Identity(school.id, params["user"], _read(school, {"name": params["name"]}),
                            AuthnContext(datetime.now(UTC)))
        return Callback(identity, f"toy:{state.decode()}", 60)


def _read(school: School, answer: Mapping[str, object]) -> Attributes:
    """A toy school sends one name; the school's mapping applies as for any kind."""
    return map_attributes(school, answer, by_name({"given_name": answer.get("name")}))


def _sample(school: School, sample: Sample) -> tuple[str, dict[str, object]]:
    return "Toy", {"user": sample.subject, "name": sample.given_name}


toy_bp = Blueprint("toy", __name__)


@toy_bp.get("/toy/callback")
def toy_callback() -> Response:
    browser, _ = cookies.browser_id(request, broker().settings)
    outgoing, session = flow().finish(request.args["state"], dict(request.args), browser)
    return finish_login(outgoing, session)


def _parse(entry: Entry, _base_dir: Path) -> ToySchool | None:
    login_url = entry.text("login_url", "the toy school's https URL", required=True)
    if login_url and url_problem(login_url):
        entry.problem("login_url", str(url_problem(login_url)))
    return ToySchool(login_url or "", entry.text("greeting") or "hello")


def _form(form: Mapping[str, str], _sources: FormSources) -> FormFields:
    return FormFields(form_values(form, "login_url", "greeting"))


def _build(_broker: Broker) -> Upstream:
    return ToyUpstream()


TOY: SchoolKind[ToySchool] = SchoolKind(
    title="Toy", fields=ConfigFields(ToySchool), keys=frozenset({"login_url", "greeting"}),
    parse=_parse, form=_form, build=_build, blueprints=lambda: (toy_bp,), read=_read,
    sample=_sample)

# -- the tests -----------------------------------------------------------------------------------

REDIRECT = "https://leesapp.example/callback"
SECRET = "leesapp-secret-0123456789"
FEDERATION = f"""\
[[schools]]
id = "speelschool"
name = "De Speelschool"
protocol = "toy"
login_url = "https://toy.example/login"
greeting = "hoi"

[[suppliers]]
id = "leesapp"
name = "Leesapp"
protocol = "oidc"
client_secret = "{SECRET}"
redirect_uris = ["{REDIRECT}"]
client_id = "leesapp"

[[releases]]
school = "speelschool"
supplier = "leesapp"
attributes = ["given_name"]
"""


@pytest.fixture
def toy() -> Iterator[None]:
    """The toy kind in the table: the one line a new protocol adds."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(kinds.upstreams(), "toy", TOY)
        yield


@pytest.fixture
def federation_file(tmp_path: Path) -> Path:
    path = tmp_path / "federation.toml"
    path.write_text(FEDERATION, encoding="utf-8")
    return path


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[Registry]:
    reg = Registry(f"sqlite:///{tmp_path / 'registry.sqlite'}")
    reg.upgrade()
    yield reg
    reg.close()


def test_a_toy_school_is_read_written_and_stored(toy: None, federation_file: Path,
                                                 registry: Registry) -> None:
    federation = load_federation(federation_file)
    school = federation.schools[0]
    assert school.config == ToySchool("https://toy.example/login", "hoi")
    text = dump_federation(federation)
    again = federation_file.with_name("again.toml")
    again.write_text(text, encoding="utf-8")
    assert dump_federation(load_federation(again)) == text
    registry.import_federation(federation, key_version=1)
    assert registry.school("speelschool") == school
    assert dump_federation(registry.export_federation()).startswith(text.split("[[suppliers]]")[0])


def test_a_toy_field_is_checked_by_the_toy_kind(toy: None, tmp_path: Path) -> None:
    path = tmp_path / "wrong.toml"
    path.write_text(FEDERATION.replace("https://toy.example/login", "ftp://toy.example"))
    with pytest.raises(FederationError) as caught:
        load_federation(path)
    assert f'{path}: schools[0] (id "speelschool"), field "login_url"' in str(caught.value)


def test_an_unknown_protocol_names_the_file_entry_and_field(tmp_path: Path) -> None:
    path = tmp_path / "unknown.toml"
    path.write_text(FEDERATION)
    with pytest.raises(FederationError) as caught:
        load_federation(path)
    assert (f'{path}: schools[0] (id "speelschool"), field "protocol": unknown protocol "toy"; '
            'expected one of saml, oidc') in caught.value.problems


def test_a_stored_row_of_an_unknown_protocol_is_a_clear_error(
        federation_file: Path, registry: Registry, tmp_path: Path) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(kinds.upstreams(), "toy", TOY)
        registry.import_federation(load_federation(federation_file), key_version=1)
    fresh = Registry(f"sqlite:///{tmp_path / 'registry.sqlite'}")
    try:
        with pytest.raises(UnknownProtocol, match='school "speelschool" in the registry has '
                                                  'protocol "toy", which this broker does not '
                                                  'know; expected one of "saml", "oidc"'):
            fresh.school("speelschool")
    finally:
        fresh.close()


def test_the_operator_registers_a_toy_school_with_its_form(toy: None,
                                                          registry: Registry) -> None:
    form = {"id": "zandbak", "name": "De Zandbak", "protocol": "toy",
            "login_url": "https://zandbak.example/login"}
    outcome = register_school(registry, form, None, 1)
    assert outcome.problems == ()
    school = registry.school("zandbak")
    assert school is not None and school.config == ToySchool("https://zandbak.example/login")


@pytest.fixture
def app(toy: None, tmp_path: Path, federation_file: Path) -> Flask:
    folder = fresh_instance(tmp_path / "instance")
    the_app = create_app({"instance": folder})
    the_app.extensions["loper"].registry.import_federation(load_federation(federation_file),
                                                           key_version=1)
    return the_app


def _query(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query))


def test_a_pupil_logs_in_at_a_toy_school_and_reaches_an_oidc_app(app: Flask) -> None:
    client = app.test_client()
    verifier, challenge = pkce_pair()
    start = client.get("/oidc/authorize", query_string={
        "client_id": "leesapp", "redirect_uri": REDIRECT, "response_type": "code",
        "scope": "openid profile", "state": "st-1", "nonce": "n-1", "school": "speelschool",
        "code_challenge": challenge, "code_challenge_method": "S256"})
    assert start.status_code in (302, 303), start.get_data(as_text=True)
    at_school = start.headers["Location"]
    assert at_school.startswith("https://toy.example/login?")
    back = client.get("/toy/callback", query_string={
        "state": _query(at_school)["state"], "user": "pupil-7", "name": "Pim"})
    assert back.status_code in (302, 303), back.get_data(as_text=True)
    answer = _query(back.headers["Location"])
    assert back.headers["Location"].startswith(REDIRECT) and answer["state"] == "st-1"
    token = client.post("/oidc/token", headers=basic("leesapp", SECRET), data={
        "grant_type": "authorization_code", "code": answer["code"], "redirect_uri": REDIRECT,
        "code_verifier": verifier})
    assert token.status_code == 200, token.get_json()
    info = client.get("/oidc/userinfo", headers={
        "Authorization": f"Bearer {token.get_json()['access_token']}"})
    assert info.get_json()["given_name"] == "Pim"
    assert "pupil-7" not in info.get_data(as_text=True)  # a pseudonym, never the school's id


def test_the_built_in_kinds() -> None:
    assert list(kinds.upstreams()) == ["saml", "oidc"]
    assert list(kinds.downstreams()) == ["saml", "oidc"]
    with pytest.raises(UnknownProtocol, match='a supplier has protocol "toy"'):
        kinds.downstream("toy")


def test_a_toy_school_is_previewed_in_its_shape_and_mapped_on_the_operators_page(
        toy: None) -> None:
    school = School("speel", "De Speeltuin", ToySchool("https://toy.example/login"),
                    roles={"Kind": "student"})
    pupil, teacher = shaped(school, {}.get)
    assert pupil.shape == "Toy" and pupil.sent == {"user": "preview-pupil", "name": "Sanne"}
    assert pupil.attributes == {"given_name": ("Sanne",)} and teacher.problem is None
    assert mapping_form.editable(school) == ("claims", "roles")  # the toy has no own table
    edited, problems = mapping_form.read(school, {"claims": "given_name = nick"})
    assert problems == () and edited is not None and edited.claims == {"given_name": "nick"}
