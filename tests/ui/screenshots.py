"""Screenshots of the four consoles for docs/screenshots/, taken from a live demo.

    .venv/bin/python -m tests.ui.screenshots [--out docs/screenshots]

Sets up the demo tenant in a temporary directory, serves it, plays a short session (an
answer with a citation, a refund up to its approval, a handoff, an upload with one bad
file, a down-rated reply) and photographs each console in headless Chromium.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
from pathlib import Path
from typing import Any

from tests.ui.serve import WAIT_MS, Console, launch, send, serve, set_up_demo

logger = logging.getLogger(__name__)
DESKTOP = {"width": 1360, "height": 900}
PHONE = {"width": 390, "height": 844}
GOOD = "# Gift wrapping\n\nGift wrapping costs $4 per item and is available for every order.\n"


def _context(browser: Any, viewport: dict[str, int], mobile: bool = False) -> Any:
    context = browser.new_context(viewport=viewport, device_scale_factor=1, is_mobile=mobile)
    context.set_default_timeout(WAIT_MS)
    return context


def _sign_in(browser: Any, console: Console, role: str, viewport: dict[str, int]) -> Any:
    page = _context(browser, viewport, viewport is PHONE).new_page()
    page.goto(f"{console.url}/ui/login?token={console.logins[role]}")
    page.wait_for_url("**/ui/*")
    page.wait_for_load_state("networkidle")
    return page


def _await_replies(page: Any, count: int) -> None:
    page.locator("li.msg-assistant").nth(count - 1).wait_for()


def take(console: Console, browser: Any, out: Path) -> list[Path]:
    from playwright.sync_api import expect

    expect.set_options(timeout=WAIT_MS)
    shots: list[Path] = []

    def shoot(page: Any, name: str, full: bool = False) -> None:
        path = out / f"{name}.png"
        page.screenshot(path=str(path), full_page=full)
        shots.append(path)

    chat = _sign_in(browser, console, "end_user", PHONE)
    send(chat, "What payment methods do you accept?")
    _await_replies(chat, 1)
    send(chat, "What are your store hours?")
    _await_replies(chat, 2)
    chat.locator("li.msg-assistant").first.locator("details.cite summary").first.click()
    chat.locator("li.msg-assistant").first.get_by_role("button", name="Helpful", exact=True).click()
    chat.locator("li.msg-assistant").nth(1).get_by_role("button", name="Not helpful").click()
    shoot(chat, "chat-phone", full=True)

    desk = _context(browser, DESKTOP).new_page()
    desk.goto(f"{console.url}/ui/login")
    desk.get_by_label("API key").fill(console.keys["end_user"])
    desk.get_by_role("button", name="Sign in").click()
    desk.wait_for_url("**/ui/chat")
    for text, count in (
        ("I want to return an item and get my money back", 1),
        ("3348917502", 2),
        ("cminh730@email.com", 3),
        ("credit card", 4),
    ):
        send(desk, text)
        _await_replies(desk, count)
    shoot(desk, "chat")

    other = _context(browser, DESKTOP).new_page()
    other.goto(f"{console.url}/ui/login")
    other.get_by_label("API key").fill(console.keys["end_user"])
    other.get_by_role("button", name="Sign in").click()
    send(other, "My parcel says delivered but it never arrived")
    _await_replies(other, 1)
    other.get_by_role("button", name="Talk to a human").click()
    _await_replies(other, 2)
    other.locator("li.msg-assistant").first.get_by_role("button", name="Not helpful").click()

    inbox = _sign_in(browser, console, "agent", DESKTOP)
    inbox.locator("#draft-list button").first.click()
    inbox.locator("#effect").wait_for()
    shoot(inbox, "inbox")

    admin = _sign_in(browser, console, "admin", DESKTOP)
    admin.locator("#file-input").set_input_files(
        [
            {"name": "gift-wrapping.md", "mimeType": "text/markdown", "buffer": GOOD.encode()},
            {"name": "scanned-invoice.pdf", "mimeType": "application/pdf",
             "buffer": b"%PDF-1.7\nnot really a pdf\n"},
        ]
    )  # fmt: skip
    expect(admin.locator(".job .badge").first).to_have_text("Done, with problems")
    shoot(admin, "admin")
    admin.evaluate("document.getElementById('features').scrollIntoView()")
    shoot(admin, "admin-settings")
    admin.evaluate("document.getElementById('config-intents').scrollIntoView()")
    shoot(admin, "admin-intents")

    qa = _sign_in(browser, console, "qa_lead", DESKTOP)
    expect(qa.locator("#queue tbody tr")).not_to_have_count(0)
    shoot(qa, "qa")
    rows = qa.locator("#queue tbody tr")
    answered = rows.filter(has_text="store hours")
    (answered.first if answered.count() else rows.first).get_by_role(
        "link", name="Open the trace of"
    ).click()
    qa.wait_for_url("**/ui/qa/traces/*")
    shoot(qa, "qa-trace", full=True)
    return shots


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as scratch:
        template = set_up_demo(Path(scratch) / "template")
        with serve(template, Path(scratch) / "served") as console, sync_playwright() as pw:
            browser = launch(pw)
            try:
                for path in take(console, browser, args.out):
                    logger.warning("wrote %s", path)
            finally:
                browser.close()


if __name__ == "__main__":
    main()
