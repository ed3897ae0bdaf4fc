"""Shibboleth's metadata filters are on: Loper's metadata must carry Loper's signature."""

from __future__ import annotations

from pathlib import Path

from tests.certs import write_pair
from tests.flows.conftest import Federation
from tests.peers.browser import Browser
from tests.suppliers.loper import metadata_url
from tests.suppliers.shibboleth import running_shibboleth


def test_metadata_signed_by_another_key_is_refused(loper: Federation, browser: Browser,
                                                   tmp_path: Path) -> None:
    _, stranger = write_pair(tmp_path, "stranger")
    with running_shibboleth(metadata_url(loper), metadata_url(loper), stranger) as software:
        response = browser.get(software.app_url)
        shibd_log = (software.folder / "shibd.log").read_text()

    assert response.status_code == 500
    assert "Unknown or Unusable Identity Provider" in response.text
    assert not [r.url for r in browser.history if r.url.startswith(loper.issuer)]
    assert "SignatureMetadataFilter unable to verify signature" in shibd_log
