"""`--peer satosa`: SATOSA 8 driven side by side with Loper, with the same peers and keys.

SATOSA is installed from the package registry into a virtual environment of its own
(~/.cache/loper-bench/satosa-8, reused when present), configured as a proxy between the demo's
SAML school and its pysaml2 supplier (bench/satosa_conf.py; the peers keep their keys, SATOSA
signs with Loper's SAML key) and served under gunicorn with Loper's worker model. The same
logins (school hint, no picker: SATOSA has one school) are then driven through Loper and through
SATOSA, and both are measured the same way: the CPU time of the gunicorn workers over the run,
the peers' cost kept out.

OIDC -> OIDC is not driven: the bench's OIDC school (demo/school_op.py) demands PKCE (S256)
from its clients, as Loper sends it, and SATOSA 8.6's OIDC backend (on `oic`) sends none; its
OIDC frontend (pyop) would also need its token stores in Redis or MongoDB to work with two
workers. The SAML pair is the one both proxies are built around.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from bench.peers import SamlSchoolDriver, SamlSupplierDriver
from bench.procs import HOST, Gunicorn, free_port
from bench.run import Plan, run
from bench.satosa_conf import SatosaFiles, write_config
from bench.suite import Options, cpu_ms, serving, summarise
from bench.transport import HttpTransport
from bench.world import UNSERVED, Scenario, World

VENV = Path.home() / ".cache" / "loper-bench" / "satosa-8"
REQUIREMENT = "SATOSA==8.6.*"
"""SATOSA 8.6, as the comparison asks; pip takes the newest 8.6 release the registry has."""
SCHOOL = "regenboog"
SUPPLIER = "rekenwonders"


def ensure_venv(venv: Path = VENV) -> Path:
    """SATOSA's Python, installing SATOSA and gunicorn into `venv` unless they are there."""
    python = venv / "bin" / "python"
    check = [str(python), "-c", "import satosa, gunicorn"]
    if python.exists() and subprocess.run(check, capture_output=True).returncode == 0:
        return python
    print(f"installing {REQUIREMENT} into {venv} ...", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                    REQUIREMENT, "gunicorn"], check=True)
    return python


def _version(python: Path) -> str:
    out = subprocess.run([str(python), "-c", "from importlib.metadata import version; "
                          "print(version('SATOSA'))"], capture_output=True, text=True)
    return out.stdout.strip() or "?"


def _metadata(python: Path, files: SatosaFiles, key: Path, cert: Path) -> tuple[str, str]:
    """SATOSA's own metadata (satosa-saml-metadata): (its IdP frontend's, its SP backend's)."""
    out = files.folder / "metadata"
    out.mkdir(exist_ok=True)
    tool = python.parent / "satosa-saml-metadata"
    subprocess.run([str(tool), str(files.proxy_conf), str(key), str(cert), "--dir", str(out),
                    "--no-sign", "--split-frontend", "--split-backend"], check=True,
                   capture_output=True, cwd=files.folder)
    found = {f: f.read_text(encoding="utf-8") for f in sorted(out.glob("*.xml"))}
    frontend = [x for x in found.values() if files.frontend_entity in x]
    backend = [x for x in found.values() if files.backend_entity in x]
    if not frontend or not backend:
        raise RuntimeError(f"satosa-saml-metadata wrote no frontend or backend metadata: "
                           f"{sorted(p.name for p in found)}")
    return frontend[0], backend[0]


def _peers(world: World, frontend: dict[str, str],
           backend: dict[str, str]) -> tuple[Any, Any]:
    """The demo supplier and school again, from the same folders (so with the same keys), now
    partners of SATOSA; SATOSA's metadata is read when they first need it."""
    from demo.school_idp import school_tool
    from demo.supplier_pysaml2 import Pysaml2Sp

    peers = world.folder / "peers"
    sp = Pysaml2Sp(f"{UNSERVED}/{SUPPLIER}", peers / SUPPLIER, lambda: frontend["xml"],
                   "Rekenwonders")
    return sp, school_tool(f"{UNSERVED}/{SCHOOL}", peers / "school", lambda: backend["xml"])


def _measure(server: Gunicorn, scenario: Scenario, options: Options, base: str,
             first: int) -> list[dict[str, Any]]:
    transport = HttpTransport(base)
    run(transport, scenario, Plan(logins=options.warmup, concurrency=2, mode="hint",
                                  verify=True, batch=options.warmup), base, first)
    runs = []
    for concurrency in options.concurrency:
        before = server.worker_usage()
        result = run(transport, scenario, Plan(logins=options.logins, concurrency=concurrency,
                                               mode="hint", batch=options.batch,
                                               budget_s=options.budget_s), base, first + 1000)
        runs.append(summarise(result, cpu_ms(before, server.worker_usage()), {}))
        first += options.logins
    return runs


def satosa_section(world: World, options: Options, loper_env: dict[str, str],
                   folder: Path) -> dict[str, Any]:
    """Loper and SATOSA, one after the other, on the same SAML -> SAML logins."""
    from broker.keys import saml_signing
    from broker.settings import load_settings
    from demo.people import DEFAULT_PEOPLE

    python = ensure_venv()
    section: dict[str, Any] = {"satosa_version": _version(python), "pair": "saml->saml",
                               "school": SCHOOL, "supplier": SUPPLIER, "mode": "hint"}
    loper = Scenario(world.schools[SCHOOL], world.suppliers[SUPPLIER])
    print("  Loper, school hint ...", flush=True)
    with serving(world, options, loper_env, folder / "gunicorn-loper.log") as served:
        served.server.wait_healthy()
        served.server.wait_workers()
        section["loper"] = _measure(served.server, loper, options, world.loper, 800_000)
    pair = saml_signing(load_settings(world.overrides).keys_dir)
    base = f"http://{HOST}:{free_port()}"
    metadata: dict[str, dict[str, str]] = {"frontend": {}, "backend": {}}
    sp, tool = _peers(world, metadata["frontend"], metadata["backend"])
    sp_file, school_file = folder / "satosa-sp.xml", folder / "satosa-school.xml"
    sp_file.write_text(sp.metadata_xml(), encoding="utf-8")
    school_file.write_text(tool.metadata_xml(), encoding="utf-8")
    files = write_config(folder / "satosa", base, pair.key, pair.cert, sp_file, school_file)
    metadata["frontend"]["xml"], metadata["backend"]["xml"] = _metadata(python, files, pair.key,
                                                                        pair.cert)
    school = SamlSchoolDriver(SCHOOL, tool, DEFAULT_PEOPLE, base)
    school.acs_url, school.audience = files.backend_acs, files.backend_entity
    scenario = Scenario(school, SamlSupplierDriver(SUPPLIER, sp, f"{SUPPLIER} (pysaml2 SP)",
                                                   f"{UNSERVED}/{SUPPLIER}"))
    print(f"  SATOSA {section['satosa_version']} under gunicorn at {base} ...", flush=True)
    env = {"SATOSA_CONFIG": str(files.proxy_conf)}
    server = Gunicorn(int(base.rsplit(":", 1)[1]), env, folder / "gunicorn-satosa.log",
                      options.workers, worker_class=options.worker_class,
                      config=files.gunicorn_conf, app="satosa.wsgi:app", python=str(python),
                      health=files.health_path)
    try:
        server.start()
        section["startup_s"] = round(server.wait_healthy(), 3)
        server.wait_workers()
        section["satosa"] = _measure(server, scenario, options, base, 850_000)
    except Exception as exc:  # SATOSA's or its peers' failure: reported, Loper's run stands
        section["error"] = f"{type(exc).__name__}: {exc}"
        print(f"    SATOSA FAILED: {section['error']}\n{server.log_tail(15)}", flush=True)
        return section
    finally:
        server.stop()
    section["ratios"] = {str(a["concurrency"]): round(b["cpu_ms_per_login"]
                                                      / a["cpu_ms_per_login"], 1)
                         for a, b in zip(section["loper"], section["satosa"], strict=True)
                         if a["cpu_ms_per_login"] and b["cpu_ms_per_login"]}
    return section
