"""Shibboleth SP 3 (Debian's shibboleth-sp-utils and libapache2-mod-shib) as a supplier's SP.

shibd and mod_shib in a private apache2 share a private shibboleth2.xml. It loads Loper's IdP
metadata by URL with the metadata filters a federation member uses (the signature, checked
against Loper's metadata signing certificate, and a required validUntil), and keeps the stock
attribute-map.xml and attribute-policy.xml of /etc/shibboleth: the app sees an attribute only
when the stock map decodes it and the stock policy lets it through (scoped values, such as the
pairwise-id, only under a shibmd:Scope of Loper's metadata). The SP metadata is what shibd
itself generates. A login can ask for a NameID format or an authentication context with its
Login handler's own parameters (NameIDFormat, authnContextClassRef, authnContextComparison).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import requests
from lxml import etree

from tests.certs import write_pair
from tests.suppliers.apache import WHOAMI, env_name, running_apache
from tests.suppliers.daemons import (
    HOST,
    Daemon,
    free_port,
    hand_over,
    running,
    version,
    workspace,
)
from tests.suppliers.software import Seen, Sent, SupplierSoftware, asked_by

STOCK = Path("/etc/shibboleth")
SHIBD = "/usr/sbin/shibd"
_CONF = """<SPConfig xmlns="urn:mace:shibboleth:3.0:native:sp:config"
    xmlns:conf="urn:mace:shibboleth:3.0:native:sp:config" clockSkew="180">
  <OutOfProcess logger="{folder}/shibd.logger"/>
  <InProcess logger="{folder}/native.logger"/>
  <UnixListener address="{folder}/shibd.sock"/>
  <ApplicationDefaults entityID="{entity_id}"
      REMOTE_USER="eppn subject-id pairwise-id persistent-id">
    <Sessions lifetime="28800" timeout="3600" relayState="ss:mem" checkAddress="false"
        handlerSSL="false" cookieProps="http" redirectLimit="exact">
      <SSO entityID="{idp_entity_id}">SAML2</SSO>
      <Logout>SAML2 Local</Logout>
      <Handler type="MetadataGenerator" Location="/Metadata" signing="false"/>
      <Handler type="Status" Location="/Status" acl="127.0.0.1 ::1"/>
      <Handler type="Session" Location="/Session" showAttributeValues="false"/>
    </Sessions>
    <Errors supportContact="root@localhost" helpLocation="/about.html"
        styleSheet="/shibboleth-sp/main.css"/>
    <MetadataProvider type="XML" validate="true" url="{metadata_url}"
        backingFilePath="{folder}/loper-metadata.xml" maxRefreshDelay="7200">
      <MetadataFilter type="RequireValidUntil" maxValidityInterval="2419200"/>
      <MetadataFilter type="Signature" certificate="{folder}/loper-signing.crt"
          verifyBackup="false"/>
    </MetadataProvider>
    <AttributeExtractor type="XML" validate="true" reloadChanges="false"
        path="{stock}/attribute-map.xml"/>
    <AttributeFilter type="XML" validate="true" path="{stock}/attribute-policy.xml"/>
    <CredentialResolver type="File" use="signing" key="{folder}/sp.key"
        certificate="{folder}/sp.crt"/>
    <CredentialResolver type="File" use="encryption" key="{folder}/sp.key"
        certificate="{folder}/sp.crt"/>
  </ApplicationDefaults>
  <SecurityPolicyProvider type="XML" validate="true" path="{stock}/security-policy.xml"/>
  <ProtocolProvider type="XML" validate="true" reloadChanges="false"
      path="{stock}/protocols.xml"/>
</SPConfig>
"""
_LOGGER = """log4j.rootCategory=INFO, file
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.fileName={log}
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=%d %p %c %x: %m%n
"""
_APACHE = """ShibConfig "{folder}/shibboleth2.xml"
ShibCompatValidUser Off
<Location /Shibboleth.sso>
    SetHandler shib
</Location>
<Location /app/>
    AuthType shibboleth
    ShibRequestSetting requireSession 1
    Require shib-session
</Location>
"""


@cache
def stock_attribute_ids() -> frozenset[str]:
    """The attribute ids the stock attribute-map.xml decodes (its commented-out ones not)."""
    tree = etree.parse(str(STOCK / "attribute-map.xml"),
                       etree.XMLParser(resolve_entities=False, no_network=True))
    ids = tree.xpath("//m:Attribute/@id",
                     namespaces={"m": "urn:mace:shibboleth:2.0:attribute-map"})
    assert isinstance(ids, list)
    return frozenset(str(i) for i in ids)


def seen(environ: Mapping[str, str]) -> Seen:
    """What the app got: every attribute of the stock map (values joined by ';'); the
    subject is the persistent NameID (persistent-id is "IdP!SP!NameID")."""
    attributes = {name: environ[env_name(name)].split(";") for name in stock_attribute_ids()
                  if env_name(name) in environ}
    persistent = attributes.get("persistent-id", [""])[0]
    return Seen(persistent.rsplit("!", 1)[-1], attributes)


def _expect(idp: str, sp: str) -> Callable[[Sent], Seen]:
    def expect(sent: Sent) -> Seen:
        """Of what Loper sends, the stock map decodes the pairwise-id (kept by the stock
        policy because Loper's metadata declares its scope) and the persistent NameID;
        givenName, eduPersonAffiliation and schacHomeOrganization are commented out in it."""
        known = {"urn:oasis:names:tc:SAML:attribute:pairwise-id": "pairwise-id"}
        attributes = {known[name]: values for name, values in sent.saml.items()
                      if name in known}
        attributes["persistent-id"] = [f"{idp}!{sp}!{sent.pseudonym}"]
        return Seen(sent.pseudonym, attributes)
    return expect


@contextmanager
def running_shibboleth(metadata_url: str, idp_entity_id: str,
                       signing_cert: Path) -> Iterator[SupplierSoftware]:
    """shibd and apache2 with mod_shib in front of the app."""
    port = free_port()
    base = f"http://{HOST}:{port}"
    entity_id = f"{base}/shibboleth"
    with workspace("shibboleth") as folder:
        write_pair(folder, "sp")
        shutil.copyfile(signing_cert, folder / "loper-signing.crt")
        (folder / "shibboleth2.xml").write_text(_CONF.format(
            folder=folder, entity_id=entity_id, idp_entity_id=idp_entity_id,
            metadata_url=metadata_url, stock=STOCK))
        for name in ("shibd", "native"):
            (folder / f"{name}.logger").write_text(_LOGGER.format(log=folder / f"{name}.log"))
        env = {"SHIBSP_RUNDIR": str(folder), "SHIBSP_CACHEDIR": str(folder),
               "SHIBSP_LOGDIR": str(folder)}
        hand_over(folder)
        shibd = Daemon("shibd", [SHIBD, "-F", "-f", "-c", str(folder / "shibboleth2.xml"),
                                 "-p", str(folder / "shibd.pid")],
                       folder / "shibd.out", env=env, logs=[folder / "shibd.log"])
        with running(shibd):
            shibd.wait_for_file(folder / "shibd.sock")
            with running_apache("shibboleth", folder, port, {"mod_shib": "mod_shib.so"},
                                _APACHE.format(folder=folder), env=env) as url:
                metadata = requests.get(f"{url}/Shibboleth.sso/Metadata", timeout=10)
                metadata.raise_for_status()
                yield SupplierSoftware(
                    name="shibboleth",
                    title=f"Shibboleth SP {version('shibboleth-sp-utils')}",
                    base_url=url, app_url=f"{url}{WHOAMI}",
                    logout_url=f"{url}/Shibboleth.sso/Logout", folder=folder, seen=seen,
                    expect=_expect(idp_entity_id, entity_id),
                    metadata=metadata.text, entity_id=entity_id,
                    logs=(folder / "shibd.log", folder / "native.log", folder / "error.log"),
                    asking=asked_by(f"{url}/Shibboleth.sso/Login", "NameIDFormat",
                                    "authnContextClassRef", "authnContextComparison",
                                    target=f"{url}{WHOAMI}"))
