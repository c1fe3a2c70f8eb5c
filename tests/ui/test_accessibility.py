"""The four consoles and the sign-in page in a real browser: text contrast at WCAG AA, every
form control labelled, the keyboard reaches every control with a visible focus ring, and
the chat works at phone width without sideways scrolling."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.ui.a11y import low_contrast, mark_controls, tab_through, unlabelled_controls
from tests.ui.serve import Console, send, sign_in

pytestmark = pytest.mark.browser

CONSOLES = [("end_user", "/ui/chat"), ("admin", "/ui/admin"), ("agent", "/ui/inbox"),
            ("qa_lead", "/ui/qa")]  # fmt: skip


def _opened(console: Console, new_context: Any, role: str, path: str) -> Any:
    page = sign_in(new_context(), console.url, console.keys[role])
    if not page.url.endswith(path):
        page.goto(console.url + path)
    page.wait_for_load_state("networkidle")
    return page


@pytest.mark.parametrize(("role", "path"), CONSOLES)
def test_console_text_contrast_and_labels(
    console: Console, new_context: Any, role: str, path: str
) -> None:
    page = _opened(console, new_context, role, path)
    if role == "end_user":  # a reply on the page: bubbles, labels, citations, rating controls
        send(page, "What payment methods do you accept?")
        expect(page.locator("li.msg-assistant .bubble").last).to_contain_text("PayPal")
    assert low_contrast(page) == []
    assert unlabelled_controls(page) == []


def test_sign_in_page_contrast_and_labels(console: Console, new_context: Any) -> None:
    page = new_context().new_page()
    page.goto(f"{console.url}/ui/login")
    assert low_contrast(page) == []
    assert unlabelled_controls(page) == []


@pytest.mark.parametrize(("role", "path"), CONSOLES)
def test_keyboard_reaches_controls_with_a_visible_focus(
    console: Console, new_context: Any, role: str, path: str
) -> None:
    page = _opened(console, new_context, role, path)
    controls = mark_controls(page)
    assert len(controls) >= 2
    # A date field takes a Tab stop per part (month, day, year): enough presses to go round.
    focused = [f for f in tab_through(page, 3 * len(controls) + 5) if f is not None]
    invisible = [f for f in focused if not f["visible"]]
    assert invisible == [], invisible
    missed = set(controls) - {f["mark"] for f in focused}
    assert missed == set(), page.evaluate(
        "(marks) => marks.map((m) => document.querySelector(`[data-a11y='${m}']`).outerHTML"
        ".slice(0, 120))",
        sorted(missed),
    )


def test_chat_at_phone_width(console: Console, new_context: Any) -> None:
    context = new_context(viewport={"width": 360, "height": 740}, is_mobile=True)
    page = sign_in(context, console.url, console.keys["end_user"])
    send(page, "What payment methods do you accept?")
    reply = page.locator("li.msg-assistant .bubble").last
    expect(reply).to_contain_text("PayPal")
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"the chat scrolls sideways at 360 px: {width}"
    box = page.get_by_label("Your message").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 360
    assert reply.bounding_box()["width"] <= 360
