"""What a permanent redaction costs on a data directory of a given size.

    .venv/bin/python bench/redaction.py [--chunks 5000] [--traces 1000] [--holding 50]
                                        [--embedder onnx-int8] [--json]

Builds a fresh data directory in a temporary folder: one tenant with `--chunks` knowledge
chunks (`--holding` of them mention the value) embedded by the configured embedder, a second
tenant with as many chunks (copied into the fresh vector files by every rebuild), and
`--traces` conversation turns whose question and retrieved passages quote the value. Then it
times `privacy redact` of the value through the same code the CLI runs, and prints the time,
the counts by store, the data directory's size and the byte-scan result.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from service.offline import go_offline  # noqa: E402

go_offline()

from knowledge.records import Chunk  # noqa: E402
from knowledge.store import DocumentWrite  # noqa: E402
from privacy.proof import find_bytes  # noqa: E402
from privacy.redaction import RedactValue  # noqa: E402
from service.privacy_wiring import privacy_for  # noqa: E402
from service.runtime import Runtime  # noqa: E402
from service.settings import Settings  # noqa: E402

VALUE = "Zebulon Quillfeather"
PER_DOCUMENT = 50


def _fill_knowledge(runtime: Runtime, tenant: str, chunks: int, holding: int) -> None:
    texts = [
        f"Policy paragraph {i}: items of type {i % 97} may be returned within {10 + i % 20} "
        "days with the receipt; refunds go to the original card within five business days."
        + (f" Exceptions are approved by {VALUE}." if i < holding else "")
        for i in range(chunks)
    ]
    for start in range(0, chunks, PER_DOCUMENT):
        doc = f"policy-{start // PER_DOCUMENT}"
        part = texts[start : start + PER_DOCUMENT]
        records = [Chunk(doc, 0, i, t, metadata={"title": doc}) for i, t in enumerate(part)]
        runtime.store(tenant).write(
            tenant,
            DocumentWrite(doc, doc, doc, "md", f"h-{doc}"),
            records,
            runtime.embedder.embed([f"{doc}\n{t}" for t in part]),
        )


def _fill_traces(control_db: Path, tenant: str, traces: int) -> None:
    text = f"Exceptions are approved by {VALUE}. " + "Refunds take five days. " * 20
    passage = {"chunk_id": "c", "document_id": "policy-0", "title": "policy-0", "score": 0.8,
               "text": text}  # fmt: skip
    with sqlite3.connect(control_db) as db:
        for _ in range(traces):
            conversation, message, trace = (uuid.uuid4().hex for _ in range(3))
            body = {"trace_id": trace, "tenant": tenant, "question": f"I am {VALUE}, refund?",
                    "steps": [{"name": "retrieve", "outputs": {"chunks": [passage] * 5}}],
                    "reply": "Refunds take five days.", "scores": {}}  # fmt: skip
            db.execute(
                "INSERT INTO conversations (id, tenant, status, scenario, channel, created_at,"
                " updated_at) VALUES (?, ?, 'open', '', 'api', datetime(), datetime())",
                (conversation, tenant),
            )
            db.execute(
                "INSERT INTO messages (id, conversation_id, tenant, role, text, visible,"
                " citations, created_at) VALUES (?, ?, ?, 'user', ?, 1, '[]', datetime())",
                (message, conversation, tenant, body["question"]),
            )
            db.execute(
                "INSERT INTO traces (id, tenant, conversation_id, body, created_at)"
                " VALUES (?, ?, ?, ?, datetime())",
                (trace, tenant, conversation, json.dumps(body)),
            )


def _size(root: Path) -> int:
    """Bytes of the files under `root`."""
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chunks", type=int, default=5000)
    parser.add_argument("--traces", type=int, default=1000)
    parser.add_argument("--holding", type=int, default=50)
    parser.add_argument("--embedder", default="onnx-int8")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder) / "data"
        models = ROOT / "data" / "models"  # reuse an exported ONNX model when there is one
        cache = models if models.is_dir() else None
        settings = Settings(data_dir=data_dir, embedder=args.embedder, model_cache_dir=cache)
        runtime = Runtime(settings)
        try:
            for tenant in ("acme", "globex"):
                runtime.tenants.create(tenant, "eu")
            started = time.perf_counter()
            _fill_knowledge(runtime, "acme", args.chunks, args.holding)
            _fill_knowledge(runtime, "globex", args.chunks, 0)
            _fill_traces(runtime.settings.region_db("eu"), "acme", args.traces)
            built_s = time.perf_counter() - started
            size = _size(data_dir)
            privacy = privacy_for(runtime)
            started = time.perf_counter()
            report = privacy.redactor.redact("acme", [RedactValue(VALUE, "PERSON")], "bench")
            redact_s = time.perf_counter() - started
            left = find_bytes(data_dir, [VALUE])
        finally:
            runtime.close()
    result = {
        "chunks_per_tenant": args.chunks, "tenants": 2, "traces": args.traces,
        "chunks_holding_value": args.holding, "embedder": args.embedder,
        "data_dir_mb": round(size / 1048576, 1), "build_s": round(built_s, 1),
        "redact_s": round(redact_s, 1), "stores": report.stores,
        "files_holding_value_after": len(left),
    }  # fmt: skip
    if args.json:
        print(json.dumps(result, indent=2))
        return
    for key, value in result.items():
        print(f"{key:<24} {value}")


if __name__ == "__main__":
    main()
