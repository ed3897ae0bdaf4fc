"""The admin portal on a temporary instance: two schools, two suppliers, four admins.

School A (regenboog, SAML) and school B (lyceum, OIDC) each have their own admin; the supplier
admin manages rekenwonders (SAML); the operator manages everything. `Portal` is a small helper
around Flask's test client that logs in and posts forms with their CSRF token, as a browser
would.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from app import create_app
from broker.admin import form_version
from broker.context import Broker
from broker.registry import Registry
from broker.registry import admins as admin_accounts
from broker.registry.admins import Admins
from tests.registry.conftest import initialised_instance

PASSWORD = "correct horse battery staple"
SCHOOL_A, SCHOOL_B = "regenboog", "lyceum"
ADMIN_A, ADMIN_B = "ict@regenboog.example", "ict@lyceum.example"
OPERATOR, SUPPLIER_ADMIN = "operator@loper.example", "dev@rekenwonders.example"
SAML_SUPPLIER, OIDC_SUPPLIER = "rekenwonders", "taalapp"

FEDERATION = """\
[[schools]]
id = "regenboog"
name = "OBS De Regenboog"
protocol = "saml"
place = "Utrecht"
metadata = "regenboog-idp.xml"

[[schools]]
id = "lyceum"
name = "Het Lyceum"
protocol = "oidc"
issuer = "https://login.lyceum.example"
client_id = "loper"
client_secret = "s3cret"

[[suppliers]]
id = "rekenwonders"
name = "Rekenwonders"
protocol = "saml"
url = "https://rekenwonders.example"
metadata = "rekenwonders-sp.xml"
requests = [
  { attribute = "given_name", why = "greets the pupil by name" },
  { attribute = "role", why = "shows pupils and teachers different screens" },
  { attribute = "groups", why = "groups pupils by class for their teacher" },
  { attribute = "email", why = "sends the teacher a weekly report" },
]

[[suppliers]]
id = "taalapp"
name = "Taalapp"
protocol = "oidc"
client_id = "taalapp"
client_secret = "taal-secret"
redirect_uris = ["https://taalapp.example/callback"]
requests = [ { attribute = "given_name", why = "greets the pupil" } ]

[[releases]]
school = "regenboog"
supplier = "rekenwonders"
attributes = ["role"]

[[releases]]
school = "lyceum"
supplier = "rekenwonders"
attributes = ["given_name", "groups"]
"""

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_BUILT_FROM = re.compile(rf'name="{form_version.FIELD}" value="([^"]*)"')


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("BROKER_"):
            monkeypatch.delenv(name)


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2id still, with small costs: the suite hashes and verifies hundreds of times."""
    monkeypatch.setattr(admin_accounts, "hasher",
                        PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture(scope="session")
def template_instance(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An initialised instance with the federation imported, copied for each test."""
    return initialised_instance(tmp_path_factory.mktemp("admin-template"), FEDERATION)


def make_app(template: Path, folder: Path, **settings: object) -> Flask:
    instance = folder / "instance"
    shutil.copytree(template, instance)
    app = create_app({"instance": instance, **settings})
    app.config["TESTING"] = True
    accounts: Admins = app.extensions["loper_admins"]
    accounts.add(ADMIN_A, PASSWORD, "school", schools=[SCHOOL_A])
    accounts.add(ADMIN_B, PASSWORD, "school", schools=[SCHOOL_B])
    accounts.add(OPERATOR, PASSWORD, "operator")
    accounts.add(SUPPLIER_ADMIN, PASSWORD, "supplier", supplier_id=SAML_SUPPLIER)
    return app


@pytest.fixture
def app(template_instance: Path, tmp_path: Path) -> Iterator[Flask]:
    application = make_app(template_instance, tmp_path)
    yield application
    application.extensions["loper"].registry.close()
    application.extensions["loper"].store.close()


@pytest.fixture
def broker(app: Flask) -> Broker:
    found: Broker = app.extensions["loper"]
    return found


@pytest.fixture
def registry(broker: Broker) -> Registry:
    return broker.registry


@pytest.fixture
def accounts(app: Flask) -> Admins:
    found: Admins = app.extensions["loper_admins"]
    return found


class Portal:
    """One browser on the admin portal: cookies, and the CSRF token of the last page."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.token = ""

    def get(self, url: str, **kwargs: object) -> TestResponse:
        response = self.client.get(url, **kwargs)  # type: ignore[arg-type]
        found = _CSRF.search(response.get_data(as_text=True))
        if found:
            self.token = found.group(1)
        return response

    def post(self, url: str, data: dict[str, object] | None = None, *, csrf: bool = True,
             **kwargs: object) -> TestResponse:
        if not self.token:
            self.get("/admin/login")
        form = {"csrf_token": self.token, **(data or {})} if csrf else dict(data or {})
        response = self.client.post(url, data=form, **kwargs)  # type: ignore[arg-type]
        found = _CSRF.search(response.get_data(as_text=True))
        if found:
            self.token = found.group(1)
        return response

    def save_from_page(self, url: str, form: dict[str, object], **kwargs: object) -> TestResponse:
        """Open the page at `url` and post `form` to it with the fingerprint of what its form
        was built from (form_version.FIELD), as a browser would (a page that has no form, e.g.
        a 404, gives none)."""
        found = _BUILT_FROM.search(self.get(url).get_data(as_text=True))
        hidden = {form_version.FIELD: found.group(1)} if found else {}
        return self.post(url, {**hidden, **form}, **kwargs)

    def save_release(self, url: str, choices: dict[str, object]) -> TestResponse:
        """Save `choices` on the release page at `url`, as its Save button does."""
        return self.save_from_page(url, {"action": "save", **choices})

    def login(self, email: str, password: str = PASSWORD, **kwargs: object) -> TestResponse:
        self.get("/admin/login")
        response = self.post("/admin/login", {"email": email, "password": password}, **kwargs)
        if response.status_code == 302:
            self.get(response.location)
        return response


@pytest.fixture
def portal(app: Flask) -> Portal:
    return Portal(app.test_client())


def as_admin(app: Flask, email: str) -> Portal:
    portal = Portal(app.test_client())
    response = portal.login(email)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return portal


@pytest.fixture
def school_a(app: Flask) -> Portal:
    return as_admin(app, ADMIN_A)


@pytest.fixture
def school_b(app: Flask) -> Portal:
    return as_admin(app, ADMIN_B)


@pytest.fixture
def operator(app: Flask) -> Portal:
    return as_admin(app, OPERATOR)


@pytest.fixture
def supplier_admin(app: Flask) -> Portal:
    return as_admin(app, SUPPLIER_ADMIN)


_RECOVERY = re.compile(r"<li>([a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4})</li>")


def enrol_totp(portal: Portal) -> tuple[str, list[str]]:
    """Turn on the second factor as an admin would: start, read the key from the otpauth URI
    shown beside the QR code, confirm with a code; (the secret, the recovery codes shown)."""
    page = portal.post("/admin/account/totp", {"action": "start"}).get_data(as_text=True)
    assert "<svg" in page, "the QR code is inline"
    uri = html.unescape(page.split('id="totp-uri">', 1)[1].split("<", 1)[0])
    secret = parse_qs(urlsplit(uri).query)["secret"][0]
    assert uri.startswith("otpauth://totp/") and len(secret) >= 16
    response = portal.post("/admin/account/totp", {"action": "confirm",
                                                   "code": pyotp.TOTP(secret).now()})
    assert response.status_code == 200
    codes = _RECOVERY.findall(response.get_data(as_text=True))
    assert len(codes) == 10
    return secret, codes


def next_code(secret: str) -> str:
    """The code of the next 30 s step: accepted, and not the one enrolment used."""
    totp = pyotp.TOTP(secret)
    return totp.at(time.time() + totp.interval)
