"""A real Chromium logs a pupil in at each piece of supplier software: its cookie rules
(SameSite, cookies shared by every port of 127.0.0.1) and JavaScript auto-POST forms."""

from __future__ import annotations

from playwright.sync_api import Page

from tests.flows.conftest import Federation
from tests.suppliers.journey import log_in_with_page
from tests.suppliers.loper import SCHOOL
from tests.suppliers.software import SupplierSoftware


def test_a_pupil_logs_in_with_a_real_browser(loper: Federation, software: SupplierSoftware,
                                             page: Page) -> None:
    seen = log_in_with_page(page, software, loper.pupil)

    pseudonym = loper.pseudonym_of(SCHOOL, loper.pupil, software.name)
    assert seen.subject == pseudonym
    assert loper.pupil.id not in page.content()
