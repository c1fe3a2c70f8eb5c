"""Routing accuracy on the demo tenant's routed set (tests/data/routing/demo_turns.jsonl).

Sets the demo tenant up as `make run` does (sample knowledge, the `northwind` connection to
the sample actions service, the five procedures) in a temporary data directory, runs every
conversation of the set through the real agent turn by turn, and compares the route step's
`routed` label with the expected one. Prints the accuracy, the confusion matrix and every miss.

    .venv/bin/python -m bench.routing
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from service.offline import go_offline

go_offline()  # before any library reads its settings at import

from agent.replies import ConversationState, Reply  # noqa: E402
from bench.ports import reserved_port  # noqa: E402
from knowledge.query import Turn  # noqa: E402
from service.demo import TENANT, set_up, start_actions_service  # noqa: E402
from service.runtime import Runtime  # noqa: E402
from service.serving import ThreadedServer  # noqa: E402
from service.settings import Settings  # noqa: E402

SET = Path(__file__).resolve().parent.parent / "tests" / "data" / "routing" / "demo_turns.jsonl"


@dataclass(frozen=True)
class Routed:
    conversation: str
    text: str
    expected: str
    routed: str
    rule: str
    reply: str


def load_set(path: Path = SET) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def run_set(runtime: Runtime, conversations: list[dict[str, object]]) -> list[Routed]:
    """Every turn of `conversations` through the demo tenant's agent; one record a turn."""
    agent, tenant_agent = runtime.agent, runtime.agents.agent(TENANT)
    results: list[Routed] = []
    for conversation in conversations:
        state = ConversationState(conversation_id=str(conversation["id"]))
        turns = conversation["turns"]
        assert isinstance(turns, list)
        for turn in turns:
            reply: Reply = agent.respond(tenant_agent, state, turn["text"])
            outputs = reply.trace.step("route").outputs
            results.append(
                Routed(
                    str(conversation["id"]),
                    turn["text"],
                    turn["route"],
                    str(outputs.get("routed", outputs.get("route"))),
                    str(outputs.get("rule", "")),
                    reply.text,
                )
            )
            history = (*state.history, Turn("user", turn["text"]), Turn("assistant", reply.text))
            state = ConversationState(
                state.conversation_id, history, state.scenario, reply.procedure_state,
                reply.decision,
            )  # fmt: skip
    return results


def demo_runtime(data_dir: Path) -> tuple[Runtime, ThreadedServer]:
    """A runtime with the demo tenant set up, and the running sample actions service."""
    with reserved_port() as port:
        settings = Settings(data_dir=data_dir, actions_url=f"http://127.0.0.1:{port}")
        server = start_actions_service(settings)
    runtime = Runtime(settings)
    set_up(runtime)
    return runtime, server


def accuracy(results: list[Routed]) -> float:
    return sum(r.expected == r.routed for r in results) / len(results)


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        runtime, server = demo_runtime(Path(tmp) / "data")
        try:
            results = run_set(runtime, load_set())
        finally:
            runtime.close()
            server.stop()
    print(f"routed set: {SET.relative_to(SET.parents[3])}, {len(results)} turns")
    print(f"routing accuracy: {accuracy(results):.3f}")
    labels = sorted({r.expected for r in results} | {r.routed for r in results})
    pairs = Counter((r.expected, r.routed) for r in results)
    print("\nconfusion (rows expected, columns routed):")
    width = max(len(label) for label in labels)
    for label in labels:
        cells = [f"{c}={n}" for c in labels if (n := pairs[(label, c)])]
        print(f"  {label:<{width}}  " + ", ".join(cells))
    misses = [r for r in results if r.expected != r.routed]
    print(f"\nmisses ({len(misses)}):")
    for r in misses:
        print(f"  [{r.conversation}] {r.text!r}: expected {r.expected}, routed {r.routed} "
              f"(rule {r.rule})\n      reply: {r.reply[:160]!r}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
