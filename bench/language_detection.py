"""How often a short English message is read, with confidence, as another language, and how
often a short message in another language is missed: langdetect alone against the two
detectors together (agent/understand/language.py).

English: every question of 3 to 12 words in ConditionalQA dev, mtrag_dev, the demo's
golden set, examples/customer_questions.jsonl and the routed set. Other languages: the short
customer-service messages below (fr, de, es, it, pt, nl). No language: values an end user
types when a procedure asks (addresses, names, products; `VALUES`), which must not be read
confidently as any language but English. "Confident" is the route step's bar for acting on
a language (0.8, agent/route.py).

    .venv/bin/python -m bench.language_detection
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from service.offline import go_offline

go_offline()  # before any library reads its settings at import

from agent.understand.language import _langdetect, detect_language  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
CONFIDENT = 0.8
MAX_WORDS = 12
OTHERS = {
    "fr": ["Où est ma commande ?", "Je veux un remboursement", "Combien coûte la livraison ?",
           "J'ai oublié mon mot de passe", "Pouvez-vous m'aider avec mon compte ?",
           "Je voudrais changer mon adresse de livraison"],
    "de": ["Wo ist meine Bestellung?", "Ich möchte mein Geld zurück",
           "Wie lange dauert der Versand?", "Ich habe mein Passwort vergessen",
           "Kann ich meine Bestellung stornieren?"],
    "es": ["¿Dónde está mi pedido?", "Quiero devolver mis zapatos", "¿Cuánto cuesta el envío?",
           "Olvidé mi contraseña", "Necesito cambiar mi dirección"],
    "it": ["Dov'è il mio ordine?", "Voglio un rimborso", "Quanto costa la spedizione?",
           "Ho dimenticato la password", "Posso cambiare indirizzo?"],
    "pt": ["Onde está a minha encomenda?", "Quero devolver os sapatos", "Quanto custa o envio?",
           "Esqueci a minha senha"],
    "nl": ["Waar is mijn bestelling?", "Ik wil mijn geld terug",
           "Hoe lang duurt de verzending?", "Ik ben mijn wachtwoord vergeten"],
}  # fmt: skip
# The first four were seen when LANGID_FLOOR was chosen (session 37); the rest were written
# before measuring them.
VALUES = [
    "12 Oak Street, Springfield, IL 62701", "45 Elm Road, Portland, OR 97201",
    "Michael Kors jeans, size 32", "Jane Doe, 221B Baker Street, London",
    "1600 Amphitheatre Parkway, Mountain View, CA 94043", "Apt 4B, 310 Maple Avenue, Denver",
    "Levi's 501 jeans, 32x34", "Dr. Martens boots, size 9", "Maria Gonzalez, Calle Mayor 5",
    "Unit 7, 88 Harbour Drive, Halifax NS", "North Face jacket, navy, XL",
    "Tom Nguyen, 19 Birch Lane, Austin TX 78701", "PO Box 1234, Anchorage AK 99501",
    "Ralph Lauren polo shirt, white, M", "Sven Johansson, Storgatan 12, Uppsala",
]  # fmt: skip


def _questions(path: Path) -> Iterator[str]:
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            if "turns" in record:
                yield from (turn["text"] for turn in record["turns"])
            else:
                yield record["question"]


def english() -> list[str]:
    paths = [
        DATA / "conditionalqa" / "questions.dev.jsonl",
        DATA / "mtrag_dev" / "questions.jsonl",
        ROOT / "examples" / "golden.jsonl",
        ROOT / "examples" / "customer_questions.jsonl",
        ROOT / "tests" / "data" / "routing" / "demo_turns.jsonl",
    ]
    texts = [t for path in paths for t in _questions(path)]
    return [t for t in texts if 3 <= len(t.split()) <= MAX_WORDS]


def _langdetect_alone(text: str) -> tuple[str, float]:
    found = _langdetect(text)
    return (found[0][0], min(found[0][1], 0.99)) if found else ("en", 0.0)


def _shipped(text: str) -> tuple[str, float]:
    prediction = detect_language(text)
    return prediction.label, prediction.confidence


def measure(name: str, detect: Callable[[str], tuple[str, float]], texts: list[str]) -> None:
    start = time.perf_counter()
    misread = [(t, *detect(t)) for t in texts]
    misread = [m for m in misread if m[1] != "en" and m[2] >= CONFIDENT]
    others = [(t, code, *detect(t)) for code, ts in OTHERS.items() for t in ts]
    missed = [m for m in others if m[2] != m[1] or m[3] < CONFIDENT]
    wrong = [m for m in others if m[2] != m[1]]
    ms = (time.perf_counter() - start) * 1000 / (len(texts) + len(others))
    print(
        f"{name}: English read confidently as another language {len(misread)}/{len(texts)}; "
        f"other languages not confident {len(missed)}/{len(others)} "
        f"(wrong label {len(wrong)}); {ms:.2f} ms a message"
    )
    for text, code, confidence in misread:
        print(f"    en  {text!r} -> {code} {confidence:.2f}")
    for text, code, label, confidence in missed:
        print(f"    {code}  {text!r} -> {label} {confidence:.2f}")
    values = [(t, *detect(t)) for t in VALUES]
    values = [v for v in values if v[1] != "en" and v[2] >= CONFIDENT]
    print(f"    values read confidently as another language: {len(values)}/{len(VALUES)}")
    for text, code, confidence in values:
        print(f"    --  {text!r} -> {code} {confidence:.2f}")


def main() -> None:
    texts = english()
    measure("langdetect alone", _langdetect_alone, texts)
    measure("both detectors (shipped)", _shipped, texts)


if __name__ == "__main__":
    main()
