"""Calibrating the reply's confidence: P(the reply is right), not P(answerable).

`clearline eval answers` calls a reply right when it answers an answerable question citing
one of its reference documents (without reference documents: token F1 >= 0.5 against the
reference answer), or declines (clarifies or hands off) an unanswerable one. P(answerable)
estimates neither: an answered reply can quote the wrong page, and a declined reply is
mostly an answerable question the agent could not answer. So the reply's confidence is
a map of its own, one per kind of reply:

    confidence = sigmoid(a_kind * logit(P(answerable)) + b_kind),  kind: answered | declined

fitted (Platt scaling, each dev set weighted equally) on turns the agent actually ran
(`bench/calibration_fit.py` collects them). Everything here works on those recorded turns,
so thresholds and readers can be re-decided without running the agent again: a turn is
answered when at least one sentence survived verification and P >= the threshold.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]

from evaluation.answers import expected_calibration_error, token_f1

KINDS = ("answered", "declined")
_EDGE = 1e-4  # P is recorded to 4 decimals; keep its logit finite


@dataclass(frozen=True)
class Turn:
    """One dev question as the agent ran it (`bench/calibration_fit.py collect`)."""

    dataset: str
    id: str
    answerable: bool | None
    underspecified: bool
    knowledge: bool  # decided by the knowledge rules (P and verification), not a procedure
    proposed: str  # what the agent did: answered | clarify | handoff
    p: dict[str, float]  # reader name -> P(answerable) it gave this turn
    verified: bool  # at least one composed sentence survived verification
    cited: tuple[str, ...]  # documents the verified sentences cite
    text: str  # the verified sentences, as the answer would read
    reference_doc_ids: tuple[str, ...]
    reference_answer: str
    # the reading's similarity, coverage, agreement (to re-score with other feature weights)
    features: dict[str, float] = field(default_factory=dict)

    @property
    def conversation(self) -> str:
        """mtrag ids are '<conversation><::><turn>'; a ConditionalQA id is its own."""
        return self.id.split("<::>")[0]


def load_turns(paths: Sequence[Path]) -> list[Turn]:
    """The turns recorded by `bench/calibration_fit.py collect` (JSON lines)."""
    turns = []
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            data = json.loads(line)
            data["cited"] = tuple(data["cited"])
            data["reference_doc_ids"] = tuple(data["reference_doc_ids"])
            turns.append(Turn(**data))
    return turns


def rates(turns: Sequence[Turn], reader: str, t: float) -> dict[str, dict[str, float]]:
    """Answered and declined rates per dev set with `reader` at threshold `t` (turns
    labelled underspecified left out, as `eval answers` does)."""
    out = {}
    for d in sorted({x.dataset for x in turns}):
        mine = [x for x in turns if x.dataset == d and not x.underspecified]
        yes = [answers(x, reader, t) for x in mine if x.answerable is not False]
        no = [not answers(x, reader, t) for x in mine if x.answerable is False]
        out[d] = {"answered": round(sum(yes) / len(yes), 4),
                  "declined": round(sum(no) / len(no), 4)}  # fmt: skip
    return out


def answers(turn: Turn, reader: str, threshold: float) -> bool:
    """Whether the turn is answered with `reader`'s P at `threshold` (knowledge turns);
    other turns keep what the agent did."""
    if not turn.knowledge:
        return turn.proposed == "answered"
    return turn.verified and turn.p[reader] >= threshold


def right(turn: Turn, answered: bool) -> bool:
    """evaluation.answers' "right" for this turn answered or not."""
    if turn.answerable is False:
        return not answered
    if not answered:
        return False
    if turn.reference_doc_ids:
        return bool(set(turn.reference_doc_ids) & set(turn.cited))
    return token_f1(turn.text, turn.reference_answer) >= 0.5


def logit(p: float) -> float:
    q = min(max(p, _EDGE), 1 - _EDGE)
    return math.log(q / (1 - q))


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(min(x, 60.0), -60.0)))


@dataclass(frozen=True)
class ReplyMap:
    """(a, b) per kind of reply: confidence = sigmoid(a * logit(P) + b)."""

    answered: tuple[float, float]
    declined: tuple[float, float]

    def confidence(self, p: float, answered: bool) -> float:
        a, b = self.answered if answered else self.declined
        return sigmoid(a * logit(p) + b)

    def as_dict(self) -> dict[str, dict[str, float]]:
        return {
            k: {"a": round(v[0], 6), "b": round(v[1], 6)}
            for k, v in (("answered", self.answered), ("declined", self.declined))
        }


@dataclass(frozen=True)
class Example:
    """A knowledge turn re-decided: its P, whether answered, whether right, its set."""

    dataset: str
    group: str
    p: float
    answered: bool
    right: bool


def examples(turns: Sequence[Turn], reader: str, threshold: float) -> list[Example]:
    out = []
    for t in turns:
        if t.knowledge:
            done = answers(t, reader, threshold)
            out.append(Example(t.dataset, t.conversation, t.p[reader], done, right(t, done)))
    return out


def _platt(rows: Sequence[Example]) -> tuple[float, float]:
    """Logistic fit of right on logit(P), each dev set weighted equally; a constant
    (a = 0) when the rows are all right or all wrong."""
    y = np.array([r.right for r in rows], dtype=int)
    if not rows:
        return 0.0, 0.0
    if y.min() == y.max():
        share = min(max(float(y.mean()), 0.01), 0.99)
        return 0.0, math.log(share / (1 - share))
    x = np.array([[logit(r.p)] for r in rows])
    sizes = Counter(r.dataset for r in rows)
    weights = np.array([1.0 / sizes[r.dataset] for r in rows])
    fitted = LogisticRegression(C=1e4, max_iter=1000).fit(x, y, sample_weight=weights)
    return float(fitted.coef_[0][0]), float(fitted.intercept_[0])


def fit(rows: Sequence[Example]) -> ReplyMap:
    """One Platt map per kind of reply on the knowledge turns `rows`."""
    return ReplyMap(
        _platt([r for r in rows if r.answered]), _platt([r for r in rows if not r.answered])
    )


Confidence = Callable[[Turn, bool], float]


def reply_ece(turns: Sequence[Turn], reader: str, threshold: float, conf: Confidence) -> float:
    """ECE of every turn's reply confidence against right, as `eval answers` computes it;
    turns that are not knowledge turns keep the agent's own confidence (`conf` sees them
    too and decides)."""
    values, oks = [], []
    for t in turns:
        done = answers(t, reader, threshold)
        values.append(conf(t, done))
        oks.append(right(t, done))
    return expected_calibration_error(values, oks)


def mapped(reply: ReplyMap, reader: str) -> Confidence:
    def conf(turn: Turn, answered: bool) -> float:
        if not turn.knowledge:
            return 1.0
        return reply.confidence(turn.p[reader], answered)

    return conf


def unmapped(reader: str) -> Confidence:
    """The confidence before this change: P when answered, 1 - P when declined."""

    def conf(turn: Turn, answered: bool) -> float:
        if not turn.knowledge:
            return 1.0
        p = turn.p[reader]
        return p if answered else 1 - p

    return conf


def folds(turns: Sequence[Turn], k: int) -> list[list[Turn]]:
    """k folds of whole conversations (a conversation's turns stay together), assigned by
    a stable hash of the conversation id, so reruns give the same folds."""
    out: list[list[Turn]] = [[] for _ in range(k)]
    for t in turns:
        out[_stable(t.conversation) % k].append(t)
    return out


def _stable(text: str) -> int:
    value = 2166136261
    for byte in text.encode("utf-8"):
        value = ((value ^ byte) * 16777619) % (1 << 32)
    return value


def carried_over(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """`blend` and `reply_calibration` from the `old` manifest when the `new` one has the same
    files (head and encoder) and Platt calibration (the same P(answerable), so they hold); else {}
    (retrained: choose the blend and fit the map again, bench/calibration_blend.py and
    bench/calibration_fit.py)."""
    same = old.get("files") == new.get("files") and old.get("calibration") == new.get("calibration")
    if not same:
        return {}
    return {k: old[k] for k in ("blend", "reply_calibration") if old.get(k) is not None}
