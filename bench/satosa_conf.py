"""SATOSA 8's configuration for `--peer satosa`: a SAML IdP frontend for the suppliers and a
SAML SP backend for the school, written as JSON (which is YAML) into a folder of its own.

It does what Loper does in a SAML -> SAML login: checks the school's signed assertion, then
signs (RSA-SHA256) and encrypts the assertion for the supplier (pysaml2's defaults otherwise,
as a SATOSA operator would run it), releasing the same four attributes.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FRONTEND = "Saml2IDP"
BACKEND = "Saml2"
POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
PERSISTENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
URI = "urn:oasis:names:tc:SAML:2.0:attrname-format:uri"
ATTRIBUTES = {"givenname": "givenName", "surname": "sn",
              "affiliation": "eduPersonAffiliation", "ismemberof": "isMemberOf"}
"""SATOSA's internal name -> the SAML name; the school's four released to the supplier."""

GUNICORN = """\
# SATOSA served the way config/gunicorn.conf.py serves Loper (the worker model only).
worker_class = "gthread"
threads = 16
worker_connections = threads
keepalive = 0
timeout = 30
graceful_timeout = 15
"""


@dataclass(frozen=True)
class SatosaFiles:
    folder: Path
    proxy_conf: Path
    gunicorn_conf: Path
    frontend_entity: str
    backend_entity: str
    backend_acs: str
    health_path: str
    """A page SATOSA answers 200 once it runs: its frontend's entity id (the metadata)."""


def _write(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(json.dumps(data, indent=1), encoding="utf-8")
    return path


def _frontend(base: str, key: Path, cert: Path, sp_metadata: Path) -> dict[str, Any]:
    return {"module": "satosa.frontends.saml2.SAMLFrontend", "name": FRONTEND, "config": {
        "endpoints": {"single_sign_on_service": {POST: "sso/post", REDIRECT: "sso/redirect"}},
        "entityid_endpoint": True, "enable_metadata_reload": False,
        "idp_config": {
            "key_file": str(key), "cert_file": str(cert),
            "encryption_keypairs": [{"key_file": str(key), "cert_file": str(cert)}],
            "metadata": {"local": [str(sp_metadata)]},
            "entityid": f"{base}/{FRONTEND}/proxy.xml", "accepted_time_diff": 60,
            "service": {"idp": {
                "endpoints": {"single_sign_on_service": []}, "name": "SATOSA bench IdP",
                "name_id_format": [PERSISTENT],
                "signing_algorithm": "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
                "digest_algorithm": "http://www.w3.org/2001/04/xmlenc#sha256",
                "policy": {"default": {
                    "attribute_restrictions": None, "fail_on_missing_requested": False,
                    "lifetime": {"minutes": 5}, "name_form": URI,
                    "sign_response": False, "sign_assertion": True,
                    "encrypt_assertion": True, "encrypted_advice_attributes": False}}}}}}}


def _backend(base: str, key: Path, cert: Path, school_metadata: Path) -> dict[str, Any]:
    return {"module": "satosa.backends.saml2.SAMLBackend", "name": BACKEND, "config": {
        "entityid_endpoint": True, "mirror_force_authn": False, "memorize_idp": False,
        "use_memorized_idp_when_force_authn": False, "send_requester_id": False,
        "enable_metadata_reload": False,
        "sp_config": {
            "key_file": str(key), "cert_file": str(cert),
            "metadata": {"local": [str(school_metadata)]},
            "entityid": f"{base}/{BACKEND}/proxy_saml2_backend.xml",
            "accepted_time_diff": 60, "allow_unknown_attributes": True,
            "service": {"sp": {
                "authn_requests_signed": False, "want_response_signed": False,
                "want_assertions_signed": True,
                # SATOSA keeps the ids of its AuthnRequests in each worker's memory: with two
                # workers the answer often reaches the other one. Its example configuration
                # allows unsolicited responses (its state cookie binds the answer to the login).
                "allow_unsolicited": True,
                "name_id_format": [PERSISTENT], "name_id_policy_format": PERSISTENT,
                "signing_algorithm": "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
                "digest_algorithm": "http://www.w3.org/2001/04/xmlenc#sha256",
                "endpoints": {"assertion_consumer_service": [
                    [f"{base}/{BACKEND}/acs/post", POST]]}}}}}}


def write_config(folder: Path, base: str, key: Path, cert: Path, sp_metadata: Path,
                 school_metadata: Path) -> SatosaFiles:
    """SATOSA's configuration between the supplier (`sp_metadata`) and the school, signing
    with `key` (the same RSA key Loper signs with)."""
    folder.mkdir(parents=True, exist_ok=True)
    frontend = _write(folder / "frontend.yaml", _frontend(base, key, cert, sp_metadata))
    backend = _write(folder / "backend.yaml", _backend(base, key, cert, school_metadata))
    attributes = _write(folder / "internal_attributes.yaml", {"attributes": {
        internal: {"saml": [saml]} for internal, saml in ATTRIBUTES.items()}})
    logging = {"version": 1, "formatters": {"simple": {"format": "[%(levelname)s] %(message)s"}},
               "handlers": {"stdout": {"class": "logging.StreamHandler",
                                       "stream": "ext://sys.stdout", "level": "WARNING",
                                       "formatter": "simple"}},
               "root": {"level": "WARNING", "handlers": ["stdout"]}}
    proxy = _write(folder / "proxy_conf.yaml", {
        "BASE": base, "COOKIE_STATE_NAME": "SATOSA_STATE", "CONTEXT_STATE_DELETE": True,
        "STATE_ENCRYPTION_KEY": secrets.token_urlsafe(24),
        "INTERNAL_ATTRIBUTES": str(attributes), "BACKEND_MODULES": [str(backend)],
        "FRONTEND_MODULES": [str(frontend)], "MICRO_SERVICES": [], "LOGGING": logging})
    gunicorn_conf = folder / "gunicorn.conf.py"
    gunicorn_conf.write_text(GUNICORN, encoding="utf-8")
    return SatosaFiles(folder, proxy, gunicorn_conf, f"{base}/{FRONTEND}/proxy.xml",
                       f"{base}/{BACKEND}/proxy_saml2_backend.xml",
                       f"{base}/{BACKEND}/acs/post", f"/{FRONTEND}/proxy.xml")
