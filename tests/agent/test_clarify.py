"""The clarifying question names the topics of the passages found, best first."""

from __future__ import annotations

import pytest

from agent.answer.clarify import (
    ASK_MORE,
    NOTHING_FOUND,
    chosen,
    guidelines_speak_to,
    naming,
    topics,
)
from knowledge.query import Turn
from knowledge.records import Chunk, ScoredChunk


def _scored(score: float, section: str = "", title: str = "", text: str = "x") -> ScoredChunk:
    return ScoredChunk(Chunk("doc", 1, 0, text, section=section), score, title)


def test_topics_are_deepest_headings_best_first_without_repeats() -> None:
    chunks = [
        _scored(0.4, "Shipping > Shipping Cost", "Shipping policy"),
        _scored(0.9, "Shipping > Shipping Status", "Shipping policy"),
        _scored(0.7, "Shipping > shipping status", "Shipping policy"),
        _scored(0.6, "", "Store hours"),
        _scored(0.2, "Returns > Refunds", "Returns"),
    ]
    assert topics(chunks) == ["Shipping Status", "Store hours", "Shipping Cost"]
    assert naming(topics(chunks)) == (
        'I want to make sure I answer the right question. Do you mean "Shipping Status", '
        '"Store hours" or "Shipping Cost"?'
    )


def _guideline(*sections: str, text: str = "x") -> list[ScoredChunk]:
    from knowledge.audience import AGENT, AUDIENCE

    return [
        ScoredChunk(Chunk("g", 1, i, text, section=name, metadata={AUDIENCE: AGENT}), 0.9, "")
        for i, name in enumerate(sections)
    ]


def test_a_guidelines_topics_are_never_named() -> None:
    """A guideline's section names are the agent's own ("Initiate Refund"): the demo's "How
    many loyalty points do I earn per dollar?" offered "Initiate Refund" and "Update Refund"
    before "Shipping costs" (session 34); asked "account", it offered "Account Access: Policy
    and Agent Procedures" (session 35)."""
    chunks = [
        *_guideline("Initiate Refund", "Update Refund"),
        _scored(0.5, "Help > Shipping costs"),
    ]
    assert topics(chunks) == ["Shipping costs"]
    assert naming(topics(chunks)) == ASK_MORE


def test_only_a_guideline_speaking_to_the_question_asks_for_more_detail() -> None:
    """Something was found, though not named: not "I couldn't find anything about that"."""
    chunks = [*_guideline("Manage Change Name", "Manage Change Address", text="change it")]
    asked = "I want to change something"
    assert topics(chunks, about=asked) == []
    assert guidelines_speak_to(chunks, about=asked)
    assert naming([], more_found=guidelines_speak_to(chunks, about=asked)) == ASK_MORE
    assert not guidelines_speak_to(chunks, about="Who is your CEO?")
    assert naming([], more_found=guidelines_speak_to(chunks, "Who is your CEO?")) == NOTHING_FOUND
    customers = [_scored(0.5, "Help > Changing an order", text="change the address")]
    assert not guidelines_speak_to(customers, about=asked)  # named instead


def test_two_topics_read_as_a_choice_of_two() -> None:
    chunks = [_scored(0.8, "A > Refunds"), _scored(0.5, "B > Exchanges")]
    assert naming(topics(chunks)).endswith('Do you mean "Refunds" or "Exchanges"?')


def test_one_topic_asks_for_more_detail() -> None:
    assert naming(topics([_scored(0.9, "Returns"), _scored(0.3, "Returns")])) == ASK_MORE
    assert topics([_scored(0.5)]) == ["doc"]  # no heading, no title: the document's id
    assert naming(topics([_scored(0.5)])) == ASK_MORE


def test_nothing_found_says_so() -> None:
    assert naming(topics([])) == NOTHING_FOUND
    assert NOTHING_FOUND.startswith("I couldn't find anything about that")


def test_a_long_heading_is_shortened() -> None:
    (topic,) = topics([_scored(0.5, "Policy > " + "very long heading " * 10)])
    assert len(topic) <= 80 and topic.endswith("…")


def test_passages_that_share_no_word_with_the_question_are_not_named() -> None:
    """Asked "Who is your CEO?", the demo named three unrelated procedures' headings ("Do you
    mean "Manage Change Name", "Manage Extension" or "Status Active"?"): none of those
    passages mentions a word of the question, so there is nothing to choose between."""
    chunks = [
        _scored(0.9, "Account > Manage Change Name", text="Update the name on the account."),
        _scored(0.8, "Billing > Manage Extension", text="Ask for an extension of the bill."),
        _scored(0.7, "Orders > Shipping Status", text="Shipping takes three to five days."),
        _scored(0.6, "Orders > Shipping Cost", text="Standard shipping costs $5."),
    ]
    assert topics(chunks, about="Who is your CEO?") == []
    assert naming(topics(chunks, about="Who is your CEO?")) == NOTHING_FOUND
    # a question the passages do speak to still gets the options, matched by stem
    assert topics(chunks, about="What about shipping?") == ["Shipping Status", "Shipping Cost"]
    assert topics(chunks, about="") == topics(chunks)  # nothing to match: all are named


def test_a_list_lead_in_is_not_named_as_a_topic() -> None:
    """The demo offered "membership level. - Gold members:" as an option: the parser had
    taken a list's lead-in for the deepest heading."""
    chunk = _scored(
        0.9, "Returns > Check membership privileges > membership level. - Gold members:"
    )
    assert topics([chunk]) == ["Check membership privileges"]
    assert topics([_scored(0.5, "Orders:", "Order help")]) == ["Order help"]


def test_a_topic_that_names_what_was_asked_comes_first() -> None:
    """Asked "How much is shipping?", the demo offered "Status Quantity" and "Manage
    Upgrade" (order-issue procedures whose text mentions shipping) before the help
    centre's "Shipping costs", the passage scored fourth; and it named "Shipping Cost" of
    another document as a third option, the same topic."""
    chunks = [
        _scored(0.9, "Order Issue > Status Quantity", text="the shipping was wrong"),
        _scored(0.8, "Order Issue > Manage Upgrade", text="upgrade the shipping"),
        _scored(0.7, "Refunds", text="refunds include shipping"),
        _scored(0.6, "Help > Shipping costs", text="standard is $8.00"),
        _scored(0.5, "Guide > Shipping Cost", text="ground shipping is $8.00"),
    ]
    assert topics(chunks, about="How much is shipping?") == [
        "Shipping costs",
        "Status Quantity",
        "Manage Upgrade",
    ]


ASKED = (
    Turn("user", "How much does it cost?"),
    Turn("assistant", naming(["Shipping costs", "Status Quantity", "Premium subscription"])),
)


@pytest.mark.parametrize(
    ("answer", "option"),
    [
        ("Shipping costs", "Shipping costs"),
        ("shipping", "Shipping costs"),
        ("premium", "Premium subscription"),
        ("the third one", "Premium subscription"),
        ("2", "Status Quantity"),
        ("The last one please", "Premium subscription"),
    ],
)
def test_the_answer_to_a_clarifying_question_picks_an_option(answer: str, option: str) -> None:
    found = chosen(ASKED, answer)
    assert found is not None and found.option == option
    assert found.question == "How much does it cost?"


def test_an_answer_that_picks_no_single_option_is_none() -> None:
    assert chosen(ASKED, "How long does delivery take?") is None  # a new question
    assert chosen(ASKED, "4") is None  # three options
    both = (ASKED[0], Turn("assistant", naming(["Returns", "Returned items", "Refunds"])))
    assert chosen(both, "returns").option == "Returns"  # type: ignore[union-attr]  # exactly
    alike = (ASKED[0], Turn("assistant", naming(["Return policy", "Returned items", "Refunds"])))
    assert chosen(alike, "returns") is None  # the first two alike
    answered = (ASKED[0], Turn("assistant", "Standard shipping is $8.00 per order."))
    assert chosen(answered, "the first one") is None  # the last reply named no options
