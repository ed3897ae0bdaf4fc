"""Fixtures for the SAML crypto tests: key material once per session, entity pairs per test."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from broker.saml.crypto import attach
from tests.saml.pair import KeyFiles, Pair, make_keys, make_pair


@dataclass(frozen=True)
class Keys:
    idp: KeyFiles
    sp: KeyFiles
    sp_encryption: KeyFiles
    rogue: KeyFiles
    """Not in anybody's metadata."""


@pytest.fixture(scope="session")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    folder: Path = tmp_path_factory.mktemp("saml-keys")
    return Keys(*(make_keys(folder, name) for name in ("idp", "sp", "sp-enc", "rogue")))


MakePair = Callable[..., Pair]


@pytest.fixture
def make(keys: Keys) -> MakePair:
    """make(idp_backend=..., sp_backend=..., allow_sha1=..., **make_pair options) -> Pair.

    A backend is "inprocess" (attach()ed) or "xmlsec1" (pysaml2's default).
    """
    def build(idp_backend: str = "inprocess", sp_backend: str = "inprocess",
              allow_sha1: bool = False, **options: Any) -> Pair:
        options.setdefault("sp_encryption", keys.sp_encryption)
        pair = make_pair(keys.idp, keys.sp, **options)
        for entity, backend in ((pair.idp, idp_backend), (pair.sp, sp_backend)):
            assert backend in ("inprocess", "xmlsec1")
            if backend == "inprocess":
                attach(entity, allow_sha1=allow_sha1)
        return pair
    return build

