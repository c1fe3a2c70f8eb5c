"""The admin console's read-only AI hub section in a real browser: it lists the features
from GET /v1/ai/features and shows a switch made on the same page as the last change."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.ui.serve import Console, sign_in

pytestmark = pytest.mark.browser


def test_the_hub_lists_features_and_shows_the_last_switch(
    console: Console, new_context: Any
) -> None:
    page = sign_in(new_context(), console.url, console.keys["admin"])
    hub = page.locator("#ai-hub")
    answering = hub.locator("tbody tr").filter(has_text="answering")
    expect(answering).to_contain_text("your knowledge sources")
    expect(hub.locator("tbody tr").filter(has_text="generative_composition")).to_contain_text(
        "generative"
    )
    switch = page.get_by_role("switch", name="procedures")
    switch.press("Space")
    expect(switch).not_to_be_checked()
    page.reload()
    row = page.locator("#ai-hub tbody tr").filter(has_text="Runs the step-by-step")
    expect(row).to_contain_text("off at ")
    switch = page.get_by_role("switch", name="procedures")
    switch.press("Space")  # leave the shared console as it was
    expect(switch).to_be_checked()
