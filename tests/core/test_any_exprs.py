"""`make lint` fails when a module gains Any expressions beyond pyproject.toml's allowance."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHECK = ROOT / ".ci" / "any-exprs"
ALLOWED: dict[str, int] = tomllib.loads(
    (ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["loper"]["any-exprs"]


def report(tmp_path: Path, counts: dict[str, int]) -> Path:
    """A report in mypy's any-exprs.txt layout: name, Any expressions, all, precision."""
    rows = [f"{name:>40} {anys:>6} {1000:>7} {100 - anys / 10:>8.2f}%"
            for name, anys in counts.items()]
    total = sum(counts.values())
    text = "\n".join([f"{'Name':>40}   Anys   Exprs   Coverage", "-" * 60, *rows, "-" * 60,
                      f"{'Total':>40} {total:>6} {1000 * len(counts):>7} 99.00%", ""])
    path = tmp_path / "any-exprs.txt"
    path.write_text(text, encoding="utf-8")
    return path


def run(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(CHECK), str(path)], capture_output=True,
                          text=True, timeout=30)


def test_lint_runs_the_check_on_mypys_report() -> None:
    lint = subprocess.run(["make", "-n", "-B", "lint"], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, check=True).stdout
    assert ".ci/any-exprs .mypy-report/any-exprs.txt" in lint
    mypy = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mypy"]
    assert mypy["any_exprs_report"] == ".mypy-report" and mypy["strict"] is True


def test_a_module_within_its_allowance_passes(tmp_path: Path) -> None:
    done = run(report(tmp_path, {"broker.saml.compat": ALLOWED["broker.saml.compat"],
                                 "broker.pseudonym": 0}))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Any expressions: ")


def test_any_in_a_module_that_may_have_none_fails_and_names_it(tmp_path: Path) -> None:
    done = run(report(tmp_path, {"broker.pseudonym": 2}))
    assert done.returncode == 1
    assert "broker.pseudonym: 2 (allowed 0)" in done.stderr


def test_more_than_the_allowance_fails(tmp_path: Path) -> None:
    allowed = ALLOWED["broker.saml.compat"]
    done = run(report(tmp_path, {"broker.saml.compat": allowed + 1}))
    assert done.returncode == 1
    assert f"broker.saml.compat: {allowed + 1} (allowed {allowed})" in done.stderr


def test_fewer_than_allowed_passes_and_says_to_lower_it(tmp_path: Path) -> None:
    done = run(report(tmp_path, {"broker.saml.compat": 1}))
    assert done.returncode == 0
    assert f"broker.saml.compat: 1 (allowed {ALLOWED['broker.saml.compat']})" in done.stdout


def test_a_file_that_is_no_report_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "any-exprs.txt"
    path.write_text("Success: no issues found\n", encoding="utf-8")
    done = run(path)
    assert done.returncode != 0 and "not a mypy any-exprs report" in done.stderr


def test_every_allowance_is_a_positive_count_of_a_module_that_exists() -> None:
    for name, allowed in ALLOWED.items():
        assert isinstance(allowed, int) and allowed > 0, name
        path = ROOT / (name.replace(".", "/") + ".py")
        assert path.exists() or (ROOT / name.replace(".", "/") / "__init__.py").exists(), name
