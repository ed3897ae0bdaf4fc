"""Loper for the supplier software: the demo federation, running, with signed IdP metadata.

Each piece of software is registered as a supplier the way an operator would (an import by
id), and OBS De Regenboog activates it with the same release.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import requests

from broker.downstream.oidc_kind import OidcSupplier
from broker.downstream.saml_kind import SamlSupplier
from broker.records import Policy, Supplier, SupplierConfig
from broker.registry.federation import UNPINNED
from broker.registry.federation import Federation as Entries
from demo.stack import running
from tests.certs import write_pair
from tests.flows.conftest import Federation
from tests.suppliers.software import SupplierSoftware

RELEASE = frozenset({"given_name", "role", "school_domain"})
"""What the school releases to every piece of supplier software."""
SCHOOL = "regenboog"
METADATA_SIGNING = "keys/metadata-signing"
"""Loper signs its IdP metadata with this key pair (in its instance folder)."""


@contextmanager
def running_loper(folder: Path, redis_url: str) -> Iterator[Federation]:
    """The demo federation with Redis state and a metadata signing key."""
    keys = folder / "loper" / "keys"
    keys.mkdir(parents=True)
    write_pair(keys, "metadata-signing")
    settings = {"state_url": redis_url, "metadata_signing_key": METADATA_SIGNING}
    with running(folder, settings=settings) as stack:
        yield Federation(stack)


def metadata_url(loper: Federation) -> str:
    return f"{loper.issuer}/saml/idp/metadata"


def metadata_signing_cert(loper: Federation) -> Path:
    return loper.running.folder / "loper" / f"{METADATA_SIGNING}.crt"


def idp_metadata(loper: Federation) -> str:
    response = requests.get(metadata_url(loper), timeout=10)
    response.raise_for_status()
    return response.text


def register(loper: Federation, software: SupplierSoftware) -> None:
    """Make `software` a supplier of Loper (id: its name) that the school has activated."""
    config: SupplierConfig
    client = software.client
    if client is not None:
        config = OidcSupplier(client_id=client.client_id, client_secret=client.client_secret,
                              redirect_uris=(client.redirect_uri,),
                              post_logout_redirect_uris=client.post_logout_redirect_uris,
                              backchannel_logout_uri=client.backchannel_logout_uri,
                              frontchannel_logout_uri=client.frontchannel_logout_uri,
                              iss_in_errors=client.iss_in_errors)
    else:
        assert software.metadata is not None and software.entity_id is not None
        config = SamlSupplier(metadata_xml=software.metadata, entity_id=software.entity_id)
    home = urlsplit(software.base_url)
    supplier = Supplier(id=software.name, name=software.supplier_name, sector=software.name,
                        key_version=UNPINNED, url=f"{home.scheme}://{home.netloc}/",
                        config=config)
    policy = Policy(SCHOOL, software.name, RELEASE)
    broker = loper.broker
    broker.registry.import_federation(Entries(suppliers=(supplier,), policies=(policy,)),
                                      key_version=broker.pseudonym_keys.current)
