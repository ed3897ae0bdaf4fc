"""SimpleSAMLphp 1.19 (Debian's simplesamlphp) as a supplier's SAML SP, served by `php -S`.

A private config folder (SIMPLESAMLPHP_CONFIG_DIR) holds config.php, an authsource
`default-sp` (saml:SP, signed AuthnRequests asking for a persistent NameID, or with the stock
NameIDPolicy: a transient NameID) and Loper's IdP metadata. The app is a PHP page that asks
SimpleSAMLphp for a login and answers with the NameID and the attributes as SimpleSAMLphp hands
them to an application (under their SAML names: the stock SP has no attribute map). A second
page asks for a NameID format or an authentication context with SimpleSAMLphp's own login
parameters (saml:NameIDPolicy, saml:AuthnContextClassRef, saml:AuthnContextComparison). Its
cookies have names of their own: every server in these tests shares 127.0.0.1, and cookies
ignore ports.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

from tests.certs import write_pair
from tests.suppliers.daemons import HOST, Daemon, free_port, hand_over, running, version, workspace
from tests.suppliers.software import Seen, Sent, SupplierSoftware, asked_by

INSTALLED = Path("/usr/share/simplesamlphp")
SP = "default-sp"
_CONFIG = """<?php
$config = [
    'baseurlpath' => '{base}/simplesaml/',
    'certdir' => '{folder}/cert/',
    'loggingdir' => '{folder}/log/',
    'datadir' => '{folder}/data/',
    'tempdir' => '{folder}/tmp',
    'metadatadir' => '{folder}/metadata/',
    'secretsalt' => '{salt}',
    'auth.adminpassword' => '{admin}',
    'technicalcontact_name' => 'Supplier',
    'technicalcontact_email' => 'supplier@example.org',
    'timezone' => 'UTC',
    'logging.level' => SimpleSAML\\Logger::NOTICE,
    'logging.handler' => 'file',
    'logging.logfile' => 'simplesamlphp.log',
    'enable.saml20-idp' => false,
    'session.cookie.name' => 'SupplierSessionID',
    'session.phpsession.cookiename' => 'SupplierPHPSession',
    'session.authtoken.cookiename' => 'SupplierAuthToken',
    'session.cookie.secure' => false,
    'language.cookie.name' => 'supplier_language',
    'store.type' => 'phpsession',
    'metadata.sources' => [['type' => 'xml', 'file' => '{folder}/metadata/loper.xml']],
];
"""
_AUTHSOURCES = """<?php
$config = [
    'admin' => ['core:AdminPassword'],
    '{sp}' => [
        'saml:SP',
        'entityID' => '{entity_id}',
        'idp' => '{idp_entity_id}',
        'privatekey' => 'sp.key',
        'certificate' => 'sp.crt',
        'sign.authnrequest' => true,
        'sign.logout' => true,
        'signature.algorithm' => 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',{policy}
    ],
];
"""
_APP = """<?php
require_once('{installed}/lib/_autoload.php');
$as = new \\SimpleSAML\\Auth\\Simple('{sp}');
$as->requireAuth();
$nameId = $as->getAuthData('saml:sp:NameID');
header('Content-Type: application/json');
echo json_encode([
    'name_id' => $nameId === null ? null : $nameId->getValue(),
    'attributes' => (object) $as->getAttributes(),
]);
"""
_LOGOUT = """<?php
require_once('{installed}/lib/_autoload.php');
$as = new \\SimpleSAML\\Auth\\Simple('{sp}');
$as->logout('{base}/');
"""
_ASKS = """<?php
require_once('{installed}/lib/_autoload.php');
$as = new \\SimpleSAML\\Auth\\Simple('{sp}');
$format = $_GET['format'] ?? null;
$as->requireAuth(array_filter([
    'saml:NameIDPolicy' => $format === null ? null : ['Format' => $format, 'AllowCreate' => true],
    'saml:AuthnContextClassRef' => $_GET['class'] ?? null,
    'saml:AuthnContextComparison' => $_GET['comparison'] ?? null,
]));
header('Location: whoami.php');
"""
PERSISTENT_POLICY = """
        'NameIDPolicy' => [
            'Format' => 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
            'AllowCreate' => true,
        ],"""
"""What a supplier that keeps pupils' data configures; without it SimpleSAMLphp asks for a
transient NameID (its default in 1.19)."""
APP = "/app/whoami.php"
ASKS = "/app/asks.php"
"""The app's page that asks for what its query names (format, class, comparison)."""
LOGOUT = "/app/logout.php"
"""The app's logout: SimpleSAMLphp's single logout, back to the home page afterwards."""


def seen(answer: Mapping[str, Any]) -> Seen:
    return Seen(answer["name_id"] or "", dict(answer["attributes"]))


def expect(sent: Sent) -> Seen:
    """The NameID and every attribute as it came, under its SAML name."""
    return Seen(sent.pseudonym, sent.saml)


def _write(folder: Path, base: str, idp_metadata: str, idp_entity_id: str,
           persistent: bool) -> str:
    """Config, keys, metadata and the app; returns the SP's entity id."""
    entity_id = f"{base}/simplesaml/module.php/saml/sp/metadata.php/{SP}"
    for sub in ("config", "cert", "log", "data", "tmp", "metadata", "sessions", "www/app"):
        (folder / sub).mkdir(parents=True)
    write_pair(folder / "cert", "sp")
    (folder / "metadata" / "loper.xml").write_text(idp_metadata)
    (folder / "config" / "config.php").write_text(_CONFIG.format(
        base=base, folder=folder, salt=secrets.token_hex(16), admin=secrets.token_hex(16)))
    (folder / "config" / "authsources.php").write_text(_AUTHSOURCES.format(
        sp=SP, entity_id=entity_id, idp_entity_id=idp_entity_id,
        policy=PERSISTENT_POLICY if persistent else ""))
    (folder / "www" / "simplesaml").symlink_to(INSTALLED / "www")
    (folder / "www" / "app" / "whoami.php").write_text(_APP.format(installed=INSTALLED, sp=SP))
    (folder / "www" / "app" / "asks.php").write_text(_ASKS.format(installed=INSTALLED, sp=SP))
    (folder / "www" / "app" / "logout.php").write_text(
        _LOGOUT.format(installed=INSTALLED, sp=SP, base=base))
    (folder / "www" / "index.html").write_text("<!doctype html><title>Supplier</title>home\n")
    return entity_id


@contextmanager
def running_simplesamlphp(idp_metadata: str, idp_entity_id: str, *, persistent: bool = True,
                          name: str = "simplesamlphp") -> Iterator[SupplierSoftware]:
    """`persistent`: the SP asks for a persistent NameID, else it keeps SimpleSAMLphp's stock
    policy; `name`: its supplier id in Loper."""
    port = free_port()
    base = f"http://{HOST}:{port}"
    with workspace(name) as folder:
        entity_id = _write(folder, base, idp_metadata, idp_entity_id, persistent)
        hand_over(folder)
        env = {**os.environ, "SIMPLESAMLPHP_CONFIG_DIR": str(folder / "config")}
        php = Daemon("php -S (SimpleSAMLphp)", [
            "php", "-d", f"session.save_path={folder / 'sessions'}", "-S", f"{HOST}:{port}",
            "-t", str(folder / "www")], folder / "php.out", env=env,
            logs=[folder / "log" / "simplesamlphp.log"])
        with running(php):
            php.wait_for(f"{base}/simplesaml/module.php/saml/sp/metadata.php/{SP}", ready=200)
            metadata = requests.get(
                f"{base}/simplesaml/module.php/saml/sp/metadata.php/{SP}", timeout=10)
            metadata.raise_for_status()
            yield SupplierSoftware(
                name=name, title=f"SimpleSAMLphp {version('simplesamlphp')}",
                base_url=base, app_url=f"{base}{APP}",
                logout_url=f"{base}{LOGOUT}",
                folder=folder, seen=seen, expect=expect, metadata=metadata.text,
                entity_id=entity_id, logs=php.logs,
                asking=asked_by(f"{base}{ASKS}", "format", "class", "comparison"))
