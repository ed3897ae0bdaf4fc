"""What the `broker` command's own options hand to its subcommands, and the settings every
subcommand runs with.

`broker --instance DIR ...` keeps DIR as click's context object, which click types Any and
passes down to the subcommands' contexts; here it is a `CliOptions`, found by its type.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import click

from broker.settings import Settings, load_settings


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
