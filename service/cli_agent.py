"""`clearline ask` and `clearline trace`: one question to a tenant's agent, and the
reasoning trace of a reply."""

from __future__ import annotations

import argparse
from dataclasses import asdict

from control.errors import BadRequest, Conflict, NotFound
from conversations.identity import check_end_user_id
from service.agent_schemas import MAX_TEXT
from service.cli_output import emit, runtime
from service.lock import DataDirLock
from service.settings import Settings


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    """Ask the tenant's agent one question (optionally in an existing conversation)."""
    if not args.question.strip():
        raise BadRequest("the question is empty; ask it in words")
    if len(args.question) > MAX_TEXT:
        raise BadRequest(
            f"the question is {len(args.question):,} characters; keep it to {MAX_TEXT:,}, "
            "as the API does"
        )
    with DataDirLock(settings.data_dir, "clearline ask"):
        rt = runtime(settings)
        try:
            rt.tenants.get(args.tenant)
            conversations = rt.conversations
            end_user = check_end_user_id(args.end_user) if args.end_user is not None else None
            if args.conversation:
                conversation_id = args.conversation
                owner = conversations.get(args.tenant, conversation_id).end_user_id
                if end_user is not None and owner != end_user:
                    raise Conflict(
                        f"conversation '{conversation_id}' belongs to another end user; leave "
                        "out --end-user, or start a new conversation (no --conversation)"
                    )
            else:
                conversation_id = conversations.start(args.tenant, end_user_id=end_user).id
            posted = conversations.post(args.tenant, conversation_id, args.question)
        finally:
            rt.close()
    reply = posted.reply
    shown = reply.decision != "draft"
    data = {
        "conversation_id": conversation_id,
        "message_id": posted.message.id,
        "text": reply.text,
        "ai_generated": True,
        "decision": reply.decision,
        "confidence": round(reply.confidence, 4),
        "citations": [asdict(c) for c in reply.citations] if shown else [],
        "trace_id": reply.trace.trace_id,
    }
    cited = "".join(f"\n  [{c['document_id']}] {c['quote'][:100]}" for c in data["citations"])
    human = (
        f"{reply.text}\n(AI-generated; decision: {reply.decision}, confidence "
        f"{reply.confidence:.2f}; trace {reply.trace.trace_id}; conversation {conversation_id})"
        + (f"\nSources:{cited}" if cited else "")
    )
    emit(args, data, human)
    return 0


def cmd_trace(args: argparse.Namespace, settings: Settings) -> int:
    """Print the reasoning trace of one reply."""
    with DataDirLock(settings.data_dir, "clearline trace"):
        rt = runtime(settings)
        try:
            if args.tenant:
                rt.tenants.get(args.tenant)  # NotFound naming it, before any regional lookup
            tenants = [args.tenant] if args.tenant else [t.name for t in rt.tenants.list()]
            trace = next(
                (t for name in tenants if (t := rt.agent.traces.get(name, args.trace_id))),
                None,
            )
        finally:
            rt.close()
    if trace is None:
        raise NotFound(f"trace '{args.trace_id}' does not exist")
    data = trace.model_dump(mode="json")
    lines = [f"trace {trace.trace_id} (tenant {trace.tenant}) question: {trace.question}"]
    for step in trace.steps:
        lines.append(
            f"  {step.name:<10} {step.status:<7} {step.elapsed_ms:>8.1f} ms  {step.reason}"
        )
    if trace.decision:
        lines.append(f"  decision: {trace.decision.decision} — {trace.decision.rule}")
    emit(args, data, "\n".join(lines))
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser],
             common: argparse.ArgumentParser) -> None:  # fmt: skip
    p = sub.add_parser("ask", parents=[common], help="ask the agent a question")
    p.add_argument("question")
    p.add_argument("--tenant", required=True)
    p.add_argument("--conversation", help="continue this conversation id")
    p.add_argument(
        "--end-user", help="the end user (id in the company's own login) asking; recorded on "
        "the conversation, e.g. for `privacy erase --end-user`",
    )  # fmt: skip
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("trace", parents=[common], help="show the reasoning trace of a reply")
    p.add_argument("trace_id")
    p.add_argument("--tenant", help="the trace's tenant (default: look in every tenant)")
    p.set_defaults(func=cmd_trace)
