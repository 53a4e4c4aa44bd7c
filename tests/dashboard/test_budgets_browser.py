"""The Budgets page in a real browser: reached from the top bar, a cap added with the form,
axe-clean in light and dark."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.dashboard.browser_support import (  # noqa: F401 (fixtures)
    Site,
    look,
    sign_in_with_github,
    site,
    tab,
)
from tests.live.test_live_page_browser import browser  # noqa: F401 (fixture)

pytestmark = pytest.mark.browser


def test_an_admin_adds_a_cap_from_the_budgets_page(
    tab: Page,  # noqa: F811
    site: Site,  # noqa: F811
) -> None:
    sign_in_with_github(tab, site)
    tab.get_by_role("link", name="Budgets").click()
    expect(tab.get_by_role("heading", name="Budgets", exact=True)).to_be_visible()
    expect(tab.get_by_text("No caps: nothing stops spending.")).to_be_visible()
    tab.get_by_label("Cap", exact=True).fill("person:50usd/day")
    tab.get_by_role("button", name="Save cap").click()
    expect(tab.get_by_role("status")).to_contain_text("Added the cap: 50 USD a day for each person")
    expect(tab.get_by_role("cell", name="50 USD a day for each person")).to_be_visible()
    look(tab, site, "budgets")
    tab.get_by_role("button", name="Remove person:50usd/day").click()
    expect(tab.get_by_role("status")).to_contain_text("Removed the cap person:50usd/day.")
