"""`clearline ingest`, `sources` and `delete-source`: a tenant's knowledge."""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from dataclasses import asdict
from pathlib import Path

from control.errors import NotFound
from ingest.ids import printable
from knowledge.audience import AGENT, CUSTOMER
from service.cli_output import emit, runtime
from service.lock import DataDirLock
from service.settings import Settings


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    from tqdm import tqdm

    from ingest.sources import expand, with_audience

    with DataDirLock(settings.data_dir, "clearline ingest"):
        rt = runtime(settings)
        try:
            existed = rt.tenants.find(args.tenant) is not None
            tenant = rt.ensure_tenant(args.tenant)
            if not existed:  # a typo would otherwise go unnoticed (CLEARLINE_AUTO_CREATE_TENANTS)
                sys.stderr.write(
                    f"created tenant '{tenant.name}' in region {tenant.region} (it did not "
                    "exist; CLEARLINE_AUTO_CREATE_TENANTS=false refuses instead)\n"
                )
            items = [with_audience(i, args.audience) for i in expand([Path(p) for p in args.paths])]
            with (
                tqdm(total=len(items), file=sys.stderr, unit="doc", desc="ingest") as bar,
                rt.ingestor(args.tenant) as ingestor,
            ):
                results = ingestor.run(args.tenant, items, on_result=lambda _: bar.update(1))
            rt.audit(args.tenant, "cli", "knowledge.ingest", documents=len(results))
        finally:
            rt.close()
    counts = Counter(r.status for r in results)
    totals = {s: counts.get(s, 0) for s in ("ingested", "unchanged", "replaced", "failed")}
    totals["documents"] = len(results)
    totals["chunks"] = sum(r.chunks for r in results)
    lines = [  # names escaped: a file name may hold a newline or a control character
        f"{r.status:<9} {r.chunks:>4}  {printable(r.source)}"
        + (f"\n          {printable(r.error)}" if r.error else "")
        for r in results
    ]
    lines.append(", ".join(f"{v} {k}" for k, v in totals.items()))
    shown = {"name": tenant.name, "region": tenant.region, "created": not existed}
    body = {"tenant": shown, "documents": [asdict(r) for r in results], "totals": totals}
    emit(args, body, "\n".join(lines))
    return 1 if totals["failed"] else 0


def cmd_sources(args: argparse.Namespace, settings: Settings) -> int:
    from service.schemas import SourcePublic

    with DataDirLock(settings.data_dir, "clearline sources"):
        rt = runtime(settings)
        try:
            records = rt.store(args.tenant).list_documents(args.tenant)
        finally:
            rt.close()
    sources = [SourcePublic.of(r).model_dump(mode="json") for r in records]
    human = (
        "\n".join(
            f"{printable(s['document_id'])}  v{s['version']}  {s['chunks']} chunks  {s['type']}"
            f"  for {_audience_words(s)}"
            for s in sources
        )
        or f"tenant '{args.tenant}' has no sources yet"
    )
    emit(args, {"sources": sources}, human)
    return 0


def _audience_words(source: dict[str, object]) -> str:
    if source["audience"] is None:
        return "(not recorded; ingest again)"
    return f"{source['audience']} ({'stated' if source['audience_stated'] else 'detected'})"


def cmd_delete_source(args: argparse.Namespace, settings: Settings) -> int:
    """Delete the source and scrub its text from traces (privacy.source_removal)."""
    from service.privacy_wiring import privacy_for

    with DataDirLock(settings.data_dir, "clearline delete-source"):
        rt = runtime(settings)
        try:
            remover = privacy_for(rt).sources
            report = remover.delete(args.tenant, args.document_id, "cli", args.with_replies)
        finally:
            rt.close()
    replies = ", and its sentences from replies" if args.with_replies else ""
    human = (
        f"deleted {args.document_id}: {report.chunks} chunks; its passages removed from "
        f"{report.traces} traces{replies}"
    )
    emit(args, {"deleted": args.document_id, **report.as_json()}, human)
    return 0


def cmd_set_audience(args: argparse.Namespace, settings: Settings) -> int:
    """State who a stored source is written for, without ingesting it again."""
    from knowledge.audience_change import restate_audience
    from service.schemas import SourcePublic

    with DataDirLock(settings.data_dir, "clearline set-audience"):
        rt = runtime(settings)
        try:
            store = rt.store(args.tenant)
            restated = restate_audience(store, args.tenant, args.document_id, args.audience)
            if restated is None:
                raise NotFound(
                    f"source '{args.document_id}' is not in the knowledge of tenant "
                    f"'{args.tenant}'; `clearline sources --tenant {args.tenant}` lists them"
                )
            rt.audit(args.tenant, "cli", "source.audience", **restated.audit_detail())
        finally:
            rt.close()
    source = SourcePublic.of(restated.record).model_dump(mode="json")
    emit(args, source, f"{printable(args.document_id)}: for {_audience_words(source)}")
    return 0


def cmd_reindex(args: argparse.Namespace, settings: Settings) -> int:
    """Rebuild each region's vector index (or --region's) from its knowledge database."""
    from tqdm import tqdm

    from ingest.pipeline import embedding_text
    from knowledge.reindex import reindex
    from service.runtime import build_embedder

    found = sorted(p.parent.name for p in settings.data_dir.glob("regions/*/knowledge.db"))
    if args.region is not None and args.region not in found:
        known = ", ".join(found) or "none yet"
        sys.stderr.write(
            f"error: region '{printable(args.region)}' has no knowledge in {settings.data_dir} "
            f"(regions with knowledge: {known}); nothing was changed\n"
        )
        return 2
    regions = [args.region] if args.region is not None else found
    if not regions:
        emit(args, {"regions": {}}, f"no knowledge in {settings.data_dir} yet; nothing to rebuild")
        return 0
    reports = {}
    embedder = build_embedder(settings)  # what the runtime embeds with; nothing else is needed
    with DataDirLock(settings.data_dir, "clearline reindex"):
        for region in regions:
            with tqdm(file=sys.stderr, unit="chunk", desc=f"reindex {region}") as bar:
                reports[region] = reindex(
                    settings.region_dir(region), embedder, embedding_text, bar.update,
                    lambda total: setattr(bar, "total", total),
                )  # fmt: skip
    lines = [
        f"region {region}: {r.chunks} chunks of {r.documents} documents ({r.tenants} tenants) "
        "embedded into a new vector index"
        for region, r in reports.items()
    ]
    emit(args, {"regions": {k: asdict(v) for k, v in reports.items()}}, "\n".join(lines))
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser],
             common: argparse.ArgumentParser) -> None:  # fmt: skip
    p = sub.add_parser("ingest", parents=[common], help="ingest files, folders or .jsonl corpora")
    p.add_argument("paths", nargs="+")
    p.add_argument("--tenant", required=True)
    p.add_argument(
        "--audience",
        choices=(AGENT, CUSTOMER),
        help="who the files are written for (a document for the agent is quoted for its "
        "facts only); left out, Clearline decides from each file's text; a corpus record's "
        "own metadata 'audience' wins",
    )
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("sources", parents=[common], help="list a tenant's knowledge sources")
    p.add_argument("--tenant", required=True)
    p.set_defaults(func=cmd_sources)

    p = sub.add_parser("delete-source", parents=[common], help="remove a source everywhere")
    p.add_argument("document_id")
    p.add_argument("--tenant", required=True)
    p.add_argument(
        "--with-replies",
        action="store_true",
        help="also remove its sentences from replies already shown to end users",
    )
    p.set_defaults(func=cmd_delete_source)

    p = sub.add_parser(
        "set-audience", parents=[common],
        help="state who a stored source is written for, without ingesting it again",
    )  # fmt: skip
    p.add_argument("document_id")
    p.add_argument("audience", choices=(AGENT, CUSTOMER))
    p.add_argument("--tenant", required=True)
    p.set_defaults(func=cmd_set_audience)

    p = sub.add_parser(
        "reindex", parents=[common], help="rebuild the vector index from the knowledge database"
    )
    p.add_argument("--region", help="only this region (default: every region with knowledge)")
    p.set_defaults(func=cmd_reindex)
