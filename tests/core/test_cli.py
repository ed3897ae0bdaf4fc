"""The `broker` command as an operator uses it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from broker.cli import main
from broker.keys import PSEUDONYM_FILE, load_pseudonym_keys
from broker.pseudonym import anchor, pseudonym
from broker.registry import Registry
from tests.registry.conftest import FEDERATION, write_federation
from tests.registry.helpers import sql


@pytest.fixture
def instance(tmp_path: Path) -> Path:
    return tmp_path / "instance"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in list(os.environ):
        if name.startswith("BROKER_"):
            monkeypatch.delenv(name)
    yield


def broker(instance: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--instance", str(instance), *args])


def files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*")
            if p.is_file() and not p.name.endswith(("-wal", "-shm"))}


def test_init_creates_everything_and_twice_changes_no_key(instance: Path) -> None:
    first = broker(instance, "init")
    assert first.exit_code == 0, first.output
    keys = {k: v for k, v in files(instance).items() if k.startswith("keys/")}
    assert {"keys/saml-signing.key", "keys/saml-signing.crt", "keys/oidc-rs256.key",
            "keys/oidc-es256.key", "keys/pseudonym.json", "keys/cookie-secret"} <= set(keys)
    assert (instance / "broker.toml").exists()
    second = broker(instance, "init")
    assert second.exit_code == 0, second.output
    assert "kept pseudonym key" in second.output
    assert {k: v for k, v in files(instance).items() if k.startswith("keys/")} == keys


def test_init_refuses_a_new_pseudonym_key_next_to_an_existing_registry(instance: Path) -> None:
    assert broker(instance, "init").exit_code == 0
    (instance / "keys" / PSEUDONYM_FILE).unlink()
    result = broker(instance, "init")
    assert result.exit_code == 2
    assert "pseudonym key" in result.output and "restore the key from backup" in result.output
    assert not (instance / "keys" / PSEUDONYM_FILE).exists()


def test_init_on_a_corrupt_pseudonym_key_refuses(instance: Path) -> None:
    assert broker(instance, "init").exit_code == 0
    (instance / "keys" / PSEUDONYM_FILE).write_text("{garbage")
    result = broker(instance, "init")
    assert result.exit_code == 2 and "corrupt" in result.output
    assert (instance / "keys" / PSEUDONYM_FILE).read_text() == "{garbage"


def test_init_in_a_folder_that_cannot_be_written(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = broker(blocker / "instance", "init")
    assert result.exit_code == 2
    assert "cannot write the instance folder" in result.output
    assert "Traceback" not in result.output


def test_import_export_round_trip(instance: Path, tmp_path: Path) -> None:
    assert broker(instance, "init").exit_code == 0
    federation = write_federation(tmp_path, FEDERATION)
    imported = broker(instance, "federation", "import", str(federation))
    assert imported.exit_code == 0, imported.output
    assert "schools: 2 added" in imported.output
    exported = broker(instance, "federation", "export")
    assert exported.exit_code == 0
    again = tmp_path / "again.toml"
    again.write_text(exported.output)
    assert "0 added, 0 updated" in broker(instance, "federation", "import", str(again)).output
    assert broker(instance, "federation", "export").output == exported.output


def test_a_bad_file_is_rejected_precisely_and_changes_nothing(instance: Path,
                                                              tmp_path: Path) -> None:
    assert broker(instance, "init").exit_code == 0
    assert broker(instance, "federation", "import",
                  str(write_federation(tmp_path, FEDERATION))).exit_code == 0
    before = broker(instance, "federation", "export").output
    bad = write_federation(tmp_path, FEDERATION.replace('protocol = "oidc"\nissuer',
                                                        'protocol = "cas"\nissuer'), "bad.toml")
    result = broker(instance, "federation", "import", str(bad))
    assert result.exit_code == 2
    assert "bad.toml" in result.output and "protocol" in result.output and "lyceum" in result.output
    assert broker(instance, "federation", "export").output == before


def test_alias_gives_the_new_identity_the_existing_pseudonym(instance: Path,
                                                             tmp_path: Path) -> None:
    assert broker(instance, "init").exit_code == 0
    assert broker(instance, "federation", "import",
                  str(write_federation(tmp_path, FEDERATION))).exit_code == 0
    result = broker(instance, "alias", "add", "--school", "lyceum", "--subject", "new-42",
                    "--to-school", "regenboog", "--to-subject", "old-7")
    assert result.exit_code == 0, result.output
    keys = load_pseudonym_keys(instance / "keys")
    registry = Registry(f"sqlite:///{instance / 'registry.sqlite'}")
    try:
        resolved = registry.resolve_anchor(anchor(keys, "lyceum", "new-42"))
    finally:
        registry.close()
    assert pseudonym(keys, 1, "rekenwonders", resolved) == pseudonym(
        keys, 1, "rekenwonders", anchor(keys, "regenboog", "old-7"))


def test_alias_import_links_a_whole_file_or_nothing(instance: Path, tmp_path: Path) -> None:
    assert broker(instance, "init").exit_code == 0
    assert broker(instance, "federation", "import",
                  str(write_federation(tmp_path, FEDERATION))).exit_code == 0
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_text("subject,previous_school,previous_subject\nnew-1,regenboog,old-1\n")
    bad.write_text("subject,previous_school,previous_subject\nnew-2,regenboog,old-2\n"
                   "new-3,atlantis,old-3\n")
    refused = broker(instance, "alias", "import", str(bad), "--school", "lyceum")
    assert refused.exit_code == 2
    assert 'nothing was linked:\n  line 3: unknown school "atlantis"' in refused.output
    done = broker(instance, "alias", "import", str(good), "--school", "lyceum")
    assert done.exit_code == 0 and "1 pupils of lyceum linked" in done.output
    keys = load_pseudonym_keys(instance / "keys")
    registry = Registry(f"sqlite:///{instance / 'registry.sqlite'}")
    try:
        assert registry.resolve_anchor(anchor(keys, "lyceum", "new-1")) == anchor(
            keys, "regenboog", "old-1")
        assert registry.resolve_anchor(anchor(keys, "lyceum", "new-2")) == anchor(
            keys, "lyceum", "new-2")
    finally:
        registry.close()
    unknown = broker(instance, "alias", "import", str(good), "--school", "nope")
    assert unknown.exit_code == 2 and "unknown school 'nope'" in unknown.output


def test_alias_for_an_unknown_school_is_refused(instance: Path) -> None:
    assert broker(instance, "init").exit_code == 0
    result = broker(instance, "alias", "add", "--school", "nope", "--subject", "a",
                    "--to-school", "nope2", "--to-subject", "b")
    assert result.exit_code == 2 and "unknown school 'nope'" in result.output


def test_ledger_verify(instance: Path) -> None:
    assert broker(instance, "init").exit_code == 0
    result = broker(instance, "ledger", "verify")
    assert result.exit_code == 0 and "ledger ok: 0 rows" in result.output


@pytest.mark.parametrize(("tamper", "problem"), [
    ("UPDATE ledger SET attributes = '[\"eck_id\"]' WHERE seq = 2", "row 2 was altered"),
    ("DELETE FROM ledger WHERE seq = 2", "row 3 follows row 1"),
    ("UPDATE ledger SET seq = -seq WHERE seq IN (1, 2); UPDATE ledger SET seq = 3 + seq "
     "WHERE seq < 0", "row"),
])
def test_ledger_verify_detects_an_edited_deleted_or_reordered_row(
        instance: Path, tamper: str, problem: str) -> None:
    assert broker(instance, "init").exit_code == 0
    url = f"sqlite:///{instance / 'registry.sqlite'}"
    registry = Registry(url)
    try:
        for day in range(1, 4):
            registry.ledger().append(datetime(2026, 11, day, tzinfo=UTC), "regenboog",
                                     "rekenwonders", f"v1-{day}", ["role"], "saml")
    finally:
        registry.close()
    assert "ledger ok: 3 rows verified" in broker(instance, "ledger", "verify").output
    sql(url, tamper)
    result = broker(instance, "ledger", "verify")
    assert result.exit_code == 1 and "ledger BROKEN" in result.output
    assert problem in result.output
