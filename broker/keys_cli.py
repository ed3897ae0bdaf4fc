"""`broker keys`: roll Loper's signing keys over without breaking a single login.

1. `broker keys next`    creates the next SAML and OIDC signing keys; restart: they are
                         published (SAML metadata, JWKS) but sign nothing yet.
2. wait until schools and suppliers have fetched the new metadata / JWKS (e.g. a day);
3. `broker keys promote` makes them current; restart: the old keys stay published as
                         `previous` (JWKS) until what they signed has expired.

Like every `broker` command, one that cannot go on says why in one line on standard error and
exits with status 2 (broker/cli_errors.py turns the ConfigError into that line); a key that is
there but corrupt is named, and nothing changes.
"""

from __future__ import annotations

import click

from broker import cli_context, key_checks, keys


@click.group("keys")
def keys_group() -> None:
    """Signing key rollover: next, then promote."""


@keys_group.command("next")
@click.pass_context
def next_cmd(ctx: click.Context) -> None:
    """Create the next signing keys (published from the next restart, not yet used)."""
    settings = cli_context.settings(ctx)
    key_checks.check_keys(settings.keys_dir, missing_ok=True)
    saml = keys.ensure_saml_keypair(settings.keys_dir, settings.host, "next")
    oidc = keys.ensure_oidc_keys(settings.keys_dir, "next")
    click.echo("created the next signing keys; restart Loper to publish them" if saml or oidc
               else "the next signing keys exist already; nothing changed")


@keys_group.command("promote")
@click.pass_context
def promote_cmd(ctx: click.Context) -> None:
    """Sign with the next keys from the next restart; keep the old ones published."""
    keys_dir = cli_context.settings(ctx).keys_dir
    key_checks.check_keys(keys_dir, missing_ok=True)  # never promote a corrupt key
    keys.promote_next(keys_dir)
    click.echo("the next keys are now current; restart Loper to sign with them")
