"""The `broker` command: set up an instance, manage the federation, aliases and the ledger."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

import click

from broker import alias_file, cli_context, instance
from broker.cli_errors import FriendlyGroup
from broker.errors import ConfigError
from broker.keys import load_pseudonym_keys
from broker.keys_cli import keys_group
from broker.metadata_cli import metadata_group
from broker.outbound.fetch import default_timeout
from broker.pseudonym import anchor
from broker.registry import VerifyResult
from broker.registry.admins import Admins
from broker.registry.aliases import AliasEvent, Linked, record
from broker.registry.audit import COMMAND_LINE
from broker.registry.federation import dump_federation, load_federation


@click.group(cls=FriendlyGroup)
@click.option("--instance", type=click.Path(path_type=Path), default=None,
              help="Instance folder (default: $BROKER_INSTANCE or ./instance).")
@click.pass_context
def main(ctx: click.Context, instance: Path | None) -> None:
    """Loper, the single sign-on broker for schools."""
    cli_context.keep_instance(ctx, instance)


@main.command("init")
@click.pass_context
def init_cmd(ctx: click.Context) -> None:
    """Create the instance folder: settings, keys, database schema. Safe to run again."""
    settings = cli_context.settings(ctx)
    for line in instance.initialise(settings):
        click.echo(line)


@main.group()
def federation() -> None:
    """Schools, suppliers and release policies, as a TOML file."""


@federation.command("import")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.pass_context
def federation_import(ctx: click.Context, file: Path) -> None:
    """Add or update schools, suppliers and releases from FILE (all or nothing)."""
    settings = cli_context.settings(ctx)
    keys = load_pseudonym_keys(settings.keys_dir)
    with cli_context.registry(settings) as registry:
        with default_timeout(settings.outbound_timeout):  # metadata URLs in the file
            federation_file = load_federation(file)
        summary = registry.import_federation(federation_file, key_version=keys.current)
    click.echo(f"imported {file}: {summary}")


@federation.command("export")
@click.pass_context
def federation_export(ctx: click.Context) -> None:
    """Print the federation as TOML (the import format)."""
    with cli_context.registry(cli_context.settings(ctx)) as registry:
        click.echo(dump_federation(registry.export_federation()), nl=False)


@main.group()
def alias() -> None:
    """Link a pupil's new school identity to their existing one."""


@alias.command("add")
@click.option("--school", required=True, help="The school of the NEW identity.")
@click.option("--subject", required=True, help="The pupil's NEW id at that school.")
@click.option("--to-school", required=True, help="The school of the EXISTING identity.")
@click.option("--to-subject", required=True, help="The pupil's EXISTING id at that school.")
@click.option("--replace", is_flag=True,
              help="Re-point a NEW identity that is linked to another one already (the pupil "
                   "then gets other pseudonyms at every supplier); without it that is refused.")
@click.pass_context
def alias_add(ctx: click.Context, school: str, subject: str, to_school: str,
              to_subject: str, replace: bool) -> None:
    """Suppliers keep the pupil's history: the new identity gets the existing pseudonyms.
    An identity linked already is re-pointed only with --replace."""
    subject, to_subject = _alias_subject("--subject", subject), _alias_subject(
        "--to-subject", to_subject)
    settings = cli_context.settings(ctx)
    keys = load_pseudonym_keys(settings.keys_dir)
    new, existing = anchor(keys, school, subject), anchor(keys, to_school, to_subject)
    with cli_context.registry(settings) as registry:
        for school_id in (school, to_school):
            if registry.school(school_id) is None:
                raise ConfigError(f"unknown school {school_id!r}")
        now = registry.alias_of(new, school)
        if now is not None and now.target == registry.resolve_anchor(existing):
            click.echo(f"alias already in place: {school}'s {subject!r} receives the "
                       f"pseudonyms of {to_school}'s {to_subject!r}; nothing changed")
            return
        if now is not None and not replace:
            raise ConfigError(
                f"{school}'s {subject!r} is already linked to {_linked(now)}; nothing changed. "
                f"To link them to {to_school}'s {to_subject!r} instead (every supplier then "
                f"sees other pseudonyms), run the command again with --replace")
        try:
            registry.add_alias(new, existing, school=school, other_school=to_school,
                               replace=replace)
        except ValueError as exc:
            raise ConfigError(str(exc)) from exc
        record(AliasEvent(datetime.now(UTC), school,
                          "re-linked by command" if now else "linked by command", COMMAND_LINE,
                          to_school, (subject, to_subject)))
    if now is None:
        click.echo("alias added: the new identity now receives the existing pseudonyms")
    else:
        click.echo(f"alias replaced: {school}'s {subject!r} now receives the pseudonyms of "
                   f"{to_school}'s {to_subject!r}; it was linked to {_linked(now)}")


def _alias_subject(option: str, value: str) -> str:
    """A pupil's id as `alias import` takes it: trimmed, not empty, not too long."""
    wrong = alias_file.field_problem(option, value)
    if wrong is not None:
        raise ConfigError(f"{wrong}; nothing was linked")
    return value.strip()


def _linked(now: Linked) -> str:
    """What an identity is linked to, in words: its school and who linked it when, where the
    audit trail says (it keeps no pupil's id)."""
    what = (f"a pupil's identity at {now.other_school}" if now.other_school
            else "another identity")
    if now.at is None:
        return what
    at = now.at if now.at.tzinfo else now.at.replace(tzinfo=UTC)
    return f"{what} (linked {at.astimezone(UTC):%Y-%m-%d %H:%M} UTC by {now.actor})"


@alias.command("import")
@click.argument("file", type=click.File("rb"))
@click.option("--school", required=True, help="The school of the NEW identities.")
@click.pass_context
def alias_import(ctx: click.Context, file: BinaryIO, school: str) -> None:
    """Link many pupils at once from a CSV file with the header
    subject,previous_school,previous_subject (all or nothing). Lines linked so already change
    nothing; a pupil linked to another identity is refused (see alias add --replace)."""
    settings = cli_context.settings(ctx)
    keys = load_pseudonym_keys(settings.keys_dir)
    try:
        with cli_context.registry(settings) as registry:
            if registry.school(school) is None:
                raise ConfigError(f"unknown school {school!r}")
            count = alias_file.import_links(registry, keys, school,
                                            file.read(alias_file.MAX_BYTES + 1), COMMAND_LINE)
    except alias_file.AliasFileError as exc:
        raise ConfigError(f"{file.name}: " + "\n  ".join(("nothing was linked:",
                                                           *map(str, exc.problems)))
                          ) from exc
    click.echo(f"{count} pupils of {school} linked to their previous identities")


@main.group()
def ledger() -> None:
    """The release ledger: what went to which supplier, hash-chained."""


@ledger.command("verify")
@click.pass_context
def ledger_verify(ctx: click.Context) -> None:
    """Check the hash chain and its end; exit 1 when a row was edited, deleted or reordered,
    or the newest rows are missing."""
    with cli_context.registry(cli_context.settings(ctx)) as registry:
        result = registry.ledger().verify()
    if result.ok:
        chains = f" in {result.chains} chains" if result.chains > 1 else ""
        click.echo(f"ledger ok: {result.rows} rows verified{chains}")
        click.echo(_tail_checked(result))
        return
    click.echo(f"ledger BROKEN: {result.problem}", err=True)
    sys.exit(1)


def _tail_checked(result: VerifyResult) -> str:
    if result.head_file is None:
        return "end of the chain: the database's own checkpoint (no head file for this database)"
    if result.committed is None:
        return f"end of the chain: no row recorded in {result.head_file} yet"
    return (f"end of the chain: row {result.committed}, recorded as committed in "
            f"{result.head_file}, is there (or was purged)")


@ledger.command("purge")
@click.option("--before", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Remove the releases before this date (YYYY-MM-DD, UTC).")
@click.option("--older-than", type=click.IntRange(min=1), default=None, metavar="DAYS",
              help="Remove the releases older than DAYS days.")
@click.pass_context
def ledger_purge(ctx: click.Context, before: datetime | None, older_than: int | None) -> None:
    """Remove old releases (retention); the chain stays verifiable."""
    if (before is None) == (older_than is None):
        raise click.UsageError("give either --before DATE or --older-than DAYS")
    today = datetime.now(UTC).date()
    if before is not None and before.date() > today:
        raise ConfigError(f"--before {before:%Y-%m-%d} is after today ({today.isoformat()}, "
                          f"UTC): that would remove every release and audit row up to now; "
                          f"nothing was removed (give a past date, or --older-than DAYS)")
    cut = (before.replace(tzinfo=UTC) if before is not None
           else datetime.now(UTC) - timedelta(days=older_than or 0))
    with cli_context.registry(cli_context.settings(ctx)) as registry:
        removed = registry.ledger().purge(cut)
        result = registry.ledger().verify()
    click.echo(f"removed {removed} ledger rows before {cut.isoformat(timespec='seconds')}; "
               f"{result.rows} rows remain, chain {'ok' if result.ok else 'BROKEN'}")
    if not result.ok:
        sys.exit(1)


@main.group()
def admin() -> None:
    """Accounts of the admin portal (/admin/)."""


def _admins(ctx: click.Context, action: Callable[[Admins], str]) -> None:
    try:
        with cli_context.registry(cli_context.settings(ctx)) as registry:
            click.echo(action(Admins(registry)))
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc


def _at_terminal() -> bool:
    """Whether the password can be asked for: standard input is a terminal."""
    return sys.stdin.isatty()


def _password() -> str:
    """BROKER_ADMIN_PASSWORD, or asked twice at the terminal; one line and exit 2 when there
    is neither, or the two differ."""
    given = os.environ.get("BROKER_ADMIN_PASSWORD")
    if given:
        return given
    if not _at_terminal():
        raise ConfigError("no password: set BROKER_ADMIN_PASSWORD, or run the command at a "
                          "terminal to be asked for it; nothing was changed")
    first = str(click.prompt("Password", hide_input=True))
    if first != str(click.prompt("Repeat the password", hide_input=True)):
        raise ConfigError("the two passwords differ; nothing was changed (run the command "
                          "again)")
    return first


@admin.command("add")
@click.argument("email")
@click.option("--school", "schools", multiple=True, help="A school to manage (repeatable).")
@click.option("--operator", is_flag=True, help="The federation operator: everything.")
@click.option("--supplier", default=None, help="The supplier to manage.")
@click.pass_context
def admin_add(ctx: click.Context, email: str, schools: tuple[str, ...], operator: bool,
              supplier: str | None) -> None:
    """Create an admin; the password is read from BROKER_ADMIN_PASSWORD or asked twice."""
    if [bool(schools), operator, supplier is not None].count(True) != 1:
        raise click.UsageError("give --school ID (one or more), --operator or --supplier ID")
    role = "school" if schools else "operator" if operator else "supplier"
    password = _password()
    _admins(ctx, lambda admins: "admin added: " + admins.add(
        email, password, role, schools=schools, supplier_id=supplier).email + f" ({role})")


@admin.command("password")
@click.argument("email")
@click.option("--clear-totp", is_flag=True, help="Also remove the second factor (lost phone).")
@click.pass_context
def admin_password(ctx: click.Context, email: str, clear_totp: bool) -> None:
    """Set a new password (BROKER_ADMIN_PASSWORD or asked twice); ends the admin's sessions."""
    password = _password()

    def reset(admins: Admins) -> str:
        account = admins.set_password(email, password)
        if clear_totp:
            admins.set_totp(account.id, None)
        return f"password set for {account.email}; their sessions have ended"

    _admins(ctx, reset)


main.add_command(keys_group)
main.add_command(metadata_group)
