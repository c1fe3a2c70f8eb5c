"""Who each document of an ingested knowledge base is written for (knowledge.audience).

For each `knowledge.db` given (a region's knowledge store, e.g.
DATA_DIR/regions/eu/knowledge.db after `clearline ingest`), counts per document the sentences
that name the customer in the third person, and prints the audience ingestion recorded, the
most such sentences in a document recorded for the customer, and the fewest in one recorded
for the agent: the margin on either side of the rule (at least MIN_NAMED, and MIN_SHARE of
the sentences).

    .venv/bin/python -m bench.audience DATA_DIR/regions/eu/knowledge.db [...]
"""

from __future__ import annotations

import json
import sqlite3
import sys
from collections import Counter, defaultdict

from service.offline import go_offline

go_offline()  # before any library reads its settings at import

from knowledge.audience import (  # noqa: E402
    AGENT,
    AUDIENCE,
    MIN_NAMED,
    MIN_SHARE,
    names_the_customer,
    sentences_of,
    words_of,
)


def report(path: str) -> None:
    texts: dict[str, list[str]] = defaultdict(list)
    recorded: dict[str, str] = {}
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        rows = db.execute(
            "SELECT document_id, text, metadata FROM chunks ORDER BY document_id, ordinal"
        )
        for document_id, text, metadata in rows:
            texts[document_id].append(text)
            recorded[document_id] = json.loads(metadata).get(AUDIENCE, "(none)")
    named: dict[str, int] = {}
    for document_id, chunks in texts.items():
        named[document_id] = sum(names_the_customer(words_of(s)) for s in sentences_of(chunks))
    agent = [named[d] for d in named if recorded[d] == AGENT]
    customer = [named[d] for d in named if recorded[d] != AGENT]
    print(f"{path}: {len(named)} documents, recorded {dict(Counter(recorded.values()))}")
    print(f"  most sentences naming the customer, customer documents: {max(customer, default=0)}")
    print(f"  fewest, agent documents: {min(agent, default='-')}")
    print(f"  rule: at least {MIN_NAMED} and at least {MIN_SHARE:.0%} of the sentences")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    for argument in sys.argv[1:]:
        report(argument)
