"""`make demo` asks for what the demo needs and nothing more; `make test` for everything."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def system_deps(use: str) -> set[str]:
    done = subprocess.run([str(ROOT / ".ci" / "system-deps"), "--list", use],
                          capture_output=True, text=True, timeout=30, check=True)
    return set(done.stdout.split())


def recipe(target: str) -> str:
    """What `make TARGET` runs on a fresh checkout (`make -n -B`: printed, not run)."""
    done = subprocess.run(["make", "-n", "-B", target], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, check=True)
    return done.stdout


def test_the_demo_asks_only_for_xmlsec1_and_the_tests_for_everything() -> None:
    demo, bench, test = system_deps("demo"), system_deps("bench"), system_deps("test")
    assert demo == {"xmlsec1"}  # the demo's SAML peers sign with it; storage is embedded
    assert demo < bench < test
    assert {"redis-server", "postgresql", "chromium", "nginx-light"} <= test
    make_demo = recipe("demo")
    assert ".ci/system-deps demo" in make_demo and "-e '.[demo]'" in make_demo
    assert "system-deps test" not in make_demo and "[test]" not in make_demo
    for target in ("test", "bench"):
        assert f".ci/system-deps {target}" in recipe(target)
        assert "-e '.[test]'" in recipe(target)
    bad = subprocess.run([str(ROOT / ".ci" / "system-deps"), "everything"],
                         capture_output=True, text=True, timeout=30, check=False)
    assert bad.returncode == 2 and "usage" in bad.stderr


def _distribution(requirement: str) -> str:
    return re.split(r"[<>=!\[; ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def test_the_demo_imports_only_what_its_install_brings() -> None:
    """Every package the demo imports comes with `pip install -e '.[demo]'`."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    installed = {_distribution(r) for r in
                 project["dependencies"] + project["optional-dependencies"]["demo"]}
    owners = packages_distributions()
    imported: set[str] = set()
    for source in (*(ROOT / "demo").glob("*.py"), *(ROOT / "broker").rglob("*.py"),
                   ROOT / "app.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                imported.add(node.module.split(".")[0])
    third_party = imported - set(sys.stdlib_module_names) - {"demo", "broker", "app"}
    missing = {name for name in third_party
               if not {d.lower().replace("_", "-") for d in owners.get(name, [name])}
               & installed}
    # flask brings these along
    assert missing <= {"click", "werkzeug", "jinja2", "markupsafe", "itsdangerous"}, missing
