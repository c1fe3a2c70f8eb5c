"""Misspelt words of a question, corrected to the words of the tenant's knowledge."""

from __future__ import annotations

from collections import Counter

from knowledge.spelling import corrected, corrections

KNOWLEDGE = Counter(
    ["return"] * 3
    + ["returns", "refund", "shipping", "shipping", "accommodation", "packers", "reaches"]
    + ["caesarean", "placed"]
)


def test_a_word_one_edit_from_the_knowledges_is_corrected() -> None:
    """Swapped, left out, added and changed letters: the demo's "retrun policy" was asked
    back, as were ConditionalQA's "accomodation" questions."""
    assert corrections("retrun policy", KNOWLEDGE) == {"retrun": "return"}
    assert corrections("how do i retun jeans", KNOWLEDGE) == {"retun": "return"}
    assert corrections("shiping costs", KNOWLEDGE) == {"shiping": "shipping"}
    assert corrections("rental accomodation", KNOWLEDGE) == {"accomodation": "accommodation"}
    assert corrected("How do I retrun it?", {"retrun": "return"}) == "How do I return it?"


def test_of_several_the_word_the_knowledge_holds_most_often_wins() -> None:
    assert corrections("retunr", KNOWLEDGE | Counter({"retune": 1})) == {"retunr": "return"}


def test_english_words_names_and_short_words_are_left_alone() -> None:
    """An English word is no typo though the knowledge lacks it ("hackers" is one edit from
    "packers"; mtrag_dev's "hackers and security breaches" became "packers ... reaches"),
    nor is a capitalised word inside a sentence (mtrag_dev's "Placer County" became
    "place"), nor a word under five letters."""
    assert corrections("hackers and security breaches", KNOWLEDGE) == {}
    assert corrections("What is Placer County famous for?", KNOWLEDGE) == {}
    assert corrections("retrn", Counter({"return": 1})) == {"retrn": "return"}
    assert corrections("retn", Counter({"rein": 1})) == {}
    assert corrections("Return policy", KNOWLEDGE) == {}  # a word of the knowledge
    assert corrections("", KNOWLEDGE) == {}


def test_a_word_far_from_every_word_of_the_knowledge_stays() -> None:
    assert corrections("xylophoen", KNOWLEDGE) == {}
    assert corrected("xylophoen", {}) == "xylophoen"
