"""mod_auth_openidc (Debian's libapache2-mod-auth-openidc) as a supplier's OIDC relying party.

It finds Loper from its discovery document, authenticates at the token endpoint with a client
secret, sends PKCE (S256) and asks for `openid profile email`. The app reads each claim of the
ID token and the userinfo answer from OIDC_CLAIM_<claim> (arrays joined by ',').
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from urllib.parse import quote

from tests.suppliers.apache import WHOAMI, running_apache
from tests.suppliers.daemons import HOST, free_port, version, workspace
from tests.suppliers.software import OidcClient, Seen, Sent, SupplierSoftware

CLIENT_ID = "openidc"
PROTOCOL_CLAIMS = frozenset({"sub", "iss", "aud", "exp", "iat", "nbf", "jti", "nonce", "at_hash",
                             "c_hash", "auth_time", "acr", "amr", "azp", "sid"})
"""Claims about the token and the login, not about the pupil."""
PREFIX = "OIDC_CLAIM_"
_CONF = """OIDCProviderMetadataURL {issuer}/.well-known/openid-configuration
OIDCClientID {client_id}
OIDCClientSecret {secret}
OIDCRedirectURI {redirect_uri}
OIDCCryptoPassphrase {passphrase}
OIDCScope "openid profile email"
OIDCPKCEMethod S256
OIDCPassClaimsAs environment
<Location /app/>
    AuthType openid-connect
    Require valid-user
</Location>
"""


def seen(environ: Mapping[str, str]) -> Seen:
    claims = {key.removeprefix(PREFIX): value.split(",") for key, value in environ.items()
              if key.startswith(PREFIX)}
    subject = claims.pop("sub", [""])[0]
    return Seen(subject, {k: v for k, v in claims.items() if k not in PROTOCOL_CLAIMS})


def expect(sent: Sent) -> Seen:
    """Every released claim, as Loper sends it."""
    return Seen(sent.pseudonym, sent.claims)


@contextmanager
def running_openidc(issuer: str, front_channel: bool = False, *, default_url: bool = False,
                    plain_errors: bool = False) -> Iterator[SupplierSoftware]:
    """A private apache2 with mod_auth_openidc in front of the app, as a client of `issuer`,
    taking logouts over the back channel (a logout token), or with `front_channel` in the
    browser (its redirect URI with logout=get, loaded in an iframe: Front-Channel Logout);
    `default_url`: with an OIDCDefaultURL (its home page), as many deployments set;
    `plain_errors`: registered at Loper with `iss_in_errors = false`."""
    port = free_port()
    base = f"http://{HOST}:{port}"
    redirect_uri = f"{base}/app/redirect_uri"
    client_id = CLIENT_ID + ("-front" if front_channel else "") + (
        "-default-url" if default_url else "") + ("-plain-errors" if plain_errors else "")
    channel = ({"frontchannel_logout_uri": f"{redirect_uri}?logout=get"} if front_channel
               else {"backchannel_logout_uri": f"{redirect_uri}?logout=backchannel"})
    client = OidcClient(client_id, secrets.token_urlsafe(24), redirect_uri,
                        post_logout_redirect_uris=(f"{base}/",), iss_in_errors=not plain_errors,
                        **channel)
    with workspace(client_id) as folder:
        body = _CONF.format(issuer=issuer, client_id=client.client_id, secret=client.client_secret,
                            redirect_uri=client.redirect_uri,
                            passphrase=secrets.token_urlsafe(24))
        body += f"OIDCDefaultURL {base}/\n" if default_url else ""
        with running_apache("openidc", folder, port,
                            {"auth_openidc_module": "mod_auth_openidc.so"}, body) as url:
            yield SupplierSoftware(
                name=client_id,
                title=f"mod_auth_openidc {version('libapache2-mod-auth-openidc')}",
                base_url=url, app_url=f"{url}{WHOAMI}",
                logout_url=f"{client.redirect_uri}?logout={quote(url + '/', safe='')}",
                folder=folder, seen=seen,
                expect=expect, client=client, logs=(folder / "error.log",))
