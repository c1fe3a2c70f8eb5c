"""Build the Northwind Outfitters sample knowledge base from the ABCD agent guidelines.

Reads ASAPP's ABCD ``guidelines.json`` (10 customer-service flows) and writes one
policy-and-procedure document per flow into ``examples/knowledge/``, spread over
Markdown, HTML, DOCX and PDF, plus a short plain-text contact sheet. Northwind
Outfitters is a fictional clothing and accessories web shop. Output is deterministic
(same bytes on every run) and existing files are overwritten.

Usage: .venv/bin/python examples/build_sample_kb.py [--guidelines PATH] [--out DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import re
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple
from xml.sax.saxutils import escape  # escapes &, < and > (HTML text and reportlab markup)

import docx
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.platypus import ListFlowable, ListItem, Paragraph, SimpleDocTemplate

REPO_ROOT = Path(__file__).resolve().parent.parent
STORE = "Northwind Outfitters"
ATTRIBUTION = "Adapted from the ABCD agent guidelines (ASAPP, MIT licence)"
FIXED_TIME = dt.datetime(2024, 1, 1)
FORMATS = {  # 2 PDF, 2 DOCX, 3 HTML, 3 Markdown; the two PDFs run to several pages.
    "Product Defect": "pdf", "Order Issue": "pdf",
    "Account Access": "docx", "Manage Account": "docx",
    "Troubleshoot Site": "html", "Shipping Issue": "html", "Single-Item Query": "html",
    "Purchase Dispute": "md", "Subscription Inquiry": "md", "Storewide Query": "md",
}  # fmt: skip
STEP_NAMES = {  # ABCD button -> plain-language step name (keys lower-cased)
    "pull up account": "Look up the account", "verify identity": "Verify identity",
    "validate purchase": "Validate the purchase", "record reason": "Record the reason",
    "enter details": "Enter details", "enter detail": "Enter details",
    "offer refund": "Issue the refund", "ask the oracle": "Check internal records",
    "membership privileges": "Check membership privileges", "update order": "Update the order",
    "update account": "Update the account", "shipping status": "Record the shipping status",
    "search faq": "Open the FAQ", "hide faq": "Close the FAQ",
    "select answer": "Select the FAQ answer", "make purchase": "Complete the purchase",
    "promo code": "Issue a promo code", "notify internal team": "Notify the internal team",
    "send link": "Send a link", "try again": "Ask the customer to try again",
    "log out/in": "Ask the customer to log out and back in",
    "end conversation": "End the conversation",
    "subscription status": "Check the subscription status",
    "instructions": "Give troubleshooting instructions",
    "make password": "Create a new password", "n/a": "Explain to the customer",
}  # fmt: skip
CLEANUPS: list[tuple[str, str]] = [  # applied in order to every piece of source text
    (r"\s{2,}", " "),
    (r"www\.AcmeBrands\.com(\S*) as the fake link", r"northwind-outfitters.example\1 as the link"),
    (r"(?i)acmecorp(\.com)?", STORE),
    (r"'?[Aa]sking the Oracle'?", "checking internal records"),
    (r"query the Oracle", "check internal records"),
    (r"(?:the )?Oracle [Ss]ays", "the records say"),
    (r"(?:the )?Oracle returns", "the records return"),
    (r"(?<!\[)Ask the Oracle(?!\])", "Check internal records"),
    (r"\bthe survey\b", "the case notes"),
    ("click go to KB Query > ", "use "),
    (r"(Issue|Defect|Query|Manage) > ", r"\1 / "),  # flow paths such as "Order Issue > ..."
    (r" ?<or> ?", "; or "),
    ("→", "becomes"),
    ("check our update", "check or update"),
    ("shirt or sweater", "shirt or jacket"),
    (r"\b([Tt]hen|and) +(?=\[)", r"\1 complete "),
]
CONTACT_TEXT = f"""{STORE} - Store Contact and Support Hours

{STORE} is an online-only clothing and accessories shop; there are no walk-in stores.
Support hours (US Eastern): Monday to Friday 8:00 am to 8:00 pm, Saturday 9:00 am to
5:00 pm, closed Sundays and public holidays (messages are answered the next working day).
Support channels:
- Live chat on every page of northwind-outfitters.example, during support hours
- Email support@northwind-outfitters.example (reply within one working day)
- Phone +1 555 0100 (fictional number), during support hours
- Returns portal northwind-outfitters.example/returns, open 24 hours a day
Have your full name or account ID and your order ID ready when you contact us. We never
ask for your full card number or your password by chat, email or phone.
This store and its contact details are fictional sample data for the Clearline examples.
"""


class Bullet(NamedTuple):
    text: str
    children: list[str]


class Step(NamedTuple):
    name: str
    text: str
    bullets: list[Bullet]


class Section(NamedTuple):
    heading: str
    paragraphs: list[str]
    steps: list[Step]


class Document(NamedTuple):
    title: str
    intro: str
    sections: list[Section]


def step_name(button: str) -> str:
    """Return the plain-language name of an ABCD button (FAQ topics become topic steps)."""
    return STEP_NAMES.get(button.lower(), f"Choose the {button} FAQ topic")


def clean(text: str) -> str:
    """Rewrite one guideline string: store name, flow paths and [Button] references."""
    for pattern, repl in CLEANUPS:
        text = re.sub(pattern, repl, text)
    text = re.sub(
        r"\b([Cc]lick(?: on)?|[Ss]elect|[Cc]hoose) +(?=(?:the )?\[)",
        lambda m: "Complete " if m[1][0].isupper() else "complete ",
        text,
    )
    text = re.sub(
        r"(?:the )?\[([^\]]+)\](?: (?:button|option|action|form|fields))?",
        lambda m: f"the “{step_name(m[1])}” step",
        text,
    )
    text = re.sub(r"(^|[.:>] )the “", r"\1The “", text)
    return text.strip()


def build_document(flow: str, spec: dict[str, Any]) -> Document:
    """Turn one ABCD flow into a policy-and-procedure document."""
    sections = []
    for name, sub in spec["subflows"].items():
        steps = []
        for action in sub["actions"]:
            bullets = []
            for raw in action["subtext"]:
                head, *children = [part.strip() for part in clean(raw).split(" > ")]
                bullets.append(Bullet(head, children))
            steps.append(Step(step_name(action["button"]), clean(action["text"]), bullets))
        sections.append(Section(name, [clean(i) for i in sub["instructions"]], steps))
    intro = (
        f"This document sets out the {STORE} customer policy and the agent procedure for "
        f"{flow} requests (scope: {clean(spec['description'])}). It has one section per "
        f"request type: {', '.join(s.heading for s in sections)}."
    )
    return Document(f"{flow}: Policy and Agent Procedures", intro, sections)


def render_markdown(doc: Document) -> str:
    """Render a document as Markdown."""
    lines = [f"# {doc.title}", "", doc.intro, ""]
    for section in doc.sections:
        lines += [f"## {section.heading}", ""]
        for para in section.paragraphs:
            lines += [para, ""]
        for number, step in enumerate(section.steps, 1):
            lines.append(f"{number}. **{step.name}.** {step.text}")
            for bullet in step.bullets:
                lines.append(f"    - {bullet.text}")  # 4 spaces: Python-Markdown nesting
                lines += [f"        - {child}" for child in bullet.children]
        lines.append("")
    return "\n".join([*lines, "---", "", f"*{ATTRIBUTION}*", ""])


def render_html(doc: Document) -> str:
    """Render a document as a standalone HTML page."""
    e = escape
    out = [
        "<!DOCTYPE html>", '<html lang="en">', '<head><meta charset="utf-8">',
        f"<title>{e(doc.title)} | {STORE}</title></head>", "<body>",
        f"<h1>{e(doc.title)}</h1>", f"<p>{e(doc.intro)}</p>",
    ]  # fmt: skip
    for section in doc.sections:
        out += ["<section>", f"<h2>{e(section.heading)}</h2>"]
        out += [f"<p>{e(para)}</p>" for para in section.paragraphs]
        out.append("<ol>")
        for step in section.steps:
            out.append(f"<li><strong>{e(step.name)}.</strong> {e(step.text)}")
            if step.bullets:
                out.append("<ul>")
                for bullet in step.bullets:
                    kids = "".join(f"<li>{e(child)}</li>" for child in bullet.children)
                    nested = f"<ul>{kids}</ul>" if kids else ""
                    out.append(f"<li>{e(bullet.text)}{nested}</li>")
                out.append("</ul>")
            out.append("</li>")
        out += ["</ol>", "</section>"]
    out += [f"<footer><p><em>{e(ATTRIBUTION)}</em></p></footer>", "</body>", "</html>", ""]
    return "\n".join(out)


def stable_zip(data: bytes) -> bytes:
    """Re-pack a zip archive with fixed timestamps so DOCX output is byte-identical."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(fixed, src.read(info.filename))
    return out.getvalue()


def write_docx(doc: Document, path: Path) -> None:
    """Write a document as DOCX with Heading 1/Heading 2 styles and a page footer."""
    word = docx.Document()
    props = word.core_properties
    props.title, props.author, props.last_modified_by = doc.title, STORE, STORE
    props.created, props.modified, props.revision = FIXED_TIME, FIXED_TIME, 1
    word.add_heading(doc.title, level=1)
    word.add_paragraph(doc.intro)
    for section in doc.sections:
        word.add_heading(section.heading, level=2)
        for para in section.paragraphs:
            word.add_paragraph(para)
        for number, step in enumerate(section.steps, 1):
            paragraph = word.add_paragraph()
            paragraph.add_run(f"{number}. {step.name}. ").bold = True
            paragraph.add_run(step.text)
            for bullet in step.bullets:
                word.add_paragraph(bullet.text, style="List Bullet")
                for child in bullet.children:
                    word.add_paragraph(child, style="List Bullet 2")
    word.add_paragraph().add_run(ATTRIBUTION).italic = True
    word.sections[0].footer.paragraphs[0].text = ATTRIBUTION
    buffer = io.BytesIO()
    word.save(buffer)
    path.write_bytes(stable_zip(buffer.getvalue()))


def pdf_step(step: Step, style: Any) -> Any:
    """Build one numbered-list item: the step, its sub-bullets and their children."""
    parts: list[Any] = [Paragraph(f"<b>{escape(step.name)}.</b> {escape(step.text)}", style)]
    bullets = []
    for bullet in step.bullets:
        content: list[Any] = [Paragraph(escape(bullet.text), style)]
        if bullet.children:
            kids = [ListItem(Paragraph(escape(child), style)) for child in bullet.children]
            content.append(ListFlowable(kids, bulletType="bullet", start="–"))
        bullets.append(ListItem(content))
    if bullets:
        parts.append(ListFlowable(bullets, bulletType="bullet", start="-"))
    return ListItem(parts)


def write_pdf(doc: Document, path: Path) -> None:
    """Write a document as a text-layer PDF with headings and a numbered page footer."""
    styles = getSampleStyleSheet()
    body = styles["BodyText"]
    item = ParagraphStyle("Item", parent=body, spaceBefore=0, spaceAfter=2)
    story = [
        Paragraph(escape(doc.title), styles["Heading1"]),
        Paragraph(escape(doc.intro), body),
    ]
    for section in doc.sections:
        story.append(Paragraph(escape(section.heading), styles["Heading2"]))
        story += [Paragraph(escape(para), body) for para in section.paragraphs]
        steps = [pdf_step(step, item) for step in section.steps]
        story.append(ListFlowable(steps, bulletType="1", bulletFormat="%s."))

    def footer(canvas: Any, template: Any) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 8)
        canvas.drawString(2 * cm, 1.2 * cm, ATTRIBUTION)
        canvas.drawRightString(A4[0] - 2 * cm, 1.2 * cm, f"{STORE} | Page {template.page}")
        canvas.restoreState()

    template = SimpleDocTemplate(
        str(path), pagesize=A4, title=doc.title, author=STORE, subject=ATTRIBUTION,
        creator="examples/build_sample_kb.py", invariant=1,
    )  # fmt: skip
    template.build(story, onFirstPage=footer, onLaterPages=footer)


WRITERS: dict[str, Callable[[Document, Path], object]] = {
    "md": lambda doc, path: path.write_bytes(render_markdown(doc).encode()),
    "html": lambda doc, path: path.write_bytes(render_html(doc).encode()),
    "docx": write_docx,
    "pdf": write_pdf,
}


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, build every document and write the knowledge folder."""
    parser = argparse.ArgumentParser(description="Build the Northwind Outfitters sample KB.")
    parser.add_argument(
        "--guidelines", type=Path,
        default=(REPO_ROOT / "../shared/data/abcd/guidelines.json").resolve(),
        help="ABCD guidelines.json (default: ../shared/data/abcd/guidelines.json from repo root)",
    )  # fmt: skip
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "examples" / "knowledge")
    args = parser.parse_args(argv)
    flows: dict[str, Any] = json.loads(args.guidelines.read_text(encoding="utf-8"))
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    for flow, spec in flows.items():
        if flow not in FORMATS:
            raise SystemExit(f"no output format assigned to flow {flow!r}")
        slug = re.sub(r"[^a-z0-9]+", "-", flow.lower()).strip("-")
        WRITERS[FORMATS[flow]](build_document(flow, spec), out / f"{slug}.{FORMATS[flow]}")
    (out / "store-contact-and-hours.txt").write_bytes(CONTACT_TEXT.encode())
    sys.stderr.write(f"build_sample_kb: wrote {len(flows) + 1} files to {out}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
