"""The demo peers wired straight to each other (no broker): the school IdP answers both
suppliers, and the suppliers trust the school IdP's metadata as if it were Loper's."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from demo.people import DEFAULT_PEOPLE, DemoPerson
from demo.school_idp import SchoolIdpTool, create_school_idp, school_tool
from demo.supplier_onelogin import create_onelogin_sp
from demo.supplier_pysaml2 import create_pysaml2_sp
from tests.peers.browser import Browser
from tests.peers.servers import serve_factory


@dataclass(frozen=True)
class Peers:
    school: str
    rekenwonders: str
    taalapp: str
    tool: SchoolIdpTool
    """The school's own SAML engine (same key, same entity id), for crafted responses."""
    state: Path
    """The peers' state folder: `<state>/<peer>/` holds each peer's keys."""

    @property
    def pupil(self) -> DemoPerson:
        return DEFAULT_PEOPLE[0]

    @property
    def teacher(self) -> DemoPerson:
        return DEFAULT_PEOPLE[3]


def _get(url: str) -> str:
    response = requests.get(url, timeout=10)
    response.raise_for_status()
    return response.text


@pytest.fixture(scope="session")
def peers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Peers]:
    state = tmp_path_factory.mktemp("peers")
    sp_metadata: list[str] = []  # filled once the suppliers are up; the school reads it lazily
    with ExitStack() as stack:
        school, _ = stack.enter_context(serve_factory(
            lambda url: create_school_idp(url, state / "school", lambda: sp_metadata)))
        idp_metadata = _get(f"{school}/metadata")
        rekenwonders, _ = stack.enter_context(serve_factory(
            lambda url: create_pysaml2_sp(url, state / "rekenwonders", idp_metadata)))
        taalapp, _ = stack.enter_context(serve_factory(
            lambda url: create_onelogin_sp(url, state / "taalapp", lambda: idp_metadata)))
        sp_metadata += [_get(f"{rekenwonders}/metadata"), _get(f"{taalapp}/metadata")]
        tool = school_tool(school, state / "school", sp_metadata)
        yield Peers(school, rekenwonders, taalapp, tool, state)


@pytest.fixture
def browser() -> Iterator[Browser]:
    with Browser() as b:
        yield b
