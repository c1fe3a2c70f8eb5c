"""The routed set (tests/data/routing/demo_turns.jsonl) through the real agent of the demo
tenant, set up as `make run` does (real SQLite, Chroma, ingestion, procedures and the sample
actions service), without the HTTP server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.routing import Routed, accuracy, demo_runtime, load_set, run_set


@pytest.fixture(scope="module")
def routed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Routed]]:
    runtime, server = demo_runtime(tmp_path_factory.mktemp("routing") / "data")
    try:
        yield run_set(runtime, load_set())
    finally:
        runtime.close()
        server.stop()


def test_the_set_covers_what_it_must() -> None:
    conversations = load_set()
    turns = [t for c in conversations for t in c["turns"]]  # type: ignore[attr-defined]
    routes = {t["route"] for t in turns}
    assert len(turns) >= 60
    procedures = {p.stem for p in Path("examples/procedures").glob("*.yaml")}
    assert {f"procedure:{p}" for p in procedures} <= routes
    assert {"knowledge", "slot", "close", "handoff"} <= routes


@pytest.mark.slow
def test_routing_accuracy_on_the_routed_set(routed: list[Routed]) -> None:
    misses = [r for r in routed if r.expected != r.routed]
    assert accuracy(routed) >= 0.95, misses


@pytest.mark.slow
def test_a_general_question_on_a_procedure_topic_is_answered_from_knowledge(
    routed: list[Routed],
) -> None:
    shipping = next(r for r in routed if r.text == "How long does shipping take?")
    assert shipping.routed == "knowledge" and "order number" not in shipping.reply


@pytest.mark.slow
def test_a_question_during_an_ask_step_is_answered_and_the_step_asked_again(
    routed: list[Routed],
) -> None:
    turns = [r for r in routed if r.conversation == "conv-07"]  # subscription, then payment
    assert turns[1].routed == "knowledge" and turns[1].rule == "question"
    assert 'Back to "Check and pay the premium subscription"' in turns[1].reply
    assert turns[2].routed == "slot"


@pytest.mark.slow
def test_never_mind_closes_the_procedure_with_a_line(routed: list[Routed]) -> None:
    turn = next(r for r in routed if r.conversation == "conv-06" and r.routed == "close")
    assert turn.reply.startswith('I\'ve stopped "Reset a password".'), turn.reply


@pytest.mark.slow
def test_a_new_request_closes_the_waiting_procedure_and_starts_its_own(
    routed: list[Routed],
) -> None:
    switch = [r for r in routed if r.conversation == "conv-04"][1]
    assert switch.routed == "procedure:reset-password" and switch.rule == "switch"
    assert switch.reply.startswith('I\'ve stopped "Change the delivery address of an order".')


@pytest.mark.slow
def test_a_question_about_what_the_company_does_is_answered_from_knowledge(
    routed: list[Routed],
) -> None:
    """Found in the demo: "Do you ask for my password by email?" started the password reset
    ("my" read as the user's own case) and "Do you ship to my country?" asked for an order
    number. "Do you know where my order is?" still starts the order lookup."""
    by_text = {r.text: r for r in routed}
    for text in ("Do you ask for my password by email?", "Do you ship to my country?"):
        assert by_text[text].routed == "knowledge", by_text[text]
    assert by_text["Do you know where my order is?"].routed == "procedure:order-status"
