"""Ingestion throughput against the embedding floor, measured in one run.

    .venv/bin/python bench/ingest.py [--corpus PATH] [--limit N]

Ingests a corpus (default: ../shared/data/conditionalqa/corpus.jsonl) into a fresh data
directory, then embeds exactly the same chunk texts directly with the same warm embedder,
before and after, and prints both throughputs. The last line is
`ingest_vs_embed_ratio=<ingest chunks/s divided by direct-embedding chunks/s>`.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from service.offline import go_offline  # noqa: E402

go_offline()

from ingest.pipeline import embedding_text  # noqa: E402
from ingest.sources import expand  # noqa: E402
from service.lock import DataDirLock  # noqa: E402
from service.runtime import Runtime  # noqa: E402
from service.settings import Settings  # noqa: E402

DEFAULT_CORPUS = ROOT.parent / "shared" / "data" / "conditionalqa" / "corpus.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--limit", type=int, default=0, help="use only the first N records")
    args = parser.parse_args()
    corpus = args.corpus
    with tempfile.TemporaryDirectory() as tmp:
        if args.limit:
            lines = corpus.read_text().splitlines()[: args.limit]
            corpus = Path(tmp) / "corpus.jsonl"
            corpus.write_text("\n".join(lines) + "\n")
        settings = Settings(data_dir=Path(tmp) / "data")
        with DataDirLock(settings.data_dir, "bench/ingest.py"):
            runtime = Runtime(settings)
            runtime.embedder.warm_up()
            runtime.ensure_tenant("bench")
            ingestor = runtime.ingestor("bench")
            ingestor.warm_up()  # model and parse worker loaded before timing, as in a server
            items = list(expand([corpus]))

            started = time.perf_counter()
            results = ingestor.run("bench", items)
            ingest_s = time.perf_counter() - started

            store = runtime.store("bench")
            texts = [
                embedding_text(doc.title, chunk)
                for doc in store.list_documents("bench")
                for chunk in store.document_chunks("bench", doc.document_id)
            ]
            embed_runs = []
            for _ in range(2):
                started = time.perf_counter()
                runtime.embedder.embed(texts)
                embed_runs.append(time.perf_counter() - started)
            ingestor.close()
            runtime.close()

    failed = sum(1 for r in results if r.status == "failed")
    chunks = len(texts)
    embed_s = sum(embed_runs) / len(embed_runs)
    ingest_rate = chunks / ingest_s
    embed_rate = chunks / embed_s
    print(
        json.dumps(
            {
                "corpus": str(args.corpus),
                "documents": len(results),
                "failed": failed,
                "chunks": chunks,
                "ingest_seconds": round(ingest_s, 2),
                "embed_seconds": [round(s, 2) for s in embed_runs],
            }
        )
    )
    print(f"ingest: {ingest_rate:.1f} chunks/s ({len(results) / ingest_s:.1f} documents/s)")
    print(f"embed only: {embed_rate:.1f} chunks/s")
    print(f"ingest_vs_embed_ratio={ingest_rate / embed_rate:.3f}")


if __name__ == "__main__":
    main()
