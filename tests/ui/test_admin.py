"""The admin console in a real browser: two files dropped at once (one unreadable) show a
job's progress and the bad file's error in plain words; a procedure's validation error is
shown next to its line; markup in a document's title stays text; switches and keys work."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.ui.serve import XSS, Console, assert_nothing_ran, send, sign_in

pytestmark = pytest.mark.browser

GOOD = "# Gift wrapping\n\nGift wrapping costs $4 per item and is available for every order.\n"
BAD = "%PDF-1.7\nthis is not really a PDF at all\n"


def drop_files(page: Any, files: dict[str, str]) -> None:
    """Drag and drop: a `drop` event carrying the files, as the browser sends it."""
    transfer = page.evaluate_handle(
        """(files) => {
            const transfer = new DataTransfer();
            for (const [name, text] of Object.entries(files)) {
                transfer.items.add(new File([text], name));
            }
            return transfer;
        }""",
        files,
    )
    page.dispatch_event("#dropzone", "drop", {"dataTransfer": transfer})


def test_dropping_two_files_shows_progress_and_the_bad_files_error(
    console: Console, new_context: Any
) -> None:
    page = sign_in(new_context(), console.url, console.keys["admin"])
    assert page.url.endswith("/ui/admin")
    rows = page.locator("#knowledge tbody tr")
    expect(rows).not_to_have_count(0)
    before = rows.count()

    drop_files(page, {"gift-wrapping.md": GOOD, "broken.pdf": BAD})

    job = page.locator(".job").first
    expect(job.locator("strong").first).to_have_text("2 files: gift-wrapping.md, broken.pdf")
    progress = job.locator("progress")
    expect(progress).to_have_attribute("value", "1")
    expect(job.get_by_text("2 of 2 files read (100%)")).to_be_visible()
    expect(job.locator(".badge")).to_have_text("Done, with problems")
    good = job.locator('li[data-file="gift-wrapping.md"]')
    bad = job.locator('li[data-file="broken.pdf"]')
    expect(good).to_contain_text("added (1 passage)")
    expect(bad).to_have_class("result-failed")
    expect(bad).to_contain_text("could not be added.")
    assert len(bad.inner_text()) > len("broken.pdf: could not be added. ") + 10
    expect(rows).to_have_count(before + 1)
    expect(page.locator('#knowledge tr[data-document="gift-wrapping.md"]')).to_be_visible()


def test_markup_in_a_document_is_shown_as_text_and_the_source_can_be_deleted(
    console: Console, new_context: Any
) -> None:
    admin = sign_in(new_context(), console.url, console.keys["admin"])
    text = f"On Zorblax Day the store opens at 10am and closes at 4pm, as the sign {XSS} says.\n"
    admin.locator("#file-input").set_input_files(
        [{"name": "zorblax.txt", "mimeType": "text/plain", "buffer": text.encode()}]
    )
    row = admin.locator('#knowledge tr[data-document="zorblax.txt"]')
    expect(row).to_be_visible()

    customer = sign_in(new_context(), console.url, console.keys["end_user"])
    send(customer, "What are the opening hours on Zorblax Day?")
    reply = customer.locator("li.msg-assistant").last
    expect(reply.locator(".bubble")).to_contain_text(XSS)
    reply.locator("details.cite summary").first.click()
    expect(reply.locator("details.cite blockquote").first).to_contain_text(XSS)
    assert_nothing_ran(customer)

    admin.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Delete").click()
    expect(row).to_have_count(0)
    assert_nothing_ran(admin)


def test_an_upload_states_who_the_file_is_written_for_and_the_list_shows_it_and_changes_it(
    console: Console, new_context: Any
) -> None:
    page = sign_in(new_context(), console.url, console.keys["admin"])
    drop_files(page, {"wrapping-notes.md": GOOD})
    row = page.locator('#knowledge tr[data-document="wrapping-notes.md"]')
    expect(row.locator("td.audience")).to_have_text("Customers (detected)")

    page.get_by_label("The files are written for").select_option("agent")
    drop_files(page, {"wrapping-notes.md": GOOD})  # the same bytes, now stated
    expect(page.locator(".job").first.locator("li")).to_contain_text("updated")
    expect(row.locator("td.audience")).to_have_text("Agents (set by you)")

    row.get_by_role("button", name="Mark as for customers").click()  # no upload needed
    expect(row.locator("td.audience")).to_have_text("Customers (set by you)")
    expect(row.get_by_role("button", name="Mark as for agents")).to_be_visible()
    assert page.locator("#knowledge .alert.error").first.is_hidden()


def test_a_procedure_error_is_shown_next_to_its_line(console: Console, new_context: Any) -> None:
    page = sign_in(new_context(), console.url, console.keys["admin"])
    editor = page.get_by_label("YAML")
    expect(editor).to_have_value(re.compile(r"^# |^id: ", re.M))  # the first procedure
    page.get_by_role("button", name="New").click()
    broken = "id: broken\ntitle: Broken\nintents: [x]\nsteps:\n  - id: one\n    reply: [unclosed\n"
    editor.fill(broken)
    page.get_by_role("button", name="Validate and save").click()
    error = page.locator("#procedure-error")
    expect(error.locator(".alert")).to_contain_text("invalid YAML")
    line = error.locator(".line.err")
    expect(line).to_have_count(1)
    number = int(line.get_attribute("data-line") or 0)
    assert 6 <= number <= 8, number
    expect(error.locator(".line-msg")).to_contain_text("invalid YAML")


def test_a_feature_switch_and_a_new_key(console: Console, new_context: Any) -> None:
    page = sign_in(new_context(), console.url, console.keys["admin"])
    switch = page.get_by_role("switch", name="sentiment")
    expect(switch).to_be_checked()
    switch.press("Space")  # keyboard only
    expect(switch).not_to_be_checked()
    row = page.locator(".switch").filter(has=switch)
    expect(row.locator(".badge").last).to_have_text("off")  # the server's answer
    assert not console.runtime.agents.config("demo").enabled("sentiment")
    generative = page.locator(".switch").filter(has_text="generative_composition")
    expect(generative.locator(".badge.gen")).to_have_text("generative")

    page.get_by_label("Role").select_option("qa_lead")
    page.get_by_label("Label").fill("new QA lead")
    page.get_by_role("button", name="Create key").click()
    secret = page.locator(".secret")
    expect(secret).to_contain_text("cl_")
    principal = console.runtime.tenants.authenticate(secret.inner_text().strip())
    assert (principal.tenant, principal.role) == ("demo", "qa_lead")
    expect(page.locator("#keys tbody tr").filter(has_text="new QA lead")).to_contain_text("active")


def test_thresholds_are_saved_from_the_form_and_a_bad_one_is_refused(
    console: Console, new_context: Any
) -> None:
    page = sign_in(new_context(), console.url, console.keys["admin"])
    switch = page.get_by_label("Switch procedures at intent ≥")
    expect(switch).to_have_value("0.8")
    switch.fill("0.9")
    form = page.locator("form").filter(has=switch)
    form.get_by_role("button", name="Save").click()
    expect(form.get_by_role("status")).not_to_be_empty()
    assert console.runtime.agents.config("demo").thresholds.switch == 0.9
    switch.fill("1.5")  # beyond what the browser's own check allows: the server says why
    switch.evaluate("input => input.removeAttribute('max')")
    form.get_by_role("button", name="Save").click()
    expect(form.get_by_role("alert")).to_contain_text("thresholds.switch")
    assert console.runtime.agents.config("demo").thresholds.switch == 0.9
    switch.fill("")  # an emptied field puts the default back, and shows it
    form.get_by_role("button", name="Save").click()
    expect(switch).to_have_value("0.8")
    assert console.runtime.agents.config("demo").thresholds.switch == 0.8
    own = console.runtime.answerability.own_threshold("model")
    expect(page.get_by_label("Answer at confidence ≥")).to_have_attribute(
        "placeholder", f"the reader's own, {own}"
    )
    clarify = page.get_by_label("Ask to clarify at ≥")  # session 48: above it, never asked
    clarify.fill("0.95")
    form.get_by_role("button", name="Save").click()
    refused = f"above the answer threshold in effect, {own}"
    expect(form.get_by_role("alert")).to_contain_text(refused)
    assert console.runtime.agents.config("demo").thresholds.clarify == 0.3
