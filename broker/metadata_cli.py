"""`broker metadata refresh`: fetch every [[metadata_sources]] document once, now (a signed
aggregate, an MDQ service's answers, or one entity's own document trusted through TLS).

Prints one line per source: fetched, unchanged, or refused (why) and whether a last good copy
is kept; exits 1 if any source was refused. The server refreshes in the background as well
(broker/metadata_refresh.py); running both at once is harmless.
"""

from __future__ import annotations

import sys

import click

from broker import cli_context
from broker.metadata_refresh import refresh, refused
from broker.outbound.fetch import default_timeout


@click.group("metadata")
def metadata_group() -> None:
    """SAML metadata from signed aggregates or entities' own URLs ([[metadata_sources]])."""


@metadata_group.command("refresh")
@click.pass_context
def refresh_cmd(ctx: click.Context) -> None:
    """Fetch and verify every metadata source now; apply what is good, keep the rest."""
    settings = cli_context.settings(ctx)
    with cli_context.registry(settings) as registry, default_timeout(settings.outbound_timeout):
        results = refresh(registry)
    if not results:
        click.echo("no metadata sources; add [[metadata_sources]] to the federation file")
    for result in results:  # said here only: the refresh itself logs nothing
        click.echo(str(result), err=refused(result))
    if any(map(refused, results)):
        sys.exit(1)
