"""Fitting the reply's confidence: what "right" means for a re-decided turn, that the maps
are calibrated where P(answerable) alone is not, and that folds keep conversations whole."""

from __future__ import annotations

import numpy as np

from training.answerability import reply_calibration as rc


def turn(
    dataset: str = "a",
    id: str = "q",
    answerable: bool | None = True,
    p: float = 0.9,
    verified: bool = True,
    cited: tuple[str, ...] = ("doc",),
    references: tuple[str, ...] = ("doc",),
    text: str = "",
    reference_answer: str = "",
    knowledge: bool = True,
    proposed: str = "answered",
) -> rc.Turn:
    return rc.Turn(
        dataset, id, answerable, False, knowledge, proposed, {"model": p}, verified, cited,
        text, references, reference_answer,
    )  # fmt: skip


def test_a_turn_is_answered_when_a_sentence_survived_and_p_reaches_the_threshold() -> None:
    assert rc.answers(turn(p=0.9), "model", 0.9)
    assert not rc.answers(turn(p=0.89), "model", 0.9)
    assert not rc.answers(turn(p=0.99, verified=False), "model", 0.9)
    # a procedure or human-request turn keeps what the agent did, whatever P says
    assert rc.answers(turn(p=0.0, knowledge=False), "model", 0.9)
    assert not rc.answers(turn(p=1.0, knowledge=False, proposed="handoff"), "model", 0.9)


def test_right_is_eval_answers_definition() -> None:
    assert rc.right(turn(), True)
    assert not rc.right(turn(cited=("other",)), True)  # answered from the wrong page
    assert not rc.right(turn(), False)  # declined an answerable question
    assert rc.right(turn(answerable=False), False)
    assert not rc.right(turn(answerable=False), True)
    # without reference documents: token F1 against the reference answer, >= 0.5
    no_refs = {"references": (), "reference_answer": "within 10 days"}
    assert rc.right(turn(text="It takes 10 days.", **no_refs), True)  # type: ignore[arg-type]
    assert not rc.right(turn(text="Apply online.", **no_refs), True)  # type: ignore[arg-type]


def synthetic(seed: int, dataset: str, n: int = 400) -> list[rc.Turn]:
    """Answered turns are right 60% of the time whatever P; declined turns right 20%."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        p = float(rng.uniform(0.5, 0.99))
        answerable = bool(rng.uniform() < (0.8 if p < 0.9 else 1.0))
        cited = ("doc",) if rng.uniform() < 0.6 else ("other",)
        out.append(turn(dataset, f"{dataset}{i}<::>{i % 3}", answerable, p, cited=cited))
    return out


def test_the_fitted_maps_are_calibrated_where_p_answerable_is_not() -> None:
    turns = synthetic(1, "a") + synthetic(2, "b")
    reply = rc.fit(rc.examples(turns, "model", 0.9))
    before = rc.reply_ece(turns, "model", 0.9, rc.unmapped("model"))
    after = rc.reply_ece(turns, "model", 0.9, rc.mapped(reply, "model"))
    assert before > 0.15  # P ~0.95 on answers that are right 60% of the time
    assert after < 0.06
    assert abs(reply.confidence(0.95, True) - 0.6) < 0.08
    held_out = rc.reply_ece(synthetic(3, "c"), "model", 0.9, rc.mapped(reply, "model"))
    assert held_out < 0.08


def test_a_map_fitted_on_all_right_or_all_wrong_replies_is_a_constant() -> None:
    rows = [rc.Example("a", str(i), 0.5 + i / 100, True, True) for i in range(10)]
    reply = rc.fit(rows)
    assert reply.answered[0] == 0.0 and reply.confidence(0.6, True) > 0.98
    assert reply.declined == (0.0, 0.0)  # no declined rows: even odds


def test_folds_keep_a_conversations_turns_together_and_are_stable() -> None:
    turns = [turn(id=f"c{i // 4}<::>{i % 4}") for i in range(200)]
    parts = rc.folds(turns, 5)
    assert sum(len(p) for p in parts) == 200 and all(parts)
    for part in parts:
        for t in part:
            assert all(t.conversation not in {x.conversation for x in other}
                       for other in parts if other is not part)  # fmt: skip
    assert [[t.id for t in p] for p in rc.folds(turns, 5)] == [[t.id for t in p] for p in parts]


def test_retraining_keeps_the_blend_and_reply_map_only_for_the_same_head_and_calibration() -> None:
    old = {
        "files": {"head.npz": "abc"},
        "calibration": {"a": 1.0, "b": 2.0},
        "reply_calibration": {"answered": {"a": 0.5, "b": 0.5}},
        "blend": {"model_weight": 0.5},
    }
    same = {"files": {"head.npz": "abc"}, "calibration": {"a": 1.0, "b": 2.0}}
    kept = {"reply_calibration": old["reply_calibration"], "blend": old["blend"]}
    assert rc.carried_over(old, same) == kept
    assert rc.carried_over(old, {**same, "files": {"head.npz": "def"}}) == {}
    assert rc.carried_over(old, {**same, "calibration": {"a": 1.1, "b": 2.0}}) == {}
    assert rc.carried_over({**same}, same) == {}
