"""Serving the demo for the browser tests and the screenshot script: the demo tenant set up
once into a template data directory, then one app (and sample actions service) per copy."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.conftest import free_port

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
WAIT_MS = 180_000  # the longest wait for an expectation (a loaded machine loads models slowly)
XSS = '<img src=x onerror="window.__xss=1">'


@dataclass(frozen=True)
class DemoTemplate:
    data_dir: Path
    keys: dict[str, str]
    logins: dict[str, str]


@dataclass
class Console:
    """The app under test: its URL, the demo keys, and the objects behind it."""

    url: str
    keys: dict[str, str]
    logins: dict[str, str]
    app: Any
    actions_app: Any

    @property
    def runtime(self) -> Any:
        return self.app.state.runtime


def set_up_demo(data_dir: Path) -> DemoTemplate:
    """`clearline demo`'s set-up (sample knowledge, procedures, golden set, keys, links)."""
    from service.demo import set_up
    from service.runtime import Runtime
    from service.settings import Settings

    runtime = Runtime(Settings(data_dir=data_dir))
    try:
        demo = set_up(runtime)
    finally:
        runtime.close()
    assert demo.documents.get("failed", 0) == 0, demo.documents
    return DemoTemplate(data_dir, demo.keys, demo.logins)


@contextmanager
def serve(template: DemoTemplate, data_dir: Path) -> Iterator[Console]:
    """The app on a copy of the template's data directory, with its own actions service."""
    from service.app import create_app
    from service.demo import configure_connection, start_actions_service
    from service.serving import ThreadedServer
    from service.settings import Settings

    shutil.copytree(template.data_dir, data_dir)
    settings = Settings(
        data_dir=data_dir, port=free_port(), actions_url=f"http://127.0.0.1:{free_port()}"
    )
    actions = start_actions_service(settings)
    app = create_app(settings)
    try:
        server = ThreadedServer(app, "127.0.0.1", settings.port, "the Clearline app").start(60)
        configure_connection(app.state.runtime)  # the demo's connection, to this actions port
        try:
            yield Console(
                server.url, template.keys, template.logins, app, actions.server.config.app
            )
        finally:
            server.stop()
    finally:
        actions.stop()


def launch(playwright: Any) -> Any:
    assert Path(CHROMIUM).exists(), (
        f"{CHROMIUM} is missing: install Debian's chromium (`apt-get install -y chromium`; "
        "make test does this as root)"
    )
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def sign_in(context: Any, url: str, key: str) -> Any:
    """Sign in with an API key through the login form; returns the page on the console."""
    page = context.new_page()
    page.goto(f"{url}/ui/login")
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/ui/*")
    return page


def send(page: Any, text: str) -> None:
    """Type a chat message and press Enter (the chat's one text box)."""
    box = page.get_by_label("Your message")
    box.fill(text)
    box.press("Enter")


def assert_nothing_ran(page: Any) -> None:
    """No injected markup became an element, and no injected handler ran."""
    assert page.evaluate("window.__xss") == 0
    assert page.locator('img[src="x"]').count() == 0
