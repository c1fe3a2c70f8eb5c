"""Chat latency while an upload is ingested, against the same server idle, in one run.

    .venv/bin/python bench/chat_during_ingest.py [--turns 12] [--corpus PATH]

An admin uploads a large corpus while end users chat: how much slower do their replies
come? The bench makes a fresh data directory (tenant `acme`, the sample knowledge base of
`examples/knowledge`), starts `clearline serve` on a free loopback port, and times chat
turns over HTTP (a new conversation each, questions from `QUESTIONS` in turn):

1. `--turns` turns with the server idle;
2. the corpus (default: ../shared/data/conditionalqa/corpus.jsonl) uploaded through
   `POST /v1/knowledge/sources`, and turns sent one after another until its job ends;
3. `--turns` turns idle again (the two idle phases bracket the machine's drift).

It prints each phase's median, 95th percentile and slowest turn, the job's duration and
chunks, and last `during_vs_idle_p50_ratio=<median during the job / median of both idle
phases>`. The corpus goes into the same tenant, so the turns after the job search more
passages than those before; the bench times the turns and checks each got 200, nothing
about what they say.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the project, not bench/ (bench/ingest.py shadows ingest/)

from bench.ports import reserved_port  # noqa: E402

DEFAULT_CORPUS = ROOT.parent / "shared" / "data" / "conditionalqa" / "corpus.jsonl"
QUESTIONS = (
    "How long does shipping take?",
    "What is your return policy?",
    "Do you ship internationally?",
    "What payment methods do you accept?",
    "When is support open?",
    "How do I reset my password?",
)


def _cli(data_dir: Path, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "service.cli", "--data-dir", str(data_dir), *args],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"clearline {' '.join(args)} failed:\n{done.stderr}")
    return done.stdout


def _serve(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        [sys.executable, "-m", "service.cli", "--data-dir", str(data_dir), "serve",
         "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=(data_dir.parent / "serve.log").open("w"),
    )  # fmt: skip
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=2).status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.3)
    server.kill()
    raise SystemExit(f"the server did not start; see {data_dir.parent / 'serve.log'}")


def _turn(client: httpx.Client, key: str, question: str) -> float:
    """Seconds for one reply (the conversation's start is not timed)."""
    headers = {"Authorization": f"Bearer {key}"}
    started = client.post("/v1/conversations", headers=headers, json={})
    started.raise_for_status()
    body = started.json()
    if body.get("conversation_token"):
        headers["X-Conversation-Token"] = body["conversation_token"]
    path = f"/v1/conversations/{body['conversation_id']}/messages"
    clock = time.perf_counter()
    reply = client.post(path, headers=headers, json={"text": question})
    seconds = time.perf_counter() - clock
    reply.raise_for_status()
    return seconds


def _summary(name: str, seconds: list[float]) -> str:
    ordered = sorted(seconds)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return (
        f"{name}: {len(seconds)} turns, median {statistics.median(seconds) * 1000:.0f} ms, "
        f"p95 {p95 * 1000:.0f} ms, slowest {ordered[-1] * 1000:.0f} ms"
    )


def _key(data_dir: Path, role: str) -> str:
    created = _cli(data_dir, "--json", "key", "create", "--tenant", "acme", "--role", role)
    key: str = json.loads(created)["key"]
    return key


def _phases(client: httpx.Client, keys: dict[str, str], corpus: Path, turns: int) -> dict[str, Any]:
    """The three phases' turn times, the job as it ended and its seconds."""
    admin = {"Authorization": f"Bearer {keys['admin']}"}

    def ask(i: int) -> float:
        return _turn(client, keys["end_user"], QUESTIONS[i % len(QUESTIONS)])

    ask(0)  # the models load on the first turn; not timed
    before = [ask(i) for i in range(turns)]
    files = [("files", (corpus.name, corpus.read_bytes()))]
    upload = client.post("/v1/knowledge/sources", headers=admin, files=files)
    upload.raise_for_status()
    job_id, clock = upload.json()["id"], time.perf_counter()
    during: list[float] = []
    while True:
        job = client.get(f"/v1/jobs/{job_id}", headers=admin).json()
        if job["status"] not in ("queued", "running"):
            break
        during.append(ask(len(during)))
    job_seconds = time.perf_counter() - clock
    after = [ask(i) for i in range(turns)]
    return {"before": before, "during": during, "after": after, "job": job,
            "job_seconds": job_seconds}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=12, help="turns in each idle phase")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    args = parser.parse_args()
    os.environ.pop("CLEARLINE_DATA_DIR", None)
    with tempfile.TemporaryDirectory(prefix="chat-during-ingest-") as tmp:
        data_dir = Path(tmp) / "data"
        _cli(data_dir, "tenant", "create", "acme", "--region", "eu")
        _cli(data_dir, "ingest", str(ROOT / "examples" / "knowledge"), "--tenant", "acme")
        keys = {role: _key(data_dir, role) for role in ("end_user", "admin")}
        with reserved_port() as port:
            server = _serve(data_dir, port)
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=300) as client:
                run = _phases(client, keys, args.corpus, args.turns)
        finally:
            server.terminate()
            server.wait(timeout=60)
    job = run["job"]
    chunks = sum(r.get("chunks") or 0 for r in job["results"])
    print(json.dumps({"corpus": str(args.corpus), "job": job["status"], "chunks": chunks,
                      "job_seconds": round(run["job_seconds"], 1)}))  # fmt: skip
    for name, phase in (("idle before", "before"), ("during the job", "during"),
                        ("idle after", "after")):  # fmt: skip
        print(_summary(name, run[phase]))
    if not run["during"]:
        raise SystemExit("the job ended before a turn could be timed; use a larger --corpus")
    idle = statistics.median(run["before"] + run["after"])
    print(f"during_vs_idle_p50_ratio={statistics.median(run['during']) / idle:.2f}")


if __name__ == "__main__":
    main()
