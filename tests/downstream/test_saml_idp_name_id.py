"""The NameID a SAML supplier gets: the persistent pseudonym, or a fresh transient NameID at
every login; an SP that names no format (or unspecified) gets the first its metadata lists of
those Loper offers (SAML metadata 2.4.4), else persistent."""

from __future__ import annotations

import pytest
from saml2.saml import (
    NAMEID_FORMAT_EMAILADDRESS,
    NAMEID_FORMAT_TRANSIENT,
    NAMEID_FORMAT_UNSPECIFIED,
)

from broker.downstream.saml_config import PERSISTENT
from broker.downstream.saml_request import StoredRequest
from tests.downstream.saml_world import SamlWorld


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> SamlWorld:
    return SamlWorld(tmp_path_factory.mktemp("saml-idp-name-id"))


def test_transient_name_id_is_random_and_unspecified_gets_persistent(world: SamlWorld) -> None:
    sp = world.pysaml_sp("pytrans")
    values = set()
    for _ in range(2):
        sent, out = world.login(sp, "post", nameid_format=NAMEID_FORMAT_TRANSIENT)
        assert out.form is not None
        name_id = sp.accept(dict(out.form), sent.request_id).assertion.subject.name_id
        assert name_id.format == NAMEID_FORMAT_TRANSIENT and name_id.text != "v1-4f2a9c"
        values.add(name_id.text)
    assert len(values) == 2
    request = world.parse(sp.request("post", nameid_format=NAMEID_FORMAT_UNSPECIFIED))
    assert StoredRequest.read(request.request).name_id_format == PERSISTENT


@pytest.mark.parametrize(("name", "listed", "given"), [
    ("pyft", (NAMEID_FORMAT_TRANSIENT,), NAMEID_FORMAT_TRANSIENT),
    ("pyfet", (NAMEID_FORMAT_EMAILADDRESS, NAMEID_FORMAT_TRANSIENT, PERSISTENT),
     NAMEID_FORMAT_TRANSIENT),
    ("pyfpt", (PERSISTENT, NAMEID_FORMAT_TRANSIENT), PERSISTENT),
    ("pyfe", (NAMEID_FORMAT_EMAILADDRESS,), PERSISTENT),
    ("pyfnone", (), PERSISTENT),
])
def test_an_sp_that_names_no_format_gets_the_first_its_metadata_lists(
        world: SamlWorld, name: str, listed: tuple[str, ...], given: str) -> None:
    """SAML metadata 2.4.4: the NameIDFormats an SP lists are the ones it supports; asked for
    none (or unspecified), Loper gives the first of them it offers, else persistent."""
    sp = world.pysaml_sp(name, keys="pyformats", name_id_formats=listed)
    sent, out = world.login(sp, "post", nameid_format=NAMEID_FORMAT_UNSPECIFIED)
    assert out.form is not None
    name_id = sp.accept(dict(out.form), sent.request_id).assertion.subject.name_id
    assert name_id.format == given
    assert (name_id.text == "v1-4f2a9c") == (given == PERSISTENT)
