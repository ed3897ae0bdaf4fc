"""What the `broker` command says when it cannot go on: one line naming what failed and how to
check it, exit status 2, never a traceback.

Every command runs inside `FriendlyGroup`: a ConfigError (a setting or file to fix) is printed
as it is; a registry that cannot be reached or opened is named by its URL (without password),
with the check that tells why (pg_isready for PostgreSQL, the folder for SQLite).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import NoReturn

import click
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from broker import cli_context
from broker.errors import ConfigError
from broker.registry import RegistryUnavailable
from broker.settings import redacted_url
from broker.sqlite_faults import DISK_FULL

EXIT_STATUS = 2
SETTING = cli_context.REGISTRY_SETTING


def _fail(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    raise SystemExit(EXIT_STATUS)


def _detail(exc: RegistryUnavailable) -> str:
    """The driver's words, first line, last clause: "Connection refused"."""
    first = (str(exc).splitlines() or [""])[0]
    return first.rsplit(": ", 1)[-1].strip() or _reason(exc)


def _reason(exc: RegistryUnavailable) -> str:
    return exc.reason or "unavailable"


def _sqlite_hint(path: str, reason: str) -> str:
    folder = os.path.dirname(path) or "."
    if reason == DISK_FULL:
        return f"free space on the disk holding {folder}"
    if not os.path.isdir(folder):
        return (f"the folder {folder} does not exist: create it (`broker init` makes the "
                f"instance folder), or fix {SETTING}")
    return (f"check that this user may read and write {path} and its folder "
            f"(ls -ld {folder} {path}), or fix {SETTING}; a new registry needs `broker init`")


def explain_registry(url: str, exc: RegistryUnavailable) -> str:
    """One line for a registry that cannot be used, with what to check."""
    shown = redacted_url(url)
    try:
        parsed = make_url(url)
    except ArgumentError:
        return f"the registry {shown} cannot be used ({_reason(exc)}): fix {SETTING}"
    if parsed.get_backend_name() == "sqlite":
        path = parsed.database or ""
        return (f"the registry {shown} cannot be opened ({_reason(exc)}): "
                f"{_sqlite_hint(path, _reason(exc))}")
    host, port = parsed.host or "localhost", parsed.port or 5432
    check = (f"pg_isready -h {host} -p {port}" if parsed.get_backend_name() == "postgresql"
             else f"that its server on {host}:{port} runs")
    return (f"the registry {shown} cannot be reached ({_detail(exc)}): check that the database "
            f"server runs and takes connections ({check}), or fix {SETTING}")


def _registry_url(ctx: click.Context) -> str:
    try:
        return cli_context.settings(ctx).registry_url
    except ConfigError:
        return "(registry_url)"


_invoke: Callable[[click.Group, click.Context], object] = click.Group.invoke
"""click.Group's own invoke: it returns what the command returns, which no caller reads."""


class FriendlyGroup(click.Group):
    """A click group whose commands end with one line, never a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return _invoke(self, ctx)
        except ConfigError as exc:
            _fail(str(exc))
        except RegistryUnavailable as exc:
            _fail(explain_registry(_registry_url(ctx), exc))
