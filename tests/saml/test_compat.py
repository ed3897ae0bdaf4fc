"""broker.saml.compat: the one module that reaches into pysaml2's internals, and the pysaml2
versions it accepts."""

from __future__ import annotations

import pytest

from broker.errors import ConfigError
from broker.saml.compat import SUPPORTED, check_version


def test_the_installed_pysaml2_is_supported() -> None:
    check_version()


@pytest.mark.parametrize("version", ["7.5.0", "7.5.5", "7.5.6rc1"])
def test_supported_versions(version: str) -> None:
    check_version(version)


@pytest.mark.parametrize("version", ["7.4.2", "7.6.0", "8.0.0", "6.5.2", "unknown"])
def test_another_version_is_refused_at_start_up(version: str) -> None:
    low, high = SUPPORTED
    with pytest.raises(ConfigError, match=rf"pysaml2 {version} .* pysaml2 >=7\.5,<7\.6"):
        check_version(version)
    assert low <= (7, 5) < high
