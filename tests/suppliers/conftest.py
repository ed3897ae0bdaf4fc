"""Supplier software from the field, logging pupils in through a real, running Loper.

Session-scoped: Loper (the demo federation, Redis state, signed IdP metadata) and each piece of
software (its own apache2, shibd or php process on a free loopback port), started when a test
first needs it. The figures "supplier software: N/4 peers passed" and "supplier logout: N/4
peers passed" (tests/suppliers/test_logout.py) close the test output.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser as Chromium
from playwright.sync_api import Page

from broker.acr import REFEDS_MFA
from tests.flows.conftest import Federation
from tests.peers.browser import Browser
from tests.suppliers.loper import (
    idp_metadata,
    metadata_signing_cert,
    metadata_url,
    register,
    running_loper,
)
from tests.suppliers.mellon import running_mellon
from tests.suppliers.openidc import running_openidc
from tests.suppliers.shibboleth import running_shibboleth
from tests.suppliers.simplesamlphp import running_simplesamlphp
from tests.suppliers.software import SupplierSoftware

SOFTWARE = ("mellon", "shibboleth", "openidc", "simplesamlphp")
"""Fixture names, one per piece of software; tests take `software`, parametrised over them."""


@pytest.fixture(scope="session")
def loper(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[Federation]:
    with running_loper(tmp_path_factory.mktemp("suppliers"), redis_url) as federation:
        yield federation


@pytest.fixture(scope="session")
def mellon(loper: Federation) -> Iterator[SupplierSoftware]:
    with running_mellon(idp_metadata(loper)) as software:
        register(loper, software)
        yield software


@pytest.fixture(scope="session")
def mellon_stock(loper: Federation) -> Iterator[SupplierSoftware]:
    """mellon whose metadata names no NameIDFormat: it asks for a transient NameID."""
    with running_mellon(idp_metadata(loper), persistent=False,
                        name="mellon-stock") as software:
        register(loper, software)
        yield software


@pytest.fixture(scope="session")
def mellon_strict(loper: Federation) -> Iterator[SupplierSoftware]:
    """mellon configured to ask for a login better than MFA, which no school can give."""
    with running_mellon(idp_metadata(loper), name="mellon-strict",
                        authn_context=(REFEDS_MFA, "better")) as software:
        register(loper, software)
        yield software


@pytest.fixture(scope="session")
def shibboleth(loper: Federation) -> Iterator[SupplierSoftware]:
    with running_shibboleth(metadata_url(loper), metadata_url(loper),
                            metadata_signing_cert(loper)) as software:
        register(loper, software)
        yield software


@pytest.fixture(scope="session")
def openidc(loper: Federation) -> Iterator[SupplierSoftware]:
    with running_openidc(loper.issuer) as software:
        register(loper, software)
        yield software


@pytest.fixture(scope="session")
def openidc_front(loper: Federation) -> Iterator[SupplierSoftware]:
    """mod_auth_openidc taking its logout in the browser (Front-Channel Logout)."""
    with running_openidc(loper.issuer, front_channel=True) as software:
        register(loper, software)
        yield software


@pytest.fixture(scope="session")
def openidc_default_url(loper: Federation) -> Iterator[SupplierSoftware]:
    """mod_auth_openidc with an OIDCDefaultURL."""
    with running_openidc(loper.issuer, default_url=True) as software:
        register(loper, software)
        yield software


@pytest.fixture(scope="session")
def openidc_plain_errors(loper: Federation) -> Iterator[SupplierSoftware]:
    """mod_auth_openidc with an OIDCDefaultURL, registered with `iss_in_errors = false`."""
    with running_openidc(loper.issuer, default_url=True, plain_errors=True) as software:
        register(loper, software)
        yield software


@pytest.fixture(scope="session")
def simplesamlphp(loper: Federation) -> Iterator[SupplierSoftware]:
    with running_simplesamlphp(idp_metadata(loper), metadata_url(loper)) as software:
        register(loper, software)
        yield software


@pytest.fixture(scope="session")
def simplesamlphp_stock(loper: Federation) -> Iterator[SupplierSoftware]:
    """SimpleSAMLphp with its stock NameIDPolicy: it asks for a transient NameID."""
    with running_simplesamlphp(idp_metadata(loper), metadata_url(loper), persistent=False,
                               name="simplesamlphp-stock") as software:
        register(loper, software)
        yield software


@pytest.fixture(params=SOFTWARE)
def software(request: pytest.FixtureRequest) -> SupplierSoftware:
    found: SupplierSoftware = request.getfixturevalue(request.param)
    _titles[found.name] = found.title
    return found


@pytest.fixture
def browser() -> Iterator[Browser]:
    with Browser() as b:
        yield b


@pytest.fixture
def page(chromium: Chromium) -> Iterator[Page]:
    context = chromium.new_context(locale="en-GB")
    yield context.new_page()
    context.close()


# -- the figure at the end of the output ----------------------------------------------------

_software_of: dict[str, str] = {}
"""Test node id -> the software it exercises."""
_failed: set[str] = set()
_titles: dict[str, str] = {}
"""Software -> its name and installed version."""
_ran: set[str] = set()
LOGOUT_MODULE = "tests/suppliers/test_logout.py"
LOGOUT_SOFTWARE = ("shibboleth", "mellon", "openidc", "simplesamlphp")
"""The software whose single logout test_logout.py verifies both ways."""
_logout_ran: set[str] = set()
_logout_failed: set[str] = set()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test exercises the software it is parametrised with, or the one its module is named
    after (test_shibboleth.py); mellon_stock and the like are that software with other
    settings."""
    for item in items:
        if not item.nodeid.startswith("tests/suppliers/"):
            continue
        callspec = getattr(item, "callspec", None)
        name = callspec.params.get("software") if callspec is not None else None
        name = name or item.nodeid.split("::")[0].removesuffix(".py").split("/test_")[-1]
        name = name.split("_")[0]
        if name in SOFTWARE:
            _software_of[item.nodeid] = name


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    name = _software_of.get(report.nodeid)
    if name is None:
        return
    _ran.add(name)
    if report.failed:
        _failed.add(name)
    if report.nodeid.startswith(LOGOUT_MODULE):
        _logout_ran.add(name)
        if report.failed:
            _logout_failed.add(name)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _ran:
        return
    passed = sorted(_ran - _failed)
    terminalreporter.write_sep("-", "supplier software")
    for name in SOFTWARE:
        if name in _ran:
            outcome = "passed" if name in passed else "FAILED"
            terminalreporter.write_line(f"{_titles.get(name, name)}: {outcome}")
    terminalreporter.write_line(
        f"supplier software: {len(passed)}/{len(SOFTWARE)} peers passed")
    if _logout_ran:
        logged_out = _logout_ran - _logout_failed
        terminalreporter.write_line(
            f"supplier logout: {len(logged_out)}/{len(LOGOUT_SOFTWARE)} peers passed")
