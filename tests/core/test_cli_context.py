"""The settings a `broker` subcommand runs with (broker/cli_context.py): the instance that
`broker --instance` names, found by its type on click's context by every subcommand below."""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from broker import cli_context
from broker.cli import main
from broker.keys_cli import keys_group


def test_a_subcommand_reads_the_instance_broker_was_given(tmp_path: Path) -> None:
    root = click.Context(main)
    cli_context.keep_instance(root, tmp_path)
    group = click.Context(keys_group, parent=root)
    command = click.Context(keys_group.commands["next"], parent=group)
    assert cli_context.settings(command).keys_dir == tmp_path / "keys"


@pytest.mark.parametrize("given", [False, True])
def test_without_an_instance_the_default_one(given: bool, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BROKER_INSTANCE", str(tmp_path))
    ctx = click.Context(keys_group)  # run on its own, or `broker` without --instance
    if given:
        cli_context.keep_instance(ctx, None)
    assert cli_context.settings(ctx).keys_dir == tmp_path / "keys"
