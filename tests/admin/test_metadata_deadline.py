"""A metadata URL typed into the admin portal that drips its answer: the form comes back with
the reason within the outbound_timeout setting, and nothing is registered."""

from __future__ import annotations

import html
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from broker.registry import Registry
from tests.admin.conftest import OPERATOR, as_admin, make_app
from tests.admin.test_operator import NEW_SUPPLIER, saml_form
from tests.faults.slow import Mode, slow_socket
from tests.registry.helpers import snapshot

DEADLINE = 1


@pytest.fixture
def quick_app(template_instance: Path, tmp_path: Path) -> Iterator[Flask]:
    application = make_app(template_instance, tmp_path, outbound_timeout=DEADLINE)
    yield application
    application.extensions["loper"].registry.close()
    application.extensions["loper"].store.close()


@pytest.mark.parametrize("mode", ["hang", "drip"])
def test_a_slow_metadata_url_is_given_up_on_in_time(quick_app: Flask, mode: Mode) -> None:
    operator = as_admin(quick_app, OPERATOR)
    registry: Registry = quick_app.extensions["loper"].registry
    before = snapshot(registry)
    with slow_socket(mode, head=b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\n\r\n",
                     body=b"<md:EntityDescriptor " * 50) as server:
        url = f"http://127.0.0.1:{server.port}/sp.xml"
        started = time.monotonic()
        response = operator.post(NEW_SUPPLIER, saml_form(metadata_url=url, allow_private="yes"))
        elapsed = time.monotonic() - started
    page = html.unescape(re.sub(r"</?code>", "", response.get_data(as_text=True)))
    assert response.status_code == 400
    assert (f"{url} kan niet worden opgehaald: 127.0.0.1:{server.port} antwoordde niet "
            "binnen 1 s") in page  # the outbound fetcher's detail, in the page's language
    assert DEADLINE <= elapsed < DEADLINE + 1.0
    assert snapshot(registry) == before
