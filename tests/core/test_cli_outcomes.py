"""What the `broker` command says: each outcome once, the exit status that goes with it, and no
file left behind by a command that only reads. Each kind of outcome and exit status is shown
by the real installed command in a process of its own, as an operator runs it (no test's
logging handlers in between: tests/core/broker_command.py); setting up an instance, and an
outcome a process of its own has shown already, run in this process."""

from __future__ import annotations

from pathlib import Path

import pytest

from broker.email_address import is_email
from tests.core.broker_command import own_process, this_process
from tests.fixtures.redis_server import free_port
from tests.registry.aggregates import aggregate, sign, signer
from tests.registry.helpers import sql
from tests.registry.https import serve
from tests.registry.metadata_xml import certificate_b64, idp_metadata

SOURCE = """\
[[metadata_sources]]
id = "entree"
url = "{url}"
certificate = "entree-signing.pem"
refresh = 600
"""
NO_REGISTRY = ("error: the registry sqlite:///{path} does not exist: `broker init` creates it, "
               "or fix registry_url / BROKER_REGISTRY_URL")


def test_metadata_refresh_says_each_sources_outcome_once(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    with serve(tmp_path) as site:
        signed = sign(aggregate(idp_metadata("https://idp.example.nl")),
                      signer(tmp_path, "entree-signing"))
        site.bodies["/entree.xml"] = signed
        federation = tmp_path / "federation.toml"
        federation.write_text(SOURCE.format(url=site.base + "/entree.xml"), encoding="utf-8")
        env = {"REQUESTS_CA_BUNDLE": str(site.cert)}
        assert this_process(instance, "init").returncode == 0
        assert this_process(instance, "federation", "import", str(federation),
                            **env).returncode == 0
        sql(f"sqlite:///{instance / 'registry.sqlite'}",
            "INSERT INTO metadata_sources (id, url, mdq, certificate, refresh) "
            "VALUES ('down', ?, 0, '', 600)", f"https://127.0.0.1:{free_port()}/down.xml")

        mixed = own_process(instance, "metadata", "refresh", **env)
        assert (mixed.returncode, mixed.stdout) == (1, "entree: unchanged\n")
        [down] = mixed.stderr.splitlines()
        assert down.startswith("down: refused (cannot fetch https://127.0.0.1:")
        assert down.endswith("; no good copy yet")

        site.bodies["/entree.xml"] = aggregate(idp_metadata("https://idp.example.nl")).encode()
        refused = own_process(instance, "metadata", "refresh", **env)
        assert (refused.returncode, refused.stdout) == (1, "")
        assert [line.split(":")[0] for line in refused.stderr.splitlines()] == ["down", "entree"]
        assert "entree: refused (the aggregate at " in refused.stderr
        assert "is not signed" in refused.stderr and "kept last good from 20" in refused.stderr

        site.bodies["/entree.xml"] = signed
        sql(f"sqlite:///{instance / 'registry.sqlite'}", "DELETE FROM metadata_sources "
            "WHERE id = 'down'")
        good = this_process(instance, "metadata", "refresh", **env)
        assert (good.returncode, good.stdout, good.stderr) == (0, "entree: unchanged\n", "")


OWN_URL = """\
[[metadata_sources]]
id = "wilg-idp"
url = "{url}"
trust = "tls"

[[schools]]
id = "wilg"
name = "De Wilg"
protocol = "saml"
entity_id = "https://adfs.wilg.example/adfs/services/trust"
metadata_source = "wilg-idp"
"""


def test_metadata_refresh_follows_a_schools_own_url(tmp_path: Path) -> None:
    """A rollover at the school's ADFS URL is fetched; an unreachable URL keeps the last good."""
    instance, idp = tmp_path / "instance", "https://adfs.wilg.example/adfs/services/trust"
    with serve(tmp_path) as site:
        site.bodies["/md.xml"] = idp_metadata(idp).encode()
        federation = tmp_path / "federation.toml"
        federation.write_text(OWN_URL.format(url=site.base + "/md.xml"), encoding="utf-8")
        env = {"REQUESTS_CA_BUNDLE": str(site.cert)}
        assert this_process(instance, "init").returncode == 0
        assert this_process(instance, "federation", "import", str(federation),
                            **env).returncode == 0
        site.bodies["/md.xml"] = idp_metadata(idp, certificate_b64("wilg-2027")).encode()
        rolled = own_process(instance, "metadata", "refresh", **env)
        assert (rolled.returncode, rolled.stdout, rolled.stderr) == (
            0, 'wilg-idp: fetched (school "wilg" updated)\n', "")
        exported = this_process(instance, "federation", "export").stdout
        assert 'trust = "tls"' in exported and 'metadata_source = "wilg-idp"' in exported
    down = this_process(instance, "metadata", "refresh", **env)
    assert (down.returncode, down.stdout) == (1, "")
    assert down.stderr.startswith("wilg-idp: refused (cannot fetch https://127.0.0.1:")
    assert "kept last good from 20" in down.stderr


def test_ledger_verify_on_an_instance_without_a_registry_creates_none(tmp_path: Path) -> None:
    """The command that left an empty registry.sqlite behind, as an operator runs it."""
    instance = tmp_path / "instance"
    instance.mkdir()
    result = own_process(instance, "ledger", "verify")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.splitlines() == [
        NO_REGISTRY.format(path=instance / "registry.sqlite")]
    assert list(instance.iterdir()) == []


@pytest.mark.parametrize("command", [
    ["ledger", "purge", "--older-than", "30"],
    ["federation", "export"],
    ["metadata", "refresh"],
    ["admin", "password", "ict@school.example.nl"],
])
def test_no_other_command_creates_a_registry_either(tmp_path: Path, command: list[str]) -> None:
    """The same check for every command that opens the registry (in this process: the one
    above shows it in a process of its own)."""
    instance = tmp_path / "instance"
    instance.mkdir()
    result = this_process(instance, *command, BROKER_ADMIN_PASSWORD="a-long-enough-password-1")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.splitlines() == [NO_REGISTRY.format(path=instance / "registry.sqlite")]
    assert list(instance.iterdir()) == []


def test_an_empty_database_file_is_not_a_registry(tmp_path: Path) -> None:
    """What an older `broker ledger verify` left behind: said so, and left as it was."""
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "registry.sqlite").touch()
    result = this_process(instance, "ledger", "verify")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.splitlines() == [
        f"error: the registry sqlite:///{instance / 'registry.sqlite'} has no schema (an empty "
        "database): `broker init` creates it, or fix registry_url / BROKER_REGISTRY_URL"]
    assert sorted(path.name for path in instance.iterdir()) == ["registry.sqlite"]


@pytest.mark.parametrize(("setting", "address", "expected"), [
    ("contact_support_email", "help@school..example.nl", "an e-mail address"),
    ("contact_technical_email", "ict;it@school.example.nl", "an e-mail address"),
    ("mail_from", "loper@mail.example.n1",
     "the sender's e-mail address (needed with smtp_host)"),
])
def test_an_address_loper_refuses_elsewhere_is_refused_in_the_settings(
        tmp_path: Path, setting: str, address: str, expected: str) -> None:
    assert not is_email(address)  # the check an admin's address gets
    result = this_process(tmp_path / "instance", "ledger", "verify",
                          BROKER_SMTP_HOST="127.0.0.1",
                          **{"BROKER_MAIL_FROM": "loper@school.example.nl",
                             f"BROKER_{setting.upper()}": address})
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.splitlines() == [
        f"error: setting {setting}: expected {expected}, got {address!r}"]
