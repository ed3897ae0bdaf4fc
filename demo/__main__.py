"""`make demo`: Loper with embedded storage, four demo schools and three demo suppliers."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from broker.registry import load_federation
from broker.registry.admins import Admins
from demo.federation import NEW_SUPPLIER, write_new_supplier
from demo.stack import Running, running

PORTS = {"broker": 8400, "school": 8401, "rekenwonders": 8402, "taalapp": 8403, "lyceum": 8404,
         "leesplein": 8405, "kompas": 8407, "esdoorn": 8408, "entree": 8409,
         "wilg": 8410}
"""8406 is Woordenschat's redirect URI (demo/federation.py), though no app runs there."""


DEMO_ADMINS: dict[str, tuple[str, list[str], str | None]] = {
    "ict@regenboog.demo": ("school", ["regenboog"], None),
    "operator@loper.demo": ("operator", [], None),
    "dev@rekenwonders.demo": ("supplier", [], "rekenwonders")}
"""e-mail -> (role, its schools, its supplier)."""
DEMO_ADMIN_PASSWORD = "demo-password"


def ensure_demo_admins(demo: Running) -> None:
    """The demo's admin accounts (never in a real deployment: `broker admin add` there)."""
    admins: Admins = demo.apps["broker"].extensions["loper_admins"]
    for email, (role, schools, supplier) in DEMO_ADMINS.items():
        if admins.by_email(email) is None:
            admins.add(email, DEMO_ADMIN_PASSWORD, role, schools=schools, supplier_id=supplier)


def register_new_supplier(demo: Running) -> None:
    """A supplier no school has activated yet, as the operator's import leaves it."""
    broker = demo.apps["broker"].extensions["loper"]
    if broker.registry.supplier(NEW_SUPPLIER["id"]) is None:
        broker.registry.import_federation(
            load_federation(write_new_supplier(demo.folder / "federation")),
            key_version=broker.pseudonym_keys.current)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--folder", type=Path, default=Path("demo/instance"),
                        help="where the demo keeps keys and databases (kept across restarts)")
    args = parser.parse_args()
    with running(args.folder.resolve(), ports=PORTS) as demo:
        ensure_demo_admins(demo)
        register_new_supplier(demo)
        print(f"""
Loper demo federation is running (Ctrl-C stops it).

  Open {demo.suppliers['rekenwonders']}/  (Rekenwonders, a pysaml2 SP) and log in:
  pick "OBS De Regenboog", choose a pupil, password "demo".
  Then open {demo.suppliers['taalapp']}/  (Taalapp, a python3-saml SP): no school login
  again, and a different pseudonym for the same pupil.
  Then open {demo.suppliers['leesplein']}/  (Leesplein, an OpenID Connect RP on authlib):
  again no school login, a pairwise `sub` and the released claims.

  What went where: {demo.broker}/me shows the pupil which app received what.

  Log out everywhere: {demo.broker}/logout ("Overal uitloggen") logs the pupil out of all
  three apps and of the school, and lists them; the next pupil must type a password. Each
  app's own "Log out here" does the same through Loper (SAML single logout, OIDC logout).

  OpenID Connect school: log out everywhere at {demo.broker}/logout, open Leesplein
  and pick "Het Lyceum" (Amersfoort), choose a pupil, password "demo".
  Schools on Google Workspace and Entra ID: pick "Het Kompas" or "De Esdoorn" the same way;
  the third account of each (another domain, another tenant) ends on Loper's error page.
  A hub: pick "CBS De Linde" (Zwolle) or "OBS De Es" (Assen); both log in at the demo hub
  {demo.schools['entree']}/, which is told the school you picked and lists its people first.
  Zoë Peters belongs to a school Loper does not know: her login ends on Loper's error page.
  ADFS: pick "De Wilg" (Hoorn); its IdP sends Microsoft's claim URIs and its own role values.

  School admin portal: {demo.broker}/admin/login  as ict@regenboog.demo (the school's
  ICT coordinator) or operator@loper.demo, password "{DEMO_ADMIN_PASSWORD}": release an
  attribute, preview what a supplier gets, suspend it, read the ledger. Woordenschat is
  new: it gets nothing, not even a pseudonym, until the school activates it ("Bekijken en
  activeren"). Every change shows at {demo.broker}/admin/schools/regenboog/audit.
  As dev@rekenwonders.demo (same password), Rekenwonders' developer: what the app asks for
  and why (in Dutch and English), and which schools release what to it.

  Loper:  {demo.broker}/healthz   {demo.broker}/.well-known/openid-configuration
  schools: {demo.schools['regenboog']}/ (SAML)   {demo.schools['lyceum']}/ (OpenID Connect)
           {demo.schools['kompas']}/ (Google shapes)   {demo.schools['esdoorn']}/ (Entra ID shapes)
           {demo.schools['entree']}/ (a hub for two schools)   {demo.schools['wilg']}/ (ADFS)
""", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            print("stopped")


if __name__ == "__main__":
    main()
