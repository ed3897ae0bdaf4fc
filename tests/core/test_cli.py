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
from broker.registry.audit import AuditEntry
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


@pytest.mark.parametrize(("old", "new", "says"), [
    ('roles = { employee = ["email"] }', 'roles = { teacher = ["email"] }',
     'releases[0] (school "regenboog", supplier "rekenwonders"), field "roles": "teacher" is '
     "not a role; expected one of student, employee"),
    ('client_secret = "s3cret"\n', "",
     'suppliers[1] (id "taalapp"), field "client_secret": missing: without client_secret, '
     "client_secret_env or jwks the app cannot authenticate at the token endpoint"),
])
def test_a_release_or_supplier_that_could_never_work_is_refused(
        instance: Path, tmp_path: Path, old: str, new: str, says: str) -> None:
    assert broker(instance, "init").exit_code == 0
    assert broker(instance, "federation", "import",
                  str(write_federation(tmp_path, FEDERATION))).exit_code == 0
    before = broker(instance, "federation", "export").output
    assert old in FEDERATION
    bad = write_federation(tmp_path, FEDERATION.replace(old, new), "bad.toml")
    result = broker(instance, "federation", "import", str(bad))
    assert (result.exit_code, result.stdout) == (2, "")
    assert "Traceback" not in result.stderr and says in result.stderr
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
        trail = registry.audit_trail()
        for school in ("lyceum", "regenboog"):  # both schools see the link in their trail
            linked = trail.entries(school, actions=frozenset({"alias"}))
            assert [(e.actor, e.before) for e in linked] == [("operator (command line)", None)]
            assert linked[0].after == {"anchor": anchor(keys, "lyceum", "new-42"),
                                       "linked_to": anchor(keys, "regenboog", "old-7"),
                                       "other_school": "regenboog"}
        assert registry.ledger().verify().ok
    finally:
        registry.close()
    assert pseudonym(keys, 1, "rekenwonders", resolved) == pseudonym(
        keys, 1, "rekenwonders", anchor(keys, "regenboog", "old-7"))


@pytest.fixture
def federated(instance: Path, tmp_path: Path) -> Path:
    assert broker(instance, "init").exit_code == 0
    assert broker(instance, "federation", "import",
                  str(write_federation(tmp_path, FEDERATION))).exit_code == 0
    return instance


def link(instance: Path, subject: str, to_subject: str, *more: str) -> Result:
    return broker(instance, "alias", "add", "--school", "lyceum", "--subject", subject,
                  "--to-school", "regenboog", "--to-subject", to_subject, *more)


def alias_state(instance: Path, subject: str) -> tuple[str, list[AuditEntry], list[AuditEntry]]:
    """What lyceum's `subject` resolves to, and the alias rows of both schools' trails."""
    keys = load_pseudonym_keys(instance / "keys")
    registry = Registry(f"sqlite:///{instance / 'registry.sqlite'}")
    try:
        trail = registry.audit_trail()
        return (registry.resolve_anchor(anchor(keys, "lyceum", subject)),
                *(trail.entries(school, actions=frozenset({"alias"}))
                  for school in ("lyceum", "regenboog")))
    finally:
        registry.close()


def regenboog(instance: Path, subject: str) -> str:
    return anchor(load_pseudonym_keys(instance / "keys"), "regenboog", subject)


def test_a_linked_pupil_is_not_re_pointed_without_replace(federated: Path) -> None:
    assert link(federated, "NEW1", "OLD1").exit_code == 0
    before = alias_state(federated, "NEW1")
    refused = link(federated, "NEW1", "OLD2")
    assert refused.exit_code == 2 and refused.stdout == ""
    [line] = refused.stderr.splitlines()
    assert line.startswith("error: lyceum's 'NEW1' is already linked to a pupil's identity at "
                           "regenboog (linked 20")
    assert line.endswith(" UTC by operator (command line)); nothing changed. To link them to "
                         "regenboog's 'OLD2' instead (every supplier then sees other "
                         "pseudonyms), run the command again with --replace")
    assert alias_state(federated, "NEW1") == before, "nothing linked, nothing recorded"
    assert before[0] == regenboog(federated, "OLD1")
    assert "--replace" in broker(federated, "alias", "add", "--help").output


def test_the_same_link_again_changes_nothing(federated: Path) -> None:
    assert link(federated, "NEW1", "OLD1").exit_code == 0
    before = alias_state(federated, "NEW1")
    again = link(federated, "NEW1", "OLD1")
    assert again.exit_code == 0, again.output
    assert again.stdout == ("alias already in place: lyceum's 'NEW1' receives the pseudonyms "
                            "of regenboog's 'OLD1'; nothing changed\n")
    assert alias_state(federated, "NEW1") == before


def test_replace_re_points_and_says_what_it_was_linked_to(federated: Path) -> None:
    assert link(federated, "NEW1", "OLD1").exit_code == 0
    replaced = link(federated, "NEW1", "OLD2", "--replace")
    assert replaced.exit_code == 0, replaced.output
    assert replaced.stdout.startswith("alias replaced: lyceum's 'NEW1' now receives the "
                                      "pseudonyms of regenboog's 'OLD2'; it was linked to a "
                                      "pupil's identity at regenboog (linked 20")
    resolved, lyceum, trail = alias_state(federated, "NEW1")
    assert resolved == regenboog(federated, "OLD2")
    for rows in (lyceum, trail):  # newest first, in both schools' trails
        assert [(e.before or {}).get("linked_to") for e in rows] == [
            regenboog(federated, "OLD1"), None]
        assert rows[0].after is not None and rows[0].after["linked_to"] == resolved


@pytest.mark.parametrize(("option", "value"), [
    ("--subject", ""), ("--subject", "   "), ("--to-subject", ""), ("--to-subject", "\t")])
def test_an_empty_subject_is_refused(federated: Path, option: str, value: str) -> None:
    subjects = {"--subject": "NEW1", "--to-subject": "OLD1", option: value}
    result = link(federated, subjects["--subject"], subjects["--to-subject"])
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == f"error: {option} is empty; nothing was linked\n"
    resolved, lyceum, trail = alias_state(federated, subjects["--subject"])
    assert (lyceum, trail) == ([], [])


def test_alias_import_records_like_alias_add_and_never_re_points(federated: Path,
                                                                 tmp_path: Path) -> None:
    header = "subject,previous_school,previous_subject\n"
    first, moved = tmp_path / "first.csv", tmp_path / "moved.csv"
    first.write_text(header + "NEW1,regenboog,OLD1\nNEW2,regenboog,OLD2\n")
    moved.write_text(header + "NEW2,regenboog,OLD2\nNEW1,regenboog,OLD3\n")
    assert broker(federated, "alias", "import", str(first), "--school", "lyceum").exit_code == 0
    resolved, lyceum, trail = alias_state(federated, "NEW1")
    assert resolved == regenboog(federated, "OLD1")
    assert [e.actor for e in lyceum] == [e.actor for e in trail] == ["operator (command line)"] * 2
    again = broker(federated, "alias", "import", str(first), "--school", "lyceum")
    assert again.exit_code == 0 and "2 pupils of lyceum linked" in again.stdout
    assert alias_state(federated, "NEW1") == (resolved, lyceum, trail), "the same links, no rows"
    refused = broker(federated, "alias", "import", str(moved), "--school", "lyceum")
    assert refused.exit_code == 2 and refused.stdout == ""
    assert refused.stderr == (
        f"error: {moved}: nothing was linked:\n  line 3: the subject is already linked to "
        "another previous identity; a file does not change a link: the operator does, one "
        "pupil at a time (broker alias add --replace)\n")
    assert alias_state(federated, "NEW1") == (resolved, lyceum, trail)


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
