"""One address cannot fill the state store with pending logins: starts are counted per
address, generously (a whole school may share one), and the excess gets a 429 page."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import pytest
import redis
import requests
from lxml import etree

from demo.stack import Running, running
from tests.hostile.attacker import authn_request, deflated
from tests.peers.browser import Browser

LIMIT = 3


@pytest.fixture(scope="module")
def strict(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[Running]:
    with running(tmp_path_factory.mktemp("limited"),
                 settings={"state_url": redis_url, "login_starts_per_minute": LIMIT}) as stack:
        yield stack


def test_the_start_after_the_limit_gets_a_429_and_stores_nothing(strict: Running,
                                                                  redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    try:
        client.flushdb()
        with Browser() as browser:
            for _ in range(LIMIT):
                browser.get(f"{strict.suppliers['rekenwonders']}/login")
                assert "/discovery" in browser.url
            pending = len(list(client.scan_iter(match="loper:pending:*")))
            browser.get(f"{strict.suppliers['rekenwonders']}/login")
            assert browser.page.status_code == 429
            assert "Even te druk" in browser.text and 'class="error-id"' in browser.text
            assert len(list(client.scan_iter(match="loper:pending:*"))) == pending == LIMIT
    finally:
        client.close()


def test_a_request_answered_with_a_saml_error_counts_as_a_start(strict: Running,
                                                                 redis_url: str) -> None:
    """A request Loper refuses with a signed SAML error Response (a NameID format it does not
    offer) costs a signature: one address cannot have Loper sign without limit either."""
    client = redis.Redis.from_url(redis_url)
    metadata = requests.get(f"{strict.suppliers['rekenwonders']}/metadata", timeout=10)
    entity = etree.fromstring(metadata.content).get("entityID")
    policy = ('<samlp:NameIDPolicy '
              'Format="urn:oasis:names:tc:SAML:2.0:nameid-format:entity"/>')
    try:
        client.flushdb()
        answers = []
        for _ in range(LIMIT + 1):
            xml = authn_request(entity, name_id_policy=policy)
            answers.append(requests.get(
                f"{strict.broker}/saml/idp/sso?SAMLRequest={quote(deflated(xml), safe='')}",
                allow_redirects=False, timeout=10))
        assert [a.status_code for a in answers] == [200] * LIMIT + [429]
        assert all("SAMLResponse" in a.text for a in answers[:LIMIT])
        assert "SAMLResponse" not in answers[-1].text and "Even te druk" in answers[-1].text
        assert not list(client.scan_iter(match="loper:pending:*"))
    finally:
        client.close()
