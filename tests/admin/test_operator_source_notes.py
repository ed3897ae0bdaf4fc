"""The operator page says what each metadata source's last refresh did in the page's language:
why its document was refused, which schools and suppliers kept their last good metadata and
why, each id and URL set apart as code. The sources are served over loopback https and signed
with real keys (tests/registry/test_metadata_sources.py). A row written by an earlier release
holds English text, and shows as it is; the command line says it all in English, as before.

Loper's own reasons for refusing a document (unsigned, wrongly signed, expired, not answered in
time) read wholly in the page's language: only values (code) and a library's own words (the
signature check's detail) stay as they are."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import timedelta

import pytest

from broker.context import Broker
from broker.metadata_refresh import refresh
from broker.outbound.fetch import default_timeout
from broker.registry import Registry, load_federation
from tests.admin.conftest import Portal
from tests.faults.slow import slow_socket
from tests.registry.aggregates import entity, sign, signer
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
    said = ("het aggregaat op {} is niet ondertekend" if lang == "nl"
            else "the aggregate at {} is not signed")
    assert said.format(f"<code>{world.url}</code>") in notes(operator, lang)


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


REASONS = {  # case -> language -> what the page says (a regex: {url}, {source}, {until})
    "unsigned": {
        "nl": "het aggregaat op {url} is niet ondertekend; verwacht een handtekening in de "
              "<code>EntitiesDescriptor</code> zelf (enveloped)",
        "en": "the aggregate at {url} is not signed; expected an enveloped signature on the "
              "<code>EntitiesDescriptor</code>",
    },
    "signed by another key": {
        "nl": 'het aggregaat op {url} heeft een handtekening die niet klopt met het certificaat '
              'van metadatabron "{source}" (<code>Signature is invalid.</code>)',
        "en": 'the aggregate at {url} has a signature that does not verify with the certificate '
              'of source "{source}" (<code>Signature is invalid.</code>)',
    },
    "expired": {
        "nl": "het aggregaat op {url} is verlopen: zijn validUntil {until} is voorbij",
        "en": "the aggregate at {url} expired: its validUntil {until} has passed",
    },
}
DOCUMENTS: dict[str, Callable[[World], bytes]] = {
    "unsigned": lambda w: good().encode(),
    "signed by another key": lambda w: sign(good(), signer(w.directory, "intruder")),
    "expired": lambda w: sign(good(valid_for=timedelta(minutes=-1)), w.signer),
}
ENGLISH = re.compile(r"\b(the|at|not|has|its|expected|signature|signed|does|verify|with|"
                     r"certificate|source|expired|passed|cannot|fetch|did|answer|within|"
                     r"aggregate|document)\b", re.IGNORECASE)
"""Words of Loper's own English reasons, none of which a Dutch reason has."""


def reason(portal: Portal, lang: str) -> str:
    """What the operator page in `lang` says of the one source's last refresh."""
    found = re.search(r'<span class="badge [a-z]+">[^<]*</span>\s*<span class="hint">(.*?)'
                      r"</span>", notes(portal, lang), re.DOTALL)
    assert found is not None
    return found[1]


def code(value: str) -> str:
    return re.escape(f"<code>{value}</code>")


def assert_in_dutch(said: str) -> None:
    """No word of Loper's own English left: values (code) and library detail excepted."""
    assert not ENGLISH.search(re.sub(r"<code>.*?</code>", "", said)), said


@pytest.mark.parametrize("case", REASONS)
@pytest.mark.parametrize("lang", ["nl", "en"])
def test_a_refused_aggregate_is_said_wholly_in_the_page_language(
        operator: Portal, imported: Registry, world: World, case: str,  # noqa: F811
        lang: str) -> None:
    world.publish(DOCUMENTS[case](world))
    [result] = refresh(imported)
    assert result.outcome == "refused"
    said = reason(operator, lang)
    expected = re.escape(REASONS[case][lang]).replace(re.escape("{url}"), code(world.url))
    expected = expected.replace(re.escape("{source}"), code("entree")).replace(
        re.escape("{until}"), r"<code>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00</code>")
    assert re.fullmatch(expected, said), said
    if lang == "nl":
        assert_in_dutch(said)
    else:  # the command line's English, as it was
        assert re.sub(r"</?code>", "", said) == result.message


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_a_fetch_that_times_out_is_said_wholly_in_the_page_language(
        operator: Portal, imported: Registry, broker: Broker, lang: str) -> None:  # noqa: F811
    with slow_socket("hang") as server:  # takes the connection, never answers the handshake
        host = f"127.0.0.1:{server.port}"
        url = f"https://{host}/entree.xml"
        sql(broker.settings.registry_url, f"UPDATE metadata_sources SET url = '{url}'")
        with default_timeout(0.5):
            [result] = refresh(imported)
    assert result.outcome == "refused"
    assert result.message == f"cannot fetch {url}: {host} did not answer within 0.5 s"
    said = reason(operator, lang)
    if lang == "nl":
        assert said == (f"<code>{url}</code> kan niet worden opgehaald: <code>{host}</code> "
                        "antwoordde niet binnen <code>0.5</code> s")
        assert_in_dutch(said)
    else:
        assert said == (f"cannot fetch <code>{url}</code>: <code>{host}</code> did not answer "
                        "within <code>0.5</code> s")


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
