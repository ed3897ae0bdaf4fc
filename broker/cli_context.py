"""What the `broker` command's own options hand to its subcommands, and the settings and the
registry every subcommand runs with.

`broker --instance DIR ...` keeps DIR as click's context object, which click types Any and
passes down to the subcommands' contexts; here it is a `CliOptions`, found by its type.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import click
from sqlalchemy.engine import make_url

from broker.errors import ConfigError
from broker.registry import Registry
from broker.settings import Settings, load_settings, redacted_url

REGISTRY_SETTING = "registry_url / BROKER_REGISTRY_URL"


@dataclass
class CliOptions:
    """The `broker` command's own options, as its subcommands find them."""

    instance: Path | None = None
    """--instance: the instance folder (None: $BROKER_INSTANCE or ./instance)."""


def keep_instance(ctx: click.Context, instance: Path | None) -> None:
    """Hand `--instance` to the subcommands of the command `ctx` runs."""
    ctx.ensure_object(CliOptions).instance = instance


def settings(ctx: click.Context) -> Settings:
    """The settings of the instance `broker --instance` names; a subcommand group run on its
    own (without `broker`) reads the default instance."""
    options = ctx.find_object(CliOptions) or CliOptions()
    return load_settings({"instance": options.instance} if options.instance else None)


def _no_such_file(url: str) -> bool:
    """Whether `url` names a SQLite file that is not there (opening it would create it)."""
    parsed = make_url(url)
    path = parsed.database or ""
    return (parsed.get_backend_name() == "sqlite" and path not in ("", ":memory:")
            and not path.startswith("file:") and not os.path.lexists(path))


@contextmanager
def registry(settings: Settings) -> Iterator[Registry]:
    """The instance's registry, open until the block ends. Only `broker init` creates one; any
    other command on an instance without it (a command that only reads would leave an empty
    database file behind) stops with a ConfigError that says so, and creates nothing."""
    url = settings.registry_url
    if _no_such_file(url):
        raise _no_registry(url, "does not exist")
    opened = Registry(url)
    try:
        if not opened.exists():
            raise _no_registry(url, "has no schema (an empty database)")
        yield opened
    finally:
        opened.close()


def _no_registry(url: str, what: str) -> ConfigError:
    return ConfigError(f"the registry {redacted_url(url)} {what}: `broker init` creates it, "
                       f"or fix {REGISTRY_SETTING}")
