"""The picker's way out for a login of Loper's own page (/me): no app waits for it, so the
picker offers no "back to the app", and stopping leads back to the page itself."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask.testing import FlaskClient

from app import create_app
from tests.registry.conftest import fresh_instance


@pytest.fixture
def client(tmp_path: Path) -> FlaskClient:
    folder = fresh_instance(tmp_path / "instance")
    return create_app({"instance": folder}).test_client()


def test_stopping_a_login_for_me_goes_back_to_me(client: FlaskClient) -> None:
    started = client.get("/me/login")
    picker = urlsplit(started.headers["Location"])
    assert (started.status_code, picker.path) == (303, "/discovery")
    page = client.get(f"{picker.path}?{picker.query}")
    assert page.status_code == 200 and 'data-way="stop"' not in page.text
    stopped = client.get(f"/discovery/cancel?{picker.query}")
    assert stopped.status_code == 303
    assert urlsplit(stopped.headers["Location"]).path == "/me"
    assert client.get("/me").status_code == 200, "the page shows itself without a login"
    again = client.get(f"/discovery/cancel?{picker.query}")
    assert again.status_code == 400 and 'data-error-code="login_expired"' in again.text


def test_the_picker_and_the_logout_form_are_never_shown_from_the_cache(
        client: FlaskClient) -> None:
    """Back after stopping (or after a login) asks for the picker afresh: a cached copy looks
    live while its login is over. The logout form carries a token of this moment too."""
    picker = urlsplit(client.get("/me/login").headers["Location"])
    page = client.get(f"{picker.path}?{picker.query}")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    form = client.get("/logout")
    assert form.status_code == 200 and form.headers["Cache-Control"] == "no-store"


def test_a_search_of_spaces_alone_is_no_search(client: FlaskClient) -> None:
    """The picker lists the schools as it does unasked, not 'N schools found' for nothing."""
    picker = urlsplit(client.get("/me/login").headers["Location"])
    page = client.get(f"{picker.path}?{picker.query}&q=%20%20%20&lang=en")
    heading = page.text.split('id="schools-heading"', 1)[1].split("</h2>", 1)[0]
    assert page.status_code == 200 and "found" not in heading and 'value=""' in page.text
