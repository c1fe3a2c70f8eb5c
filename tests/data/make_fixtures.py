"""Generate the ingestion test fixtures under ``tests/data/valid`` and ``tests/data/bad``.

Run with ``.venv/bin/python tests/data/make_fixtures.py``. Output is deterministic
(fixed dates, seeds and zip timestamps), and a file is only rewritten when its bytes
change, so running the script again is a no-op. All text is written for Clearline
about a fictional shop, "Maple Lane Goods"; nothing is copied from third parties.
"""

import datetime as dt
import hashlib
import io
import json
import struct
import zipfile
import zlib
from pathlib import Path

import docx
import pypdf
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, PageBreak, Paragraph, SimpleDocTemplate

ROOT = Path(__file__).resolve().parent
VALID, BAD = ROOT / "valid", ROOT / "bad"
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
FIXED_TIME = dt.datetime(2024, 1, 15, 9, 30, 0)
MIB = 1024 * 1024
BOMB_SIZE = 200 * MIB  # bytes of zeros inside zip-bomb.docx
CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/'
    'vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Default Extension="bin" ContentType="application/octet-stream"/>'
    '<Override PartName="/word/document.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
)
RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
    'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
    'officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>'
    "</Relationships>"
)
W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def write(path: Path, data: bytes | str) -> None:
    """Write ``data`` to ``path`` unless the file already holds exactly those bytes."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_bytes() != raw:
        path.write_bytes(raw)


def noise(seed: str, size: int) -> bytes:
    """Return ``size`` deterministic, random-looking bytes derived from ``seed``."""
    out, counter = bytearray(), 0
    while len(out) < size:
        out += hashlib.sha256(f"{seed}:{counter}".encode()).digest()
        counter += 1
    return bytes(out[:size])


def zip_bytes(members: dict[str, bytes | str], zeros: tuple[str, int] | None = None) -> bytes:
    """Build a deflated zip in memory with fixed timestamps, members in the given order.

    ``zeros=(name, size)`` appends a member of ``size`` zero bytes, streamed 1 MiB at a
    time so the uncompressed data is never held in memory.
    """
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(zipfile.ZipInfo(name, ZIP_DATE), data, zipfile.ZIP_DEFLATED)
        if zeros:
            info = zipfile.ZipInfo(zeros[0], ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            with zf.open(info, "w") as member:
                for _ in range(zeros[1] // MIB):
                    member.write(bytes(MIB))
    return buf.getvalue()


def normalize_zip(data: bytes) -> bytes:
    """Re-pack a zip (e.g. a python-docx output) with fixed member timestamps."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return zip_bytes({info.filename: zf.read(info) for info in zf.infolist()})


def docx_zip(body: str, doctype: str = "", zeros: tuple[str, int] | None = None) -> bytes:
    """Build a minimal docx package whose ``word/document.xml`` wraps ``body``."""
    document = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n{doctype}'
        f'<w:document xmlns:w="{W_NS}"><w:body>{body}</w:body></w:document>'
    )
    members = {"[Content_Types].xml": CONTENT_TYPES, "_rels/.rels": RELS}
    return zip_bytes({**members, "word/document.xml": document}, zeros)


# fmt: off
RETURNS_PAGES = (  # (heading, paragraphs separated by blank lines); one page each
    ("Returns", """Maple Lane Goods accepts returns of unused items within 30 days of delivery.
        Items must be in their original packaging with all tags attached, and a proof of
        purchase is required.

        To start a return, open the Orders page in your account and choose Return item.
        We email a prepaid label for the parcel within one business day."""),
    ("Refunds", """Refunds are issued within 5 business days.

        Once the returned parcel reaches our warehouse, we inspect it and refund the
        original payment method. Shipping fees are refunded only when the item arrived
        damaged or incorrect.

        Store credit is offered as an alternative and is added to your account balance on
        the same day as the inspection."""),
)
SHIPPING_SECTIONS = (  # (heading level, heading, paragraphs separated by blank lines)
    (1, "Shipping", """Maple Lane Goods ships every order from our warehouse in Brookfield.
        Orders placed before 2 pm leave the same day."""),
    (2, "Delivery times", """Standard delivery takes 3 to 5 business days. Express delivery
        arrives the next business day for a flat fee of $12.

        Tracking links are emailed as soon as the courier scans the parcel."""),
    (2, "International orders", """We ship to 28 countries. International parcels take 7
        to 14 business days, and customs duties are paid by the recipient."""),
)
# fmt: on


def paragraphs(text: str) -> list[str]:
    """Split ``text`` on blank lines and unwrap each paragraph onto one line."""
    return [" ".join(block.split()) for block in text.split("\n\n")]


def returns_pdf() -> bytes:
    """Build a 2-page PDF with a text layer: "Returns" (p1), "Refunds" (p2)."""
    styles = getSampleStyleSheet()
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf, pagesize=A4, invariant=1, title="Returns policy", author="Maple Lane Goods"
    )

    def outline(canvas: Canvas, _doc: SimpleDocTemplate) -> None:
        title = RETURNS_PAGES[canvas.getPageNumber() - 1][0]
        canvas.bookmarkPage(title.lower())
        canvas.addOutlineEntry(title, title.lower(), level=0)

    story: list[Flowable] = []
    for heading, text in RETURNS_PAGES:
        story += [PageBreak()] if story else []
        story.append(Paragraph(heading, styles["Heading1"]))
        story += [Paragraph(para, styles["BodyText"]) for para in paragraphs(text)]
    doc.build(story, onFirstPage=outline, onLaterPages=outline)
    return buf.getvalue()


def shipping_docx() -> bytes:
    """Build a Word document with Heading 1/2 sections and fixed metadata."""
    d = docx.Document()
    for level, heading, text in SHIPPING_SECTIONS:
        d.add_heading(heading, level=level)
        for para in paragraphs(text):
            d.add_paragraph(para)
    cp = d.core_properties
    cp.author = cp.last_modified_by = "Maple Lane Goods"
    cp.title, cp.revision = "Shipping policy", 1
    cp.created = cp.modified = cp.last_printed = FIXED_TIME
    buf = io.BytesIO()
    d.save(buf)
    return normalize_zip(buf.getvalue())


WARRANTY_HTML = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Warranty - Maple Lane Goods</title></head>
<body>
<h1>Warranty</h1>
<p>Every kettle, lamp and clock sold by Maple Lane Goods carries a two-year
warranty against manufacturing defects.</p>
<h2>What is covered</h2>
<p>The warranty covers faults that appear during normal household use:</p>
<ul>
  <li>Electrical faults such as a switch or heating element failing.</li>
  <li>Loose seams, cracked glazing or peeling finishes.</li>
  <li>Clock movements that stop keeping time.</li>
</ul>
<h2>How to make a claim</h2>
<p>Send a photo of the fault and your order number to the warranty team. We
repair or replace the item, and we cover the cost of postage both ways.</p>
</body>
</html>
"""

ACCOUNT_MD = """# Account help

Your Maple Lane Goods account keeps your orders, addresses and saved
payment cards in one place.

## Resetting your password

1. Open the sign-in page and choose **Forgot password**.
2. Enter the email address linked to your account.
3. Follow the reset link, which stays valid for 60 minutes.

## Closing your account

Write to the account team from your registered email address. We close the
account within 10 days and delete saved cards immediately; order records are
kept for seven years for tax purposes.
"""

CONTACT_TXT = """Contacting Maple Lane Goods

Our customer care team answers phone calls from 8 am to 6 pm, Monday to
Saturday. The number is printed on every packing slip.

Email replies are sent within one business day. Please include your order
number so we can find your purchase quickly.

For urgent delivery problems, use the live chat on the Orders page. Chat is
staffed seven days a week, including public holidays.
"""

# fmt: off
CORPUS = (  # (id, title, body field, body, category); "" means empty metadata
    ("kb-001", "Gift cards", "text", "Maple Lane Goods gift cards never expire and can be "
     "used online or in our Brookfield shop.", "payments"),
    ("kb-002", "Price match", "html", "<h2>Price match</h2><p>If you find a lower price "
     "within 7 days of purchase, we refund the difference.</p>", "pricing"),
    ("kb-003", "Loyalty points", "text", "Members earn one point per dollar spent; 100 "
     "points convert to a $5 voucher.", ""),
    ("kb-004", "Damaged parcels", "html", "<p>Photograph a damaged parcel <b>before</b> "
     "opening it and send the photo with your order number.</p>", "delivery"),
    ("kb-005", "Gift wrapping", "text", "Gift wrapping costs $3 per item and includes a "
     "handwritten card.", "orders"),
)
# fmt: on


def corpus_jsonl() -> str:
    """Render CORPUS as JSONL records ``{"id", "title", "text"|"html", "metadata"}``."""
    records = [
        {"id": i, "title": t, field: body, "metadata": {"category": cat} if cat else {}}
        for i, t, field, body, cat in CORPUS
    ]
    return "".join(json.dumps(r) + "\n" for r in records)


def png_1x1() -> bytes:
    """Build a valid 1x1 RGB PNG by hand."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00\x2a\x7f\xd4", 9))
        + chunk(b"IEND", b"")
    )


def scanned_pdf() -> bytes:
    """Draw a one-page PDF holding only a rectangle, with no text layer."""
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=A4, invariant=1)
    c.setFillGray(0.8)
    c.rect(72, 400, 450, 300, stroke=1, fill=1)
    c.showPage()
    c.save()
    return buf.getvalue()


def encrypted_pdf(source: bytes) -> bytes:
    """Encrypt ``source`` with user password "secret" (RC4-128: deterministic)."""
    writer = pypdf.PdfWriter(clone_from=io.BytesIO(source))
    writer.encrypt("secret", "owner-secret", algorithm="RC4-128")
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def entity_bomb_docx() -> bytes:
    """Build a docx-shaped zip whose document.xml has a "billion laughs" DTD."""
    ents = ['<!ENTITY lol0 "lol">']
    ents += [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)]
    doctype = f"<!DOCTYPE w:document [{''.join(ents)}]>\n"
    return docx_zip("<w:p><w:r><w:t>&lol9;</w:t></w:r></w:p>", doctype)


def main() -> None:
    """Generate every fixture file."""
    pdf = returns_pdf()
    write(VALID / "returns-policy.pdf", pdf)
    write(VALID / "shipping.docx", shipping_docx())
    write(VALID / "warranty.html", WARRANTY_HTML)
    write(VALID / "account-help.md", ACCOUNT_MD)
    write(VALID / "contact.txt", CONTACT_TXT)
    write(VALID / "small-corpus.jsonl", corpus_jsonl())

    write(BAD / "empty.txt", b"")
    write(BAD / "blank.md", "   \n\n\t\n  \n")
    write(BAD / "corrupt.pdf", b"%PDF-1.7\n" + noise("corrupt.pdf", 2048))
    write(BAD / "truncated.pdf", pdf[: int(len(pdf) * 0.4)])
    write(BAD / "encrypted.pdf", encrypted_pdf(pdf))
    write(BAD / "scanned-no-text.pdf", scanned_pdf())
    padding = ("word/media/padding.bin", BOMB_SIZE)
    bomb_body = "<w:p><w:r><w:t>Padding test.</w:t></w:r></w:p>"
    write(BAD / "zip-bomb.docx", docx_zip(bomb_body, zeros=padding))
    write(BAD / "entity-bomb.docx", entity_bomb_docx())
    write(BAD / "not-a-docx.docx", "This is plain text, not a Word document.\n")
    write(BAD / "image.png", png_1x1())
    write(BAD / "archive.zip", zip_bytes({"notes.txt": "A text file in a zip.\n"}))
    write(BAD / "binary.txt", b"\x00\xff\xfe\x00" + noise("binary.txt", 1024))
    bad_lines = [
        json.dumps({"id": "ok-1", "title": "Fine", "text": "A valid record about gift cards."}),
        "{this line is not JSON",
        json.dumps({"id": "no-body-1", "title": "Missing body", "metadata": {}}),
    ]
    write(BAD / "bad-lines.jsonl", "\n".join(bad_lines) + "\n")


if __name__ == "__main__":
    main()
