"""Browser tests of the web consoles: Debian's Chromium driven by Playwright against the real
app served by uvicorn on a loopback port, with the demo tenant (`clearline demo`'s set-up).

The demo is set up once per session into a template data directory (ingestion is the slow
part); each test module gets its own copy, its own app and its own sample actions service.
One browser serves the package's tests; each test opens its own contexts (cookie jars). It is
closed when the run leaves tests/ui: Playwright's sync API keeps its asyncio loop marked as
running in the main thread while it is open, so a later test elsewhere that calls
`asyncio.run` failed ("cannot be called from a running event loop") when `make test`'s
workers ran this package before tests/evaluation/test_judge_region.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.ui.serve import WAIT_MS, Console, DemoTemplate, launch, serve, set_up_demo


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> DemoTemplate:
    return set_up_demo(tmp_path_factory.mktemp("ui-demo") / "data")


@pytest.fixture(scope="module")
def console(
    demo_template: DemoTemplate, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Console]:
    with serve(demo_template, tmp_path_factory.mktemp("ui-console") / "data") as served:
        yield served


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=WAIT_MS)
    with sync_playwright() as playwright:
        chromium = launch(playwright)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def new_context(browser: Any) -> Iterator[Any]:
    """Make browser contexts (separate cookie jars); every page starts with window.__xss = 0,
    the flag an injected onerror handler would set."""
    made: list[Any] = []

    def make(**options: Any) -> Any:
        context = browser.new_context(**options)
        context.set_default_timeout(WAIT_MS)
        context.add_init_script("window.__xss = 0;")
        made.append(context)
        return context

    yield make
    for context in made:
        context.close()
