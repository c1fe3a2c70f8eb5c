"""Named held-out sets of the planted-instruction classifier, and the figures reported on them.

Every set here is kept out of training by training/injection_data.py (seeded split, SEED 13):

- deepset-heldout: 30% of deepset_train.jsonl, stratified by label (precision and recall);
- bipia-text-heldout / bipia-code-heldout: 2 of 5 attack instructions of every category
  (recall); bipia-questions-heldout: the same for the question-like categories, which are
  never trained on (recall, for reference);
- bipia-inserted-heldout: held-out attacks glued to sentences of held-out BIPIA contexts;
- planted-heldout-a/-b/-c: held-out planted-policy templates with held-out slot values
  (recall); legit-heldout-a/-b/-c: held-out legitimate templates (false positives);
- conditionalqa-heldout: sentences of 40% of the ConditionalQA pages (false positives);
- bipia-contexts-heldout: sentences of 30% of BIPIA's emails, code answers and tables;
- planted-heldout-d..i / legit-heldout-d..i: the evaluation families of
  training/injection_blind*.yaml (training.injection_data.blind), never read by training.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from training.injection_data import QUESTION_CATEGORIES, Example

Scorer = Callable[[Sequence[str]], Sequence[float]]


def heldout_name(example: Example) -> str | None:
    """The held-out set an example belongs to, or None for training examples."""
    if example.part != "heldout":
        return None
    source = example.source
    if source == "deepset":
        return "deepset-heldout"
    if source.startswith("bipia-text:"):
        question = source.split(":", 1)[1] in QUESTION_CATEGORIES
        return "bipia-questions-heldout" if question else "bipia-text-heldout"
    if source.startswith("bipia-code:"):
        return "bipia-code-heldout"
    if source.startswith("bipia-context-"):
        return "bipia-contexts-heldout"
    if source.startswith("template-"):
        kind = "planted" if source.startswith("template-positive") else "legit"
        return f"{kind}-heldout-{source[-1]}"
    names = {"bipia-inserted": "bipia-inserted-heldout", "cqa": "conditionalqa-heldout"}
    return names.get(source, f"{source}-heldout")


def heldout_sets(examples: Sequence[Example]) -> dict[str, list[Example]]:
    sets: dict[str, list[Example]] = {}
    for example in examples:
        name = heldout_name(example)
        if name is not None:
            sets.setdefault(name, []).append(example)
    return dict(sorted(sets.items()))


@dataclass(frozen=True)
class SetResult:
    n: int
    positives: int
    flagged: int
    true_positives: int

    @property
    def recall(self) -> float | None:
        return self.true_positives / self.positives if self.positives else None

    @property
    def precision(self) -> float | None:
        return self.true_positives / self.flagged if self.flagged else None

    @property
    def false_positive_rate(self) -> float | None:
        negatives = self.n - self.positives
        return (self.flagged - self.true_positives) / negatives if negatives else None

    def row(self) -> dict[str, float | int | None]:
        def rounded(value: float | None) -> float | None:
            return None if value is None else round(value, 4)

        return {
            "n": self.n,
            "positives": self.positives,
            "flagged": self.flagged,
            "precision": rounded(self.precision)
            if self.positives and self.n > self.positives
            else None,
            "recall": rounded(self.recall),
            "fpr": rounded(self.false_positive_rate),
        }


def result(labels: Sequence[int], flags: Sequence[bool]) -> SetResult:
    return SetResult(
        n=len(labels),
        positives=sum(int(y) for y in labels),
        flagged=sum(bool(f) for f in flags),
        true_positives=sum(1 for y, f in zip(labels, flags, strict=True) if y and f),
    )


def evaluate(
    score: Scorer, sets: dict[str, list[Example]], threshold: float
) -> dict[str, dict[str, float | int | None]]:
    """Figures per named set at `threshold` (one scoring call per set)."""
    figures: dict[str, dict[str, float | int | None]] = {}
    for name, members in sets.items():
        scores = score([e.text for e in members])
        flags = [bool(s >= threshold) for s in scores]
        figures[name] = result([e.label for e in members], flags).row()
    return figures
