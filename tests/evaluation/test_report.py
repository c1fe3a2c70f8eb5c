"""The QA report page, opened and read back as a browser would get it."""

from __future__ import annotations

import base64
import io
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PIL import Image

from evaluation.records import SCORE_NAMES, ScoredReply
from evaluation.report import ReportSummary, judged_right, render_report

EXPECTED_PLOTS = {
    "Quality over time",
    "Quality by intent",
    "Quality by decision",
    "Score distributions",
    "Calibration",
    "End-user ratings",
}
SCRIPT = "why was I charged twice? <script>alert('x')</script>"
START = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def synthetic(n: int, seed: int = 7) -> list[ScoredReply]:
    """Replies over 30 days, 6 intents, 4 decisions, some scores and ratings missing."""
    rng = random.Random(seed)
    intents = ["billing", "refund", "delivery", "account", "returns", "warranty"]
    decisions = ["answered"] * 6 + ["clarify", "handoff", "draft"]
    rows = []
    for i in range(n):
        confidence = rng.random()
        scores: dict[str, float | None] = {
            name: min(1.0, max(0.0, rng.gauss(0.35 + 0.55 * confidence, 0.15)))
            for name in SCORE_NAMES
        }
        if rng.random() < 0.6:
            scores["correctness"] = None
        if rng.random() < 0.05:
            scores["groundedness"] = None
        rows.append(
            ScoredReply(
                trace_id=f"tr-{i:05d}",
                created_at=START + timedelta(minutes=rng.randrange(30 * 24 * 60)),
                question=f"question {i} about {rng.choice(intents)}",
                answer=f"answer {i}",
                decision=rng.choice(decisions),
                intent=rng.choice(intents),
                confidence=confidence,
                scores=scores,
                rating=rng.choice([None, None, None, "up", "down"]),
                verdict=rng.choice([None] * 8 + ["correct", "incorrect"]),
            )
        )
    return rows


@dataclass
class Page(HTMLParser):
    """The parts of the report page the tests read: images, captions, links, metrics."""

    images: list[dict[str, str]] = field(default_factory=list)
    captions: int = 0
    worst_links: list[str] = field(default_factory=list)
    metrics: dict[str, str] = field(default_factory=dict)
    external: list[str] = field(default_factory=list)
    _in_worst: bool = False
    _metric: str | None = None
    _in_dd: bool = False
    _heading: str | None = None

    def __post_init__(self) -> None:
        super().__init__()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "img":
            self.images.append(a | {"title": (self._heading or "").strip()})
        elif tag == "figcaption":
            self.captions += 1
        elif tag == "table" and a.get("id") == "worst-replies":
            self._in_worst = True
        elif tag == "a" and self._in_worst:
            self.worst_links.append(a["href"])
        elif tag == "div" and "data-metric" in a:
            self._metric = a["data-metric"]
        elif tag == "dd":
            self._in_dd = True
        elif tag == "h2":
            self._heading = ""
        if tag in ("script", "link", "iframe", "object", "embed"):
            self.external.append(tag)
        if "src" in a and not a["src"].startswith("data:"):
            self.external.append(a["src"])

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._in_worst = False
        elif tag == "dd":
            self._in_dd = False

    def handle_data(self, data: str) -> None:
        if self._heading is not None and self.lasttag == "h2":
            self._heading += data
        if self._in_dd and self._metric:
            self.metrics[self._metric] = data.strip()


def read(path: Path) -> tuple[str, Page]:
    text = path.read_text(encoding="utf-8")
    page = Page()
    page.feed(text)
    return text, page


def mean(r: ScoredReply) -> float:
    known = [v for v in r.scores.values() if v is not None]
    return sum(known) / len(known)


def link(tid: str) -> str:
    return f"https://qa.example.test/traces/{tid}?view=full"


@pytest.fixture(scope="module")
def rows() -> list[ScoredReply]:
    data = synthetic(1000)
    worst = data[0]
    data[0] = ScoredReply(
        trace_id=worst.trace_id,
        created_at=worst.created_at,
        question=SCRIPT,
        answer="<b>bold</b> & more",
        decision="answered",
        intent="billing",
        confidence=0.9,
        scores={name: 0.0 for name in SCORE_NAMES},
    )
    return data


@pytest.fixture(scope="module")
def rendered(
    rows: list[ScoredReply], tmp_path_factory: pytest.TempPathFactory
) -> tuple[ReportSummary, str, Page]:
    out = tmp_path_factory.mktemp("report") / "qa.html"
    summary = render_report(rows, "acme", out, trace_link=link)
    text, page = read(out)
    return summary, text, page


def test_every_plot_is_an_embedded_png_with_alt_and_caption(
    rendered: tuple[ReportSummary, str, Page],
) -> None:
    summary, _, page = rendered
    assert summary.n == 1000
    assert set(summary.plots) == EXPECTED_PLOTS
    assert len(page.images) == len(EXPECTED_PLOTS)
    assert page.captions == len(EXPECTED_PLOTS)
    assert {img["title"] for img in page.images} == EXPECTED_PLOTS
    for img in page.images:
        assert len(img["alt"]) > 40
        prefix = "data:image/png;base64,"
        assert img["src"].startswith(prefix)
        raw = base64.b64decode(img["src"][len(prefix) :], validate=True)
        Image.open(io.BytesIO(raw)).verify()
        width, height = Image.open(io.BytesIO(raw)).size
        assert 300 <= width <= 2000 and 150 <= height <= 2000


def test_page_is_self_contained(rendered: tuple[ReportSummary, str, Page]) -> None:
    _, text, page = rendered
    assert page.external == []
    assert "@import" not in text and "url(" not in text


def test_worst_replies_link_to_their_traces(
    rows: list[ScoredReply], rendered: tuple[ReportSummary, str, Page]
) -> None:
    _, _, page = rendered
    lowest = sorted((r for r in rows if any(v is not None for v in r.scores.values())), key=mean)
    assert page.worst_links, "the worst-replies table has no links"
    assert page.worst_links[0] == link(rows[0].trace_id)
    expected = [link(r.trace_id) for r in lowest[: len(page.worst_links)]]
    assert page.worst_links == expected


def test_user_text_is_escaped(rendered: tuple[ReportSummary, str, Page]) -> None:
    _, text, _ = rendered
    assert "<script>" not in text
    assert "&lt;script&gt;alert(" in text
    assert "<b>bold</b>" not in text and "&lt;b&gt;bold&lt;/b&gt; &amp; more" in text


def test_headline_numbers_match_the_rows(tmp_path: Path) -> None:
    def reply(i: int, decision: str, g: float | None, rating: str | None) -> ScoredReply:
        scores = {name: None for name in SCORE_NAMES} | {"groundedness": g}
        return ScoredReply(
            f"t{i}", START, "q", "a", decision, "billing", 1.0, scores, rating=rating
        )

    rows = [
        reply(0, "answered", 1.0, "up"),
        reply(1, "answered", 0.5, None),
        reply(2, "handoff", 0.9, "down"),
        reply(3, "answered", None, None),
    ]
    render_report(rows, "acme", tmp_path / "r.html")
    _, page = read(tmp_path / "r.html")
    assert page.metrics["replies"] == "4"
    assert page.metrics["answered_share"] == "75.0%"
    assert page.metrics["handoffs"] == "1 (25.0%)"
    assert page.metrics["down_ratings"] == "1 of 2 rated"
    assert page.metrics["mean_groundedness"] == "0.80"
    assert page.metrics["mean_correctness"] == "–"
    # judged: t0 right, t1 not grounded, t2 rated down; all at confidence 1.0 -> 1 - 1/3
    assert page.metrics["ece"] == "0.667"


def test_right_prefers_the_verdict_over_scores() -> None:
    base = synthetic(1)[0]
    grounded = {name: 0.9 for name in SCORE_NAMES}
    ungrounded = {name: 0.1 for name in SCORE_NAMES}
    assert judged_right(ScoredReply(**{**vars(base), "scores": grounded, "verdict": None}))
    assert not judged_right(
        ScoredReply(**{**vars(base), "scores": grounded, "verdict": "incorrect"})
    )
    assert judged_right(ScoredReply(**{**vars(base), "scores": ungrounded, "verdict": "Correct"}))
    assert not judged_right(
        ScoredReply(**{**vars(base), "scores": grounded, "rating": "down", "verdict": None})
    )
    no_score = {name: None for name in SCORE_NAMES}
    assert judged_right(ScoredReply(**{**vars(base), "scores": no_score, "verdict": None})) is None


def test_empty_input_says_no_replies_yet(tmp_path: Path) -> None:
    summary = render_report([], "acme", tmp_path / "empty" / "r.html")
    text, page = read(summary.path)
    assert summary.n == 0 and summary.plots == []
    assert "No replies yet" in text
    assert page.images == [] and page.worst_links == []


def test_one_day_one_intent_and_a_score_never_given(tmp_path: Path) -> None:
    rows = [
        ScoredReply(
            r.trace_id,
            START + timedelta(minutes=i),
            r.question,
            r.answer,
            r.decision,
            "billing",
            r.confidence,
            {**r.scores, "correctness": None},
            r.rating,
            r.verdict,
        )
        for i, r in enumerate(synthetic(40))
    ]
    summary = render_report(rows, "acme", tmp_path / "r.html")
    _, page = read(summary.path)
    assert set(summary.plots) == EXPECTED_PLOTS
    for img in page.images:
        Image.open(io.BytesIO(base64.b64decode(img["src"].split(",", 1)[1]))).verify()
    assert page.metrics["mean_correctness"] == "–"


def test_unsafe_trace_links_are_not_rendered(tmp_path: Path) -> None:
    rows = synthetic(30)
    render_report(rows, "acme", tmp_path / "r.html", trace_link=lambda t: f"javascript:go('{t}')")
    text, page = read(tmp_path / "r.html")
    assert page.worst_links == []
    assert "javascript:" not in text
    assert min(rows, key=mean).trace_id in text  # listed, just not linked


def test_replies_without_any_score_still_render(tmp_path: Path) -> None:
    rows = [
        ScoredReply(r.trace_id, r.created_at, r.question, r.answer, r.decision, r.intent,
                    r.confidence, {name: None for name in SCORE_NAMES}, r.rating, None)
        for r in synthetic(20)
    ]  # fmt: skip
    summary = render_report(rows, "acme", tmp_path / "r.html")
    _, page = read(summary.path)
    assert len(page.images) == len(EXPECTED_PLOTS)
    assert page.worst_links == [] and page.metrics["ece"] == "–"
    assert page.metrics["mean_groundedness"] == "–"


def test_threshold_outside_zero_one_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"threshold 1\.5"):
        render_report(synthetic(3), "acme", tmp_path / "r.html", threshold=1.5)


def test_every_text_from_traces_is_escaped(tmp_path: Path) -> None:
    """Tenant, trace id, intent, decision, rating and verdict all reach the page escaped."""
    planted = "<img src=x onerror=alert(1)>"
    base = synthetic(1)[0]
    row = ScoredReply(
        trace_id=f"tr-{planted}", created_at=base.created_at, question=base.question,
        answer=base.answer, decision=f"answered{planted}", intent=f"billing{planted}",
        confidence=0.5, scores={name: 0.2 for name in SCORE_NAMES},
        rating=f"up{planted}", verdict=f"odd{planted}",
    )  # fmt: skip
    render_report([row], f"acme{planted}", tmp_path / "r.html")
    text, page = read(tmp_path / "r.html")
    assert planted not in text
    assert text.count("&lt;img src=x onerror=alert(1)&gt;") >= 7  # title, h1, 5 table cells
    assert page.external == []  # an unescaped <img src=x> would show up here
    assert len(page.images) == len(EXPECTED_PLOTS)
