"""The link to the other language on a page that answers one of Loper's own forms: it fetches
the form's page again in the other language (what was posted is not sent twice)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask

from app import create_app
from tests.admin.conftest import FEDERATION
from tests.registry.conftest import initialised_instance


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    application = create_app({"instance": initialised_instance(
        tmp_path_factory.mktemp("language"), FEDERATION)})
    yield application
    application.extensions["loper"].registry.close()
    application.extensions["loper"].store.close()


def test_the_logged_out_page_links_to_the_logout_page_in_the_other_language(
        app: Flask) -> None:
    client = app.test_client()
    form = client.get("/logout", query_string={"lang": "en"}).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token is not None
    done = client.post("/logout", data={"csrf_token": token.group(1)})
    page = done.get_data(as_text=True)
    assert done.status_code == 200 and '<html lang="en">' in page
    link = re.search(r'<p class="lang screen-only"><a href="([^"]+)"', page)
    assert link is not None and link.group(1) == "/logout?lang=nl"
    assert '<html lang="nl">' in client.get(link.group(1)).get_data(as_text=True)
