"""The operator page says of each metadata source whether it is fetched from public addresses
only: a school registered from the form by its own metadata URL (without the operator
allowing private addresses) is; a source from the operator's federation file is fetched from
any address. In Dutch (the portal's default) and in English."""

from __future__ import annotations

import pytest

from broker.context import Broker
from tests.admin.conftest import Portal
from tests.admin.test_keep_fresh_public import SOURCE, adfs, register  # noqa: F401  (adfs: a fixture)
from tests.admin.test_operator import in_english, text
from tests.registry.helpers import sql
from tests.registry.https import Site
from tests.upstream.conftest import (  # noqa: F401  (fixtures)
    idp,
    idp_keys,
    keys_dir,
    other_keys,
    sp_config,
    upstream,
)

WORDS = {  # language -> (public addresses only, any address)
    "nl": ("alleen openbare adressen", "elk adres"),
    "en": ("public addresses only", "any address"),
}


def rows(portal: Portal) -> dict[str, str]:
    """Source id -> its row on the operator page, as the operator reads it."""
    page = text(portal.get("/admin/operator"))
    section = page.split('id="sources-title"', 1)[1].split("</section>", 1)[0]
    found = {}
    for row in section.split("<tr>")[2:]:  # past the header row
        ident = row.split('<th scope="row">', 1)[1].split(" ", 1)[0]
        found[ident] = row
    return found


@pytest.fixture
def sources(operator: Portal, broker: Broker, adfs: Site,  # noqa: F811
            monkeypatch: pytest.MonkeyPatch) -> Portal:
    """A school registered from the form by its URL, and the operator's own aggregate."""
    register(operator, adfs, monkeypatch)
    sql(broker.settings.registry_url,
        "INSERT INTO metadata_sources (id, url, mdq, certificate, refresh) VALUES "
        "('entree', 'http://10.0.0.5/entree.xml', 0, '', 3600)")
    return operator


@pytest.mark.parametrize("language", ["nl", "en"])
def test_each_source_says_whether_it_is_public_only(sources: Portal, language: str) -> None:
    if language == "en":
        in_english(sources)
    public, anywhere = WORDS[language]
    found = rows(sources)
    assert set(found) == {SOURCE, "entree"}
    assert public in found[SOURCE] and anywhere not in found[SOURCE]
    assert anywhere in found["entree"] and public not in found["entree"]
