"""The `broker` command: set up an instance, manage the federation, aliases and the ledger."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from broker import instance
from broker.errors import ConfigError
from broker.keys import load_pseudonym_keys
from broker.keys_cli import keys_group
from broker.pseudonym import anchor
from broker.registry import Registry
from broker.registry.federation import dump_federation, load_federation
from broker.settings import Settings, load_settings

F = TypeVar("F", bound=Callable[..., Any])


def friendly(func: F) -> F:
    """Turn ConfigError into a one-line message and exit status 2, never a traceback."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ConfigError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)

    return wrapper  # type: ignore[return-value]


def _settings(ctx: click.Context) -> Settings:
    return load_settings({"instance": ctx.obj["instance"]} if ctx.obj["instance"] else None)


@click.group()
@click.option("--instance", type=click.Path(path_type=Path), default=None,
              help="Instance folder (default: $BROKER_INSTANCE or ./instance).")
@click.pass_context
def main(ctx: click.Context, instance: Path | None) -> None:
    """Loper, the single sign-on broker for schools."""
    ctx.obj = {"instance": instance}


@main.command("init")
@click.pass_context
@friendly
def init_cmd(ctx: click.Context) -> None:
    """Create the instance folder: settings, keys, database schema. Safe to run again."""
    settings = _settings(ctx)
    for line in instance.initialise(settings):
        click.echo(line)


@main.group()
def federation() -> None:
    """Schools, suppliers and release policies, as a TOML file."""


@federation.command("import")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.pass_context
@friendly
def federation_import(ctx: click.Context, file: Path) -> None:
    """Add or update schools, suppliers and releases from FILE (all or nothing)."""
    settings = _settings(ctx)
    keys = load_pseudonym_keys(settings.keys_dir)
    registry = Registry(settings.registry_url)
    try:
        summary = registry.import_federation(load_federation(file), key_version=keys.current)
    finally:
        registry.close()
    click.echo(f"imported {file}: {summary}")


@federation.command("export")
@click.pass_context
@friendly
def federation_export(ctx: click.Context) -> None:
    """Print the federation as TOML (the import format)."""
    registry = Registry(_settings(ctx).registry_url)
    try:
        click.echo(dump_federation(registry.export_federation()), nl=False)
    finally:
        registry.close()


@main.group()
def alias() -> None:
    """Link a pupil's new school identity to their existing one."""


@alias.command("add")
@click.option("--school", required=True, help="The school of the NEW identity.")
@click.option("--subject", required=True, help="The pupil's NEW id at that school.")
@click.option("--to-school", required=True, help="The school of the EXISTING identity.")
@click.option("--to-subject", required=True, help="The pupil's EXISTING id at that school.")
@click.pass_context
@friendly
def alias_add(ctx: click.Context, school: str, subject: str, to_school: str,
              to_subject: str) -> None:
    """Suppliers keep the pupil's history: the new identity gets the existing pseudonyms."""
    settings = _settings(ctx)
    keys = load_pseudonym_keys(settings.keys_dir)
    registry = Registry(settings.registry_url)
    try:
        for school_id in (school, to_school):
            if registry.school(school_id) is None:
                raise ConfigError(f"unknown school {school_id!r}")
        try:
            registry.add_alias(anchor(keys, school, subject), anchor(keys, to_school, to_subject))
        except ValueError as exc:
            raise ConfigError(str(exc)) from exc
    finally:
        registry.close()
    click.echo("alias added: the new identity now receives the existing pseudonyms")


@main.group()
def ledger() -> None:
    """The release ledger: what went to which supplier, hash-chained."""


@ledger.command("verify")
@click.pass_context
@friendly
def ledger_verify(ctx: click.Context) -> None:
    """Check the hash chain; exit 1 when a row was edited, deleted or reordered."""
    registry = Registry(_settings(ctx).registry_url)
    try:
        result = registry.ledger().verify()
    finally:
        registry.close()
    if result.ok:
        click.echo(f"ledger ok: {result.rows} rows verified")
        return
    click.echo(f"ledger BROKEN: {result.problem}", err=True)
    sys.exit(1)


main.add_command(keys_group)
