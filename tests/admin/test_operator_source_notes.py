"""The operator page says what each metadata source's last refresh did in the page's language:
why its document was refused, which schools and suppliers kept their last good metadata and
why, each id and URL set apart as code. The sources are served over loopback https and signed
with real keys (tests/registry/test_metadata_sources.py). A row written by an earlier release
holds English text, and shows as it is; the command line says it all in English, as before."""

from __future__ import annotations

import html

import pytest

from broker.context import Broker
from broker.metadata_refresh import refresh
from broker.registry import Registry, load_federation
from tests.admin.conftest import Portal
from tests.registry.aggregates import entity, sign
from tests.registry.helpers import sql
from tests.registry.metadata_xml import idp_metadata
from tests.registry.test_metadata_sources import (  # noqa: F401  (fixtures)
    OTHER_IDP,
    SCHOOL_IDP,
    SUPPLIER_SP,
    World,
    good,
    imported,
    mdq,
    mdq_path,
    world,
)

FETCH_404 = {  # language -> what a 404 for a URL ({}) says
    "nl": "<code>{}</code> kan niet worden opgehaald: het antwoord was HTTP 404; verwacht 200 "
          "met de metadata (doorsturen wordt niet gevolgd)",
    "en": "cannot fetch <code>{}</code>: it answered HTTP 404; expected 200 with the metadata "
          "(redirects are not followed)",
}


def notes(portal: Portal, lang: str) -> str:
    """The metadata sources on the operator page in `lang`: its HTML, with the <code> around
    ids and URLs, entities such as &#34; read as characters."""
    portal.get("/admin/login", query_string={"lang": lang})
    page = portal.get("/admin/operator").get_data(as_text=True)
    return html.unescape(page.split('id="sources-title"', 1)[1].split("</section>", 1)[0])


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_an_import_and_a_refused_document_are_said_in_the_page_language(
        operator: Portal, imported: Registry, world: World, lang: str) -> None:  # noqa: F811
    assert ("geïmporteerd" if lang == "nl" else "imported") in notes(operator, lang)
    del world.site.bodies["/entree.xml"]
    [result] = refresh(imported)
    assert result.outcome == "refused"
    assert FETCH_404[lang].format(world.url) in notes(operator, lang)

    world.publish(good().encode())  # not signed
    refresh(imported)
    frame = "het aggregaat op" if lang == "nl" else "the aggregate at"
    assert f"{frame} <code>{world.url}</code> <code>is not signed" in notes(operator, lang)


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_an_mdq_entity_the_service_does_not_have_keeps_its_metadata(
        operator: Portal, registry: Registry, mdq: World, lang: str) -> None:  # noqa: F811
    registry.import_federation(load_federation(mdq.federation_path), key_version=1)
    del mdq.site.bodies[mdq_path(SCHOOL_IDP)]
    url = f"{mdq.site.base}{mdq_path(SCHOOL_IDP)}"
    [result] = refresh(registry)
    assert str(result) == (  # the command line's line, in English as it was
        f'entree: fetched (school "noorderlicht" kept its metadata: entity "{SCHOOL_IDP}" '
        f"cannot fetch {url}: it answered HTTP 404; expected 200 with the metadata (redirects "
        "are not followed))")
    kept = ("houdt de laatste goede metadata: entiteit" if lang == "nl"
            else "kept its metadata: entity")
    assert (f'school "<code>noorderlicht</code>" {kept} "<code>{SCHOOL_IDP}</code>" '
            + FETCH_404[lang].format(url)) in notes(operator, lang)


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_an_mdq_source_none_of_whose_answers_can_be_used_is_refused(
        operator: Portal, registry: Registry, mdq: World, lang: str) -> None:  # noqa: F811
    registry.import_federation(load_federation(mdq.federation_path), key_version=1)
    del mdq.site.bodies[mdq_path(SCHOOL_IDP)]
    mdq.site.bodies[mdq_path(SUPPLIER_SP)] = sign(entity(idp_metadata(OTHER_IDP)), mdq.signer)
    [result] = refresh(registry)
    assert result.outcome == "refused"
    assert str(result).startswith(f"entree: refused (cannot fetch {mdq.site.base}/mdq/")
    assert f'; the answer at {mdq.site.base}{mdq_path(SUPPLIER_SP)} is about "{OTHER_IDP}", ' \
        f'not "{SUPPLIER_SP}"); no good copy yet' in str(result)
    about = ('gaat over "<code>{}</code>", niet over "<code>{}</code>"' if lang == "nl"
             else 'is about "<code>{}</code>", not "<code>{}</code>"')
    shown = notes(operator, lang)
    assert FETCH_404[lang].format(f"{mdq.site.base}{mdq_path(SCHOOL_IDP)}") in shown
    assert about.format(OTHER_IDP, SUPPLIER_SP) in shown


@pytest.mark.parametrize("stored", [
    "the aggregate at https://md.example/entree.xml is not signed",  # an earlier release's
    '{"key": "admin.refresh_imported"}',
    '[{"key": "problem.fetch_status", "params": {}}]',
    '[{"key": 5}]',
    "[1, 2]",
    "404",
])
@pytest.mark.parametrize("lang", ["nl", "en"])
def test_a_message_of_another_form_shows_as_it_is(operator: Portal, broker: Broker,
                                                  stored: str, lang: str) -> None:
    sql(broker.settings.registry_url,
        "INSERT INTO metadata_sources (id, url, mdq, certificate, refresh, checked_at, outcome, "
        "message) VALUES ('entree', 'https://md.example/entree.xml', 0, '', 3600, "
        f"'2026-12-06 10:00:00', 'refused', '{stored}')")
    assert f'<span class="hint">{stored}</span>' in notes(operator, lang)
