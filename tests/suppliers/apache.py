"""A private apache2 on a free loopback port, hosting one supplier's app behind one auth module.

The app is a CGI program at /app/whoami that answers with its environment as JSON: where
mod_shib, mod_auth_mellon and mod_auth_openidc put what they received about the pupil.
apache2 runs in the foreground with a config of its own (never the system's /etc/apache2).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from tests.suppliers.daemons import HOST, Daemon, hand_over, running

APACHE2 = "/usr/sbin/apache2"
MODULES = Path("/usr/lib/apache2/modules")
BASE_MODULES = {f"{m}_module": f"mod_{m}.so" for m in (
    "mpm_prefork", "authn_core", "authz_core", "authz_user", "alias", "cgi", "env")}
WHOAMI = "/app/whoami"

_CGI = """#!/usr/bin/python3
import json, os, sys
sys.stdout.write("Content-Type: application/json\\r\\n\\r\\n" + json.dumps(dict(os.environ)))
"""

_CONF = """ServerRoot "{folder}"
ServerName {host}:{port}
Listen {host}:{port}
PidFile {folder}/run/apache2.pid
DefaultRuntimeDir {folder}/run
Mutex file:{folder}/run default
ErrorLog {folder}/error.log
LogLevel warn
{load}
StartServers 2
MinSpareServers 1
MaxSpareServers 4
DocumentRoot "{folder}/htdocs"
ScriptAlias /app/ "{folder}/cgi-bin/"
<Directory "{folder}">
    Require all granted
</Directory>
{body}
"""


def env_name(name: str) -> str:
    """The name under which the app finds a variable an auth module set: apache passes CGI
    programs only letters, digits and '_' (urn:oid:2.5.4.42 -> urn_oid_2_5_4_42)."""
    return re.sub(r"[^A-Za-z0-9_]", "_", name)


@contextmanager
def running_apache(name: str, folder: Path, port: int, modules: Mapping[str, str], body: str,
                   *, env: Mapping[str, str] | None = None) -> Iterator[str]:
    """Run apache2 with `modules` (module identifier -> file in MODULES) and `body` (the auth
    module's directives) from `folder`, with `env` added to its environment; yields its
    base URL."""
    for sub in ("run", "htdocs", "cgi-bin"):
        (folder / sub).mkdir(exist_ok=True)
    cgi = folder / "cgi-bin" / "whoami"
    cgi.write_text(_CGI)
    cgi.chmod(0o755)
    load = "\n".join(f"LoadModule {ident} {MODULES / so}"
                     for ident, so in {**BASE_MODULES, **modules}.items())
    conf = folder / "apache2.conf"
    conf.write_text(_CONF.format(folder=folder, host=HOST, port=port, load=load, body=body))
    hand_over(folder)
    daemon = Daemon(f"apache2 ({name})", [APACHE2, "-f", str(conf), "-DFOREGROUND"],
                    folder / "apache2.out", logs=[folder / "error.log"],
                    env={**os.environ, **(env or {})})
    with running(daemon):
        base = f"http://{HOST}:{port}"
        daemon.wait_for(f"{base}/", ready=None)
        yield base
