"""The admin console's Intents card in a real browser: an intent added there (with its
examples) is stored in the agent configuration and listed after a reload (and the autonomy
card's Save still works without a conflict), a removed one is gone, and bad input is refused
with a clear message and changes nothing: an intent with no examples or no name never leaves
the page, and the server's refusal to remove an intent that `autonomous_intents` lists is
shown as it says it."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.ui.serve import Console, sign_in

pytestmark = pytest.mark.browser
CARD = "#config-intents"


def _headers(console: Console) -> dict[str, str]:
    return {"Authorization": f"Bearer {console.keys['admin']}"}


def stored_config(console: Console) -> dict[str, Any]:
    """The tenant's agent configuration, as GET /v1/agent/config returns it."""
    response = httpx.get(f"{console.url}/v1/agent/config", headers=_headers(console))
    assert response.status_code == 200, response.text
    config: dict[str, Any] = response.json()
    return config


def change_config(console: Console, changes: dict[str, Any]) -> dict[str, Any]:
    """PATCH /v1/agent/config at the current version (what another admin would do)."""
    version = stored_config(console)["version"]
    response = httpx.patch(
        f"{console.url}/v1/agent/config",
        headers=_headers(console),
        json={**changes, "version": version},
    )
    assert response.status_code == 200, response.text
    config: dict[str, Any] = response.json()
    return config


def open_card(console: Console, new_context: Any) -> Any:
    """The admin console, signed in, with the Intents card showing the stored intents."""
    page = sign_in(new_context(), console.url, console.keys["admin"])
    assert page.url.endswith("/ui/admin")
    names = list(stored_config(console)["intents"])
    expect(page.locator(f"{CARD} textarea")).to_have_count(len(names))
    return page


def config_patches(page: Any) -> list[dict[str, Any]]:
    """The bodies of every PATCH /v1/agent/config the page sends from now on."""
    sent: list[dict[str, Any]] = []

    def record(request: Any) -> None:
        if request.method == "PATCH" and request.url.endswith("/v1/agent/config"):
            sent.append(json.loads(request.post_data or "null"))

    page.on("request", record)
    return sent


def test_an_intent_added_with_two_examples_is_stored_and_listed_after_a_reload(
    console: Console, new_context: Any
) -> None:
    before = stored_config(console)
    assert "gift_wrapping" not in before["intents"]
    page = open_card(console, new_context)
    card = page.locator(CARD)
    sent = config_patches(page)

    card.get_by_role("button", name="Add intent").click()
    name = card.get_by_label("New intent's name")
    expect(name).to_be_focused()
    name.fill("gift_wrapping")
    card.get_by_label("Its examples (one per line)").fill(
        "can you gift wrap my order\n\n  do you offer gift wrapping  \n"
    )
    card.get_by_role("button", name="Save intents").click()

    status = card.get_by_role("status")
    expect(status).to_contain_text("Saved (configuration version ")
    after = stored_config(console)
    expect(status).to_have_text(f"Saved (configuration version {after['version']}).")
    examples = ["can you gift wrap my order", "do you offer gift wrapping"]
    assert after["intents"]["gift_wrapping"] == examples
    others = {k: v for k, v in after["intents"].items() if k != "gift_wrapping"}
    assert others == before["intents"]  # only the new intent was sent
    assert sent == [{"intents": {"gift_wrapping": examples}, "version": before["version"]}]
    expect(card.get_by_role("alert")).to_be_hidden()

    # The autonomy card, read before that save, is still current: its Save is no conflict.
    behaviour = page.locator("#behaviour")
    behaviour.get_by_role("button", name="Save", exact=True).click()
    expect(behaviour.get_by_role("status")).to_have_text(
        f"Saved (configuration version {after['version'] + 1})."
    )

    page.reload()
    listed = page.locator(CARD).get_by_label("Examples of gift_wrapping (one per line)")
    expect(listed).to_have_value("\n".join(examples))
    expect(page.locator(f"{CARD} textarea")).to_have_count(len(after["intents"]))


def test_a_removed_intent_is_gone_from_the_configuration(
    console: Console, new_context: Any
) -> None:
    change_config(console, {"intents": {"store_credit": ["how do I use store credit",
                                                         "where is my store credit"]}})  # fmt: skip
    before = stored_config(console)
    page = open_card(console, new_context)
    card = page.locator(CARD)
    sent = config_patches(page)

    card.get_by_role("button", name="Remove intent store_credit").click()
    expect(card.get_by_role("button", name="Keep intent store_credit")).to_be_visible()
    card.get_by_role("button", name="Save intents").click()

    expect(card.get_by_role("status")).to_contain_text("Saved (configuration version ")
    after = stored_config(console)
    assert "store_credit" not in after["intents"]
    assert after["intents"] == {k: v for k, v in before["intents"].items() if k != "store_credit"}
    assert sent == [{"intents": {"store_credit": None}, "version": before["version"]}]
    expect(card.get_by_label("Examples of store_credit (one per line)")).to_have_count(0)


def test_an_intent_without_examples_or_name_is_refused_on_the_page_and_nothing_changes(
    console: Console, new_context: Any
) -> None:
    before = stored_config(console)
    page = open_card(console, new_context)
    card = page.locator(CARD)
    sent = config_patches(page)
    alert = card.get_by_role("alert")

    card.get_by_role("button", name="Add intent").click()
    card.get_by_label("New intent's name").fill("empty_intent")
    card.get_by_label("Its examples (one per line)").fill("  \n\n")
    card.get_by_role("button", name="Save intents").click()
    expect(alert).to_have_text(
        "Not saved: Intent 'empty_intent' has no examples: add example utterances, one per line."
    )

    card.get_by_label("New intent's name").fill("  ")
    card.get_by_label("Its examples (one per line)").fill("one example\nanother example")
    card.get_by_role("button", name="Save intents").click()
    expect(alert).to_have_text(
        "Not saved: A new intent needs a name: type one, or discard that intent."
    )

    page.wait_for_load_state("networkidle")
    assert sent == []
    assert stored_config(console) == before
    expect(card.get_by_role("status")).to_have_text("")


def test_removing_an_intent_that_autonomous_intents_lists_shows_the_servers_refusal(
    console: Console, new_context: Any
) -> None:
    change_config(console, {
        "intents": {"refund_timing": ["when will I get my refund", "how long do refunds take"]},
        "autonomy": "per_intent", "autonomous_intents": ["refund_timing"],
    })  # fmt: skip
    before = stored_config(console)
    page = open_card(console, new_context)
    card = page.locator(CARD)
    sent = config_patches(page)

    card.get_by_role("button", name="Remove intent refund_timing").click()
    card.get_by_role("button", name="Save intents").click()

    expect(card.get_by_role("alert")).to_have_text(
        "Not saved: invalid agent configuration at 'intents': refund_timing is listed in "
        "autonomous_intents; take it out of autonomous_intents in the same change"
    )
    assert sent == [{"intents": {"refund_timing": None}, "version": before["version"]}]
    assert stored_config(console) == before
    expect(card.get_by_role("status")).to_have_text("")
