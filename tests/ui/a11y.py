"""Accessibility checks run inside the page: WCAG 2 text contrast, form labels, keyboard focus.

Contrast follows WCAG 2.1's definitions: relative luminance of sRGB colours, ratio
(L1 + 0.05) / (L2 + 0.05), at least 4.5:1 for normal text and 3:1 for large text (24 px, or
18.66 px bold). A text's background is the stack of its ancestors' background colours
composited over white (semi-transparent colours are blended, as the browser paints them).
"""

from __future__ import annotations

from typing import Any

# Colour helpers shared by the checks below (WCAG 2.1 relative luminance and contrast).
_COLOUR_JS = """
  const parse = (c) => {
    const m = c.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return null;
    const p = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
    return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1};
  };
  const over = (top, bottom) => ({
    r: top.r * top.a + bottom.r * (1 - top.a), g: top.g * top.a + bottom.g * (1 - top.a),
    b: top.b * top.a + bottom.b * (1 - top.a), a: 1,
  });
  const channel = (v) => {
    v /= 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  };
  const luminance = (c) => 0.2126 * channel(c.r) + 0.7152 * channel(c.g) + 0.0722 * channel(c.b);
  const contrast = (a, b) => {
    const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
    return (hi + 0.05) / (lo + 0.05);
  };
  const background = (element) => {
    const layers = [];
    for (let e = element; e; e = e.parentElement) {
      const colour = parse(getComputedStyle(e).backgroundColor);
      if (colour && colour.a > 0) { layers.push(colour); if (colour.a >= 1) break; }
    }
    let painted = {r: 255, g: 255, b: 255, a: 1};
    for (let i = layers.length - 1; i >= 0; i--) painted = over(layers[i], painted);
    return painted;
  };
  const rgb = (c) => `rgb(${Math.round(c.r)}, ${Math.round(c.g)}, ${Math.round(c.b)})`;
"""

LOW_CONTRAST_JS = (
    "() => {"
    + _COLOUR_JS
    + """
  const low = [];
  const seen = new Set();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const text = walker.currentNode.textContent.trim();
    const element = walker.currentNode.parentElement;
    if (!text || !element || seen.has(element)) continue;
    seen.add(element);
    const style = getComputedStyle(element);
    const box = element.getBoundingClientRect();
    if (box.width === 0 || box.height === 0 || style.visibility === "hidden") continue;
    if (element.closest(".skip")) continue;  // off-screen until focused
    const bg = background(element);
    const ratio = contrast(over(parse(style.color), bg), bg);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (parseInt(style.fontWeight, 10) >= 700 && size >= 18.66);
    const needed = large ? 3 : 4.5;
    if (ratio < needed) {
      const colours = `${style.color} on ${rgb(bg)}`;
      low.push(`"${text.slice(0, 40)}": ${ratio.toFixed(2)} < ${needed} (${colours})`);
    }
  }
  return low;
}"""
)

UNLABELLED_JS = """
() => [...document.querySelectorAll("input, select, textarea, button")]
  .filter((e) => e.type !== "hidden" && e.getClientRects().length > 0)
  .filter((e) => !(e.labels && e.labels.length) && !e.getAttribute("aria-label")
                 && !e.getAttribute("aria-labelledby")
                 && !(e.tagName === "BUTTON" && e.textContent.trim()))
  .map((e) => e.outerHTML.slice(0, 120))
"""

# The focused control and whether its focus ring shows: an outline of at least 2 px whose
# colour has 3:1 contrast with the background behind it (WCAG 2.1 non-text contrast), or a
# box shadow.
FOCUSED_JS = (
    "() => {"
    + _COLOUR_JS
    + """
  const e = document.activeElement;
  if (!e || e === document.body) return null;
  const style = getComputedStyle(e);
  const ring = parse(style.outlineColor);
  const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2 && ring
                  && contrast(over(ring, background(e.parentElement || e)),
                              background(e.parentElement || e)) >= 3;
  return {mark: e.getAttribute("data-a11y"), tag: e.tagName,
          name: e.getAttribute("aria-label") || e.textContent.trim().slice(0, 30) || e.name || e.id,
          visible: Boolean(outline || style.boxShadow !== "none")};
}"""
)

MARK_CONTROLS_JS = """
() => {
  // A radio group is one stop for Tab (arrow keys move inside it): its radios share a mark.
  const marks = new Set();
  [...document.querySelectorAll("a[href], button, input, select, textarea, summary")]
    .filter((e) => e.type !== "hidden" && e.getClientRects().length > 0 && !e.disabled)
    .forEach((e, i) => {
      const mark = e.type === "radio" && e.name ? `radio:${e.name}` : String(i);
      e.setAttribute("data-a11y", mark);
      marks.add(mark);
    });
  return [...marks];
}
"""


def low_contrast(page: Any) -> list[str]:
    """Visible texts under WCAG AA contrast, each with its ratio and colours."""
    found: list[str] = page.evaluate(LOW_CONTRAST_JS)
    return found


def unlabelled_controls(page: Any) -> list[str]:
    """Visible form controls with no label, aria-label, aria-labelledby or button text."""
    found: list[str] = page.evaluate(UNLABELLED_JS)
    return found


def mark_controls(page: Any) -> list[str]:
    """Mark the page's visible, enabled controls (links, buttons, fields, summaries) with a
    `data-a11y` index; returns the indices."""
    marks: list[str] = page.evaluate(MARK_CONTROLS_JS)
    return marks


def tab_through(page: Any, presses: int) -> list[dict[str, Any]]:
    """Press Tab `presses` times; what had the focus after each press (None while the focus
    is outside the page, as when it wraps around past the last control)."""
    focused = []
    for _ in range(presses):
        page.keyboard.press("Tab")
        focused.append(page.evaluate(FOCUSED_JS))
    return focused
